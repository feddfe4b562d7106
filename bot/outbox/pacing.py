"""Send pacing for the outbox: send slots reserved from rate buckets kept in the database.

Each send needs a slot in every bucket that applies to its destination (Slack: the channel or DM
and the workspace; Teams: the conversation, twice, and the tenant). A bucket is a row of
``rate_bucket`` holding its *theoretical arrival time* (GCRA, the "virtual scheduling" form of a
token bucket) in ``updated_at``: the earliest moment its next send may go. Reserving a slot
moves that time on by ``1 / rate``.

:meth:`RateLimiter.schedule` plans a whole batch of sends in one short transaction: every send
gets the first moment all its buckets allow, within a horizon; a send that cannot go within the
horizon reserves nothing and is told how long to wait. The worker then sleeps until each
slot, so a process makes one database round trip per batch instead of one per send, while the
budget stays in the database: two processes reserve disjoint slots of the same bucket.

Slots are spaced by ``1 / rate`` (no burst unless a bucket is given one, as the SMTP relay's
may be), so no one-second window holds more than ``rate`` sends as planned; rates are scaled
by ``SAFETY`` to absorb network jitter against sliding windows. A crashed process only wastes
the slots it had reserved.

The slots are an absolute timeline: the n-th slot of a bucket is its start plus ``n / rate``,
whenever a process gets round to it. In a process, :class:`Timeline` (a GCRA per bucket on the
monotonic clock, with a small tolerance) decides when a send woken for its slot starts: a
wake-up late by up to :data:`TOLERANCE` is absorbed (the next sends keep their slots, nothing
drifts back), and after a longer one the sends due meanwhile go at the rate, at most ``burst``
at once, so any window of ``T`` seconds holds at most ``rate * T + burst`` of this process's
starts in any bucket. When another process holds slots of the same buckets
(:meth:`RateLimiter.shared`), a send more than :data:`MAX_LATE` behind its slot (a stalled
process) gives the slot up and takes a new one rather than be sent on top of the other
process's slots; a process alone on its budgets sends it (its own timeline keeps the rate), so
a busy machine's late wake-ups cost no slots.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bot.db.engine import Database
from bot.messages import Destination

SAFETY = 0.97
# After a 429 the group's shared budget is used a little below its rate for a while, so timing
# jitter does not keep landing sends just over the platform's window (each 429 wastes a slot).
SLOWDOWN = 0.98  # factor per 429
SLOWEST = 0.9  # never below this fraction of the configured rate
RECOVER = 0.01  # fraction of the rate regained per second without a 429
FORGET = timedelta(hours=1)  # bucket rows idle this long are deleted (they would be full)
# How far ahead of its group's theoretical time a send may start: a busy loop's timer lateness,
# absorbed instead of pushing every later send back. Small on purpose: at 0.97 of a one-second
# limit the headroom is under two sends, one of which the window's fencepost takes, and the
# rest is kept for network jitter between the bot and the platform.
TOLERANCE = 0.005
MAX_LATE = 0.5  # seconds behind its slot after which a shared budget's send takes a new slot
# A bucket is taken as shared this long after another process's reservation of it was last seen.
SHARED_FOR = timedelta(seconds=60)


@dataclass(frozen=True, slots=True)
class Bucket:
    """A budget of ``rate`` sends per second, ``burst`` of them back to back."""

    key: str
    rate: float
    burst: float = 1.0


@dataclass(frozen=True, slots=True)
class Budgets:
    """Platform limits (see the platforms guide); the workspace budget is per office."""

    slack_channel_per_second: float = 1.0
    slack_workspace_per_second: float = 10.0
    teams_conversation_per_second: float = 7.0
    teams_conversation_per_30s: float = 60.0
    teams_tenant_per_second: float = 30.0
    #: The office's SMTP relay (app.yaml ``email.pacing``): one budget for every e-mail.
    email_per_second: float = 5.0
    email_burst: float = 1.0


def pacing_group(destination: Destination) -> str:
    """The widest budget a destination shares (its workspace or tenant); a destination prefix."""
    return f"{destination.platform}:{destination.workspace}"


def platform_buckets(destination: Destination, budgets: Budgets) -> list[Bucket]:
    """The buckets one send to ``destination`` needs a slot in (none for web chat).

    The last bucket is the shared one (workspace, tenant); its key is the pacing group.
    """
    target = f"@{destination.user_id}" if destination.user_id else destination.channel
    where = pacing_group(destination)
    if destination.platform == "slack":
        return [Bucket(f"{where}:{target}", budgets.slack_channel_per_second * SAFETY),
                Bucket(where, budgets.slack_workspace_per_second * SAFETY)]
    if destination.platform == "teams":
        return [Bucket(f"{where}:{target}", budgets.teams_conversation_per_second * SAFETY),
                Bucket(f"{where}:{target}:30s", budgets.teams_conversation_per_30s / 30 * SAFETY),
                Bucket(where, budgets.teams_tenant_per_second * SAFETY)]
    if destination.platform == "email":  # one relay: its budget is the only one
        return [Bucket(where, budgets.email_per_second * SAFETY, budgets.email_burst)]
    return []


class Slowdown:
    """Per pacing group, the fraction of its rate this process uses after recent 429s.

    Only this process slows down, which only spaces its slots further apart: the budget itself
    stays in the database. Times are the event loop's clock, in seconds.
    """

    def __init__(self) -> None:
        """No group slowed yet."""
        self._slowed: dict[str, tuple[float, float]] = {}  # group -> (factor, at)

    def factors(self, now: float) -> dict[str, float]:
        """Each slowed group's current fraction of its rate (regained over time)."""
        out = {}
        for group, (factor, at) in list(self._slowed.items()):
            factor = min(1.0, factor + RECOVER * (now - at))
            if factor >= 1.0:
                del self._slowed[group]
            else:
                out[group] = factor
        return out

    def throttled(self, group: str, now: float) -> None:
        """A 429 from ``group``'s platform: use its shared budget a little more slowly."""
        factor = self.factors(now).get(group, 1.0)
        self._slowed[group] = (max(SLOWEST, factor * SLOWDOWN), now)


def slowed(buckets: list[Bucket], factors: dict[str, float]) -> list[Bucket]:
    """``buckets`` with the shared (last) one at its group's slowed rate, if slowed."""
    factor = factors.get(buckets[-1].key) if buckets else None
    if factor is None:
        return buckets
    shared = buckets[-1]
    return [*buckets[:-1], Bucket(shared.key, shared.rate * factor, shared.burst)]


class RateLimiter:
    """Reserves send slots from database-held buckets, a batch per transaction."""

    def __init__(self, db: Database, clock: Callable[[], datetime]) -> None:
        """Share ``db``'s ``rate_bucket`` table; time comes from ``clock``."""
        self.db = db
        self.clock = clock
        self._pruned: datetime | None = None
        self._written: dict[str, datetime] = {}  # bucket -> the time this process last stored
        self._shared: dict[str, datetime] = {}  # bucket -> until when it counts as shared

    def shared(self, buckets: Sequence[Bucket], now: datetime) -> bool:
        """Whether another process held slots of any of ``buckets`` lately (see :meth:`reserve`)."""
        return any(b.key in self._shared and self._shared[b.key] > now for b in buckets)

    async def take(self, buckets: Sequence[Bucket]) -> float:
        """Reserve a slot now (return 0) or reserve nothing and return the wait."""
        (delay, reserved), = await self.schedule([buckets], horizon=0.0)
        return 0.0 if reserved else max(delay, 1e-3)

    async def schedule(self, plans: Sequence[Sequence[Bucket]], *,
                       horizon: float) -> list[tuple[float, bool]]:
        """For each send (its buckets), in order: (seconds from now, reserved).

        Reserved sends must go at (not before) their offset. A send whose first slot lies
        beyond ``horizon`` seconds reserves nothing; its offset says when to try again.
        """
        return await self.db.transaction(lambda conn: self.reserve(conn, plans, horizon))

    def reserve(self, conn: Connection, plans: Sequence[Sequence[Bucket]],
                horizon: float) -> list[tuple[float, bool]]:
        """:meth:`schedule` inside the caller's (synchronous) transaction."""
        keys = sorted({b.key for plan in plans for b in plan})
        if not keys:
            return [(0.0, True)] * len(plans)
        now = self.clock()
        # Writing first takes SQLite's write lock at once (no read-to-write upgrade race).
        conn.execute(sa.text(
            "INSERT INTO rate_bucket (key, tokens, updated_at) VALUES (:k, 0, :u) "
            "ON CONFLICT (key) DO NOTHING"), [{"k": k, "u": now} for k in keys])
        lock = "" if self.db.is_sqlite else " FOR UPDATE"
        rows = (conn.execute(sa.text(
            "SELECT key, updated_at FROM rate_bucket WHERE key IN :keys "
            f"ORDER BY key{lock}").bindparams(sa.bindparam("keys", expanding=True)),
            {"keys": keys})).all()
        due = {}
        for key, stored in rows:
            tat = _aware(stored, now)
            # Slots ahead that this process did not reserve: another one shares the bucket.
            if tat > now and self._written.get(key) != tat:
                self._shared[key] = now + SHARED_FOR
            due[key] = max(0.0, (tat - now).total_seconds())
        changed: set[str] = set()
        out = []
        for plan in plans:
            at = max(0.0, max((due[b.key] - (b.burst - 1.0) / b.rate for b in plan),
                              default=0.0))
            if at > horizon:
                out.append((at, False))
                continue
            for b in plan:
                due[b.key] = max(due[b.key], at) + 1.0 / b.rate
                changed.add(b.key)
            out.append((at, True))
        if changed:
            written = {k: now + timedelta(seconds=due[k]) for k in sorted(changed)}
            conn.execute(sa.text(
                "UPDATE rate_bucket SET updated_at = :u WHERE key = :k"),
                [{"k": k, "u": u} for k, u in written.items()])
            if len(self._written) > 4096:  # buckets whose slots all passed need no memory
                self._written = {k: u for k, u in self._written.items() if u > now}
                self._shared = {k: u for k, u in self._shared.items() if u > now}
            self._written.update(written)
        if self._pruned is None or now - self._pruned > FORGET / 4:
            self._pruned = now
            conn.execute(sa.text("DELETE FROM rate_bucket WHERE updated_at < :old"),
                               {"old": now - FORGET})
        return out


def _aware(value: datetime | str, now: datetime) -> datetime:
    """SQLite returns text or naive datetimes through a raw query; they were stored as UTC."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo is not None else value.replace(tzinfo=now.tzinfo)


class Timeline:
    """When a send woken for its slot starts, per bucket, on this process's monotonic clock.

    A GCRA per bucket: ``_tat[key]`` is the theoretical time of the bucket's next start; a send
    may start ``TOLERANCE`` before the latest of its buckets' times, and each start moves each
    of them on by ``1 / rate`` from the later of itself and that start. So wake-ups a little
    late cost nothing, a stall costs its length (less the tolerance) and never a burst, and no
    window of ``T`` seconds holds more than ``rate * T + burst`` starts of one bucket.
    """

    def __init__(self) -> None:
        """No bucket started yet."""
        self._tat: dict[str, float] = {}
        self._bound = 1024  # forget buckets whose time passed when more than this are kept

    @staticmethod
    def burst(rate: float) -> float:
        """The most starts beyond ``rate * T`` any window of ``T`` seconds can hold."""
        return 1.0 + rate * TOLERANCE

    @staticmethod
    def admit(slot: float, now: float) -> bool:
        """Whether a send reserved for ``slot`` and woken at ``now`` may still use it."""
        return now - slot <= MAX_LATE

    def start(self, group: str, rate: float, now: float, burst: float = 1.0) -> float:
        """:meth:`start_send` for a send needing one bucket (``group`` at ``rate``)."""
        return self.start_send([Bucket(group, rate, burst)], now)

    def start_send(self, buckets: Sequence[Bucket], now: float) -> float:
        """When (at or after ``now``) a send needing ``buckets``, woken at ``now``, starts.

        Claims that start in each bucket; a bucket that allows a ``burst`` may start that many
        back to back.
        """
        tat = self._tat
        at = now
        for b in buckets:
            if b.key in tat:
                at = max(at, tat[b.key] - TOLERANCE - (b.burst - 1.0) / b.rate)
        for b in buckets:
            if not math.isinf(b.rate):
                tat[b.key] = max(tat.get(b.key, at), at) + 1.0 / b.rate
        if len(tat) > self._bound:  # buckets idle for a while are forgotten (they are full)
            self._tat = {k: t for k, t in tat.items() if t > now}
            self._bound = max(1024, 2 * len(self._tat))
        return at
