"""Times and dates as people read them: their own zone, the date with its year, and how far.

The one place a time becomes words. Every time shown to a person goes through :func:`moment`
(an instant) or :func:`day` (a calendar date), in the zone :func:`reader_zone` picks:
the person's own (Slack ``tz`` from ``users.info``), else their jurisdiction's, else the
office's (app.yaml).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def zone_named(name: str, fallback: str = "UTC") -> ZoneInfo:
    """The zone called ``name``; ``fallback`` when the name is empty or unknown."""
    for candidate in (name, fallback, "UTC"):
        if candidate:
            try:
                return ZoneInfo(candidate)
            except (ZoneInfoNotFoundError, ValueError):
                continue
    return ZoneInfo("UTC")


def reader_zone(own: str, area: str) -> ZoneInfo:
    """The reader's zone: their own where a platform told us, else ``area``'s.

    ``area`` is the zone of the reader's jurisdiction, or the office's (``time_zone_for``).
    """
    return zone_named(own, area)


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def plural(count: int, word: str, many: str = "") -> str:
    """'1 day', '36 days'; ``many`` for a word that is not made plural with 's' ('people')."""
    return f"{count} {word if count == 1 else many or word + 's'}"


def relative(at: datetime, now: datetime) -> str:
    """How far ``at`` is from ``now``: 'just now', '2 hours ago', 'in 36 days'."""
    seconds = (_aware(at) - _aware(now)).total_seconds()
    ahead, size = seconds > 0, abs(seconds)
    if size < 60:
        return "just now"
    for unit, length in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if size >= length:
            words = plural(int(size // length), unit)
            return f"in {words}" if ahead else f"{words} ago"
    return "just now"  # not reached


def moment(at: datetime, zone: ZoneInfo, now: datetime | None = None) -> str:
    """An instant as its reader reads it: 'Tue 03 Nov 2026 10:15 CST (2 hours ago)'.

    Date, year and the zone's abbreviation always; how long ago (or ahead) when ``now`` is
    given.
    """
    text = f"{_aware(at).astimezone(zone):%a %d %b %Y %H:%M %Z}"
    return f"{text} ({relative(at, now)})" if now is not None else text


def days_between(when: date, today: date) -> str:
    """'today', 'tomorrow', 'yesterday', 'in 36 days', '3 days ago'."""
    days = (when - today).days
    if days == 0:
        return "today"
    if days == 1:
        return "tomorrow"
    if days == -1:
        return "yesterday"
    return f"in {plural(days, 'day')}" if days > 0 else f"{plural(-days, 'day')} ago"


def day(when: date, today: date | None = None) -> str:
    """A date with its weekday and year: 'Tue 08 Dec 2026 (in 36 days)' when ``today``."""
    text = f"{when:%a %d %b %Y}"
    return f"{text} ({days_between(when, today)})" if today is not None else text
