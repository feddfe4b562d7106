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
process's slots. A process alone on its budgets catches up instead: a send woken late goes at
once (its slot was an absolute time), as far as the :class:`Gate` below lets it, so a busy
machine's late wake-ups and loop stalls cost neither slots nor time the platform's windows
still have room for.

Timing alone cannot promise what the platform counts: it counts a request when it *arrives*,
and network or loop jitter larger than the safety margin (at 0.97 of a 30-a-second limit, 31
ms) puts a 31st request into some one-second window. So a bucket that the platform counts as
"at most ``limit`` in any ``per`` seconds" also has a :class:`Gate`, checked at the moment each
send starts: the send goes only when fewer than ``limit`` of this process's sends could share
its window (those in flight, and those answered less than ``per`` ago). A request arrives
between its send's start and its answer, so this holds whatever the latency. A 429 holds the
send's buckets for exactly its Retry-After (:meth:`Gate.hold`, :meth:`Timeline.hold`), after
which they go at their full rate again: no lowered rate lingers.
"""

from __future__ import annotations

import asyncio
import math
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bot.db.engine import Database
from bot.messages import Destination

SAFETY = 0.97
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
    """A budget of ``rate`` sends per second, ``burst`` of them back to back.

    ``limit`` and ``per``: how the platform counts the budget, at most ``limit`` requests in
    any ``per`` seconds (0: not counted in windows, as the SMTP relay); see :class:`Gate`.
    """

    key: str
    rate: float
    burst: float = 1.0
    limit: int = 0
    per: float = 0.0


def _limit(key: str, limit: float, per: float, burst: float = 1.0) -> Bucket:
    """The bucket for a platform limit of ``limit`` requests per ``per`` seconds."""
    return Bucket(key, limit / per * SAFETY, burst, max(1, math.floor(limit)), per)


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
        return [_limit(f"{where}:{target}", budgets.slack_channel_per_second, 1.0),
                _limit(where, budgets.slack_workspace_per_second, 1.0)]
    if destination.platform == "teams":
        return [_limit(f"{where}:{target}", budgets.teams_conversation_per_second, 1.0),
                _limit(f"{where}:{target}:30s", budgets.teams_conversation_per_30s, 30.0),
                _limit(where, budgets.teams_tenant_per_second, 1.0)]
    if destination.platform == "email":  # one relay: its budget is the only one
        return [Bucket(where, budgets.email_per_second * SAFETY, budgets.email_burst)]
    return []


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

    def hold(self, buckets: Sequence[Bucket], until: float) -> None:
        """No start in ``buckets`` before ``until`` (a 429's Retry-After); the full rate after."""
        for b in buckets:
            self._tat[b.key] = max(self._tat.get(b.key, until), until)

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


class _Window:
    """One bucket's sends that the platform may still count: in flight, or answered lately."""

    __slots__ = ("inflight", "answered", "waiters", "per")

    def __init__(self, per: float) -> None:
        self.inflight = 0
        self.answered: deque[float] = deque()  # answer times, oldest first (the loop's clock)
        self.waiters: deque[asyncio.Future[None]] = deque()  # sends waiting for an answer
        self.per = per

    def wait(self, limit: int, now: float) -> float:
        """Seconds until fewer than ``limit`` sends may share a window with one started then."""
        answered = self.answered
        while answered and answered[0] <= now - self.per:
            answered.popleft()
        over = self.inflight + len(answered) - limit + 1  # how many must drop out first
        if over <= 0:
            return 0.0
        if over > len(answered):  # some in flight must be answered first
            return math.inf
        return answered[over - 1] + self.per - now

    def idle(self, now: float) -> bool:
        return (not self.inflight and not self.waiters
                and (not self.answered or self.answered[-1] <= now - self.per))


class _Turn:
    """A send waiting in its group's line; ``entered`` once it is let through."""

    __slots__ = ("future", "buckets", "entered")

    def __init__(self, future: asyncio.Future[None], buckets: Sequence[Bucket]) -> None:
        self.future = future
        self.buckets = buckets
        self.entered: list[_Window] | None = None


class Gate:
    """What the platform counts, made certain when each send starts; and a 429's hold.

    For a bucket counted as at most ``limit`` requests in any ``per`` seconds, a send starting
    at ``t`` goes only when fewer than ``limit`` earlier sends of the bucket are in flight or
    were answered after ``t - per``. The platform counts a request when it arrives, between its
    send's start and its answer. Take any ``limit + 1`` of this process's requests arriving in
    one window of ``per`` seconds, and the one of them started last: it started no later than
    the window's end, and each of the others was answered after it arrived, so after the
    window's end less ``per``: all ``limit`` of them counted when it started, and it would not
    have gone. So whatever the network latency, and however many sends a stalled loop releases
    at once, no window holds more than the limit; a slow answer only makes a send wait.

    After a 429, :meth:`hold` keeps every send of the buckets back until its Retry-After.
    Times are the event loop's clock, in seconds.
    """

    def __init__(self) -> None:
        """Nothing in flight or held."""
        self._windows: dict[str, _Window] = {}
        self._holds: dict[str, float] = {}
        self._lines: dict[str, deque[_Turn]] = {}  # group -> sends waiting, in order
        self._bound = 1024  # forget idle windows when more than this are kept
        self.waited = 0  # sends that waited here (for answers, a window or a hold)
        self.waited_seconds = 0.0  # and for how long, in all
        self.answers = 0  # sends answered (counted in windows)
        self.flight_seconds = 0.0  # from their start to their answer (as the loop saw it), in all
        self.longest_flight = 0.0

    def hold(self, buckets: Sequence[Bucket], until: float) -> None:
        """No send in any of ``buckets`` starts before ``until`` (the platform said so)."""
        for b in buckets:
            self._holds[b.key] = max(self._holds.get(b.key, until), until)

    def held(self, buckets: Sequence[Bucket], now: float) -> float:
        """Seconds until the holds on ``buckets`` end (0 when none is held)."""
        wait = 0.0
        holds = self._holds
        for b in buckets:
            until = holds.get(b.key)
            if until is not None:
                if until > now:
                    wait = max(wait, until - now)
                else:
                    del holds[b.key]
        return wait

    def wait(self, buckets: Sequence[Bucket], now: float) -> tuple[float, _Window | None]:
        """Seconds until a send in ``buckets`` may start (0: now), and the window it waits for.

        The window is given when the wait is for an answer (infinite seconds), else None.
        """
        wait = self.held(buckets, now) if self._holds else 0.0
        for b in buckets:
            if b.limit:
                window = self._windows.get(b.key)
                if window is not None:
                    w = window.wait(b.limit, now)
                    if math.isinf(w):
                        return w, window
                    wait = max(wait, w)
        return wait, None

    async def through(self, buckets: Sequence[Bucket]) -> list[_Window]:
        """Wait until a send in ``buckets`` may start, then count it in flight from now.

        Pass the result to :meth:`answered` when the send's answer (or failure) is in. Sends
        of one group (the last, shared bucket) pass in the order they came: only the first in
        line watches the clock and the answers, so a long line costs nothing per wake-up; when
        it passes, it lets through at once every send behind it that may go then (so a window
        that frees room for several fills in one step of the loop, not one send a step, which
        a busy loop would make the limit). A send first waits for its own buckets (its
        channel, its conversation) out of line, so it never holds up its group for them.
        """
        if not buckets:
            return []
        loop = asyncio.get_running_loop()
        now = loop.time()
        group = buckets[-1].key
        line = self._lines.get(group)
        if not line and self.wait(buckets, now)[0] <= 0.0:  # the usual case: go now
            return self._enter(buckets, now)
        since = now
        own = buckets[:-1]
        while True:
            await self._until(own, loop)
            line = self._lines.setdefault(group, deque())
            turn = _Turn(loop.create_future(), buckets)
            line.append(turn)
            try:
                if line[0] is not turn:
                    await turn.future  # let through, or its turn to watch
                while turn.entered is None:
                    now = loop.time()
                    wait, window = self.wait(buckets, now)
                    if wait <= 0.0:
                        turn.entered = self._enter(buckets, now)
                        break
                    if own and self.wait(own, now)[0] > 0.0:
                        break  # a send to the same channel passed meanwhile: out of line
                    await self._pause(wait, window, loop)
            except BaseException:
                if turn.entered is not None:  # let through but cancelled: it sends nothing
                    self.answered(turn.entered, loop.time())
                raise
            finally:
                if line and line[0] is turn:  # the first in line leaves: the next look
                    line.popleft()
                    self._next(line, loop.time())
                elif turn in line:
                    line.remove(turn)
                if not line and self._lines.get(group) is line:
                    del self._lines[group]
            if turn.entered is not None:
                self.waited += 1
                self.waited_seconds += loop.time() - since
                return turn.entered

    def _next(self, line: deque[_Turn], now: float) -> None:
        """Let through the sends at the head of ``line`` that may go now; wake the next."""
        while line:
            turn = line[0]
            if turn.future.cancelled():  # cancelled while waiting: it leaves by itself
                line.popleft()
                continue
            if turn.future.done():  # already woken to watch
                return
            if self.wait(turn.buckets, now)[0] > 0.0:
                turn.future.set_result(None)  # first in line now: it watches
                return
            line.popleft()
            turn.entered = self._enter(turn.buckets, now)
            turn.future.set_result(None)

    async def _until(self, buckets: Sequence[Bucket], loop: asyncio.AbstractEventLoop) -> None:
        """Wait until ``buckets`` alone would let a send start."""
        while True:
            wait, window = self.wait(buckets, loop.time())
            if wait <= 0.0:
                return
            await self._pause(wait, window, loop)

    @staticmethod
    async def _pause(wait: float, window: _Window | None,
                     loop: asyncio.AbstractEventLoop) -> None:
        """Sleep ``wait`` seconds, or until ``window``'s next answer when ``wait`` is infinite."""
        if window is None:
            await asyncio.sleep(wait)
            return
        waiter = loop.create_future()
        window.waiters.append(waiter)
        try:  # woken by the next answer; the timeout only guards a lost wake-up
            await asyncio.wait_for(waiter, timeout=window.per)
        except TimeoutError:
            pass
        finally:
            if not waiter.done():
                waiter.cancel()

    def _enter(self, buckets: Sequence[Bucket], now: float) -> list[_Window]:
        windows = self._windows
        entered = []
        for b in buckets:
            if b.limit:
                window = windows.get(b.key)
                if window is None:
                    window = windows[b.key] = _Window(b.per)
                window.inflight += 1
                entered.append(window)
        if len(windows) > self._bound:
            self._windows = {k: w for k, w in windows.items() if not w.idle(now)}
            self._bound = max(1024, 2 * len(self._windows))
        return entered

    def answered(self, entered: list[_Window], now: float, started: float | None = None) -> None:
        """The send counted by :meth:`through` has its answer (or failed) at ``now``.

        ``started``: when it passed the gate, for the flight-time figures (how long the sends
        counted in flight stay there: the longer, the fewer a window lets start).
        """
        if started is not None:
            flight = now - started
            self.answers += 1
            self.flight_seconds += flight
            self.longest_flight = max(self.longest_flight, flight)
        for window in entered:
            window.inflight -= 1
            window.answered.append(now)
            while window.waiters:  # the longest waiting send looks again
                waiter = window.waiters.popleft()
                if not waiter.done():
                    waiter.set_result(None)
                    break
