"""The outbox: background sends through the right adapter, retried until delivered.

Callers add a message in the same transaction as the change it announces
(:mod:`bot.outbox.queue`), so a crash after the commit still sends after restart; that commit
wakes the worker (:meth:`Outbox.wake`, through the database's commit hook). The worker claims due
rows with a lease (safe with several processes on one database), fairly across pacing groups
(:mod:`bot.outbox.store`), sends through the platform's transport, and records the result:
sent, retried later with capped exponential backoff and full jitter (or the platform's
Retry-After), or dead with the reason. Results are written in batches; a crash before a batch
is written leaves those rows ``sending`` and they come back as uncertain (below).

Pacing: each claimed batch reserves send slots from the destinations' rate buckets in one
transaction (:mod:`bot.outbox.pacing`, held in the database so every process shares one
budget); each send then waits for its slot, an absolute time on the monotonic clock
(:class:`~bot.outbox.pacing.Timeline`), so a late wake-up never pushes the later sends back. A
send whose slot lies beyond the horizon is put back with ``next_attempt_at`` moved on, in the
same batched write. Alone on its budgets, a send woken late goes at once (catching up, as far
as the gate below allows); when another process shares its budget, it goes at its buckets' rate
from its wake-up (the timeline), and one woken too late for its slot (a stalled loop) is put
back for a new slot instead, without using an attempt, so it does not land on the other
process's slots. Right before it starts, a send also passes the
:class:`~bot.outbox.pacing.Gate`: fewer than the platform's limit of this process's sends may
be in flight or answered within the platform's counting window, so latency and a stalled loop
never push a request over the limit. A 429 holds the send's buckets for exactly its
Retry-After; then they go at their full rate again.

Cost per send: rows are claimed as plain records (:class:`~bot.outbox.store.Claimed`), a
payload shared by many rows (a broadcast) is decoded once, and outcomes are written in batches.
A paced send is a task sleeping until its slot; a group without a rate limit (web chat) is sent
by a few tasks taking its claimed rows in turn, so hundreds of claimed rows wait as records,
not as tasks the garbage collector walks. A row that waited in that queue for half its lease is
put back rather than started; a claim of a row this process is still sending or still holds in
its queue (its lease lapsed in a stall) only renews the lease, so it is not sent twice.

After a crash: a send whose earlier attempt may have landed (a crash while ``sending``, a
timeout, a 5xx) is uncertain. Before sending it again the worker asks a
:class:`~bot.outbox.transport.Checkable` transport ``already_sent(destination, key, since=...)``:
a reference means it landed (recorded as sent, not posted again); None means it certainly did
not (sent normally). When the transport cannot look (not Checkable, as Teams, whose Bot
Connector cannot read a conversation; or :class:`~bot.outbox.transport.CannotTell`, as for
Slack without the history scope or budget) the
message is sent again once *marked* as a possible repeat (``Reply.repeat``, whose first line
every renderer shows): nothing is lost, and a second copy never passes for a new message.
Only an answer that proves nothing was posted (429 with Retry-After, a permanent error, a
:class:`~bot.outbox.transport.RetryableSendError` marked ``unsent``) leaves a message certain.

Isolation: one row never stops the others. A row whose destination cannot be read (written by
an older version, or by hand) is dead-lettered as "bad destination: ..." inside the claim, a
payload that cannot be decoded as "bad payload: ...", and whatever a transport raises is that
row's retry or dead letter; dead letters are counted by reason class (:mod:`bot.ops.metrics`).
Destinations are validated when queued (:func:`bot.outbox.queue.enqueue`), so these are the
last line, not the first.

Edits: ``enqueue(key=EditKey(of, version), ...)`` replaces an earlier message (found by its key)
through an :class:`~bot.outbox.transport.Editable` transport's ``update``. An edit is idempotent,
so it is simply retried; an older edit of the same message is skipped once a newer is queued.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import math
import time
from collections import Counter, defaultdict, deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy.engine import Connection

from bot.db.engine import Database, utcnow
from bot.messages import Destination, InvalidDestination, Reply, reply_from_dict
from bot.ops.metrics import count_delivery
from bot.outbox import store as outbox_store
from bot.outbox.pacing import (
    Bucket,
    Budgets,
    Gate,
    RateLimiter,
    Timeline,
    pacing_group,
    platform_buckets,
)
from bot.outbox.queue import EDIT, ENQUEUED
from bot.outbox.store import Claimed
from bot.outbox.transport import (
    CannotTell,
    Checkable,
    Editable,
    PermanentSendError,
    Preparing,
    PreparingMany,
    Reachable,
    RetryableSendError,
    Transport,
    backoff,
)

log = logging.getLogger(__name__)
LEASE = timedelta(seconds=30)  # sends time out well before this; a dead process's rows return
UNCERTAIN = "uncertain: "  # last_error prefix: an earlier attempt may have landed
BAD_DESTINATION = "bad destination: "  # last_error prefix: a row no transport could address
PREPARE_LEAD = 0.5  # seconds before its slot a send resolves its DM channel / reference
DECODED = 64  # payloads kept decoded (a broadcast's rows share one)


@dataclass(frozen=True, slots=True)
class Slot:
    """When a claimed send may go: ``at`` (monotonic), in ``buckets``, shared with others or not."""

    at: float
    buckets: list[Bucket]
    shared: bool
    looked_up: asyncio.Task[None] | None = None  # the batch's look-ups (PreparingMany)


class Outbox:
    """Runs due sends; one per process, any number of processes per database."""

    def __init__(self, db: Database, *, clock: Callable[[], datetime] = utcnow,
                 max_attempts: int = 20, base_delay: float = 1.0, max_delay: float = 300.0,
                 batch: int = 50, concurrency: int = 400, max_inline_wait: float = 0.5,
                 lookahead: float = 2.0, unpaced_senders: int = 16) -> None:
        """Configure retry and pacing policy; transports are registered by the adapters.

        Each pacing group gets about ``lookahead`` seconds of its budget claimed at a time;
        ``budgets`` (the platforms' send rates) are set by whoever builds the outbox from its
        configuration. A commit that queued sends (:func:`bot.outbox.queue.enqueue`) wakes it.
        A group without a rate limit (web chat: a database insert per send) is sent by at most
        ``unpaced_senders`` tasks, which take its claimed rows in turn.
        """
        self.db = db
        self.clock = clock
        self.max_attempts = max_attempts
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.batch = batch
        self.concurrency = concurrency
        self.max_inline_wait = max_inline_wait
        self.lookahead = lookahead
        self.unpaced_senders = unpaced_senders
        self.budgets = Budgets()
        self.pacer: Callable[[Destination], list[Bucket]] = (
            lambda d: platform_buckets(d, self.budgets))
        self.limiter = RateLimiter(db, clock)
        self.transports: dict[str, Transport] = {}
        self.on_wake: Callable[[], None] | None = None
        #: Last touches to a reply just before it is rendered (the people it names).
        self.before_send: Callable[[Reply], Awaitable[Reply]] | None = None
        self._wake = asyncio.Event()
        self._poked = False
        self._uncertain: set[int] = set()
        self._inflight: Counter[str] = Counter()  # per group: claimed, not yet finished
        self._unpaced: defaultdict[str, deque[tuple[Claimed, Destination, Slot]]] = (
            defaultdict(deque))
        self._senders: Counter[str] = Counter()
        self._held: dict[int, datetime] = {}  # queued unpaced rows: when their lease ends
        self._sending: set[int] = set()  # rows whose send has begun in this process
        self._rates: dict[str, float] = {}
        self._decoded: dict[str, tuple[dict[str, Any], Reply]] = {}
        self._results: dict[int, dict[str, Any]] = {}
        self.timeline = Timeline()
        self.repaced = 0  # sends woken too late for their slot, put back for a new one
        self.gate = Gate()
        self._flush_lock = asyncio.Lock()
        self._written_at = 0.0  # the loop time of the last write of outcomes
        db.on_commit(ENQUEUED, self.wake)

    def register(self, platform: str, transport: Transport) -> None:
        """Called by an adapter that can send proactively."""
        self.transports[platform] = transport

    def tells(self, platform: str) -> bool:
        """Whether the platform's transport can say ahead whom it cannot message (Reachable).

        Only these are worth asking :meth:`unreachable` about: a caller with 100,000 people
        makes destinations for those platforms' people alone.
        """
        return isinstance(self.transports.get(platform), Reachable)

    async def unreachable(self, destinations: Iterable[Destination]) -> dict[Destination, str]:
        """Which destinations no proactive message would reach, and why (asked per platform).

        Only transports that can tell (:class:`Reachable`) are asked; the others' destinations
        are taken as reachable, as their sends will show.
        """
        by_platform: dict[str, list[Destination]] = {}
        for destination in destinations:
            by_platform.setdefault(destination.platform, []).append(destination)
        found: dict[Destination, str] = {}
        for platform, group in by_platform.items():
            transport = self.transports.get(platform)
            if isinstance(transport, Reachable):
                found.update(await transport.unreachable(group))
        return found

    def wake(self) -> None:
        """Something was just enqueued (and committed): look now instead of at the next tick.

        With the distributed worker (``bot.ops.jobs``), ``on_wake`` also asks the job engine to run
        a drain on some worker; if that request is lost, the periodic sweep catches up.
        """
        self._poked = True
        self._wake.set()
        if self.on_wake is not None:
            self.on_wake()

    async def drain(self, *, budget_seconds: float = 20.0) -> int:
        """Send until nothing is due (or the time budget is spent); return messages attempted.

        This is what one distributed job does; several workers may drain at once.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + budget_seconds
        attempted = 0
        inflight: set[asyncio.Task[None]] = set()
        try:
            while loop.time() < deadline:
                started = await self._pass(inflight)
                attempted += started
                await self.flush()
                if not started and not inflight:
                    break
                if inflight:
                    await asyncio.wait(inflight, timeout=0.2,
                                       return_when=asyncio.FIRST_COMPLETED)
            await asyncio.gather(*inflight, return_exceptions=True)
        finally:
            await self.flush()
        return attempted

    async def run(self, *, interval: float = 1.0, idle: float = 30.0, coalesce: float = 0.25,
                  settle: float = 0.05) -> None:
        """Loop forever (cancel to stop), keeping each pacing group's next slots claimed.

        New work (:meth:`wake`) is claimed at once (after ``settle`` seconds, gathering the
        wake-ups of a burst of commits); while sends are in flight the loop claims every
        ``coalesce`` seconds and writes finished sends' outcomes at least as often (the status
        view shows them), many per transaction; once nothing is in flight, within ``settle``.
        While rows wait (a retry's backoff, a postponed send, another process's lease) it looks
        every ``interval`` seconds; with none pending or sending, nothing can fall due without
        a commit that wakes it, so it looks again only after ``idle`` seconds (a row written by
        a process that cannot wake this one: another instance on the same database).
        """
        loop = asyncio.get_running_loop()
        inflight: set[asyncio.Task[None]] = set()
        next_claim = 0.0
        try:
            while True:
                try:
                    looked = False
                    if self._poked or loop.time() >= next_claim:
                        self._poked = False
                        looked = not await self._pass(inflight) and not inflight
                        next_claim = loop.time() + (coalesce if inflight else interval)
                    if not inflight or loop.time() >= self._written_at + coalesce:
                        await self.flush()
                    if looked and idle > interval and not self._poked \
                            and not await outbox_store.any_live(self.db):
                        next_claim = loop.time() + idle
                except Exception:
                    log.exception("outbox pass failed; retrying next tick")
                self._wake.clear()
                if not self._poked:  # a wake-up during this pass's awaits is not lost
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(max(0.0, next_claim - loop.time())):
                            await self._wake.wait()
                await asyncio.sleep(settle)
        finally:
            for task in inflight:
                task.cancel()
            # Wait for the cancelled sends to unwind before the caller closes the database,
            # then write the outcomes still held (sent messages must not stay "sending").
            await asyncio.gather(*inflight, return_exceptions=True)
            with contextlib.suppress(Exception):
                await self.flush()

    async def run_once(self) -> int:
        """Claim and send every due message (one batch); return how many were attempted."""
        inflight: set[asyncio.Task[None]] = set()
        started = await self._pass(inflight, limit=self.batch)
        await asyncio.gather(*inflight)
        await self.flush()
        return started

    async def flush(self) -> None:
        """Write the outcomes gathered since the last flush (one transaction)."""
        await self._write(None)

    async def _write(self, work: Callable[[Connection], None] | None) -> None:
        """Flush the gathered outcomes and then do ``work``, in one short transaction."""
        async with self._flush_lock:
            results, self._results = self._results, {}
            if not results and work is None:
                return
            self._written_at = asyncio.get_running_loop().time()

            def run(conn: Connection) -> None:
                outbox_store.write_results(conn, results)
                if work is not None:
                    work(conn)
            try:
                await self.db.transaction(run)
            except BaseException:
                self._results = {**results, **self._results}
                raise

    def _room(self, group: str) -> int:
        rate = self._rates.get(group)
        if rate is None:  # not seen yet: a first batch tells its budget
            return self.batch
        if math.isinf(rate):
            return max(0, self.concurrency - self._inflight[group])
        return max(0, math.ceil(rate * self.lookahead) - self._inflight[group])

    async def _pass(self, inflight: set[asyncio.Task[None]], limit: int | None = None) -> int:
        """Claim what each group can use, reserve its slots, start the sends; return count.

        Writing earlier outcomes, the claim, the slot reservation and the postponements are
        one transaction: few and short write locks, which matters on SQLite.
        """
        room = min(limit or self.concurrency, self.concurrency - len(inflight))
        ids, lapsed = await outbox_store.candidates(
            self.db, now=self.clock(), limit=room, room=self._room) if room > 0 else ([], set())
        if not ids:
            return 0
        plan: list[tuple[Claimed, Destination, list[Bucket], tuple[float, bool], bool]] = []
        poisoned: list[tuple[Claimed, str]] = []
        horizon = max(self.max_inline_wait, self.lookahead)
        anchor = 0.0  # the monotonic time matching the reservation's "now"

        def claim_and_reserve(conn: Connection) -> None:
            nonlocal anchor
            # May run in a worker thread: SQL and arithmetic only, no event-loop state.
            rows, destinations, buckets, results = [], [], [], {}
            for row in outbox_store.take(conn, ids, now=self.clock(), lease=LEASE):
                try:  # one unreadable row is dead-lettered on its own, never the whole pass
                    destination = Destination.parse(row.destination)
                    if destination.platform != row.platform:
                        raise InvalidDestination(f"platform {row.platform[:16]!r} differs")
                    buckets.append(self.pacer(destination))
                except Exception as exc:
                    error = f"{BAD_DESTINATION}{exc}"[:500]
                    results[row.id or 0] = self._values(
                        row, status="dead", attempts=row.attempts + 1, last_error=error)
                    poisoned.append((row, error))
                    continue
                rows.append(row)
                destinations.append(destination)
            anchor = time.monotonic()  # the event loop's clock (asyncio's default)
            slots = self.limiter.reserve(conn, buckets, horizon)
            now = self.clock()
            shared = [self.limiter.shared(b, now) for b in buckets]
            for row, (delay, reserved) in zip(rows, slots, strict=True):
                if not reserved:  # pacing is not a failure: no attempt used
                    uncertain = row.id in lapsed or _uncertain(row)
                    results[row.id or 0] = self._values(
                        row, next_attempt_at=self.clock() + timedelta(seconds=delay),
                        last_error=UNCERTAIN + (row.last_error or "paced").removeprefix(
                            UNCERTAIN) if uncertain else row.last_error)
            outbox_store.write_results(conn, results)
            plan.extend(zip(rows, destinations, buckets, slots, shared, strict=True))

        claimed = self.clock()  # no later than the claim's own "now": its lease ends after
        await self._write(claim_and_reserve)
        for row, error in poisoned:
            log.error("outbox message dead", extra={"outbox_id": row.id, "reason": error})
            count_delivery(row.platform, "dead", "bad_destination")
        looked_up = self._look_up([(row.platform, destination) for row, destination, _b,
                                   (_d, reserved), _s in plan if reserved])
        if looked_up is not None:  # cancelled and awaited with the sends
            inflight.add(looked_up)
            looked_up.add_done_callback(inflight.discard)
        for started, (row, destination, buckets, (delay, reserved), shared) in enumerate(plan):
            if started % 50 == 49:  # hundreds of sends start per pass: let others in between
                await asyncio.sleep(0)
            group = pacing_group(destination)
            self._rates[group] = buckets[-1].rate if buckets else math.inf
            if not reserved:
                continue
            if (row.id or 0) in self._sending:  # a send here outlived its lease: it records
                continue  # the outcome; this claim only renewed the lease
            if not buckets and (row.id or 0) in self._held:  # still queued here, not started:
                self._held[row.id or 0] = claimed + LEASE  # this claim only renewed its lease
                continue
            if row.id in lapsed or _uncertain(row):
                self._uncertain.add(row.id or 0)
            self._inflight[group] += 1
            slot = Slot(anchor + delay, buckets, shared, looked_up)
            if not buckets:  # unpaced (web chat): a few senders per group take turns
                self._held[row.id or 0] = claimed + LEASE
                self._unpaced[group].append((row, destination, slot))
                if self._senders[group] < self.unpaced_senders:
                    self._start_sender(group, inflight)
                continue
            task = asyncio.create_task(self._deliver(row, destination, slot))
            inflight.add(task)
            task.add_done_callback(inflight.discard)
            task.add_done_callback(functools.partial(self._done, group))
        return len(plan) + len(poisoned)

    def _start_sender(self, group: str, inflight: set[asyncio.Task[None]]) -> None:
        self._senders[group] += 1
        began = [False]
        task = asyncio.create_task(self._send_unpaced(group, began))
        inflight.add(task)
        task.add_done_callback(inflight.discard)
        task.add_done_callback(functools.partial(self._sender_gone, group, began))

    async def _send_unpaced(self, group: str, began: list[bool]) -> None:
        """One of a group's few senders: deliver its queued rows until none are left.

        A claimed row waiting here is a plain record, not a task with its coroutines and
        futures: hundreds of those alive at once made each full garbage collection walk them
        (pauses of 50-110 ms of the event loop during a big web chat send, issue 16). A row
        that waited here for half its lease (a stalled database) is not started: it goes back,
        due now, before its lease could lapse and another claim send it too.
        """
        began[0] = True
        queue = self._unpaced[group]
        try:
            while queue:
                row, destination, slot = queue.popleft()
                lease_ends = self._held.pop(row.id or 0, None)
                try:
                    if lease_ends is not None and self.clock() > lease_ends - LEASE / 2:
                        self._put_back(row)
                        continue
                    await self._deliver(row, destination, slot)
                finally:
                    self._done(group, None)
        finally:  # at once, so rows queued from now on start a new sender
            self._senders[group] -= 1

    def _sender_gone(self, group: str, began: list[bool], task: asyncio.Task[None]) -> None:
        """A sender ended (done callback: it also runs for one cancelled before it began).

        Stopped: the rows not started go back, due now, without using an attempt.
        """
        if not began[0]:
            self._senders[group] -= 1
        if not task.cancelled():
            return
        queue = self._unpaced[group]
        while queue:
            row = queue.popleft()[0]
            self._held.pop(row.id or 0, None)
            self._put_back(row)
            self._done(group, None)

    def _look_up(self, sends: list[tuple[str, Destination]]) -> asyncio.Task[None] | None:
        """Start the batch look-ups of the transports that can do them (one task, never fails)."""
        wanted: dict[str, list[Destination]] = {}
        for platform, destination in sends:
            if _can(self.transports.get(platform), PreparingMany):
                wanted.setdefault(platform, []).append(destination)
        return asyncio.create_task(self._prepare_many(wanted)) if wanted else None

    async def _prepare_many(self, wanted: dict[str, list[Destination]]) -> None:
        for platform, destinations in wanted.items():
            transport = self.transports.get(platform)
            try:
                if isinstance(transport, PreparingMany):
                    await transport.prepare_many(destinations)
            except Exception as exc:  # only a head start: each send looks up its own
                log.warning("outbox batch look-up failed",
                            extra={"platform": platform, "error": type(exc).__name__})

    def _done(self, group: str, _task: object) -> None:
        self._inflight[group] -= 1
        self._wake.set()

    def _decode(self, text: str) -> tuple[dict[str, Any], Reply]:
        """The payload and its reply; decoded once for the many rows of a broadcast."""
        found = self._decoded.get(text)
        if found is None:
            payload = json.loads(text)
            found = (payload, reply_from_dict(payload))
            if len(self._decoded) >= DECODED:
                self._decoded.clear()
            self._decoded[text] = found
        return found

    async def _deliver(self, row: Claimed, destination: Destination, slot: Slot) -> None:
        """Wait for the slot, send, and record the outcome (never raises)."""
        transport = self.transports.get(row.platform)
        at = slot.at
        self._sending.add(row.id or 0)
        try:
            payload, reply = self._decode(row.payload)
        except Exception as exc:  # stored by an older or broken writer: dead, alone
            self._dead(row, f"bad payload: {type(exc).__name__}: {exc}", "bad_payload")
            self._uncertain.discard(row.id or 0)
            self._sending.discard(row.id or 0)
            return
        was_uncertain = row.id in self._uncertain and EDIT not in payload
        started = False
        counted: list[Any] | None = None  # the gate's count of this send while in flight
        began = 0.0  # when the gate let it start (the loop's clock)
        try:
            if self.before_send is not None:
                reply = await self.before_send(reply)
            if transport is None:
                self._dead(row, f"{row.platform} is not configured on this server",
                           "not_configured")
                return
            if was_uncertain:
                ref, looked = None, isinstance(transport, Checkable)
                if isinstance(transport, Checkable):
                    try:
                        ref = await transport.already_sent(destination, row.key,
                                                           since=row.created_at)
                    except CannotTell:
                        looked = False
                if ref:
                    log.info("outbox message had landed", extra={"outbox_id": row.id})
                    self._finish(row, status="sent", ref=ref)
                    return
                if not looked:  # nobody could look: send again, saying it may be a repeat
                    reply = replace(reply, repeat=True)
                    count_delivery(row.platform, "repeat")
                    log.info("outbox resending a possible repeat", extra={"outbox_id": row.id})
            if _can(transport, Preparing):  # DM channel, conversation reference: off
                # the slot, shortly before it, so a batch's look-ups are spread out, not a burst
                loop = asyncio.get_running_loop()
                await asyncio.sleep(max(0.0, at - PREPARE_LEAD - loop.time()))
                if slot.looked_up is not None:
                    await asyncio.shield(slot.looked_up)
                await cast(Preparing, transport).prepare(destination)
            counted = await self._slot(slot)
            if counted is None:
                self._repace(row)
                return
            began = asyncio.get_running_loop().time()
            if EDIT in payload:
                ref = await self._edit(transport, row, destination, payload[EDIT], reply)
            else:
                started = True  # from here on a failure may hide a delivered message
                ref = await transport.send(destination, reply, key=row.key)
        except PermanentSendError as exc:
            self._dead(row, str(exc), "permanent")
        except Exception as exc:  # anything else a transport raises: this row only, retried
            retry_after = getattr(exc, "retry_after", None)
            if retry_after is not None and started:  # the platform says: none before then
                until = asyncio.get_running_loop().time() + retry_after
                self.gate.hold(slot.buckets, until)
                self.timeline.hold(slot.buckets, until)
            # Only a 429 with Retry-After, or an answer the transport says proves it (an SMTP
            # 4xx), shows this attempt posted nothing.
            maybe_landed = (started and retry_after is None
                            and not getattr(exc, "unsent", False))
            self._retry(row, str(exc) or type(exc).__name__, retry_after,
                        uncertain=was_uncertain or maybe_landed)
        else:
            self._finish(row, status="sent", ref=ref)
        finally:
            if counted:
                self.gate.answered(counted, asyncio.get_running_loop().time(), began)
            self._uncertain.discard(row.id or 0)
            self._sending.discard(row.id or 0)

    async def _slot(self, slot: Slot) -> list[Any] | None:
        """Sleep until the slot, then until the timeline and the gate let the send start.

        Returns the gate's count of the send (for :meth:`Gate.answered` once it is answered).
        None (do not send) for a send woken more than ``MAX_LATE`` after its slot (a stalled
        process) when another process shares its budget: sent now, it would land on slots that
        process holds. Alone on its budgets, a send woken late catches up: it goes at once
        rather than at the timeline's rate from the wake-up (which would push every later send
        back by the delay), and the gate lets through only what the platform's windows have
        room for (a stall leaves the room it did not use). A send held back by a 429 takes a
        timeline slot after the hold, so the sends held go at the rate, not all at once.
        """
        loop = asyncio.get_running_loop()
        await asyncio.sleep(max(0.0, slot.at - loop.time()))
        if not slot.buckets:
            return []
        now = loop.time()
        if slot.shared and not self.timeline.admit(slot.at, now):
            return None
        start = self.timeline.start_send(slot.buckets, now)
        if not slot.shared:  # its slot is an absolute time: late, it goes now
            start = min(start, max(now, slot.at))
        while True:
            if start > now:
                await asyncio.sleep(start - now)
                now = loop.time()
            held = self.gate.held(slot.buckets, now)
            if held <= 0.0:
                break
            await asyncio.sleep(held)
            now = loop.time()
            start = self.timeline.start_send(slot.buckets, now)
        return await self.gate.through(slot.buckets)

    def _repace(self, row: Claimed) -> None:
        """Put a send that missed its slot back, due now, for a new slot (no attempt used)."""
        self.repaced += 1
        self._put_back(row)

    def _put_back(self, row: Claimed) -> None:
        """Back to pending, due now, no attempt used (an uncertain row stays uncertain)."""
        uncertain = row.id in self._uncertain or _uncertain(row)
        self._uncertain.discard(row.id or 0)  # recorded in the row itself from here on
        self._record(row, next_attempt_at=self.clock(), last_error=UNCERTAIN + (
            row.last_error or "repaced").removeprefix(UNCERTAIN) if uncertain else row.last_error)

    async def _edit(self, transport: Transport, row: Claimed, destination: Destination,
                    of_key: str, reply: Reply) -> str:
        """Replace the message sent under ``of_key``; skipped when a newer edit is queued."""
        status, ref, newer = await outbox_store.edit_target(self.db, of_key, after_id=row.id or 0)
        if newer:
            return "superseded"
        if status == "dead":
            raise PermanentSendError("the message to edit was never delivered")
        if status != "sent" or not ref:
            raise RetryableSendError("the message to edit is not sent yet")
        if not isinstance(transport, Editable):
            raise PermanentSendError(f"{row.platform} messages cannot be edited")
        await transport.update(destination, ref, reply)
        return ref

    @staticmethod
    def _values(row: Claimed, **values: Any) -> dict[str, Any]:
        """Every result column of ``row``: unchanged, back to pending, unless ``values``."""
        base = {"status": "pending", "attempts": row.attempts, "lease_until": None,
                "last_error": row.last_error, "message_ref": None, "sent_at": None,
                "next_attempt_at": row.next_attempt_at}
        return {**base, **values}

    def _record(self, row: Claimed, **values: Any) -> None:
        self._results[row.id or 0] = self._values(row, **values)
        self._wake.set()

    def _retry(self, row: Claimed, error: str, retry_after: float | None, *,
               uncertain: bool = False) -> None:
        attempts = row.attempts + 1
        error = UNCERTAIN + error.removeprefix(UNCERTAIN) if uncertain else error
        if attempts >= self.max_attempts:
            self._dead(row, f"gave up after {attempts}: {error}", "gave_up")
            return
        delay = backoff(attempts, base=self.base_delay, cap=self.max_delay,
                        retry_after=retry_after)
        self._record(row, attempts=attempts, last_error=error[:500],
                     next_attempt_at=self.clock() + timedelta(seconds=delay))
        count_delivery(row.platform, "retry")

    def _dead(self, row: Claimed, error: str, reason: str) -> None:
        """Dead-letter ``row`` with ``error``; ``reason`` is its class for the metrics."""
        self._finish(row, status="dead", error=error, reason=reason)
        log.warning("outbox message dead", extra={"outbox_id": row.id, "reason": error[:200]})

    def _finish(self, row: Claimed, *, status: str, error: str | None = None,
                ref: str | None = None, reason: str | None = None) -> None:
        self._record(row, status=status, attempts=row.attempts + 1,
                     last_error=error[:500] if error else None,
                     message_ref=ref[:300] if ref else None,
                     sent_at=self.clock() if status == "sent" else None)
        count_delivery(row.platform, status, reason)


_KINDS: dict[tuple[type, type], bool] = {}


def _can(transport: object, protocol: type) -> bool:
    """``isinstance(transport, protocol)`` for a runtime protocol, remembered per class.

    (Python 3.11 lists a protocol's members on every such check: tens of microseconds a send.)
    """
    kind = (type(transport), protocol)
    if kind not in _KINDS:
        _KINDS[kind] = isinstance(transport, protocol)
    return _KINDS[kind]


def _uncertain(row: Claimed) -> bool:
    """Whether an earlier attempt of ``row`` may have landed (as recorded)."""
    return (row.last_error or "").startswith(UNCERTAIN)
