"""Programs and deadline rules as data: the YAML schema, its loader and the rule primitives.

A program lists courses and requirements. Each requirement has needs (courses, a count of a
course kind, or training hours) and deadline rules: ``anchor`` + ``offset``, an optional
``recurrence`` (renewals), ``alignment`` (end of month / year) and a ``condition`` such as
``term_type == four_year``; the first rule whose condition holds applies. Errors name the file
and line so election staff can fix a program without reading Python.
"""

from __future__ import annotations

import calendar
import operator
import re
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

from knowledge.yamlload import safe_load

PROGRAMS_DIR = Path(__file__).parent / "programs"
ANCHORS = ("took_office", "term_end", "certified_on", "last_renewal", "first_course", "fixed_date")
FACTS = {"term_type", "role", "from_deputy", "acting", "days_to_election", "jurisdiction"}
CLAUSE = re.compile(r"^\s*(not\s+)?([a-z_]+)\s*(?:(==|!=|<=|>=|<|>)\s*([A-Za-z0-9_.-]+))?\s*$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Offset(_Strict):
    """A calendar distance; months and years clamp to the month's last day (Feb 29 -> 28)."""

    years: int = 0
    months: int = 0
    days: int = 0


Clause = tuple[bool, str, str | None, Any]


def parse_condition(text: str) -> tuple[Clause, ...]:
    """``a == x and not b and days_to_election <= 90`` -> clauses; ValueError names the bad part."""
    clauses = []
    for part in text.split(" and "):
        match = CLAUSE.match(part)
        if not match:
            raise ValueError(f"cannot read condition part {part.strip()!r}; "
                             "use 'fact == value', 'fact <= 90', 'fact' or 'not fact'")
        negate, fact, op, raw = match.groups()
        if fact not in FACTS:
            raise ValueError(f"unknown fact {fact!r} in condition; known: {sorted(FACTS)}")
        value: Any = raw
        if raw is not None and re.fullmatch(r"-?\d+", raw):
            value = int(raw)
        elif raw in ("true", "false"):
            value = raw == "true"
        clauses.append((bool(negate), fact, op, value))
    return tuple(clauses)


OPS = {"==": operator.eq, "!=": operator.ne, "<=": operator.le, ">=": operator.ge,
       "<": operator.lt, ">": operator.gt}


def holds(clauses: tuple[Clause, ...], facts: Any) -> bool:
    """Whether every clause holds for ``facts`` (an object with the FACTS as attributes)."""
    for negate, fact, op, value in clauses:
        actual = getattr(facts, fact)
        if op is None:
            ok = bool(actual)
        elif actual is None:
            ok = False
        else:
            ok = OPS[op](actual, value)
        if ok == negate:
            return False
    return True


def _checked_condition(value: str) -> str:
    parse_condition(value)  # raises ValueError with the problem
    return value


# A rule condition such as ``term_type == four_year``, validated when the program is loaded.
Condition = Annotated[str, AfterValidator(_checked_condition)]


class DeadlineRule(_Strict):
    """When a requirement is due."""

    anchor: Literal["took_office", "term_end", "certified_on", "last_renewal", "first_course",
                    "fixed_date"]
    offset: Offset = Offset()
    alignment: Literal["none", "end_of_month", "end_of_year"] = "none"
    recurrence: Offset | None = None
    condition: Condition | None = None
    day: date | None = Field(default=None, description="the date, for anchor fixed_date")

    @model_validator(mode="after")
    def _fixed(self) -> DeadlineRule:
        if (self.anchor == "fixed_date") != (self.day is not None):
            raise ValueError("'day' is required with anchor fixed_date and only there")
        return self


class Need(_Strict):
    """One thing to have done: all listed courses / a year level, N of a kind, or N hours."""

    courses: list[str] = Field(default_factory=list)
    year_level: int | None = None
    kind: str | None = None
    count: int | None = Field(default=None, ge=1)
    hours: float | None = Field(default=None, gt=0)
    distinct: bool = Field(default=True, description="count different courses, not sessions")

    @model_validator(mode="after")
    def _one_shape(self) -> Need:
        shapes = [bool(self.courses), self.year_level is not None,
                  self.count is not None, self.hours is not None]
        if sum(shapes) != 1:
            raise ValueError("a need is exactly one of: courses, year_level, kind+count, hours")
        if self.count is not None and self.kind is None:
            raise ValueError("count needs a kind (e.g. kind: core)")
        return self


class Requirement(_Strict):
    """An initial requirement (all met = certified) or a recurring renewal."""

    id: str = Field(pattern=r"^[a-z0-9_]{1,30}$")
    stage: Literal["initial", "renewal"]
    title: str
    needs: list[Need] = Field(min_length=1)
    deadlines: list[DeadlineRule] = Field(default_factory=list)
    on_miss: Literal["overdue", "lapsed"] = "overdue"


class Course(_Strict):
    """A course or event that counts toward requirements."""

    code: str = Field(pattern=r"^[A-Z0-9-]{2,40}$")
    title: str
    kind: Literal["core", "elective", "renewal", "event", "training"] = "core"
    year_level: int | None = None
    hours: float = Field(default=0, ge=0)


class Program(_Strict):
    """A certification program, loaded from one YAML file."""

    code: str = Field(pattern=r"^[A-Z0-9-]{2,40}$")
    name: str
    source: str = ""
    jurisdictions: list[str] = Field(default_factory=list, description="empty = any")
    roles: list[str] = Field(min_length=1)
    renewal_window_days: int = Field(default=90, ge=0)
    provisional_when: Condition | None = None
    courses: list[Course] = Field(min_length=1)
    requirements: list[Requirement] = Field(min_length=1)

    @model_validator(mode="after")
    def _references(self) -> Program:
        codes = [c.code for c in self.courses]
        if len(set(codes)) != len(codes):
            raise ValueError("course codes must be unique within a program")
        kinds = {c.kind for c in self.courses}
        levels = {c.year_level for c in self.courses}
        for req in self.requirements:
            for need in req.needs:
                unknown = [c for c in need.courses if c not in codes]
                if unknown:
                    raise ValueError(f"requirement {req.id}: unknown course(s) {unknown}")
                if need.year_level is not None and need.year_level not in levels:
                    raise ValueError(f"requirement {req.id}: no course has year_level "
                                     f"{need.year_level}")
                if need.kind is not None and need.kind not in kinds:
                    raise ValueError(f"requirement {req.id}: no course of kind {need.kind!r}")
            if req.stage == "renewal" and (len(req.deadlines) != 1
                                           or req.deadlines[0].recurrence is None):
                raise ValueError(f"requirement {req.id}: a renewal has one rule with recurrence")
        if not any(r.stage == "initial" for r in self.requirements):
            raise ValueError("a program needs at least one initial requirement")
        return self


class ProgramError(ValueError):
    """A program file is invalid; ``errors`` are 'file:line: key: problem' strings."""

    def __init__(self, errors: list[str]) -> None:
        """Keep every error for the report."""
        super().__init__("; ".join(errors))
        self.errors = errors


def _lines(node: yaml.Node, path: tuple[Any, ...] = ()) -> dict[tuple[Any, ...], int]:
    found = {path: node.start_mark.line + 1}
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            found.update(_lines(value, (*path, key.value)))
            found[(*path, key.value)] = key.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            found.update(_lines(item, (*path, i)))
    return found


def load_program(path: Path) -> Program:
    """Parse and validate one program file; raise ProgramError with line-numbered messages."""
    text = path.read_text(encoding="utf-8")
    try:
        node = yaml.compose(text)
        raw = safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else 1
        raise ProgramError([f"{path}:{line}: not valid YAML ({getattr(exc, 'problem', exc)})"]
                           ) from None
    if node is None or not isinstance(raw, dict):
        raise ProgramError([f"{path}:1: a program file is a mapping (code:, name:, ...)"])
    try:
        return Program.model_validate(raw)
    except ValidationError as exc:
        lines = _lines(node)
        errors = []
        for err in exc.errors():
            loc = tuple(err["loc"])
            while loc and loc not in lines:
                loc = loc[:-1]
            key = ".".join(str(p) for p in err["loc"]) or "(top level)"
            errors.append(f"{path}:{lines.get(loc, 1)}: {key}: {err['msg']}")
        raise ProgramError(errors) from None


def load_programs(folder: Path = PROGRAMS_DIR) -> dict[str, Program]:
    """Every ``*.yaml`` program in ``folder``, keyed by code; all errors raised together."""
    programs: dict[str, Program] = {}
    errors: list[str] = []
    for path in sorted(folder.glob("*.yaml")):
        try:
            program = load_program(path)
        except ProgramError as exc:
            errors.extend(exc.errors)
            continue
        if program.code in programs:
            errors.append(f"{path}:1: code: program {program.code} is defined twice")
        programs[program.code] = program
    all_codes = [c.code for p in programs.values() for c in p.courses]
    dupes = sorted({c for c in all_codes if all_codes.count(c) > 1})
    if dupes:
        errors.append(f"{folder}: course codes used by two programs: {dupes}")
    if errors:
        raise ProgramError(errors)
    return programs


def shift(day: date, offset: Offset) -> date:
    """``day`` moved by ``offset``: years and months first (clamped), then days."""
    months = day.month - 1 + offset.months + 12 * offset.years
    year, month = day.year + months // 12, months % 12 + 1
    last = calendar.monthrange(year, month)[1]
    return date(year, month, min(day.day, last)) + timedelta(days=offset.days)


def align(day: date, alignment: str) -> date:
    """Move a date to the end of its month or year when the rule says so."""
    if alignment == "end_of_year":
        return date(day.year, 12, 31)
    if alignment == "end_of_month":
        return date(day.year, day.month, calendar.monthrange(day.year, day.month)[1])
    return day


def times(offset: Offset, n: int) -> Offset:
    """``offset`` repeated ``n`` times."""
    return Offset(years=offset.years * n, months=offset.months * n, days=offset.days * n)


@dataclass(frozen=True, slots=True)
class CompiledNeed:
    """A need in evaluation form: course codes resolved, a kind's courses as a set."""

    courses: frozenset[str]
    all_of: bool
    count: int
    hours: float | None
    distinct: bool = True
