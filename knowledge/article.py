"""One curated answer: a markdown file with YAML front matter, parsed and validated."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from knowledge.yamlload import safe_load

APPROVED = "approved"
DRAFT = "draft: needs the office's review"
ID_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


class ArticleError(Exception):
    """A problem in one article, with the file and line it concerns."""

    def __init__(self, path: Path, line: int, message: str) -> None:
        """Keep where and what."""
        super().__init__(f"{path}:{line}: {message}")
        self.path, self.line, self.message = path, line, message


class Source(BaseModel):
    """Where a fact comes from."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    document: str = Field(min_length=3)
    #: The document's name in Spanish, when it is a description rather than a title.
    document_es: str | None = Field(default=None, min_length=3)
    seed: str | None = None
    url: str | None = None

    def name(self, language: str = "en") -> str:
        """The document's name in ``language`` (its own name when there is no translation)."""
        return self.document_es if language == "es" and self.document_es else self.document


class Translation(BaseModel):
    """The same article in another language."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    title: str = Field(min_length=3)
    summary: str = Field(min_length=10)
    questions: list[str] = Field(default_factory=list)
    body: str = ""


class Article(BaseModel):
    """The front matter plus body of one article."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    title: str = Field(min_length=3, max_length=150)
    summary: str = Field(min_length=10, max_length=1200)
    questions: list[str] = Field(min_length=1)
    tags: list[str] = Field(default_factory=list)
    jurisdiction: str
    sources: list[Source] = Field(min_length=1)
    owner: str = Field(min_length=2)
    reviewed_on: date
    review_by: date
    status: Literal["approved", "draft: needs the office's review"]
    related: list[str] = Field(default_factory=list)
    es: Translation | None = None
    body: str = ""
    path: str = ""

    @field_validator("id")
    @classmethod
    def _kebab(cls, value: str) -> str:
        if not ID_PATTERN.match(value):
            raise ValueError("must be lowercase-kebab-case (a-z, 0-9, single hyphens)")
        return value

    @property
    def is_draft(self) -> bool:
        """Drafts are general guidance not yet reviewed by the office."""
        return self.status != APPROVED

    def localized(self, language: str) -> tuple[str, str, str]:
        """Title, summary and body in ``language`` when a translation exists."""
        if language == "es" and self.es is not None:
            return self.es.title, self.es.summary, self.es.body or ""
        return self.title, self.summary, self.body


@dataclass(frozen=True)
class _Split:
    meta: str
    body: str
    body_line: int


def _split(path: Path, text: str) -> _Split:
    lines = text.splitlines()
    if not lines or lines[0].strip() != "---":
        raise ArticleError(path, 1, "must start with '---' and YAML front matter")
    for number, line in enumerate(lines[1:], start=2):
        if line.strip() == "---":
            return _Split("\n".join(lines[1:number - 1]), "\n".join(lines[number:]).strip(), number)
    raise ArticleError(path, 1, "front matter is not closed by a '---' line")


def _key_line(meta: str, key: str) -> int:
    """1-based line (within the file) where a top-level key starts; 2 if unknown."""
    for number, line in enumerate(meta.splitlines(), start=2):
        if line.startswith(f"{key}:"):
            return number
    return 2


def parse_article(path: Path) -> Article:
    """Parse one file; raise ArticleError with file:line on the first problem."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ArticleError(path, 1, "not UTF-8 text") from None
    split = _split(path, text)
    try:
        meta = safe_load(split.meta)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 2 if mark else 1
        raise ArticleError(path, line, f"front matter is not valid YAML: {exc}") from None
    if not isinstance(meta, dict):
        raise ArticleError(path, 2, "front matter must be a mapping of fields")
    if "body" in meta or "path" in meta:
        raise ArticleError(path, 2, "'body' and 'path' are not front-matter fields")
    try:
        return Article.model_validate({**meta, "body": split.body, "path": str(path)})
    except ValidationError as exc:
        err = exc.errors()[0]
        key = str(err["loc"][0]) if err["loc"] else ""
        where = ".".join(str(p) for p in err["loc"])
        raise ArticleError(path, _key_line(split.meta, key), f"{where}: {err['msg']}") from None
