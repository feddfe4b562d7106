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
from datetime import date, datetime

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


async def unreachable_rows(db: Database, outbox: Outbox,
                           records: list[OfficialRecord]) -> list[Row]:
    """Rows for officials whose standings (already computed) carry a deadline."""
    async with db.session() as session:
        down = await failed_recipients(session)
    due, direct = await asyncio.to_thread(_with_deadlines, records)  # 100,000 officials: CPU
    # The platforms say whom they could never message (Teams: never opened the bot), asked in
    # parts so that no one step holds the event loop long.
    reachable = [d for d in direct.values() if d is not None]
    cannot: dict[Destination, str] = {}
    for start in range(0, len(reachable), ASK):
        cannot.update(await outbox.unreachable(reachable[start:start + ASK]))
    return await asyncio.to_thread(_rows, due, direct, down, cannot)


def _rows(due: list[OfficialRecord], direct: dict[str, Destination | None], down: set[str],
          cannot: dict[Destination, str]) -> list[Row]:
    """Those of ``due`` neither chat nor e-mail reaches, with why (pure: 100,000 officials)."""
    rows: list[Row] = []
    for r in due:
        chat = _chat_problem(r, direct.get(r.identity or ""), down, cannot)
        if chat is None:
            continue
        mail = _email_problem(r, down)
        if mail is None:
            continue
        rows.append((r.name, r.jurisdiction, "no chat identity or e-mail address on the roster"
                     if not r.identity and not r.email else f"{chat}; {mail}"))
    return rows


def _chat_problem(record: OfficialRecord, where: Destination | None, down: set[str],
                  cannot: dict[Destination, str]) -> str | None:
    """Why chat cannot reach the official, None when it can."""
    if where is None:
        return "no chat identity on the roster"
    if record.identity in down:
        return "chat messages could not be delivered"
    return cannot.get(where)


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


def _with_deadlines(records: list[OfficialRecord]
                    ) -> tuple[list[OfficialRecord], dict[str, Destination | None]]:
    """Officials with a deadline, by jurisdiction and name, and their DM destinations (pure)."""
    due = sorted((r for r in records if any(s.deadline for s in r.standings)),
                 key=lambda r: (r.jurisdiction, r.name))
    return due, {r.identity: _direct(r.identity) for r in due if r.identity}


def _direct(identity: str) -> Destination | None:
    """An official's direct-message destination, None when the identity cannot be one."""
    try:
        return destination_for(identity)
    except InvalidDestination:
        return None


async def send_digest(db: Database, outbox: Outbox, app: AppConfig, records: list[OfficialRecord],
                      day: date, now: datetime) -> int:
    """Enqueue today's digest to each state staff member not yet sent one; returns how many."""
    staff = app.roles.get("state_staff", [])
    keys = {member: str(UnreachableDigestKey(member, day)) for member in staff}
    async with db.session() as session:
        done = await status(session, keys.values())
    todo = [m for m in staff if keys[m] not in done]
    if not todo:
        return 0
    rows = await unreachable_rows(db, outbox, records)
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
