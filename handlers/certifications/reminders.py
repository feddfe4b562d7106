"""The reminder ladder, business days and quiet windows, and which reminder is due now (pure).

Steps are days relative to the deadline: -90 ... -1, 0 before or on it, +1, +7, then weekly
after it. Before-deadline steps that fall on a weekend or holiday move to the previous business
day, overdue steps to the next one, so the order of steps never changes. Only the *latest* due
step is ever considered: after downtime a person gets one current reminder, not a burst.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from bot.ops.heap import full_collections_paused
from handlers.certifications.config import CertificationConfig
from handlers.certifications.enums import CertStatus
from handlers.certifications.status import CompiledProgram, Done, Facts, Standing, evaluate

ONE_DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Policy:
    """The reminder conventions from app.yaml, in evaluation form."""

    before: tuple[int, ...] = (90, 60, 30, 14, 7, 1, 0)
    overdue: tuple[int, ...] = (1, 7)
    weekly: bool = True
    escalate_from: int = 7
    send_hour: int = 9
    holidays: frozenset[date] = frozenset()
    quiet: tuple[tuple[date, date], ...] = ()

    @classmethod
    def from_config(cls, cfg: CertificationConfig) -> Policy:
        """Build from the ``certification:`` section."""
        quiet = tuple((e.day - timedelta(days=cfg.quiet_days_before),
                       e.day + timedelta(days=cfg.quiet_days_after)) for e in cfg.elections)
        return cls(before=tuple(sorted(cfg.days_before)), overdue=tuple(cfg.overdue_days),
                   weekly=cfg.overdue_weekly, escalate_from=cfg.escalate_from_days,
                   send_hour=cfg.send_hour, holidays=frozenset(cfg.holidays), quiet=quiet)

    def business(self, day: date) -> bool:
        """Monday to Friday and not a configured holiday."""
        return day.weekday() < 5 and day not in self.holidays

    def local_day(self, now: datetime, zone: str) -> tuple[date, bool]:
        """The local date in ``zone`` and whether reminders may go out there now."""
        local = now.astimezone(_zone(zone))
        return local.date(), local.hour >= self.send_hour and self.business(local.date())

    def quiet_on(self, day: date) -> bool:
        """Inside a quiet window around an election."""
        return any(start <= day <= end for start, end in self.quiet)

    def prev_business(self, day: date) -> date:
        """``day`` or the business day before it."""
        while not self.business(day):
            day -= ONE_DAY
        return day

    def next_business(self, day: date) -> date:
        """``day`` or the business day after it."""
        while not self.business(day):
            day += ONE_DAY
        return day


def _overdue_candidates(policy: Policy, days: int) -> list[int]:
    steps = [s for s in policy.overdue if s <= days]
    if policy.weekly and policy.overdue and days > policy.overdue[-1]:
        last = policy.overdue[-1]
        top = last + 7 * ((days - last) // 7)
        steps.extend(s for s in (top - 7, top) if s > last)
    return sorted(set(steps), reverse=True)


def latest_step(deadline: date, today: date, policy: Policy) -> int | None:
    """The latest ladder step whose (business-day adjusted) send day is on or before today."""
    days = (today - deadline).days
    for step in _overdue_candidates(policy, days):
        if policy.next_business(deadline + timedelta(days=step)) <= today:
            return step
    for before in policy.before:  # ascending: 0, 1, 7, ...
        if policy.prev_business(deadline - timedelta(days=before)) <= today:
            return -before
    return None


def deadline_key(official_id: int, standing: Standing) -> str:
    """The identity of one deadline: official, program, requirement and date."""
    return f"{official_id}:{standing.program}:{standing.requirement}:{standing.deadline}"


@dataclass(frozen=True, slots=True)
class Due:
    """One reminder step due now for one official's deadline."""

    official_id: int
    key: str
    step: int
    standing: Standing
    day: date
    escalate: bool


@dataclass(slots=True)
class OfficialRecord:
    """What the scheduler and the benchmark know about one official (preloaded)."""

    id: int
    time_zone: str
    assignments: list[tuple[str, Facts]]
    done: tuple[Done, ...] = ()
    waived: frozenset[str] = frozenset()
    identity: str | None = None
    jurisdiction: str = ""
    name: str = ""
    standings: list[Standing] = field(default_factory=list)
    email: str = ""  # the roster's address, "" when none (see reach.py)


@lru_cache(maxsize=512)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def standings_for(record: OfficialRecord, programs: dict[str, CompiledProgram],
                  today: date) -> list[Standing]:
    """Evaluate every program the official is assigned to."""
    return [evaluate(programs[code], facts, record.done, today, waived=code in record.waived)
            for code, facts in record.assignments if code in programs]


def plan(records: list[OfficialRecord], programs: dict[str, CompiledProgram], now: datetime,
         policy: Policy, *, snoozed: dict[str, date] | None = None,
         sent: set[tuple[str, int]] | None = None) -> list[Due]:
    """Compute standings (kept on each record) and the reminders due at ``now``.

    ``sent`` holds (deadline key, step) pairs already sent to the official; ``snoozed`` maps
    deadline keys to the first day reminders may resume.
    """
    with full_collections_paused():  # the standings live as long as the records
        return _plan(records, programs, now, policy, snoozed or {}, sent or set())


def _plan(records: list[OfficialRecord], programs: dict[str, CompiledProgram], now: datetime,
          policy: Policy, snoozed: dict[str, date], sent: set[tuple[str, int]]) -> list[Due]:
    local_days: dict[str, tuple[date, bool]] = {}
    steps: dict[tuple[date, date], int | None] = {}  # many officials share a deadline
    quiet: dict[date, bool] = {}
    due: list[Due] = []
    for record in records:
        tz = record.time_zone
        if tz not in local_days:
            local_days[tz] = policy.local_day(now, tz)
        today, sending = local_days[tz]
        waived = record.waived
        record.standings = standings = [
            evaluate(programs[code], facts, record.done, today, waived=code in waived)
            for code, facts in record.assignments if code in programs]
        if not sending:
            continue
        for standing in standings:
            deadline = standing.deadline
            if deadline is None or standing.status == CertStatus.EXEMPT:
                continue
            pair = (deadline, today)
            if pair in steps:
                step = steps[pair]
            else:
                step = steps[pair] = latest_step(deadline, today, policy)
            if step is None:
                continue
            key = deadline_key(record.id, standing)
            escalate = step >= policy.escalate_from
            if not escalate:
                if today not in quiet:
                    quiet[today] = policy.quiet_on(today)
                if quiet[today] or snoozed.get(key, today) > today:
                    continue
                if (key, step) in sent:  # supervisors are checked per recipient
                    continue
            due.append(Due(record.id, key, step, standing, today, escalate))
    return due
