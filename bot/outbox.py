"""The outbox: background sends through the right adapter, retried until delivered.

Callers add an :class:`OutboxMessage` in the same transaction as the change it announces
(:func:`enqueue`), so a crash after the commit still sends after restart. The worker claims due
rows with a lease (safe with several processes on one database), sends through the platform's
transport, and records the result: sent, retried later with capped exponential backoff and full
jitter (or the platform's Retry-After), or dead with the reason.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Protocol

import sqlalchemy as sa
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.db import Database, utcnow
from bot.messages import Destination, Reply, reply_from_dict, reply_to_dict
from bot.models import OutboxMessage

log = logging.getLogger(__name__)
LEASE = timedelta(seconds=60)


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
                 batch: int = 50) -> None:
        """Configure retry policy; transports are registered by the adapters."""
        self.db = db
        self.clock = clock
        self.max_attempts = max_attempts
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.batch = batch
        self.transports: dict[str, Transport] = {}
        self._wake = asyncio.Event()

    def register(self, platform: str, transport: Transport) -> None:
        """Called by an adapter that can send proactively."""
        self.transports[platform] = transport

    def wake(self) -> None:
        """Something was just enqueued: look now instead of at the next tick."""
        self._wake.set()

    async def run(self, *, interval: float = 1.0) -> None:
        """Loop forever (cancel to stop): send what is due, then wait for a wake or a tick."""
        while True:
            try:
                await self.run_once()
            except Exception:
                log.exception("outbox pass failed; retrying next tick")
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=interval)
            except TimeoutError:
                pass

    async def run_once(self) -> int:
        """Claim and send every due message; return how many were attempted."""
        claimed = await self._claim()
        await asyncio.gather(*(self._deliver(row) for row in claimed))
        return len(claimed)

    async def _claim(self) -> list[OutboxMessage]:
        now = self.clock()
        due = sa.or_(
            sa.and_(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now),  # type: ignore[arg-type]
            sa.and_(OutboxMessage.status == "sending", OutboxMessage.lease_until < now),  # type: ignore[arg-type,operator]
        )
        async with self.db.session() as session:
            rows = (await session.exec(select(OutboxMessage).where(due)
                                       .order_by(OutboxMessage.id).limit(self.batch))).all()  # type: ignore[arg-type]
            claimed = []
            for row in rows:
                result = await session.execute(
                    sa.update(OutboxMessage)
                    .where(OutboxMessage.id == row.id, due)  # type: ignore[arg-type]
                    .values(status="sending", lease_until=now + LEASE))
                if getattr(result, "rowcount", 0) == 1:
                    claimed.append(row)
            await session.commit()
        return claimed

    async def _deliver(self, row: OutboxMessage) -> None:
        transport = self.transports.get(row.platform)
        destination = Destination.parse(row.destination)
        try:
            if transport is None:
                raise PermanentSendError(f"{row.platform} is not configured on this server")
            ref = await transport.send(destination, reply_from_dict(json.loads(row.payload)),
                                       key=row.key)
        except PermanentSendError as exc:
            await self._finish(row, status="dead", error=str(exc))
            log.warning("outbox message dead", extra={"outbox_id": row.id, "reason": str(exc)})
        except Exception as exc:
            retry_after = getattr(exc, "retry_after", None)
            await self._retry(row, str(exc) or type(exc).__name__, retry_after)
        else:
            await self._finish(row, status="sent", ref=ref)

    async def _retry(self, row: OutboxMessage, error: str, retry_after: float | None) -> None:
        attempts = row.attempts + 1
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
