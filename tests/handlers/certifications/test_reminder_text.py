"""Reminder text states the real days left from the send day, not the ladder step.

Expected values are computed by hand from a calendar: Thu 31 Dec 2026 is the deadline,
Sun 01 Nov 2026 its 60-day step, and Wed 25 Nov 2026 (24 days after that) is 36 days before it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from handlers.certifications.enums import CertStatus
from handlers.certifications.reminders import Due, OfficialRecord, Policy, latest_step
from handlers.certifications.replies import build_digest, when
from handlers.certifications.status import Standing
from tests.handlers.certifications.platform_support import cert_settings

DEADLINE = date(2026, 12, 31)
POLICY = Policy(before=(0, 1, 7, 14, 30, 60, 90))
DANA = "slack:T0TEST:UDANA"
BOSS = "slack:T0TEST:UBOSS"


def _digest_text(tmp_path: Path, today: date, step: int, recipient: str = DANA) -> str:
    standing = Standing("KS-CLERK", CertStatus.IN_PROGRESS, DEADLINE, "initial")
    record = OfficialRecord(7, "America/Los_Angeles", [], identity=DANA, jurisdiction="KS",
                            name="Dana Reyes")
    item = Due(7, "7:KS-CLERK:initial:2026-12-31", step, standing, today, escalate=True)
    reply = build_digest(recipient, [item], {7: record}, cert_settings(tmp_path).app)
    return " ".join(section.text for section in reply.sections)


def test_a_late_60_day_reminder_states_the_36_days_really_left(tmp_path: Path) -> None:
    sent_on = date(2026, 11, 25)
    step = latest_step(DEADLINE, sent_on, POLICY)
    assert step == -60  # the ladder's step is still the 60-day one
    text = _digest_text(tmp_path, sent_on, step)
    assert "due in 36 days, on Thu 31 Dec 2026" in text
    assert "60" not in text
    assert "Dana Reyes (KS) is due in 36 days, on Thu 31 Dec 2026" in _digest_text(
        tmp_path, sent_on, step, recipient=BOSS)


def test_the_day_is_the_officials_local_day_not_the_utc_day(tmp_path: Path) -> None:
    now = datetime(2026, 12, 31, 2, 0, tzinfo=UTC)  # Wed 30 Dec 18:00 in Los Angeles
    today, sending = POLICY.local_day(now, "America/Los_Angeles")
    assert (today, sending) == (date(2026, 12, 30), True)
    assert POLICY.local_day(now, "UTC")[0] == DEADLINE  # in UTC it would already be today
    step = latest_step(DEADLINE, today, POLICY)
    assert step is not None
    assert "due tomorrow, Thu 31 Dec 2026" in _digest_text(tmp_path, today, step)


def test_due_today_one_day_and_overdue_wording() -> None:
    assert when(DEADLINE, DEADLINE) == "due today, Thu 31 Dec 2026"
    assert when(DEADLINE, date(2026, 12, 29)) == "due in 2 days, on Thu 31 Dec 2026"
    assert when(DEADLINE, date(2027, 1, 1)) == "overdue since Thu 31 Dec 2026 (1 day)"
    assert when(DEADLINE, date(2027, 1, 8)) == "overdue since Thu 31 Dec 2026 (8 days)"
