"""Rule evaluation for every shipped program, term edge cases, leap days and the rules checker."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from handlers.certifications.rules import Offset, ProgramError, load_program, load_programs, shift
from handlers.certifications.status import CompiledProgram, Facts, evaluate

PROGRAMS = {code: CompiledProgram(p) for code, p in load_programs().items()}
KS, CT, CERA = PROGRAMS["KS-CLERK"], PROGRAMS["CT-ROV"], PROGRAMS["CERA"]


def done(*items: tuple[str, str, float]) -> tuple:
    return tuple(sorted((date.fromisoformat(d), c, h) for d, c, h in items))


KS_ALL = [("2025-04-10", "KS-Y1-PLAN", 3), ("2025-04-10", "KS-Y1-REDIST", 3),
          ("2025-04-11", "KS-Y1-VSYS", 3), ("2026-03-02", "KS-Y2-POLLW", 3),
          ("2026-03-02", "KS-Y2-VOTING", 3), ("2026-03-03", "KS-Y2-CANVASS", 3),
          ("2027-03-05", "KS-Y3-ADMIN", 3), ("2027-03-05", "KS-Y3-OUTREACH", 3),
          ("2027-03-06", "KS-Y3-TECH", 3)]


def test_shift_clamps_leap_day_and_month_ends() -> None:
    assert shift(date(2024, 2, 29), Offset(years=2)) == date(2026, 2, 28)
    assert shift(date(2024, 2, 29), Offset(years=4)) == date(2028, 2, 29)
    assert shift(date(2026, 1, 31), Offset(months=1)) == date(2026, 2, 28)
    assert shift(date(2026, 12, 31), Offset(days=1)) == date(2027, 1, 1)


def test_kansas_three_yearly_sets_then_annual_renewal() -> None:
    facts = Facts(took_office=date(2025, 1, 13), role="county_clerk")
    s = evaluate(KS, facts, (), date(2025, 2, 1))
    assert (s.status, s.deadline, s.requirement) == ("not_started", date(2026, 12, 31), "year_one")
    s = evaluate(KS, facts, done(*KS_ALL[:2]), date(2025, 5, 1))
    assert s.status == "in_progress" and s.missing == ("KS-Y1-VSYS",)
    s = evaluate(KS, facts, done(*KS_ALL[:3]), date(2027, 1, 2))
    assert (s.status, s.requirement, s.deadline) == ("in_progress", "year_two",
                                                     date(2027, 12, 31))
    s = evaluate(KS, facts, done(*KS_ALL[:3]), date(2028, 1, 1))
    assert (s.status, s.requirement) == ("overdue", "year_two")
    s = evaluate(KS, facts, done(*KS_ALL), date(2027, 6, 1))
    assert (s.status, s.certified_on, s.deadline) == ("certified", date(2027, 3, 6),
                                                      date(2028, 12, 31))
    assert evaluate(KS, facts, done(*KS_ALL), date(2028, 11, 1)).status == "renewal_due"
    assert evaluate(KS, facts, done(*KS_ALL), date(2029, 1, 1)).status == "lapsed"
    renewed = done(*KS_ALL, ("2028-04-15", "KS-ADV", 3))
    s = evaluate(KS, facts, renewed, date(2029, 1, 1))
    assert (s.status, s.deadline) == ("certified", date(2029, 12, 31))


@pytest.mark.parametrize(("term_type", "took", "term_end", "expected"), [
    ("two_year", "2025-01-08", "2027-01-06", "2027-01-06"),      # by the end of the term
    ("four_year", "2025-01-08", "2029-01-03", "2027-01-08"),     # two years after taking office
    ("four_year", "2024-02-29", "2028-01-05", "2026-02-28"),     # leap-day start clamps
    ("unknown", "2025-01-08", "2027-01-06", None),               # no rule applies
])
def test_connecticut_deadline_depends_on_term(term_type: str, took: str, term_end: str,
                                              expected: str | None) -> None:
    facts = Facts(took_office=date.fromisoformat(took), term_end=date.fromisoformat(term_end),
                  term_type=term_type, role="registrar")
    s = evaluate(CT, facts, (), date(2025, 6, 1))
    assert s.deadline == (date.fromisoformat(expected) if expected else None)


def test_connecticut_term_end_day_is_still_on_time_and_next_day_overdue() -> None:
    facts = Facts(took_office=date(2025, 1, 8), term_end=date(2027, 1, 6), term_type="two_year")
    assert evaluate(CT, facts, (), date(2027, 1, 6)).status == "not_started"
    assert evaluate(CT, facts, (), date(2027, 1, 7)).status == "overdue"


def test_connecticut_deputy_stepping_up_close_to_a_state_election_is_provisional() -> None:
    base = dict(took_office=date(2026, 8, 20), term_end=date(2029, 1, 2), term_type="four_year",
                from_deputy=True)
    assert evaluate(CT, Facts(**base, days_to_election=75), (), date(2026, 9, 1)).status \
        == "provisional"
    assert evaluate(CT, Facts(**base, days_to_election=91), (), date(2026, 9, 1)).status \
        == "not_started"
    not_deputy = {**base, "from_deputy": False}
    assert evaluate(CT, Facts(**not_deputy, days_to_election=10), (), date(2026, 9, 1)).status \
        == "not_started"


def test_connecticut_eight_hours_every_year_else_remedial() -> None:
    facts = Facts(took_office=date(2025, 1, 8), term_end=date(2027, 1, 6), term_type="two_year")
    modules = [(f"2025-0{i}-01", f"CT-M{i}", 6) for i in range(1, 5)]
    s = evaluate(CT, facts, done(*modules), date(2025, 5, 1))
    assert (s.status, s.certified_on, s.deadline) == ("certified", date(2025, 4, 1),
                                                      date(2026, 12, 31))
    five = done(*modules, ("2026-05-01", "CT-TRAIN", 5))
    assert evaluate(CT, facts, five, date(2027, 1, 1)).status == "overdue"
    eight = done(*modules, ("2026-05-01", "CT-TRAIN", 5), ("2026-10-01", "CT-TRAIN", 3))
    s = evaluate(CT, facts, eight, date(2027, 1, 1))
    assert (s.status, s.deadline) == ("certified", date(2027, 12, 31))
    made_up = done(*modules, ("2027-02-01", "CT-TRAIN", 8))
    assert evaluate(CT, facts, made_up, date(2027, 3, 1)).status == "certified"


def test_cera_twelve_core_courses_within_twelve_years_then_three_yearly_renewal() -> None:
    facts = Facts(role="registrar")
    assert evaluate(CERA, facts, (), date(2026, 1, 1)).deadline is None
    cores = [(f"{2015 + i}-06-01", f"CERA-C{i + 1:02d}", 12) for i in range(11)]
    s = evaluate(CERA, facts, done(*cores), date(2026, 1, 1))
    assert (s.status, s.deadline) == ("in_progress", date(2027, 6, 1))
    assert evaluate(CERA, facts, done(*cores), date(2027, 6, 2)).status == "overdue"
    full = done(*cores, ("2026-06-01", "CERA-C12", 12))
    s = evaluate(CERA, facts, full, date(2026, 7, 1))
    assert (s.status, s.deadline) == ("certified", date(2029, 12, 31))
    assert evaluate(CERA, facts, full, date(2030, 1, 1)).status == "lapsed"
    renewed = done(*cores, ("2026-06-01", "CERA-C12", 12), ("2028-01-01", "CERA-REN", 12),
                   ("2028-08-01", "CERA-EVENT", 0), ("2029-08-01", "CERA-EVENT", 0))
    s = evaluate(CERA, facts, renewed, date(2030, 1, 1))
    assert (s.status, s.deadline) == ("certified", date(2032, 12, 31))


def test_waiver_makes_exempt() -> None:
    assert evaluate(KS, Facts(took_office=date(2020, 1, 1)), (), date(2026, 1, 1),
                    waived=True).status == "exempt"


def test_rules_check_reports_line_numbers(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "code: BAD\nname: Bad\nroles: [clerk]\ncourses:\n  - {code: B-1, title: One}\n"
        "requirements:\n  - id: first\n    stage: initial\n    title: First\n"
        "    needs: [{courses: [B-1]}]\n    deadlines:\n"
        "      - {anchor: took_ofice, offset: {years: 1}}\n", encoding="utf-8")
    with pytest.raises(ProgramError) as info:
        load_program(bad)
    assert any(e.startswith(f"{bad}:12:") and "anchor" in e for e in info.value.errors)
    cond = tmp_path / "cond.yaml"
    cond.write_text(bad.read_text().replace("took_ofice", "took_office, condition: 'tern == x'"),
                    encoding="utf-8")
    with pytest.raises(ProgramError) as info:
        load_program(cond)
    assert "unknown fact 'tern'" in info.value.errors[0] and ":12:" in info.value.errors[0]


def test_what_is_missing_is_the_same_remembered_or_worked_out(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Officials share 'still needed' by requirement and courses done; a full memo starts over."""
    import random

    from handlers.certifications import status

    rng = random.Random(3)
    for program in load_programs().values():
        codes = sorted(c.code for c in program.courses)
        for limit in (100_000, 2):
            monkeypatch.setattr(status, "_MISSING_LIMIT", limit)
            cached, fresh = CompiledProgram(program), CompiledProgram(program)
            for _ in range(60):
                done = tuple(sorted((date(2020, 1, 1 + i), code, 4.0) for i, code in
                                    enumerate(rng.sample(codes, rng.randrange(len(codes))))))
                today = date(2020 + rng.randrange(12), 6, 1)
                fresh.missing.clear()
                assert (evaluate(cached, Facts(took_office=date(2019, 1, 1)), done, today)
                        == evaluate(fresh, Facts(took_office=date(2019, 1, 1)), done, today))
            assert len(cached.missing) <= (3 if limit == 2 else 60)
