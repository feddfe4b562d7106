"""Advance the clock through the season: each reminder arrives once, at 09:00 local time."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from handlers.certifications.scheduler import run_once
from tests.certifications.conftest import Clock, Recorder, load_demo, make_services

# KS year-one deadline 2026-12-31 (Thu). Ladder with business days, the 2026-11-03 election's
# quiet window (10-27..11-05), holidays 12-25 and 01-01, then weekly overdue steps.
EXPECTED_DAYS = ["2026-10-02",  # -90
                 "2026-11-06",  # -60 was due 10-30 (inside the quiet window): sent after it
                 "2026-12-01", "2026-12-17",  # -30, -14
                 "2026-12-24", "2026-12-30", "2026-12-31",  # -7, -1, 0
                 "2027-01-04",  # +1 falls on the 01-01 holiday: next business day
                 "2027-01-07", "2027-01-14", "2027-01-21"]  # +7 (escalation), +14, +21


@pytest.mark.slow
async def test_a_season_of_reminders_arrives_once_at_nine_local(tmp_path: Path) -> None:
    clock = Clock()
    services = await make_services(tmp_path, clock=clock)
    recorder = Recorder(clock)
    services.outbox.register("webchat", recorder)
    await load_demo(services)
    day = date(2026, 9, 28)
    while day <= date(2027, 1, 25):
        for hour in range(12, 18):
            clock.now = datetime(day.year, day.month, day.day, hour, tzinfo=UTC)
            await run_once(services)
            await services.outbox.run_once()
        day += timedelta(days=1)

    def local(dest: str, zone: str) -> list[datetime]:
        return [t.astimezone(ZoneInfo(zone)) for t, d, _ in recorder.sent if d == dest]

    pat, lee = local("webchat:local:@pat", "America/Chicago"), local("webchat:local:@lee",
                                                                      "America/Denver")
    assert [t.date().isoformat() for t in pat] == EXPECTED_DAYS
    assert [t.date().isoformat() for t in lee] == EXPECTED_DAYS
    assert {(t.hour, t.minute) for t in pat + lee} == {(9, 0)}
    # Both sides of the 1 November DST change: 09:00 CDT is 14:00 UTC, 09:00 CST is 15:00 UTC.
    utc_hours = {t.astimezone(UTC).hour for t in pat}
    assert utc_hours == {14, 15}
    supervisor = [(t, r) for t, d, r in recorder.sent if d == "webchat:local:@ks-super"]
    assert supervisor and min(t for t, _ in supervisor).date() == date(2027, 1, 7)
    escalated = " ".join(s.text for _, r in supervisor for s in r.sections)
    assert "Kim Ortiz" in escalated and "Pat Johnson" in escalated and "Lee Wallace" in escalated
    assert not any(d.endswith("@kim") for _, d, _ in recorder.sent)
    assert len({t.date() for t, _ in supervisor}) == len(supervisor)  # one digest per day
    async with services.db.engine.connect() as conn:
        rows = (await conn.execute(sa.text(
            "SELECT deadline_key, recipient, step FROM cert_reminder_sent"))).all()
    assert max(Counter(rows).values()) == 1
    await services.db.close()
