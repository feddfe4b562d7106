"""After sending: 'Need help' hand-offs, answered copies and the follow-up of non-acknowledgers.

(The status view is in :mod:`handlers.alerts.status`.)

Follow-up runs as a background loop. Each step is an outbox message with a deterministic key
(``alert:ID:remind|dm|backup:...``), so two processes, or a restart, never chase anyone twice:
at half the window a reminder to the destination, at the end a direct message to the people
behind it, at one and a half windows the backup contact. Tiers whose policy says ``chase:
false`` (always T3) are never chased; a later cancel or all-clear stops the chase. E-mail
members are chased alike (the direct message is their address again), within the TLP rules of
:mod:`handlers.alerts.reach`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.config.settings import AppConfig
from bot.db.engine import Database
from bot.messages import Destination, Reply, literal
from bot.outbox.keys import EditKey
from bot.outbox.queue import Status, enqueue, enqueue_many, status
from bot.services import Services
from handlers.alerts.config import AlertsConfig
from handlers.alerts.email_copy import with_links
from handlers.alerts.enums import AlertStatus
from handlers.alerts.links import AckLinks, ack_links
from handlers.alerts.models import Alert, AlertRecipient
from handlers.alerts.reach import exclusion
from handlers.alerts.replies import (
    OFFICE_UNKNOWN,
    build_acknowledged_line,
    build_alert_message,
    build_backup_stand_down,
    build_help_request,
    build_reminder,
)
from handlers.alerts.service import delivery_key, destination_of
from handlers.alerts.status import answer_of as answer_of  # the status view: status.py
from handlers.alerts.status import answers_of
from handlers.alerts.status import status_reply as status_reply

log = logging.getLogger(__name__)
LOOKBACK = timedelta(days=2)


class Chasee(NamedTuple):
    """A recipient that received an alert and has not acknowledged it."""

    id: int
    tier: str
    destination: str
    people: str
    backup: str | None
    name: str
    organisation: str
    outbox_key: str


async def _not_acknowledged(db: Database, alert: Alert) -> list[Chasee]:
    """Recipients whose copy was delivered and who have not acknowledged.

    Plain tuples: an alert to thousands would otherwise load thousands of objects.
    """
    async with db.engine.connect() as conn:
        rows = (await conn.execute(sa.text(
            "SELECT r.id, r.tier, r.destination, r.people, r.backup, r.name, "
            "r.organisation, r.outbox_key FROM alert_recipient r WHERE r.alert_id = :id "
            "AND r.excluded = '' AND NOT EXISTS "
            "(SELECT 1 FROM alert_ack a WHERE a.recipient_id = r.id) ORDER BY r.id"),
            {"id": alert.id})).all()
        delivered = await status(conn, (row[-1] for row in rows))
    return [Chasee(*row) for row in rows if delivered.get(row[-1]) == Status.SENT]


def enqueue_help(session: AsyncSession, alert: Alert, app: AppConfig, *, person: str,
                 recipient: AlertRecipient) -> None:
    """Tell state staff (help destinations, else T0 members) that someone needs help.

    An e-mail address the alert's TLP label keeps out is told only the alert's id.
    """
    config = app.section(AlertsConfig)
    targets = list(config.help_destinations) or [
        m.destination for g in config.groups if g.tier == "T0" for m in g.members]
    who = f"{literal(recipient.name or person)} ({literal(recipient.organisation)})"
    full, bare = (build_help_request(alert, who, person, headline=shown) for shown in (True, False))
    for target in targets:
        reply = bare if exclusion(alert.tlp, target, config) else full
        enqueue(session, key=delivery_key(alert.public_id, "help", f"{person}>{target}"),
                destination=Destination.parse(target), reply=reply)


async def enqueue_ack_edit(session: AsyncSession, alert: Alert, recipient: AlertRecipient, *,
                           kind: str, at: datetime, who: str, parent: str,
                           zone: ZoneInfo = OFFICE_UNKNOWN) -> None:
    """Mark the recipient's delivered copy, and any follow-up already sent, as answered.

    Edits of the messages sent under the recipient's keys, so the answer stays visible after
    the clicker's confirmation is gone, a channel sees that it has been taken care of, and a
    backup contact knows nothing more is needed. The edit keys are one per message: the first
    acknowledgement marks them, a later one's commit fails with IntegrityError (the caller
    ignores it). A sent e-mail cannot be edited: an e-mail backup contact gets the stand-down
    as a new message in the same thread, other e-mail copies are left as they are.
    """
    personal = Destination.parse(recipient.destination).user_id is not None
    line = build_acknowledged_line(kind, at, who="" if personal else who,
                                   organisation=recipient.organisation, zone=zone)
    marked = build_alert_message(alert, parent=parent, acknowledged=line, personal=personal,
                                 zone=zone)
    edits = {recipient.outbox_key: (recipient.destination, marked)}
    steps = {delivery_key(alert.public_id, step, f"{recipient.id}>{target}"): (step, target)
             for step, target, _when in ladder(recipient)}
    queued = await status(session, steps)
    for key in (k for k, state in queued.items() if state != Status.DEAD):
        step, target = steps[key]
        if step == "backup":
            reply = build_backup_stand_down(alert, recipient.name or recipient.organisation)
        else:
            reply = build_alert_message(alert, parent=parent, acknowledged=line, zone=zone,
                                        personal=Destination.parse(target).user_id is not None)
        edits[key] = (target, reply)
    for key, (target, reply) in edits.items():
        destination = Destination.parse(target)
        if destination.address is None:
            enqueue(session, key=EditKey(key, "ack"), destination=destination, reply=reply)
        elif key != recipient.outbox_key and steps[key][0] == "backup":
            enqueue(session, key=delivery_key(alert.public_id, "standdown",
                                              f"{recipient.id}>{target}"),
                    destination=destination, reply=dataclasses.replace(reply, follows=key))


def ladder(recipient: Chasee | AlertRecipient,
           allowed: Callable[[str], bool] = lambda _target: True) -> list[tuple[str, str, float]]:
    """Every follow-up of one recipient: (kind, destination, when as a fraction of the window).

    A reminder to the destination at half the window, a direct message to the people behind it
    at the end (a person's or an e-mail destination: that destination again), the backup
    contact at one and a half windows. ``allowed`` drops targets the alert may not reach (an
    e-mail backup its TLP label keeps out).
    """
    dest = Destination.parse(recipient.destination)
    people = [str(dest)] if dest.user_id else [
        str(destination_of(p)) for p in json.loads(recipient.people)]
    steps = [("remind", recipient.destination, 0.5), *(("dm", p, 1.0) for p in people)]
    if recipient.backup:
        steps.append(("backup", recipient.backup, 1.5))
    return [step for step in steps if allowed(step[1])]


def due_steps(alert: Alert, recipient: Chasee, now: datetime,
              config: AlertsConfig | None = None) -> list[tuple[str, str]]:
    """(kind, destination) follow-ups due for one non-acknowledging recipient.

    With ``config``, targets the alert's TLP label keeps out of e-mail are left out.
    """
    assert alert.sent_at is not None
    window = timedelta(minutes=alert.ack_window_minutes)
    elapsed = now - alert.sent_at
    allowed = (lambda _t: True) if config is None else (
        lambda target: exclusion(alert.tlp, target, config) is None)
    return [(kind, target) for kind, target, when in ladder(recipient, allowed)
            if elapsed >= window * when]


async def follow_up_once(*, db: Database, app: AppConfig, now: datetime,
                         links: AckLinks | None = None) -> int:
    """Enqueue every follow-up now due; return how many were added.

    An e-mail reminder to a member carries its answer links (made by ``links``).
    """
    async with db.session() as session:
        alerts = (await session.exec(select(Alert).where(
            Alert.status == "sent", Alert.ack_required == True,  # noqa: E712
            Alert.sent_at >= now - LOOKBACK))).all()  # type: ignore[operator]
        stopped = {a.parent_id for a in alerts if a.alert_type in ("cancel", "all_clear")}
    added = 0
    for alert in alerts:
        if alert.id in stopped or (alert.expires_at and alert.expires_at <= now):
            continue
        added += await _chase(db, app, alert, now, links)
    return added


async def _chase(db: Database, app: AppConfig, alert: Alert, now: datetime,
                 links: AckLinks | None) -> int:
    assert alert.sent_at is not None
    if now - alert.sent_at < timedelta(minutes=alert.ack_window_minutes) / 2:
        return 0  # nothing is due before half the window
    wanted: dict[str, tuple[str, str, Chasee]] = {}
    config = app.section(AlertsConfig)
    for r in await _not_acknowledged(db, alert):
        chase = config.tiers[r.tier].chase if r.tier in config.tiers else False
        if not chase or r.tier == "T3":
            continue
        for kind, target in due_steps(alert, r, now, config):
            wanted[delivery_key(alert.public_id, kind, f"{r.id}>{target}")] = (kind, target, r)
    if not wanted:
        return 0
    zone = ZoneInfo(app.office.time_zone)
    async with db.session() as session:
        have = await _follow_ups_queued(session, list(wanted))

        def build() -> list[tuple[str, Destination, Reply]]:
            return [(key, Destination.parse(target), _reminder(alert, kind, target, r, zone, links))
                    for key, (kind, target, r) in wanted.items() if key not in have]
        try:  # off the loop: thousands of e-mail reminders sign thousands of links
            await enqueue_many(session, await asyncio.to_thread(build))
            await session.commit()
        except IntegrityError:  # another process got there first; it sends them
            return 0
    return len(set(wanted) - have)


def _reminder(alert: Alert, kind: str, target: str, recipient: Chasee, zone: ZoneInfo,
              links: AckLinks | None = None) -> Reply:
    """One follow-up; an e-mail one to the alert's own address threads under the alert.

    It carries the member's answer links (the same as in the alert's e-mail).
    """
    reply = build_reminder(alert, kind, recipient.name or recipient.organisation, zone=zone)
    if target == recipient.destination and target.startswith("email:"):
        assert alert.sent_at is not None
        reply = with_links(reply, alert=alert, recipient_id=recipient.id, links=links,
                           sent_at=alert.sent_at)
        return dataclasses.replace(reply, follows=recipient.outbox_key)
    return reply


async def alert_follow_ups(services: Services) -> None:
    """One periodic tick: enqueue due follow-ups (their commit wakes the outbox)."""
    await follow_up_once(db=services.db, app=services.settings.app, now=services.clock(),
                         links=ack_links(services.settings))


async def _follow_ups_queued(session: AsyncSession, keys: list[str]) -> set[str]:
    """Those of ``keys`` already in the outbox (another tick or process queued them)."""
    return set(await status(session, keys))


async def attention(*, db: Database, now: datetime, limit: int = 20) -> list[tuple[Alert, int, int]]:
    """Sent alerts of the last two days still asking for answers: (alert, need help, not yet).

    "Need help" counts recipients who asked for help; "not yet" those whose copy was delivered
    and who have not answered (the same tallies as the status view and the follow-ups).
    """
    async with db.session() as session:
        alerts = (await session.exec(
            select(Alert).where(Alert.status == AlertStatus.SENT, Alert.ack_required,
                                Alert.sent_at >= now - LOOKBACK)  # type: ignore[operator]
            .order_by(Alert.sent_at.desc()).limit(limit))).all()  # type: ignore[union-attr]
    found = []
    for alert in alerts:
        async with db.engine.connect() as conn:
            answers = await answers_of(conn, alert)
        need_help = sum("need_help" in kinds for kinds in answers.values())
        found.append((alert, need_help, len(await _not_acknowledged(db, alert))))
    return [row for row in found if row[1] or row[2]]
