"""The outbox: background sends through the right adapter, retried until delivered.

Callers add an :class:`OutboxMessage` in the same transaction as the change it announces
(:func:`enqueue`), so a crash after the commit still sends after restart. The worker claims due
rows with a lease (safe with several processes on one database), sends through the platform's
transport, and records the result: sent, retried later with capped exponential backoff and full
jitter (or the platform's Retry-After), or dead with the reason.

Pacing: before a send the worker takes a token from each of the destination's buckets
(:mod:`bot.outbox_pacing`, held in the database so every process shares one budget); a send
that would wait longer than ``max_inline_wait`` is put back with its ``next_attempt_at`` moved
on instead of holding a worker slot.

At most once: a send whose earlier attempt may have landed (a crash while ``sending``, a
timeout, a 5xx) is marked uncertain; before sending it again the worker asks the transport's
optional ``already_sent(destination, key)`` hook and, when that finds the message, records it
as sent without posting. Only an answer that proves nothing was posted (429 with Retry-After,
a permanent error) leaves a message certain.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections import Counter
from collections.abc import Callable
from contextlib import AsyncExitStack
from datetime import datetime, timedelta
from typing import Protocol

import sqlalchemy as sa
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.db import Database, utcnow
from bot.messages import Destination, Reply, reply_from_dict, reply_to_dict
from bot.models import OutboxMessage
from bot.outbox_pacing import Bucket, Budgets, RateLimiter, platform_buckets

log = logging.getLogger(__name__)
LEASE = timedelta(seconds=30)  # sends time out well before this; a dead process's rows return
UNCERTAIN = "uncertain: "  # last_error prefix: an earlier attempt may have landed


class PermanentSendError(Exception):
    """The platform will never accept this send (channel gone, app removed, ...)."""


class RetryableSendError(Exception):
    """Try again later; ``retry_after`` seconds when the platform said so."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        """Keep the reason and the platform's requested wait."""
        super().__init__(reason)
        self.retry_after = retry_after


class Transport(Protocol):
    """Sends one neutral reply to one destination; returns the platform's message reference."""

    async def send(self, destination: Destination, reply: Reply, *, key: str) -> str:
        """Send or raise PermanentSendError / RetryableSendError."""
        ...


class CheckingTransport(Transport, Protocol):
    """A transport that can tell whether a message with ``key`` already reached ``destination``.

    Optional: the worker calls it (when present) before re-sending a message whose previous
    attempt may have landed, and treats a returned reference as "sent".
    """

    async def already_sent(self, destination: Destination, key: str) -> str | None:
        """The platform's reference of the earlier message with ``key``, or None."""
        ...


def enqueue(session: AsyncSession, *, key: str, destination: Destination, reply: Reply,
            not_before: datetime | None = None) -> None:
    """Add a send to the caller's transaction (the caller commits)."""
    session.add(OutboxMessage(
        key=key[:200], platform=destination.platform, destination=str(destination),
        payload=json.dumps(reply_to_dict(reply)), next_attempt_at=not_before or utcnow()))


class Outbox:
    """Runs due sends; one per process, any number of processes per database."""

    def __init__(self, db: Database, *, clock: Callable[[], datetime] = utcnow,
                 max_attempts: int = 20, base_delay: float = 1.0, max_delay: float = 300.0,
                 batch: int = 50, concurrency: int = 200, max_inline_wait: float = 0.5) -> None:
        """Configure retry and pacing policy; transports are registered by the adapters."""
        self.db = db
        self.clock = clock
        self.max_attempts = max_attempts
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.batch = batch
        self.concurrency = concurrency
        self.max_inline_wait = max_inline_wait
        self.budgets = Budgets()
        self.pacer: Callable[[Destination], list[Bucket]] = (
            lambda d: platform_buckets(d, self.budgets))
        self.limiter = RateLimiter(db, clock)
        self.transports: dict[str, Transport] = {}
        self.on_wake: Callable[[], None] | None = None
        self._wake = asyncio.Event()
        self._uncertain: set[int] = set()
        self._locks: dict[str, asyncio.Lock] = {}
        self._queued: Counter[str] = Counter()

    def register(self, platform: str, transport: Transport) -> None:
        """Called by an adapter that can send proactively."""
        self.transports[platform] = transport

    def wake(self) -> None:
        """Something was just enqueued: look now instead of at the next tick.

        With the distributed worker (``bot.jobs``), ``on_wake`` also asks the job engine to run
        a drain on some worker; if that request is lost, the periodic sweep catches up.
        """
        self._wake.set()
        if self.on_wake is not None:
            self.on_wake()

    async def drain(self, *, budget_seconds: float = 20.0) -> int:
        """Send until nothing is due (or the time budget is spent); return messages attempted.

        This is what one distributed job does; several workers may drain at once, since rows
        are claimed with leases.
        """
        deadline = asyncio.get_running_loop().time() + budget_seconds
        attempted = 0
        inflight: set[asyncio.Task[None]] = set()
        while asyncio.get_running_loop().time() < deadline:
            room = self.concurrency - len(inflight)
            claimed = await self._claim(limit=room) if room > 0 else []
            for row in claimed:
                task = asyncio.create_task(self._deliver(row))
                inflight.add(task)
                task.add_done_callback(inflight.discard)
            attempted += len(claimed)
            if not claimed and not inflight:
                break
            if inflight:
                await asyncio.wait(inflight, timeout=0.2, return_when=asyncio.FIRST_COMPLETED)
        if inflight:
            await asyncio.gather(*inflight, return_exceptions=True)
        return attempted

    async def run(self, *, interval: float = 1.0, coalesce: float = 0.02) -> None:
        """Loop forever (cancel to stop), keeping up to ``concurrency`` sends in flight.

        A finished send wakes the loop to claim more, so paced platforms stay busy side by side
        instead of waiting for the slowest send of a batch.
        """
        inflight: set[asyncio.Task[None]] = set()
        try:
            while True:
                try:
                    room = self.concurrency - len(inflight)
                    for row in (await self._claim(limit=room)) if room > 0 else []:
                        task = asyncio.create_task(self._deliver(row))
                        inflight.add(task)
                        task.add_done_callback(inflight.discard)
                        task.add_done_callback(lambda _t: self._wake.set())
                except Exception:
                    log.exception("outbox pass failed; retrying next tick")
                self._wake.clear()
                try:
                    await asyncio.wait_for(self._wake.wait(), timeout=interval)
                except TimeoutError:
                    pass
                await asyncio.sleep(coalesce)  # gather several completions into one claim
        finally:
            for task in inflight:
                task.cancel()
            # Wait for the cancelled sends to unwind before the caller closes the database.
            await asyncio.gather(*inflight, return_exceptions=True)

    async def run_once(self) -> int:
        """Claim and send every due message; return how many were attempted."""
        claimed = await self._claim()
        await asyncio.gather(*(self._deliver(row) for row in claimed))
        return len(claimed)

    async def _claim(self, limit: int | None = None) -> list[OutboxMessage]:
        now = self.clock()
        due = sa.or_(
            sa.and_(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now),  # type: ignore[arg-type]
            sa.and_(OutboxMessage.status == "sending", OutboxMessage.lease_until < now),  # type: ignore[arg-type,operator]
        )
        async with self.db.session() as session:
            rows = (await session.exec(select(OutboxMessage).where(due)
                                       .order_by(OutboxMessage.id).limit(limit or self.batch))).all()  # type: ignore[arg-type]
            claimed = []
            for row in rows:
                # A lease that ran out while "sending": that attempt may have landed.
                uncertain = row.status == "sending" or (row.last_error or "").startswith(UNCERTAIN)
                result = await session.execute(
                    sa.update(OutboxMessage)
                    .where(OutboxMessage.id == row.id, due)  # type: ignore[arg-type]
                    .values(status="sending", lease_until=now + LEASE))
                if getattr(result, "rowcount", 0) == 1:
                    claimed.append(row)
                    if uncertain and row.id is not None:
                        self._uncertain.add(row.id)
            await session.commit()
        return claimed

    async def _deliver(self, row: OutboxMessage) -> None:
        transport = self.transports.get(row.platform)
        destination = Destination.parse(row.destination)
        was_uncertain = row.id in self._uncertain
        started = False
        try:
            if transport is None:
                raise PermanentSendError(f"{row.platform} is not configured on this server")
            check = getattr(transport, "already_sent", None)
            if was_uncertain and check is not None:
                ref = await check(destination, row.key)
                if ref:
                    log.info("outbox message had landed", extra={"outbox_id": row.id})
                    await self._finish(row, status="sent", ref=ref)
                    return
            if not await self._pace(row, destination):
                return
            started = True  # from here on a failure may hide a delivered message
            ref = await transport.send(destination, reply_from_dict(json.loads(row.payload)),
                                       key=row.key)
        except PermanentSendError as exc:
            await self._finish(row, status="dead", error=str(exc))
            log.warning("outbox message dead", extra={"outbox_id": row.id, "reason": str(exc)})
        except Exception as exc:
            retry_after = getattr(exc, "retry_after", None)
            # Only a 429 with Retry-After proves this attempt posted nothing.
            maybe_landed = started and retry_after is None
            await self._retry(row, str(exc) or type(exc).__name__, retry_after,
                              uncertain=was_uncertain or maybe_landed)
        else:
            await self._finish(row, status="sent", ref=ref)
        finally:
            self._uncertain.discard(row.id or 0)

    async def _pace(self, row: OutboxMessage, destination: Destination) -> bool:
        """Take the destination's tokens (waiting briefly), or put the row back for later."""
        buckets = self.pacer(destination)
        if not buckets:
            return True
        queued = max(self._queued[b.key] / b.rate for b in buckets)
        if queued > self.max_inline_wait:
            await self._postpone(row, queued)
            return False
        for bucket in buckets:
            self._queued[bucket.key] += 1
        try:
            async with AsyncExitStack() as stack:
                for bucket in sorted(buckets, key=lambda b: b.key):
                    await stack.enter_async_context(self._locks.setdefault(bucket.key,
                                                                           asyncio.Lock()))
                while (wait := await self.limiter.take(buckets)) > 0:
                    if wait > self.max_inline_wait:
                        await self._postpone(row, wait)
                        return False
                    await asyncio.sleep(wait)
            return True
        finally:
            for bucket in buckets:
                self._queued[bucket.key] -= 1

    async def _postpone(self, row: OutboxMessage, wait: float) -> None:
        """Back to pending without using an attempt (pacing is not a failure)."""
        error = UNCERTAIN + (row.last_error or "paced").removeprefix(UNCERTAIN) \
            if row.id in self._uncertain else row.last_error
        async with self.db.session() as session:
            await session.execute(sa.update(OutboxMessage).where(
                OutboxMessage.id == row.id).values(  # type: ignore[arg-type]
                status="pending", lease_until=None, last_error=error,
                next_attempt_at=self.clock() + timedelta(seconds=wait)))
            await session.commit()

    async def _retry(self, row: OutboxMessage, error: str, retry_after: float | None, *,
                     uncertain: bool = False) -> None:
        attempts = row.attempts + 1
        error = UNCERTAIN + error if uncertain else error
        if attempts >= self.max_attempts:
            await self._finish(row, status="dead", error=f"gave up after {attempts}: {error}")
            return
        if retry_after is not None:
            delay = retry_after + random.uniform(0, 0.25)
        else:  # capped exponential backoff with full jitter
            delay = random.uniform(0, min(self.max_delay, self.base_delay * 2 ** attempts))
        async with self.db.session() as session:
            await session.execute(sa.update(OutboxMessage).where(
                OutboxMessage.id == row.id).values(  # type: ignore[arg-type]
                status="pending", attempts=attempts, lease_until=None, last_error=error[:500],
                next_attempt_at=self.clock() + timedelta(seconds=delay)))
            await session.commit()

    async def _finish(self, row: OutboxMessage, *, status: str, error: str | None = None,
                      ref: str | None = None) -> None:
        async with self.db.session() as session:
            await session.execute(sa.update(OutboxMessage).where(
                OutboxMessage.id == row.id).values(  # type: ignore[arg-type]
                status=status, attempts=row.attempts + 1, lease_until=None,
                last_error=error[:500] if error else None, message_ref=ref,
                sent_at=self.clock() if status == "sent" else None))
            await session.commit()
