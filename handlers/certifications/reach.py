"""How an official is reached: their chat identity, else their e-mail address, else not at all.

An official's *own channels* are their chat identity and ``email:<address>`` (in that order).
A channel is *down* when the latest certification reminder sent to it was dead-lettered, or
when its platform says ahead of time that it cannot message the person (Teams: never opened
the bot). Reminders go to the first channel that is not down, so an official with both is
written to by e-mail while chat cannot reach them (the fallback). Chat is used again once it
is known to work: at once when the platform says so (the person opened the bot), when the
roster gives a new chat identity, or when a chat reminder is delivered again (chat is tried
whenever e-mail is down too). A chat identity whose reminder was dead-lettered is not probed
while e-mail works. A reminder step counts as sent when it went to any own channel that is
not down: a switch of channel never repeats a step that arrived, and a step whose only send
died is sent again on the other channel.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache

import sqlalchemy as sa
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.messages import Destination, InvalidDestination, email_address
from bot.outbox.queue import Status, find_keys, status
from handlers.certifications.importer import MAX_EMAIL
from handlers.certifications.keys import ReminderKey
from handlers.certifications.models import Digest
from handlers.certifications.reminders import OfficialRecord

EMAIL = "email:"
CHUNK = 500  # recipients per query


def is_email(recipient: str) -> bool:
    """Whether a recipient is an ``email:<address>`` (not a chat identity)."""
    return recipient.startswith(EMAIL)


def own_channels(record: OfficialRecord) -> tuple[str, ...]:
    """The official's chat identity and ``email:<address>``, those present (no validation)."""
    own = (record.identity or "", f"{EMAIL}{record.email}" if record.email else "")
    return tuple(c for c in own if c)


@lru_cache(maxsize=1 << 16)
def usable(recipient: str) -> bool:
    """Whether a recipient can be a destination at all (a stored address may predate checks)."""
    try:
        if is_email(recipient):
            address = recipient[len(EMAIL):]
            return len(address) <= MAX_EMAIL and email_address(address) == address
        destination_for(recipient)
        return True
    except InvalidDestination:
        return False


def reach(record: OfficialRecord, down: set[str] | frozenset[str]) -> str | None:
    """The recipient for the official's own reminders: the first own channel not down.

    With every channel down, the first of them (its sends show whether it came back); None
    when the official has none. The identity was checked by the roster import; an address is
    checked here (once per process), as one stored before those checks may be malformed.
    """
    identity = record.identity
    if identity and identity not in down:
        return identity
    email = f"{EMAIL}{record.email}" if record.email else ""
    if email and email not in down and usable(email):
        return email
    return identity or (email if email and usable(email) else None)


def destination_for(recipient: str) -> Destination:
    """A recipient's destination: a person's direct messages, or their mailbox.

    Raises :class:`~bot.messages.InvalidDestination` when the text cannot be one.
    """
    if is_email(recipient):
        return Destination.parse(recipient)
    platform, _, rest = recipient.partition(":")
    workspace, _, user = rest.partition(":")
    return Destination.parse(f"{platform}:{workspace}:@{user}")


async def failed_recipients(session: AsyncSession) -> set[str]:
    """Recipients whose latest certification reminder was dead-lettered.

    A later reminder to the same recipient that was delivered means the channel works again.
    Only the keys of the (few) dead messages and the digests after them are read.
    """
    last_dead: dict[str, date] = {}
    for key in await find_keys(session, ReminderKey.PREFIX, state=Status.DEAD):
        parsed = ReminderKey.parse(key)
        if parsed is not None:
            recipient, day = parsed
            last_dead[recipient] = max(day, last_dead.get(recipient, day))
    if not last_dead:
        return set()
    later: dict[str, str] = {}  # outbox key -> recipient
    table = Digest.__table__.c  # type: ignore[attr-defined]
    names = list(last_dead)
    for start in range(0, len(names), CHUNK):
        rows = (await session.execute(sa.select(table.recipient, table.day).where(
            table.recipient.in_(names[start:start + CHUNK])))).all()
        later.update((str(ReminderKey(r, d)), r) for r, d in rows if d > last_dead[r])
    states = await status(session, later)
    recovered = {later[key] for key, state in states.items() if state == Status.SENT}
    return set(last_dead) - recovered
