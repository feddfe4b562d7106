"""Officials with a deadline whom the bot cannot reach, and the daily digest for state staff.

Unreachable means: no chat identity on the roster, an identity its platform says it cannot
message proactively (asked through the outbox: Teams, for one, needs the person to have opened
the bot), or certification messages the outbox gave up on. The digest goes to every state
staff member at most once a day; its outbox key (unique in the database) makes it exactly once
across passes, restarts and concurrent schedulers.
"""

from __future__ import annotations

import asyncio
from datetime import date, datetime

from sqlalchemy.exc import IntegrityError

from bot.config.settings import AppConfig
from bot.db.engine import Database
from bot.messages import Destination, InvalidDestination
from bot.outbox.queue import Status, enqueue, find, status
from bot.outbox.worker import Outbox
from handlers.certifications.keys import ReminderKey, UnreachableDigestKey
from handlers.certifications.reminders import OfficialRecord
from handlers.certifications.replies import build_unreachable_digest

Row = tuple[str, str, str]  # name, jurisdiction, why
ASK = 2000  # destinations per question to the platforms


async def unreachable_rows(db: Database, outbox: Outbox,
                           records: list[OfficialRecord]) -> list[Row]:
    """Rows for officials whose standings (already computed) carry a deadline."""
    async with db.session() as session:
        dead = {q.destination
                for q in await find(session, ReminderKey.PREFIX, state=Status.DEAD)}
    due, direct = await asyncio.to_thread(_with_deadlines, records)  # 100,000 officials: CPU
    # The platforms say whom they could never message (Teams: never opened the bot), asked in
    # parts so that no one step holds the event loop long.
    reachable = [d for d in direct.values() if d is not None]
    cannot: dict[Destination, str] = {}
    for start in range(0, len(reachable), ASK):
        cannot.update(await outbox.unreachable(reachable[start:start + ASK]))
    rows: list[Row] = []
    for r in due:
        where = direct.get(r.identity or "")
        if where is None:
            rows.append((r.name, r.jurisdiction, "no chat identity on the roster"))
        elif str(where) in dead:
            rows.append((r.name, r.jurisdiction, "messages could not be delivered"))
        elif where in cannot:
            rows.append((r.name, r.jurisdiction, cannot[where]))
    return rows


def _with_deadlines(records: list[OfficialRecord]
                    ) -> tuple[list[OfficialRecord], dict[str, Destination | None]]:
    """Officials with a deadline, by jurisdiction and name, and their DM destinations (pure)."""
    due = sorted((r for r in records if any(s.deadline for s in r.standings)),
                 key=lambda r: (r.jurisdiction, r.name))
    return due, {r.identity: _direct(r.identity) for r in due if r.identity}


def _direct(identity: str) -> Destination | None:
    """An official's direct-message destination, None when the identity cannot be one."""
    platform, _, rest = identity.partition(":")
    workspace, _, user = rest.partition(":")
    try:
        return Destination.parse(f"{platform}:{workspace}:@{user}")
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
        platform, workspace, user = member.split(":", 2)
        async with db.session() as session:
            enqueue(session, key=keys[member], reply=reply, not_before=now,
                    destination=Destination.parse(f"{platform}:{workspace}:@{user}"))
            try:
                await session.commit()
                sent += 1
            except IntegrityError:  # another scheduler sent it a moment ago
                await session.rollback()
    return sent
