"""The reminder scheduler: plan what is due, then send each recipient one digest, exactly once.

Per recipient, one transaction inserts the day's ``cert_digest`` row, one ``cert_reminder_sent``
row per (deadline, recipient, step) and the outbox message. Unique constraints make a second
scheduler, a restart or a retry after a crash fail the insert and roll back instead of sending
twice: the database enforces exactly-once, the pre-filtering below only saves work.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.config.settings import AppConfig
from bot.messages import Destination
from bot.ops.metrics import REMINDERS
from bot.outbox.queue import enqueue
from bot.services import Services
from handlers.certifications.config import CertificationConfig
from handlers.certifications.keys import ReminderKey
from handlers.certifications.ledger import load_records, programs_for
from handlers.certifications.models import Digest, Official, ReminderSent, Snooze
from handlers.certifications.reminders import Due, OfficialRecord, Policy, plan
from handlers.certifications.replies import build_digest
from handlers.certifications.unreachable import send_digest

log = logging.getLogger(__name__)


@dataclass
class PassResult:
    """What one scheduler pass did."""

    due: int = 0
    sent: int = 0
    skipped: int = 0
    unreachable: int = 0
    staff_digests: int = 0


def supervisors_for(app: AppConfig, jurisdiction: str) -> list[str]:
    """Who hears about escalations: the jurisdiction's supervisors, else state staff."""
    return list(app.section(CertificationConfig).supervisors.get(jurisdiction)
                or app.roles.get("state_staff", []))


def destination_for(identity: str) -> Destination:
    """A person's DM destination from their platform identity."""
    platform, workspace, user = identity.split(":", 2)
    return Destination.parse(f"{platform}:{workspace}:@{user}")


async def _already(session: AsyncSession,
                   since: date) -> tuple[set[tuple[str, str, int]], set[tuple[str, date]]]:
    sent = set((await session.exec(select(  # type: ignore[call-overload]
        ReminderSent.deadline_key, ReminderSent.recipient, ReminderSent.step))).all())
    digests = set((await session.exec(select(  # type: ignore[call-overload]
        Digest.recipient, Digest.day).where(Digest.day >= since))).all())
    return {tuple(r) for r in sent}, {tuple(d) for d in digests}  # type: ignore[misc]


async def _snoozes(session: AsyncSession) -> dict[str, date]:
    return dict((await session.exec(select(  # type: ignore[call-overload]
        Snooze.deadline_key, Snooze.until))).all())


def _recipients(due: list[Due], records: dict[int, OfficialRecord], app: AppConfig,
                sent: set[tuple[str, str, int]]) -> tuple[dict[str, list[Due]], int]:
    by_recipient: dict[str, list[Due]] = defaultdict(list)
    unreachable = 0
    for item in due:
        record = records[item.official_id]
        targets = [record.identity] if record.identity else []
        unreachable += not record.identity
        if item.escalate:
            targets += supervisors_for(app, record.jurisdiction)
        for target in dict.fromkeys(targets):
            if target and (item.key, target, item.step) not in sent:
                by_recipient[target].append(item)
    return by_recipient, unreachable


async def run_once(services: Services) -> PassResult:
    """One pass: plan with the injectable clock, then send per recipient.

    All reads share one session; a pass where no official's zone is in its sending window
    (before 09:00, weekend, holiday) stops after one small query.
    """
    app = services.settings.app
    now = services.clock()
    policy = Policy.from_config(app.section(CertificationConfig))
    office_today = now.astimezone(ZoneInfo(app.office.time_zone)).date()
    async with services.db.session() as session:
        zones = [*(await session.exec(select(Official.time_zone).distinct())).all(),
                 app.office.time_zone]
        if not any(policy.local_day(now, zone)[1] for zone in zones):
            return PassResult()
        records = await load_records(services.db, app, office_today, session=session)
        sent, digested = await _already(session, office_today - timedelta(days=2))
        snoozed = await _snoozes(session)
    programs = programs_for(app)
    owners = {str(r.id): r.identity for r in records}
    official_sent = {(k, s) for k, r, s in sent if r == owners.get(k.split(":", 1)[0])}
    due = plan(records, programs, now, policy, snoozed=snoozed, sent=official_sent)
    by_id = {r.id: r for r in records}
    by_recipient, unreachable = _recipients(due, by_id, app, sent)
    result = PassResult(due=len(due), unreachable=unreachable)
    for recipient, items in by_recipient.items():
        day = min(i.day for i in items)
        if (recipient, day) in digested:
            result.skipped += 1
            continue
        if await _send_digest(services, recipient, items, by_id, day, now):
            result.sent += 1
        else:
            result.skipped += 1
    if policy.local_day(now, app.office.time_zone)[1]:
        result.staff_digests = await send_digest(services.db, services.outbox, app, records,
                                                   office_today, now)
    return result


async def _send_digest(services: Services, recipient: str, items: list[Due],
                       records: dict[int, OfficialRecord], day: date, now: datetime) -> bool:
    outbox_key = str(ReminderKey(recipient, day))
    reply = build_digest(recipient, items, records, services.settings.app)
    async with services.db.session() as session:
        session.add(Digest(recipient=recipient, day=day))
        for item in items:
            session.add(ReminderSent(deadline_key=item.key, recipient=recipient, step=item.step,
                                     day=day, outbox_key=outbox_key))
        enqueue(session, key=outbox_key, destination=destination_for(recipient), reply=reply,
                not_before=now)
        try:
            await session.commit()
        except IntegrityError:
            await session.rollback()
            log.info("certification digest already sent", extra={"recipient": recipient})
            return False
    REMINDERS.inc()
    return True


async def certification_reminders(services: Services) -> None:
    """One periodic tick of the reminder scheduler."""
    await run_once(services)


def now_local(now: datetime, zone: str) -> datetime:
    """``now`` in a time zone (helper for replies and tests)."""
    return now.astimezone(ZoneInfo(zone))
