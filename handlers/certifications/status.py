"""Computed status per official and program: pure functions over preloaded data.

No database and no clock here: callers pass ``today`` (the official's local date) so the same
code serves chat, reports, the scheduler and the benchmark.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from handlers.certifications.rules import (
    Clause,
    CompiledNeed,
    DeadlineRule,
    Program,
    Requirement,
    align,
    holds,
    parse_condition,
    shift,
    times,
)

STATUSES = ("not_started", "in_progress", "provisional", "certified", "renewal_due", "overdue",
            "lapsed", "exempt")
#: (completed_on, course code, hours), sorted by date; verified completions only.
Done = tuple[date, str, float]


@dataclass(frozen=True, slots=True)
class Facts:
    """What conditions may test about a role assignment."""

    took_office: date | None = None
    term_end: date | None = None
    term_type: str = ""
    role: str = ""
    from_deputy: bool = False
    acting: bool = False
    days_to_election: int | None = None
    jurisdiction: str = ""


@dataclass(frozen=True, slots=True)
class Standing:
    """Where one official stands in one program."""

    program: str
    status: str
    deadline: date | None = None
    requirement: str | None = None
    certified_on: date | None = None
    missing: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class _Req:
    spec: Requirement
    needs: tuple[CompiledNeed, ...]
    rules: tuple[tuple[DeadlineRule, tuple[Clause, ...]], ...]


class CompiledProgram:
    """A program prepared once for fast evaluation of many officials."""

    def __init__(self, program: Program) -> None:
        """Resolve year levels and kinds to course sets and parse conditions."""
        self.program = program
        self.code = program.code
        self.courses = {c.code: c for c in program.courses}
        self.provisional = parse_condition(program.provisional_when) \
            if program.provisional_when else None
        self.initial = tuple(self._compile(r) for r in program.requirements
                             if r.stage == "initial")
        self.renewal = tuple(self._compile(r) for r in program.requirements
                             if r.stage == "renewal")

    def _compile(self, req: Requirement) -> _Req:
        needs = []
        for need in req.needs:
            if need.courses:
                needs.append(CompiledNeed(frozenset(need.courses), True, len(need.courses), None))
            elif need.year_level is not None:
                level = frozenset(c.code for c in self.program.courses
                                  if c.year_level == need.year_level)
                needs.append(CompiledNeed(level, True, len(level), None))
            else:
                pool = frozenset(c.code for c in self.program.courses
                                 if need.kind is None or c.kind == need.kind)
                needs.append(CompiledNeed(pool, False, need.count or 0, need.hours,
                                          need.distinct))
        rules = tuple((r, parse_condition(r.condition) if r.condition else ()) for r in req.deadlines)
        return _Req(req, tuple(needs), rules)


def need_met_on(need: CompiledNeed, done: tuple[Done, ...], start: date | None,
                end: date) -> date | None:
    """The day ``need`` became satisfied by completions in (start, end], else None."""
    seen: set[str] = set()
    sessions = 0
    hours = 0.0
    for day, course, hrs in done:
        if day > end:
            break
        if (start is not None and day <= start) or course not in need.courses:
            continue
        if need.hours is not None:
            hours += hrs
            if hours >= need.hours:
                return day
            continue
        seen.add(course)
        sessions += 1
        if need.all_of:
            if len(seen) == len(need.courses):
                return day
        elif (len(seen) if need.distinct else sessions) >= need.count:
            return day
    return None


def _met_on(req: _Req, done: tuple[Done, ...], start: date | None, end: date) -> date | None:
    latest: date | None = None
    for need in req.needs:
        met = need_met_on(need, done, start, end)
        if met is None:
            return None
        latest = met if latest is None or met > latest else latest
    return latest


def _anchor(rule: DeadlineRule, facts: Facts, done: tuple[Done, ...]) -> date | None:
    if rule.anchor == "took_office":
        return facts.took_office
    if rule.anchor == "term_end":
        return facts.term_end
    if rule.anchor == "first_course":
        return done[0][0] if done else None
    return rule.day


def initial_deadline(req: _Req, facts: Facts, done: tuple[Done, ...]) -> date | None:
    """The first rule whose condition holds, applied to its anchor."""
    for rule, clauses in req.rules:
        if clauses and not holds(clauses, facts):
            continue
        base = _anchor(rule, facts, done)
        return None if base is None else align(shift(base, rule.offset), rule.alignment)
    return None


def _missing(req: _Req, done: tuple[Done, ...], today: date) -> tuple[str, ...]:
    out = []
    have = {c for d, c, _ in done if d <= today}
    for need in req.needs:
        if need.hours is not None:
            out.append(f"{need.hours:g} training hours")
        elif need.all_of:
            out.extend(sorted(need.courses - have))
        else:
            left = need.count - len(need.courses & have)
            if left > 0:
                out.append(f"{left} more of {len(need.courses)} listed courses")
    return tuple(out)


def evaluate(cp: CompiledProgram, facts: Facts, done: tuple[Done, ...], today: date, *,
             waived: bool = False) -> Standing:
    """Status, next deadline and what is missing for one official in one program."""
    if waived:
        return Standing(cp.code, "exempt")
    met = [_met_on(r, done, None, today) for r in cp.initial]
    if all(m is not None for m in met):
        certified_on = max(m for m in met if m is not None)
        return _renewal(cp, done, today, certified_on)
    pending = [(initial_deadline(r, facts, done), r) for r, m in zip(cp.initial, met, strict=True)
               if m is None]
    dated = [(d, r) for d, r in pending if d is not None]
    deadline, req = min(dated, key=lambda p: p[0]) if dated else (None, pending[0][1])
    missing = _missing(req, done, today)
    if deadline is not None and today > deadline:
        status = "overdue"
    elif cp.provisional is not None and holds(cp.provisional, facts):
        status = "provisional"
    else:
        status = "in_progress" if any(d <= today for d, _, _ in done) else "not_started"
    return Standing(cp.code, status, deadline, req.spec.id, None, missing)


def _renewal(cp: CompiledProgram, done: tuple[Done, ...], today: date,
             certified_on: date) -> Standing:
    if not cp.renewal:
        return Standing(cp.code, "certified", None, None, certified_on)
    req = cp.renewal[0]
    rule = req.rules[0][0]
    assert rule.recurrence is not None
    start, base = certified_on, certified_on
    for k in range(200):
        if rule.anchor == "last_renewal":
            end = align(shift(base, rule.offset), rule.alignment)
        else:
            end = align(shift(shift(certified_on, rule.offset), times(rule.recurrence, k)),
                        rule.alignment)
        met = _met_on(req, done, start, end)
        if met is None:
            if end >= today:
                due = (end - today).days <= cp.program.renewal_window_days
                return Standing(cp.code, "renewal_due" if due else "certified", end, req.spec.id,
                                certified_on, _missing(req, (), today) if due else ())
            late = _met_on(req, done, start, today)
            if late is None or req.spec.on_miss == "lapsed":
                return Standing(cp.code, req.spec.on_miss, end, req.spec.id, certified_on,
                                _missing(req, (), today))
            met = late
        start, base = end, met
    return Standing(cp.code, "certified", None, None, certified_on)


def as_facts(row: Any, days_to_election: int | None, jurisdiction: str) -> Facts:
    """Facts from an Assignment-like row."""
    return Facts(took_office=row.took_office, term_end=row.term_end, term_type=row.term_type,
                 role=row.role, from_deputy=row.from_deputy, acting=row.acting,
                 days_to_election=days_to_election, jurisdiction=jurisdiction)
