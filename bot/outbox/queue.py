"""Putting messages in the outbox, and the contract a platform's transport fulfils.

Callers add a send in the same transaction as the change it announces (:func:`enqueue`, or
:func:`enqueue_many` for a broadcast), so a crash after the commit still sends after restart;
the worker in :mod:`bot.outbox.worker` sends it. A destination that could never be delivered (an empty
user id, say) is refused here with :class:`~bot.messages.InvalidDestination`, before it is
queued, so it cannot reach (and stall) the worker. Transports (in ``bot/adapters/``) raise
:class:`PermanentSendError` or :class:`RetryableSendError`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any, Protocol

import sqlalchemy as sa
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.db.engine import utcnow
from bot.db.models import OutboxMessage
from bot.messages import Destination, InvalidDestination, Reply, reply_to_dict

EDIT = "_edit_of"  # payload field: the key of the message an edit replaces


class PermanentSendError(Exception):
    """The platform will never accept this send (channel gone, app removed, ...)."""


class RetryableSendError(Exception):
    """Try again later; ``retry_after`` seconds when the platform said so."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        """Keep the reason and the platform's requested wait."""
        super().__init__(reason)
        self.retry_after = retry_after


class CannotTell(Exception):  # noqa: N818 (an answer, not a failure)
    """``already_sent`` could not look (no scope, no budget left, platform down).

    The outbox then resends once, marked as a possible repeat (``Reply.repeat``).
    """


class Transport(Protocol):
    """Sends one neutral reply to one destination; returns the platform's message reference.

    Optional hooks: ``already_sent(destination, key, *, since) -> str | None`` (the reference
    of an earlier send of ``key`` queued at ``since``; None when it certainly did not land;
    :class:`CannotTell` when it cannot look), ``update(destination, message_ref, reply) ->
    None`` (edit a sent message), and ``at_most_once = True`` (drop, rather than repeat, an
    uncertain message that cannot be checked; no platform uses it today).
    """

    async def send(self, destination: Destination, reply: Reply, *, key: str) -> str:
        """Send or raise PermanentSendError / RetryableSendError."""
        ...


def enqueue(session: AsyncSession, *, key: str, destination: Destination, reply: Reply,
            not_before: datetime | None = None, edit_of: str | None = None) -> None:
    """Add a send to the caller's transaction (the caller commits).

    With ``edit_of``, the send replaces the message sent under that key instead. Raises
    :class:`~bot.messages.InvalidDestination` (nothing is added) for a destination that could
    never be delivered.
    """
    destination = checked(destination)
    payload = reply_to_dict(reply)
    if edit_of:
        payload[EDIT] = edit_of
    session.add(OutboxMessage(**_row(key, destination, json.dumps(payload),
                                     not_before or utcnow())))


async def enqueue_many(session: AsyncSession,
                       sends: Iterable[tuple[str, Destination, Reply]]) -> int:
    """Add many sends (key, destination, reply) to the caller's transaction; return how many.

    One multi-row INSERT instead of one ORM object per send: a broadcast to thousands of
    destinations commits in a fraction of a second and holds the write lock that briefly.
    Raises :class:`~bot.messages.InvalidDestination` (nothing is added) when any destination
    could never be delivered.
    """
    now = utcnow()
    payloads: dict[int, tuple[Reply, str]] = {}  # a reply shared by many sends: serialised once

    def payload(reply: Reply) -> str:
        if id(reply) not in payloads:  # the reply is kept, so its id stays unique
            payloads[id(reply)] = (reply, json.dumps(reply_to_dict(reply)))
        return payloads[id(reply)][1]
    rows = [_row(key, checked(destination), payload(reply), now)
            for key, destination, reply in sends]
    if rows:
        await session.execute(sa.insert(OutboxMessage.__table__), rows)  # type: ignore[attr-defined]
    return len(rows)


def checked(destination: Destination) -> Destination:
    """``destination`` if the worker will read it back as it is; InvalidDestination otherwise."""
    if not isinstance(destination, Destination):
        raise InvalidDestination(f"not a destination: {type(destination).__name__}")
    if Destination.parse(str(destination)) != destination:
        raise InvalidDestination(f"{str(destination)[:300]!r} does not read back as itself")
    return destination


def _row(key: str, destination: Destination, payload: str, due: datetime) -> dict[str, Any]:
    """The column values of a new, pending outbox message."""
    return {"key": key[:200], "platform": destination.platform, "destination": str(destination),
            "status": "pending", "attempts": 0, "payload": payload, "next_attempt_at": due,
            "created_at": utcnow()}
