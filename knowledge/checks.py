"""Whole-base checks behind ``electionbot kb check``: every problem as ``file:line: message``."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import date
from pathlib import Path

from knowledge.article import Article, ArticleError, parse_article

_WORDS = re.compile(r"[a-z0-9áéíóúñü]+")
#: The rule under a Markdown table's header row ("|---|---|", "| :-- | --: |").
_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(?:\|\s*:?-{3,}:?\s*)+\|?\s*$", re.M)


def normalize_question(text: str) -> str:
    """Lowercase words only, so trivial punctuation differences count as duplicates."""
    return " ".join(_WORDS.findall(text.lower()))


def load_articles(folder: Path) -> tuple[list[Article], list[ArticleError]]:
    """Parse every ``*.md`` in ``folder``; return the good articles and the problems."""
    articles: list[Article] = []
    problems: list[ArticleError] = []
    for path in sorted(folder.glob("*.md")):
        try:
            articles.append(parse_article(path))
        except ArticleError as exc:
            problems.append(exc)
    if not articles and not problems:
        problems.append(ArticleError(folder, 1, "no articles (*.md) found"))
    return articles, problems


def check_articles(
    articles: Sequence[Article], *, jurisdictions: Iterable[str], today: date
) -> list[ArticleError]:
    """Cross-article rules: ids, links, jurisdictions, questions, review dates."""
    known = set(jurisdictions) | {"general"}
    problems: list[ArticleError] = []
    by_id: dict[str, Article] = {}
    question_owner: dict[str, str] = {}
    for art in articles:
        path = Path(art.path)
        if art.id in by_id:
            problems.append(ArticleError(path, 2, f"id {art.id!r} also used by {by_id[art.id].path}"))
        by_id[art.id] = art
        if path.stem != art.id:
            problems.append(ArticleError(path, 2, f"file name must be {art.id}.md"))
        if art.jurisdiction not in known:
            problems.append(ArticleError(
                path, 2, f"jurisdiction {art.jurisdiction!r} is not in app.yaml jurisdictions "
                f"({', '.join(sorted(known))})"))
        if art.review_by < today:
            problems.append(ArticleError(
                path, 2, f"review_by {art.review_by} has passed: review the article and move it on"))
        if art.review_by < art.reviewed_on:
            problems.append(ArticleError(path, 2, "review_by is before reviewed_on"))
        if art.reviewed_on > today:
            problems.append(ArticleError(path, 2, f"reviewed_on {art.reviewed_on} is in the future"))
        for question in [*art.questions, *(art.es.questions if art.es else [])]:
            key = normalize_question(question)
            other = question_owner.get(key)
            if other is not None and other != art.id:
                problems.append(ArticleError(
                    path, 2, f"question {question!r} also belongs to {other}: keep it in one"))
            question_owner[key] = art.id
    for art in articles:
        for target in art.related:
            if target not in by_id:
                problems.append(ArticleError(Path(art.path), 2, f"related {target!r} does not exist"))
        for body in (art.body, (art.es.body if art.es else None) or ""):
            if _TABLE_RULE.search(body):
                problems.append(ArticleError(
                    Path(art.path), 2, "a Markdown table reaches no chat platform whole (Slack, "
                    "Teams and e-mail show its pipes): write it as a list"))
                break
        for link in re.findall(r"\]\(kb:([a-z0-9-]+)\)", art.body):
            if link not in by_id:
                problems.append(ArticleError(Path(art.path), 2, f"link kb:{link} does not exist"))
    return problems
