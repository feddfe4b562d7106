"""Computed status per official and program: pure functions over preloaded data.

No database and no clock here: callers pass ``today`` (the official's local date) so the same
code serves chat, reports, the scheduler and the benchmark.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from handlers.certifications.deadlines import CompiledRule
from handlers.certifications.enums import CertStatus
from handlers.certifications.rules import (
    CompiledNeed,
    Program,
    Requirement,
    holds,
    parse_condition,
)

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
    status: CertStatus
    deadline: date | None = None
    requirement: str | None = None
    certified_on: date | None = None
    missing: tuple[str, ...] = ()
    #: The requirement in plain words (its ``title`` in the program file), for people to read.
    requirement_title: str = ""


@dataclass(frozen=True, slots=True)
class _Req:
    spec: Requirement
    needs: tuple[CompiledNeed, ...]
    rules: tuple[CompiledRule, ...]


class CompiledProgram:
    """A program prepared once for fast evaluation of many officials."""

    def __init__(self, program: Program) -> None:
        """Resolve year levels and kinds to course sets and parse conditions."""
        self.program = program
        self.code = program.code
        self.courses = {c.code: c for c in program.courses}
        self.window = program.renewal_window_days
        self.provisional = parse_condition(program.provisional_when) \
            if program.provisional_when else None
        self.initial = tuple(self._compile(r) for r in program.requirements
                             if r.stage == "initial")
        self.renewal = tuple(self._compile(r) for r in program.requirements
                             if r.stage == "renewal")
        #: What is missing, in words, by (requirement, courses done): officials share them.
        self.missing: dict[tuple[str, frozenset[str]], tuple[str, ...]] = {}

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
        return _Req(req, tuple(needs), tuple(CompiledRule(r) for r in req.deadlines))


def need_met_on(need: CompiledNeed, done: tuple[Done, ...], start: date | None,
                end: date) -> date | None:
    """The day ``need`` became satisfied by completions in (start, end], else None."""
    courses = need.courses
    if need.hours is not None:
        hours = 0.0
        for day, course, hrs in done:
            if day > end:
                break
            if course in courses and (start is None or day > start):
                hours += hrs
                if hours >= need.hours:
                    return day
        return None
    target = len(courses) if need.all_of else need.count
    if len(done) < target:  # too few completions of any course: cannot be met
        return None
    seen: set[str] = set()
    sessions = 0
    by_sessions = not need.all_of and not need.distinct
    for day, course, _ in done:
        if day > end:
            break
        if course not in courses or (start is not None and day <= start):
            continue
        seen.add(course)
        sessions += 1
        if (sessions if by_sessions else len(seen)) >= target:
            return day
    return None


def _met_on(req: _Req, done: tuple[Done, ...], start: date | None, end: date) -> date | None:
    latest: date | None = None
    for need in req.needs:
        met = need_met_on(need, done, start, end)
        if met is None:
            return None
        if latest is None or met > latest:
            latest = met
    return latest


def initial_deadline(req: _Req, facts: Facts, done: tuple[Done, ...]) -> date | None:
    """The first rule whose condition holds, applied to its anchor."""
    for rule in req.rules:
        if rule.clauses and not holds(rule.clauses, facts):
            continue
        anchor = rule.anchor
        if anchor == "took_office":
            base = facts.took_office
        elif anchor == "term_end":
            base = facts.term_end
        elif anchor == "first_course":
            base = done[0][0] if done else None
        else:
            base = rule.fixed
        return None if base is None else rule.due(base)
    return None


def _firsts(done: tuple[Done, ...], today: date) -> dict[str, date]:
    """Each course's first completion on or before ``today`` (``done`` is sorted by date)."""
    first: dict[str, date] = {}
    for day, course, _ in done:
        if day > today:
            break
        if course not in first:
            first[course] = day
    return first


def _initially_met(req: _Req, done: tuple[Done, ...], first: dict[str, date],
                   today: date) -> date | None:
    """:func:`_met_on` from the start of time, answered from first completions when it can."""
    latest: date | None = None
    for need in req.needs:
        if need.all_of:
            if not first.keys() >= need.courses:
                return None
            met = max(map(first.__getitem__, need.courses))
        elif need.hours is None and need.distinct:
            dates = sorted(map(first.__getitem__, need.courses & first.keys()))
            if len(dates) < need.count:
                return None
            met = dates[need.count - 1]
        else:
            found = need_met_on(need, done, None, today)
            if found is None:
                return None
            met = found
        if latest is None or met > latest:
            latest = met
    return latest


def plural(n: int, word: str) -> str:
    """'1 course', '3 courses': the count with the word in the right number."""
    return f"{n} {word}{'' if n == 1 else 's'}"


def _need_left(need: CompiledNeed, have: set[str]) -> str | None:
    """What is left of a count of courses, in words ('2 of 3 courses done; 1 course left: X')."""
    done = need.courses & have
    left = need.count - len(done)
    if left <= 0:
        return None
    options = sorted(need.courses - done) if need.distinct else sorted(need.courses)
    shown = ", ".join(options[:6]) + (", ..." if len(options) > 6 else "")
    if not need.distinct and left > 1:
        return f"{plural(left, 'session')} of {' or '.join(options[:6])}"
    head = f"{len(done)} of {plural(need.count, 'course')} done, " if done else ""
    if len(options) <= left:
        return f"{head}{plural(left, 'course')} left: {shown}"
    return f"{head}{plural(left, 'more course')} from: {shown}"


def _missing(cp: CompiledProgram, req: _Req, first: dict[str, date] | None) -> tuple[str, ...]:
    """What is still needed; ``first`` holds the courses done so far (None: none count).

    Worked out once per requirement and set of courses done (kept on the program).
    """
    key = (req.spec.id, frozenset(first) if first else frozenset())
    found = cp.missing.get(key)
    if found is None:
        if len(cp.missing) > _MISSING_LIMIT:
            cp.missing.clear()
        found = cp.missing[key] = _missing_words(req, set(key[1]))
    return found


_MISSING_LIMIT = 100_000  # sets of courses done remembered per program before starting over


def _missing_words(req: _Req, have: set[str]) -> tuple[str, ...]:
    """:func:`_missing`, worked out."""
    out: list[str] = []
    for need in req.needs:
        if need.hours is not None:
            out.append(f"{need.hours:g} training hours")
        elif need.all_of:
            out.extend(sorted(need.courses - have))
        elif (left := _need_left(need, have)) is not None:
            out.append(left)
    return tuple(out)


def evaluate(cp: CompiledProgram, facts: Facts, done: tuple[Done, ...], today: date, *,
             waived: bool = False) -> Standing:
    """Status, next deadline and what is missing for one official in one program."""
    if waived:
        return Standing(cp.code, CertStatus.EXEMPT)
    first = _firsts(done, today)
    certified_on: date | None = None
    unmet: _Req | None = None  # the first unmet requirement
    deadline: date | None = None  # the earliest dated unmet requirement (first on ties)
    req: _Req | None = None
    for candidate in cp.initial:
        met = _initially_met(candidate, done, first, today)
        if met is not None:
            if certified_on is None or met > certified_on:
                certified_on = met
            continue
        if unmet is None:
            unmet = candidate
        due = initial_deadline(candidate, facts, done)
        if due is not None and (deadline is None or due < deadline):
            deadline, req = due, candidate
    if unmet is None:
        assert certified_on is not None
        return _renewal(cp, done, today, certified_on)
    req = req or unmet
    missing = _missing(cp, req, first)
    if deadline is not None and today > deadline:
        status = CertStatus.OVERDUE
    elif cp.provisional is not None and holds(cp.provisional, facts):
        status = CertStatus.PROVISIONAL
    else:
        status = CertStatus.IN_PROGRESS if first else CertStatus.NOT_STARTED
    return Standing(cp.code, status, deadline, req.spec.id, None, missing, req.spec.title)


def _renewal(cp: CompiledProgram, done: tuple[Done, ...], today: date,
             certified_on: date) -> Standing:
    if not cp.renewal:
        return Standing(cp.code, CertStatus.CERTIFIED, None, None, certified_on)
    req = cp.renewal[0]
    rule = req.rules[0]
    by_last = rule.anchor == "last_renewal"
    start, base = certified_on, certified_on
    for k in range(200):
        end = rule.due(base) if by_last else rule.nth(certified_on, k)
        met = _met_on(req, done, start, end)
        if met is None:
            if end >= today:
                due = (end - today).days <= cp.window
                status = CertStatus.RENEWAL_DUE if due else CertStatus.CERTIFIED
                return Standing(cp.code, status, end, req.spec.id, certified_on,
                                _missing(cp, req, None) if due else (), req.spec.title)
            late = _met_on(req, done, start, today)
            if late is None or req.spec.on_miss == "lapsed":
                return Standing(cp.code, CertStatus(req.spec.on_miss), end, req.spec.id,
                                certified_on, _missing(cp, req, None), req.spec.title)
            met = late
        start, base = end, met
    return Standing(cp.code, CertStatus.CERTIFIED, None, None, certified_on)


def as_facts(row: Any, days_to_election: int | None, jurisdiction: str) -> Facts:
    """Facts from an Assignment-like row."""
    return Facts(took_office=row.took_office, term_end=row.term_end, term_type=row.term_type,
                 role=row.role, from_deputy=row.from_deputy, acting=row.acting,
                 days_to_election=days_to_election, jurisdiction=jurisdiction)
