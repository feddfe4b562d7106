"""The contract a platform's transport fulfils: declared capabilities, errors, retry timing.

Every transport can :class:`Transport` ``send``. What else it can do is declared by the
protocols it implements (adapters name them as bases, the worker asks with ``isinstance``):
:class:`Editable` (replace a sent message), :class:`Checkable` (tell whether an earlier,
uncertain send landed), :class:`Preparing` (look something up ahead of the send's slot; with
:class:`PreparingMany`, a whole claimed batch in one query) and :class:`Reachable` (tell ahead
of time whom it cannot message at all).
Transports raise :class:`PermanentSendError` (dead letter, with the reason) or
:class:`RetryableSendError` (try again later); anything else is retried too.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import datetime
from typing import Protocol, runtime_checkable

from bot.messages import Destination, Reply

JITTER = 0.25  # seconds added at random to a platform's Retry-After


class PermanentSendError(Exception):
    """The platform will never accept this send (channel gone, app removed, blocked, ...)."""


class RetryableSendError(Exception):
    """Try again later; ``retry_after`` seconds when the platform said so.

    ``unsent``: the platform's answer proves this attempt delivered nothing (an SMTP relay's
    4xx before or after the message, a refused connection), so the next attempt is no
    possible repeat.
    """

    def __init__(self, reason: str, retry_after: float | None = None, *,
                 unsent: bool = False) -> None:
        """Keep the reason, the platform's requested wait and whether nothing was delivered."""
        super().__init__(reason)
        self.retry_after = retry_after
        self.unsent = unsent


class CannotTell(Exception):  # noqa: N818 (an answer, not a failure)
    """``already_sent`` could not look (no scope, no budget left, platform down).

    The outbox then resends once, marked as a possible repeat (``Reply.repeat``).
    """


@runtime_checkable
class Transport(Protocol):
    """Sends one neutral reply to one destination; returns the platform's message reference."""

    async def send(self, destination: Destination, reply: Reply, *, key: str) -> str:
        """Send or raise PermanentSendError / RetryableSendError."""
        ...


@runtime_checkable
class Editable(Protocol):
    """A transport that can replace a message it sent (found by its reference)."""

    async def update(self, destination: Destination, message_ref: str, reply: Reply) -> None:
        """Replace the message ``message_ref`` with ``reply``."""
        ...


@runtime_checkable
class Checkable(Protocol):
    """A transport that can tell whether an earlier send of ``key`` landed."""

    async def already_sent(self, destination: Destination, key: str, *,
                           since: datetime | None = None) -> str | None:
        """The reference of an earlier send of ``key`` queued at ``since``.

        None when it certainly did not land; raise :class:`CannotTell` when it cannot look.
        """
        ...


@runtime_checkable
class Preparing(Protocol):
    """A transport that resolves something (a DM channel, a reference) ahead of the send."""

    async def prepare(self, destination: Destination) -> None:
        """Look up what the send to ``destination`` will need."""
        ...


@runtime_checkable
class PreparingMany(Protocol):
    """A :class:`Preparing` transport that can look up a whole claimed batch at once.

    The outbox calls it once per claim with the batch's destinations (one query instead of one
    per send); each send's ``prepare`` then finds the answer ready, or looks it up itself.
    """

    async def prepare_many(self, destinations: Sequence[Destination]) -> None:
        """Look up what the sends to ``destinations`` will need (what is not known already)."""
        ...


def backoff(attempt: int, *, base: float, cap: float, retry_after: float | None = None) -> float:
    """Seconds to wait before trying again after failed attempt number ``attempt``.

    The platform's Retry-After (plus a little jitter, so waiting senders do not return in
    step) when it gave one; otherwise capped exponential backoff with full jitter: uniform in
    ``[0, min(cap, base * 2**attempt)]``.
    """
    if retry_after is not None:
        return retry_after + random.uniform(0, JITTER)
    return random.uniform(0, min(cap, base * 2 ** attempt))


@runtime_checkable
class Reachable(Protocol):
    """A transport that can tell, before any send, whom it cannot message proactively.

    (Teams, for instance, writes to a person only after they have opened the bot once.)
    """

    async def unreachable(self, destinations: Sequence[Destination]) -> dict[Destination, str]:
        """Those of ``destinations`` a proactive send would not reach, each with the reason."""
        ...
