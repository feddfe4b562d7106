"""Officials with a deadline whom the bot cannot reach, and the daily digest for state staff.

An official is reached by chat, else by e-mail (:mod:`handlers.certifications.reach`).
Unreachable means neither works: no chat identity on the roster, an identity its platform says
it cannot message proactively (asked through the outbox: Teams, for one, needs the person to
have opened the bot) or whose latest reminder the outbox gave up on; and no e-mail address, an
address that is not valid, or one whose latest reminder was dead-lettered. The digest goes to
every state staff member at most once a day; its outbox key (unique in the database) makes it
exactly once across passes, restarts and concurrent schedulers.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any

from sqlalchemy.exc import IntegrityError

from bot.config.settings import AppConfig
from bot.db.engine import Database
from bot.messages import Destination, InvalidDestination
from bot.outbox.queue import enqueue, status
from bot.outbox.worker import Outbox
from handlers.certifications.keys import UnreachableDigestKey
from handlers.certifications.reach import EMAIL, destination_for, failed_recipients, usable
from handlers.certifications.reminders import OfficialRecord
from handlers.certifications.replies import build_unreachable_digest

Row = tuple[str, str, str]  # name, jurisdiction, why
ASK = 2000  # destinations per question to the platforms


async def unreachable_rows(db: Database, outbox: Outbox, records: list[OfficialRecord], *,
                           known: Mapping[str, Destination] | None = None) -> list[Row]:
    """Rows for officials whose standings (already computed) carry a deadline.

    ``known``: destinations already made for some identities (the reminder pass's).
    """
    async with db.session() as session:
        down = await failed_recipients(session)
    # 100,000 officials: CPU, in threads. Destinations are made only for the platforms that
    # can say whom they could never message (Teams: never opened the bot); those are asked
    # in parts so that no one step holds the event loop long.
    due, invalid, ask = await asyncio.to_thread(_with_deadlines, records, outbox.tells,
                                                known or {})
    cannot: dict[str, str] = {}  # identity -> why
    for start in range(0, len(ask), ASK):
        part = ask[start:start + ASK]
        found = await outbox.unreachable([d for _, d in part])
        cannot.update((identity, found[d]) for identity, d in part if d in found)
    return await asyncio.to_thread(_rows, due, invalid, down, cannot, ask)


def _rows(due: list[OfficialRecord], invalid: set[str], down: set[str], cannot: dict[str, str],
          ask: list[tuple[str, Destination]]) -> list[Row]:
    """Those of ``due`` neither chat nor e-mail reaches, with why, by jurisdiction and name.

    Pure (100,000 officials: run it in a thread; ``ask`` is emptied here, not on the loop).
    Only the rows found are sorted: sorting all officials would be one call into C holding
    the GIL (and so the event loop) for tens of milliseconds.
    """
    _drain(ask)
    rows: list[Row] = []
    for r in due:
        chat = _chat_problem(r, invalid, down, cannot)
        if chat is None:
            continue
        mail = _email_problem(r, down)
        if mail is None:
            continue
        rows.append((r.name, r.jurisdiction, "no chat identity or e-mail address on the roster"
                     if not r.identity and not r.email else f"{chat}; {mail}"))
    rows.sort(key=lambda row: (row[1], row[0]))  # stable: ties keep the roster's order
    return rows


def _chat_problem(record: OfficialRecord, invalid: set[str], down: set[str],
                  cannot: dict[str, str]) -> str | None:
    """Why chat cannot reach the official, None when it can."""
    identity = record.identity
    if not identity or identity in invalid:
        return "no chat identity on the roster"
    if identity in down:
        return "chat messages could not be delivered"
    return cannot.get(identity)


def _email_problem(record: OfficialRecord, down: set[str]) -> str | None:
    """Why e-mail cannot reach the official, None when it can."""
    recipient = f"{EMAIL}{record.email}"
    if not record.email:
        return "no e-mail address on the roster"
    if not usable(recipient):
        return "the e-mail address on the roster is not valid"
    if recipient in down:
        return "e-mail could not be delivered"
    return None


def _with_deadlines(records: list[OfficialRecord], tells: Callable[[str], bool],
                    known: Mapping[str, Destination]
                    ) -> tuple[list[OfficialRecord], set[str], list[tuple[str, Destination]]]:
    """Officials with a deadline, identities that are no destination, and whom to ask about.

    Pure. Those asked are the destinations whose platform ``tells``
    (:meth:`~bot.outbox.worker.Outbox.tells`).
    """
    due = [r for r in records if any(s.deadline for s in r.standings)]
    invalid: set[str] = set()
    ask: dict[str, Destination] = {}
    told: dict[str, bool] = {}  # platform -> tells (a Protocol isinstance check is slow)
    for r in due:
        identity = r.identity
        if not identity or identity in ask or identity in invalid:
            continue
        try:
            destination = known.get(identity) or destination_for(identity)
        except InvalidDestination:
            invalid.add(identity)
            continue
        platform = destination.platform
        if told.get(platform) is None:
            told[platform] = tells(platform)
        if told[platform]:
            ask[identity] = destination
    return due, invalid, list(ask.items())


def _drain(items: list[Any]) -> None:
    """Empty a big list a slice at a time (see :func:`~handlers.certifications.scheduler._drain`)."""
    while items:
        del items[-1000:]


def _keys(app: AppConfig, day: date) -> dict[str, str]:
    """Each state staff member's outbox key for the digest of ``day``."""
    return {member: str(UnreachableDigestKey(member, day))
            for member in app.roles.get("state_staff", [])}


async def digests_done(db: Database, app: AppConfig, day: date) -> bool:
    """Whether every state staff member has the digest of ``day`` (vacuously, with none)."""
    keys = _keys(app, day)
    if not keys:
        return True
    async with db.session() as session:
        return len(await status(session, keys.values())) == len(keys)


async def send_digest(db: Database, outbox: Outbox, app: AppConfig, records: list[OfficialRecord],
                      day: date, now: datetime, *,
                      known: Mapping[str, Destination] | None = None) -> int:
    """Enqueue today's digest to each state staff member not yet sent one; returns how many.

    ``known``: destinations already made for some identities (the reminder pass's).
    """
    staff = app.roles.get("state_staff", [])
    keys = _keys(app, day)
    async with db.session() as session:
        done = await status(session, keys.values())
    todo = [m for m in staff if keys[m] not in done]
    if not todo:
        return 0
    rows = await unreachable_rows(db, outbox, records, known=known)
    if not rows:
        return 0
    reply = build_unreachable_digest(rows, day)
    sent = 0
    for member in todo:
        async with db.session() as session:
            enqueue(session, key=keys[member], reply=reply, not_before=now,
                    destination=destination_for(member))
            try:
                await session.commit()
                sent += 1
            except IntegrityError:  # another scheduler sent it a moment ago
                await session.rollback()
    return sent
