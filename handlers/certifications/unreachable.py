"""Officials with a deadline whom the bot cannot reach, and the daily digest for state staff.

Unreachable means: no chat identity on the roster, a Teams identity without a stored
conversation reference (the person never opened the app, so Teams allows no proactive
message), or certification messages the outbox gave up on. The digest goes to every state
staff member at most once a day; its outbox key (unique in the database) makes it exactly once
across passes, restarts and concurrent schedulers.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from bot.config.settings import AppConfig
from bot.db.engine import Database
from bot.db.models import ConversationReference
from bot.messages import Destination
from bot.outbox.queue import Status, enqueue, find, status
from handlers.certifications.keys import ReminderKey, UnreachableDigestKey
from handlers.certifications.reminders import OfficialRecord
from handlers.certifications.replies import build_unreachable_digest

Row = tuple[str, str, str]  # name, jurisdiction, why


async def unreachable_rows(db: Database, records: list[OfficialRecord]) -> list[Row]:
    """Rows for officials whose standings (already computed) carry a deadline."""
    async with db.session() as session:
        refs = {(workspace, user) for workspace, user in (await session.exec(select(  # type: ignore[call-overload]
            ConversationReference.workspace, ConversationReference.user_id).where(
            ConversationReference.platform == "teams"))).all()}
        dead = {q.destination
                for q in await find(session, ReminderKey.PREFIX, state=Status.DEAD)}
    rows: list[Row] = []
    for r in sorted(records, key=lambda r: (r.jurisdiction, r.name)):
        if not any(s.deadline for s in r.standings):
            continue
        if not r.identity:
            rows.append((r.name, r.jurisdiction, "no chat identity on the roster"))
            continue
        platform, workspace, user = r.identity.split(":", 2)
        if f"{platform}:{workspace}:@{user}" in dead:
            rows.append((r.name, r.jurisdiction, "messages could not be delivered"))
        elif platform == "teams" and (workspace, user) not in refs:
            rows.append((r.name, r.jurisdiction,
                         "has not opened the bot in Teams (no conversation reference)"))
    return rows


async def send_digest(db: Database, app: AppConfig, records: list[OfficialRecord], day: date,
                      now: datetime) -> int:
    """Enqueue today's digest to each state staff member not yet sent one; returns how many."""
    staff = app.roles.get("state_staff", [])
    keys = {member: str(UnreachableDigestKey(member, day)) for member in staff}
    async with db.session() as session:
        done = await status(session, keys.values())
    todo = [m for m in staff if keys[m] not in done]
    if not todo:
        return 0
    rows = await unreachable_rows(db, records)
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
