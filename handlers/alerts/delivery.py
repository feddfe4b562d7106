"""After sending: the status view, 'Need help' hand-offs and the follow-up of non-acknowledgers.

Follow-up runs as a background loop. Each step is an outbox message with a deterministic key
(``alert:ID:remind|dm|backup:...``), so two processes, or a restart, never chase anyone twice:
at half the window a reminder to the destination, at the end a direct message to the people
behind it, at one and a half windows the backup contact. Tiers whose policy says ``chase:
false`` (always T3) are never chased; a later cancel or all-clear stops the chase.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from datetime import datetime, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.config.settings import AppConfig
from bot.db.engine import Database
from bot.messages import Destination, Reply, literal
from bot.outbox.keys import EditKey
from bot.outbox.queue import Status, enqueue, enqueue_many, find, status
from bot.services import Services
from handlers.alerts.config import AlertsConfig
from handlers.alerts.enums import AlertStatus
from handlers.alerts.models import Alert, AlertRecipient
from handlers.alerts.replies import (
    ANSWER_RANK,
    NOT_YET,
    OFFICE_UNKNOWN,
    Tally,
    build_acknowledged_line,
    build_alert_message,
    build_backup_stand_down,
    build_help_request,
    build_reminder,
    build_status,
)
from handlers.alerts.service import delivery_key, destination_of, key_prefix

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


async def _not_acknowledged(db: Database, alert: Alert) -> list[Chasee]:
    """Recipients whose copy was delivered and who have not acknowledged.

    Plain tuples: an alert to thousands would otherwise load thousands of objects.
    """
    async with db.engine.connect() as conn:
        rows = (await conn.execute(sa.text(
            "SELECT r.outbox_key, r.id, r.tier, r.destination, r.people, r.backup, r.name, "
            "r.organisation FROM alert_recipient r WHERE r.alert_id = :id AND NOT EXISTS "
            "(SELECT 1 FROM alert_ack a WHERE a.recipient_id = r.id) ORDER BY r.id"),
            {"id": alert.id})).all()
        delivered = await status(conn, (row[0] for row in rows))
    return [Chasee(*row[1:]) for row in rows if delivered.get(row[0]) == Status.SENT]


async def status_reply(*, db: Database, alert: Alert, zone: ZoneInfo | None = None,
                       now: datetime | None = None) -> Reply:
    """The status view: per tier, organisation and jurisdiction, who needs help, who is silent.

    Each member (recipient row) counts once, in one answer column (:func:`answer_of`).
    Plain tuples (no ORM objects) and the outbox's status of their keys: the live status
    message recomputes this every few seconds during a broadcast of thousands of destinations.
    Times in ``zone`` (the reader's; UTC where none is known), relative to ``now`` if given.
    """
    async with db.engine.connect() as conn:
        rows = (await conn.execute(sa.text(
            "SELECT r.id, r.outbox_key, r.tier, r.organisation, r.jurisdiction, r.name "
            "FROM alert_recipient r WHERE r.alert_id = :id ORDER BY r.id"),
            {"id": alert.id})).all()
        answers = await _answers(conn, alert)
        states = await status(conn, (row[1] for row in rows))
    tables: list[dict[str, Tally]] = [defaultdict(Tally), defaultdict(Tally), defaultdict(Tally)]
    listed: dict[str, list[str]] = {"need_help": [], NOT_YET: []}
    for rid, key, tier, organisation, jurisdiction, name in rows:
        state, answer = states.get(key), answer_of(answers.get(rid, set()))
        for table, label in zip(tables, (tier, organisation, jurisdiction), strict=True):
            tally = table[label]
            tally.recipients += 1
            # An answer proves delivery, even before the worker has recorded it
            # (outcomes are written in batches, a fraction of a second later).
            tally.delivered += state == Status.SENT or answer != NOT_YET
            tally.failed += state == Status.DEAD
            tally.answers[answer] += 1
        if answer in listed:
            listed[answer].append(f"{literal(name or organisation)} ({literal(organisation)}, "
                                  f"{literal(tier)})")
    return build_status(alert, tables[0], tables[1], tables[2], need_help=listed["need_help"],
                        not_yet=listed[NOT_YET], zone=zone or ZoneInfo("UTC"), now=now)


def answer_of(kinds: set[str]) -> str:
    """A member's answer column: the first of :data:`ANSWER_RANK` any of its people gave."""
    return next((kind for kind in ANSWER_RANK if kind in kinds), NOT_YET)


async def _answers(conn: AsyncConnection, alert: Alert) -> dict[int, set[str]]:
    """Every recipient row's answers, "need_help" included when someone asked after answering.

    Asking for help after an earlier answer keeps that answer (one per person) and leaves a
    help message per state staff destination, keyed by the person: those keys tell.
    """
    acks = (await conn.execute(sa.text(
        "SELECT recipient_id, person, kind FROM alert_ack WHERE alert_id = :id"),
        {"id": alert.id})).all()
    asked = await find(conn, key_prefix(alert.public_id, "help"))
    help_keys = {q.key for q in asked}
    targets = {q.destination for q in asked}
    found: dict[int, set[str]] = defaultdict(set)
    for rid, person, kind in acks:
        found[rid].add(kind)
        if any(delivery_key(alert.public_id, "help", f"{person}>{t}") in help_keys
               for t in targets):
            found[rid].add("need_help")
    return found


def enqueue_help(session: AsyncSession, alert: Alert, app: AppConfig, *, person: str,
                 recipient: AlertRecipient) -> None:
    """Tell state staff (help destinations, else T0 members) that someone needs help."""
    targets = list(app.section(AlertsConfig).help_destinations) or [
        m.destination for g in app.section(AlertsConfig).groups if g.tier == "T0" for m in g.members]
    who = f"{literal(recipient.name or person)} ({literal(recipient.organisation)})"
    reply = build_help_request(alert, who, person)
    for target in targets:
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
    ignores it).
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
        enqueue(session, key=EditKey(key, "ack"), destination=Destination.parse(target),
                reply=reply)


def ladder(recipient: Chasee | AlertRecipient) -> list[tuple[str, str, float]]:
    """Every follow-up of one recipient: (kind, destination, when as a fraction of the window).

    A reminder to the destination at half the window, a direct message to the people behind it
    at the end, the backup contact at one and a half windows.
    """
    dest = Destination.parse(recipient.destination)
    people = [str(dest)] if dest.user_id else [
        str(destination_of(p)) for p in json.loads(recipient.people)]
    steps = [("remind", recipient.destination, 0.5), *(("dm", p, 1.0) for p in people)]
    if recipient.backup:
        steps.append(("backup", recipient.backup, 1.5))
    return steps


def due_steps(alert: Alert, recipient: Chasee, now: datetime) -> list[tuple[str, str]]:
    """(kind, destination) follow-ups due for one non-acknowledging recipient."""
    assert alert.sent_at is not None
    window = timedelta(minutes=alert.ack_window_minutes)
    elapsed = now - alert.sent_at
    return [(kind, target) for kind, target, when in ladder(recipient)
            if elapsed >= window * when]


async def follow_up_once(*, db: Database, app: AppConfig, now: datetime) -> int:
    """Enqueue every follow-up now due; return how many were added."""
    async with db.session() as session:
        alerts = (await session.exec(select(Alert).where(
            Alert.status == "sent", Alert.ack_required == True,  # noqa: E712
            Alert.sent_at >= now - LOOKBACK))).all()  # type: ignore[operator]
        stopped = {a.parent_id for a in alerts if a.alert_type in ("cancel", "all_clear")}
    added = 0
    for alert in alerts:
        if alert.id in stopped or (alert.expires_at and alert.expires_at <= now):
            continue
        added += await _chase(db, app, alert, now)
    return added


async def _chase(db: Database, app: AppConfig, alert: Alert, now: datetime) -> int:
    assert alert.sent_at is not None
    if now - alert.sent_at < timedelta(minutes=alert.ack_window_minutes) / 2:
        return 0  # nothing is due before half the window
    wanted: dict[str, tuple[str, str, Chasee]] = {}
    for r in await _not_acknowledged(db, alert):
        tiers = app.section(AlertsConfig).tiers
        chase = tiers[r.tier].chase if r.tier in tiers else False
        if not chase or r.tier == "T3":
            continue
        for kind, target in due_steps(alert, r, now):
            wanted[delivery_key(alert.public_id, kind, f"{r.id}>{target}")] = (kind, target, r)
    if not wanted:
        return 0
    async with db.session() as session:
        have = await _follow_ups_queued(session, list(wanted))
        try:
            await enqueue_many(session, [
                (key, Destination.parse(target),
                 build_reminder(alert, kind, r.name or r.organisation,
                                zone=ZoneInfo(app.office.time_zone)))
                for key, (kind, target, r) in wanted.items() if key not in have])
            await session.commit()
        except IntegrityError:  # another process got there first; it sends them
            return 0
    return len(set(wanted) - have)


async def alert_follow_ups(services: Services) -> None:
    """One periodic tick: enqueue due follow-ups (their commit wakes the outbox)."""
    await follow_up_once(db=services.db, app=services.settings.app, now=services.clock())


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
            answers = await _answers(conn, alert)
        need_help = sum("need_help" in kinds for kinds in answers.values())
        found.append((alert, need_help, len(await _not_acknowledged(db, alert))))
    return [row for row in found if row[1] or row[2]]
