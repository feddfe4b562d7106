"""Deadline rules in evaluation form: calendar arithmetic on plain numbers, memoised by date.

Same semantics as :func:`rules.shift` and :func:`rules.align` (months and years clamp to the
month's last day), without pydantic objects on the hot path.
"""

from __future__ import annotations

from datetime import date

from handlers.certifications.rules import DeadlineRule, parse_condition

_DAYS_IN_MONTH = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
_MEMO_LIMIT = 500_000  # dates memoised per rule before the memo starts over


def _last_day(year: int, month: int) -> int:
    if month == 2 and year % 4 == 0 and (year % 100 != 0 or year % 400 == 0):
        return 29
    return _DAYS_IN_MONTH[month - 1]


def _shift(day: date, years: int, months: int, days: int) -> date:
    """:func:`rules.shift` on plain numbers (same clamping: Feb 29 + 1 year -> Feb 28)."""
    total = day.month - 1 + months + 12 * years
    year, month = day.year + total // 12, total % 12 + 1
    moved = date(year, month, min(day.day, _last_day(year, month)))
    return date.fromordinal(moved.toordinal() + days) if days else moved


def _align(day: date, alignment: str) -> date:
    if alignment == "end_of_year":
        return date(day.year, 12, 31)
    if alignment == "end_of_month":
        return date(day.year, day.month, _last_day(day.year, day.month))
    return day


class CompiledRule:
    """A deadline rule in evaluation form; the dates it yields are memoised by anchor date.

    Many officials share anchor dates (took office in January, certified in the same year), so
    the calendar arithmetic runs once per distinct date instead of once per official.
    """

    __slots__ = ("anchor", "offset", "alignment", "recurrence", "clauses", "fixed", "_due",
                 "_nth")

    def __init__(self, rule: DeadlineRule) -> None:
        """Flatten the pydantic rule into numbers and a parsed condition."""
        self.anchor = rule.anchor
        self.offset = (rule.offset.years, rule.offset.months, rule.offset.days)
        self.alignment = rule.alignment
        rec = rule.recurrence
        self.recurrence = (rec.years, rec.months, rec.days) if rec is not None else None
        self.clauses = parse_condition(rule.condition) if rule.condition else ()
        self.fixed = rule.day
        self._due: dict[date, date] = {}
        self._nth: dict[tuple[date, int], date] = {}

    def due(self, base: date) -> date:
        """``base`` shifted by the offset, then aligned."""
        hit = self._due.get(base)
        if hit is None:
            if len(self._due) > _MEMO_LIMIT:
                self._due.clear()
            hit = self._due[base] = _align(_shift(base, *self.offset), self.alignment)
        return hit

    def nth(self, base: date, k: int) -> date:
        """The k-th recurrence: shifted by the offset, then k recurrences, then aligned."""
        hit = self._nth.get((base, k))
        if hit is None:
            assert self.recurrence is not None
            if len(self._nth) > _MEMO_LIMIT:
                self._nth.clear()
            ry, rm, rd = self.recurrence
            hit = _align(_shift(_shift(base, *self.offset), ry * k, rm * k, rd * k),
                         self.alignment)
            self._nth[(base, k)] = hit
        return hit
