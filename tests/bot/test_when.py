"""Times as people read them, with hand-computed values.

10:15 in America/Chicago on Tue 03 Nov 2026 is CST (UTC-6: daylight time ended on Sun 01 Nov),
so 16:15 UTC; on Wed 01 Jul 2026 it is CDT (UTC-5), so 15:15 UTC. From Mon 02 Nov 2026 to
Tue 08 Dec 2026 is 28 + 8 = 36 days.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from bot.when import day, days_between, moment, reader_zone, relative

CHICAGO = ZoneInfo("America/Chicago")


def test_an_instant_shows_date_year_and_the_zone_in_force_that_day() -> None:
    assert moment(datetime(2026, 11, 3, 16, 15, tzinfo=UTC), CHICAGO) == \
        "Tue 03 Nov 2026 10:15 CST"
    assert moment(datetime(2026, 7, 1, 15, 15, tzinfo=UTC), CHICAGO) == \
        "Wed 01 Jul 2026 10:15 CDT"
    naive_utc = datetime(2026, 11, 3, 16, 15)  # stored naive means UTC
    assert moment(naive_utc, CHICAGO) == "Tue 03 Nov 2026 10:15 CST"


def test_relative_phrasing() -> None:
    now = datetime(2026, 11, 3, 18, 15, tzinfo=UTC)
    assert relative(datetime(2026, 11, 3, 16, 15, tzinfo=UTC), now) == "2 hours ago"
    assert relative(datetime(2026, 11, 3, 18, 14, 30, tzinfo=UTC), now) == "just now"
    assert relative(datetime(2026, 11, 3, 18, 16, tzinfo=UTC), now) == "in 1 minute"
    assert relative(datetime(2026, 12, 9, 18, 15, tzinfo=UTC), now) == "in 36 days"
    assert moment(datetime(2026, 11, 3, 16, 15, tzinfo=UTC), CHICAGO, now) == \
        "Tue 03 Nov 2026 10:15 CST (2 hours ago)"


def test_a_deadline_36_days_away_says_so() -> None:
    assert day(date(2026, 12, 8), date(2026, 11, 2)) == "Tue 08 Dec 2026 (in 36 days)"
    assert days_between(date(2026, 11, 3), date(2026, 11, 2)) == "tomorrow"
    assert days_between(date(2026, 10, 30), date(2026, 11, 2)) == "3 days ago"
    assert day(date(2026, 12, 8)) == "Tue 08 Dec 2026"


def test_the_readers_own_zone_wins_then_the_area_then_utc() -> None:
    assert reader_zone("America/Chicago", "America/New_York") == CHICAGO
    assert reader_zone("", "America/New_York") == ZoneInfo("America/New_York")
    assert reader_zone("Not/AZone", "America/New_York") == ZoneInfo("America/New_York")
    assert reader_zone("", "") == ZoneInfo("UTC")
