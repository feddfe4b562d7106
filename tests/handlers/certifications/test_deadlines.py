"""The fast deadline arithmetic agrees with the reference ``rules.shift`` / ``rules.align``."""

from __future__ import annotations

from datetime import date, timedelta

from handlers.certifications.deadlines import CompiledRule
from handlers.certifications.rules import DeadlineRule, Offset, align, shift, times


def test_compiled_rules_match_the_reference_arithmetic_on_every_day_of_four_years() -> None:
    rules = [DeadlineRule(anchor="took_office", offset=Offset(years=y, months=m, days=d),
                          alignment=a, recurrence=Offset(years=r) if r else None)
             for y, m, d, a, r in [(1, 0, 0, "end_of_year", 0), (2, 0, 0, "none", 0),
                                   (0, 1, 0, "end_of_month", 0), (0, 18, -1, "none", 0),
                                   (3, 0, 0, "end_of_year", 3), (1, 0, 10, "none", 1)]]
    day = date(2023, 1, 1)
    while day < date(2027, 1, 1):
        for rule in rules:
            fast = CompiledRule(rule)
            assert fast.due(day) == align(shift(day, rule.offset), rule.alignment)
            if rule.recurrence is not None:
                for k in (0, 1, 4):
                    expected = align(shift(shift(day, rule.offset), times(rule.recurrence, k)),
                                     rule.alignment)
                    assert fast.nth(day, k) == expected
        day += timedelta(days=1)
