"""Alert operations: draft, approve / refuse, send, acknowledge. Module-level, keyword-only.

Sending writes the alert's status, one recipient row per destination and one outbox message
per destination in one transaction, guarded by the alert's status, so a double click or two
processes send it once; the outbox delivers off the request path.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import secrets
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.config.settings import AppConfig
from bot.db.engine import Database
from bot.db.models import AuditEntry
from bot.errors import Refused, UserError
from bot.messages import Destination, Reply, literal
from bot.ops.limits import LimitReached, quotas, take
from bot.outbox.queue import enqueue_many
from handlers.alerts import network, reach
from handlers.alerts.config import AlertsConfig
from handlers.alerts.email_copy import check_links, email_copies
from handlers.alerts.enums import AckKind, AlertStatus
from handlers.alerts.forms import CleanAlert
from handlers.alerts.links import AckLinks
from handlers.alerts.models import Alert, AlertAck, AlertEvent, AlertRecipient
from handlers.alerts.replies import build_alert_message, build_limit_refusal

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
UNDECIDED = (AlertStatus.DRAFT, AlertStatus.PENDING_APPROVAL)


@dataclass(frozen=True)
class Actor:
    """Who is acting, by platform identity."""

    identity: str
    app: AppConfig

    @property
    def is_broadcaster(self) -> bool:
        """Only broadcasters compose, send and approve."""
        return self.app.has_role(self.identity, "broadcaster")


def new_public_id() -> str:
    """Opaque and unguessable enough to put on a button (40 bits)."""
    return "AL-" + "".join(secrets.choice(ALPHABET) for _ in range(8))


def destination_of(identity: str) -> Destination:
    """A person's direct-message destination from ``platform:workspace:user``."""
    return Destination.parse(direct_place(identity))


def direct_place(identity: str) -> str:
    """Where a person's own copies go, as stored: ``platform:workspace:@user``.

    The person behind an e-mail address (``email:relay:<address>``) is ``email:<address>``.
    """
    platform, workspace, user = identity.split(":", 2)
    if platform == "email":
        return f"email:{user}"
    return f"{platform}:{workspace}:@{user}"


def delivery_key(public_id: str, kind: str, target: str) -> str:
    """A bounded, unique outbox key (destinations can be long)."""
    digest = hashlib.sha256(target.encode()).hexdigest()[:20]
    return f"{key_prefix(public_id, kind)}{digest}"


def key_prefix(public_id: str, kind: str) -> str:
    """What every :func:`delivery_key` of one alert and kind starts with."""
    return f"alert:{public_id}:{kind}:"


async def audit(db: Database, *, actor: str, action: str, target: str, reason: str) -> None:
    """Record a refused action in the shared audit log."""
    async with db.session() as session:
        session.add(AuditEntry(actor=actor, action=action, target=target, allowed=False,
                               reason=reason[:300]))
        await session.commit()


async def record(session: AsyncSession, alert: Alert, *, actor: str, kind: str, at: datetime,
                 note: str = "") -> None:
    """Append to the alert's history in the caller's transaction."""
    assert alert.id is not None
    session.add(AlertEvent(alert_id=alert.id, at=at, actor=actor, kind=kind, note=note[:500]))


async def get_alert(db: Database, public_id: str) -> Alert:
    """The alert with this id, or UserError."""
    async with db.session() as session:
        alert = (await session.exec(select(Alert).where(Alert.public_id == public_id))).first()
    if alert is None:
        raise UserError(f"No alert {literal(public_id)}.")
    return alert


def approval_reasons(clean: CleanAlert, app: AppConfig, tiers: set[str], *,
                     parent: Alert | None = None) -> tuple[str, ...]:
    """Why a second broadcaster must approve (none: it can be sent at once).

    A new alert needs one when severe, statewide, or reaching a tier whose policy says so (T3
    always); a child when its parent did or when it is itself severe.
    """
    reasons = []
    if clean.severity.is_severe:
        reasons.append(f"its severity is {clean.severity} (severe and extreme alerts always "
                       "need one)")
    if parent is not None:
        if parent.needs_approval:
            reasons.append(f"the alert it follows, {parent.public_id}, needed one")
        return tuple(reasons)
    places = clean.audience.jurisdictions
    if not places or app.office.state in places:
        where = "no jurisdiction was chosen" if not places else f"{app.office.state} was chosen"
        reasons.append(f"it is statewide ({where}; statewide alerts always need one)")
    policy = app.section(AlertsConfig)
    reasons += [f"it reaches {tier} (every {tier} alert needs one by the tier policy)"
                for tier in sorted(tiers) if tier in policy.tiers and policy.always_approved(tier)]
    return tuple(reasons)


async def recipients_for(db: Database, app: AppConfig, alert: Alert) -> list[network.Entry]:
    """Who it is for: the parent's recipients for a child alert, else the audience now.

    A child reaches everyone the parent was sent to, never those the TLP rules kept out of it.
    """
    if alert.parent_id is None:
        entries = await network.load_network(db, app)
        return network.resolve(entries, network.Audience.from_json(alert.audience))
    async with db.session() as session:
        rows = (await session.exec(select(AlertRecipient).where(
            AlertRecipient.alert_id == alert.parent_id,
            AlertRecipient.excluded == "").order_by(AlertRecipient.id))).all()  # type: ignore[arg-type]
    return [network.Entry(r.group_name, r.tier, r.destination, r.name, r.organisation,
                          r.jurisdiction, r.backup, tuple(json.loads(r.people)), "parent")
            for r in rows]


async def plan(db: Database, app: AppConfig, alert: Alert) -> reach.Reach:
    """Who receives ``alert`` and who its TLP label keeps out (see :func:`reach.plan`)."""
    return reach.plan(await recipients_for(db, app, alert), app=app, tlp=alert.tlp)


async def excluded_counts(db: Database, alert: Alert) -> dict[str, int]:
    """Recipients of a sent alert the TLP rules kept out, per reason (as recorded)."""
    async with db.engine.connect() as conn:
        rows = (await conn.execute(sa.text(
            "SELECT excluded, COUNT(*) FROM alert_recipient WHERE alert_id = :id AND "
            "excluded != '' GROUP BY excluded"), {"id": alert.id})).all()
    return {reason: int(n) for reason, n in rows}


def send_key(public_id: str, destination: str) -> str:
    """The outbox key of alert ``public_id``'s copy to ``destination``."""
    return delivery_key(public_id, "send", destination)


async def create_draft(*, db: Database, app: AppConfig, actor: Actor, clean: CleanAlert,
                       reply_to: str, now: datetime, parent: Alert | None = None,
                       origin: str = "") -> tuple[Alert, Counter[str]]:
    """Store a draft and return it with its recipients per tier (for the preview).

    Composing counts against ``limits.alerts_per_hour`` (per broadcaster) and the origin's
    hourly budget, in the draft's own transaction; over either, nothing is stored, the refusal
    is audited and UserError says which limit.
    """
    if not actor.is_broadcaster:
        raise Refused("Only broadcasters can compose alerts.")
    alert = Alert(
        public_id=new_public_id(), parent_id=parent.id if parent else None,
        alert_type=clean.alert_type, severity=clean.severity, headline=clean.headline,
        body=clean.body, instructions=clean.instructions, public_text=clean.public_text,
        public_text_translated=clean.public_text_translated, tlp=clean.tlp,
        audience=(parent.audience if parent else clean.audience.to_json()),
        ack_required=clean.ack_required, ack_window_minutes=clean.ack_window_minutes,
        expires_at=clean.expires_at, exercise=clean.exercise or bool(parent and parent.exercise),
        created_by=actor.identity, reply_to=reply_to, created_at=now)
    planned = await plan(db, app, alert)
    per_tier = planned.per_tier
    # A child goes to its parent's recipients: it needs approval when the parent did, or when
    # it is itself severe (else "update" would send a severe alert on one person's say).
    alert.needs_approval = bool(approval_reasons(clean, app, set(per_tier), parent=parent))
    async with db.session() as session:
        try:
            await take(session, quotas(app.limits, action="alert",
                                       per_identity=app.limits.alerts_per_hour,
                                       setting="alerts_per_hour", identity=actor.identity,
                                       origin=origin), now)
        except LimitReached as exc:
            await session.rollback()
            await audit(db, actor=actor.identity, action="alert.compose", target="limit",
                        reason=f"over {exc.quota.setting}={exc.quota.limit}; draft not stored")
            raise UserError(build_limit_refusal(exc.quota.setting, exc.quota.limit)) from None
        session.add(alert)
        await session.flush()
        await record(session, alert, actor=actor.identity, kind="drafted", at=now)
        await session.commit()
    return alert, per_tier


async def send(*, db: Database, app: AppConfig, actor: Actor, public_id: str, now: datetime,
               expected: AlertStatus = AlertStatus.DRAFT,
               links: AckLinks | None = None) -> tuple[Alert, int]:
    """Send a draft (or an approved request): status, recipients and outbox rows, one commit.

    E-mail recipients each get their own copy (:mod:`handlers.alerts.email_copy`), with answer
    links made by ``links``; when they need links that cannot be made, nothing is sent.
    """
    if not actor.is_broadcaster:  # re-checked at the moment of sending
        raise Refused("Only broadcasters can send alerts.")
    alert = await get_alert(db, public_id)
    if alert.status != expected:
        raise UserError(f"Alert {public_id} is {alert.status.replace('_', ' ')}; not sent again.")
    planned = await plan(db, app, alert)
    check_links(alert, planned.sent, links)
    parent = await parent_public_id(db, alert)
    message = build_alert_message(alert, parent=parent, zone=ZoneInfo(app.office.time_zone))
    rows = [(e, "") for e in planned.sent] + [(e, str(r)) for e, r in planned.kept_out]
    async with db.session() as session:
        result = await session.execute(sa.update(Alert).where(
            Alert.id == alert.id, Alert.status == expected).values(  # type: ignore[arg-type]
            status=AlertStatus.SENT, sent_at=now))
        if getattr(result, "rowcount", 0) != 1:
            raise UserError(f"Alert {public_id} was already handled; not sent again.")
        if rows:  # thousands of rows: multi-row INSERTs, not one ORM object each
            await session.execute(sa.insert(AlertRecipient.__table__), [  # type: ignore[attr-defined]
                {"alert_id": alert.id, "destination": e.destination, "tier": e.tier,
                 "group_name": e.group, "name": e.name, "organisation": e.organisation,
                 "jurisdiction": e.jurisdiction, "backup": e.backup,
                 "people": json.dumps(list(e.people)),
                 "outbox_key": send_key(public_id, e.destination), "excluded": excluded}
                for e, excluded in rows])
        # E-mail members each get their own copy (answer links, footer, thread).
        own = await email_copies(
            session, alert, planned.sent, message, app=app, links=links, now=now,
            follows=lambda dest: send_key(parent, dest) if parent else "")
        # Those kept out keep their row (the status says why) and get no outbox message.
        await enqueue_many(session, [
            (send_key(public_id, e.destination), Destination.parse(e.destination),
             own.get(e.destination) or copy_for(e.destination, message, parent))
            for e in planned.sent])
        kept_out = f", {len(planned.kept_out)} kept out by TLP" if planned.kept_out else ""
        await record(session, alert, actor=actor.identity, kind="sent", at=now,
                     note=f"{len(planned.sent)} destinations{kept_out}")
        await session.commit()
    alert.status, alert.sent_at = AlertStatus.SENT, now
    return alert, len(planned.sent)


def copy_for(destination: str, message: Reply, parent: str) -> Reply:
    """The copy one destination gets: an e-mail update / all-clear threads under the parent."""
    if parent and destination.startswith("email:"):
        return dataclasses.replace(message, follows=send_key(parent, destination))
    return message


async def parent_public_id(db: Database, alert: Alert) -> str:
    """The id people know the alert's parent by (an update's, all-clear's, cancel's), or ""."""
    if alert.parent_id is None:
        return ""
    async with db.session() as session:
        parent = await session.get(Alert, alert.parent_id)
    return parent.public_id if parent else ""


async def decide(*, db: Database, alert: Alert, actor: Actor, status: AlertStatus, now: datetime,
                 note: str = "") -> Alert:
    """Move a draft / request to ``status`` (pending_approval, refused, discarded), once."""
    async with db.session() as session:
        result = await session.execute(sa.update(Alert).where(
            Alert.id == alert.id,  # type: ignore[arg-type]
            Alert.status.in_(UNDECIDED)).values(  # type: ignore[attr-defined]
            status=status, decided_by=actor.identity if status is AlertStatus.REFUSED else None,
            decision_note=note[:300]))
        if getattr(result, "rowcount", 0) != 1:
            raise UserError(f"Alert {alert.public_id} was already handled.")
        await record(session, alert, actor=actor.identity, kind=status, at=now, note=note)
        await session.commit()
    alert.status = status
    return alert


async def acknowledge(*, db: Database, public_id: str, person: str, channel: str, kind: AckKind,
                      now: datetime) -> tuple[AlertAck, bool, AlertRecipient]:
    """One acknowledgement per (alert, person); non-recipients are refused and audited."""
    alert = await get_alert(db, public_id)
    recipient = await _recipient_for(db, alert, person, channel)
    if recipient is None:
        await audit(db, actor=person, action="alert:ack", target=public_id,
                    reason="not a recipient of this alert")
        raise Refused("You are not a recipient of this alert, so it cannot be "
                               "acknowledged from your account.")
    ack = AlertAck(alert_id=alert.id or 0, recipient_id=recipient.id or 0, person=person,
                   kind=kind, at=now)
    try:
        async with db.session() as session:
            session.add(ack)
            await session.commit()
        return ack, True, recipient
    except IntegrityError:
        async with db.session() as session:
            first = (await session.exec(select(AlertAck).where(
                AlertAck.alert_id == alert.id, AlertAck.person == person))).one()
        return first, False, recipient


async def _recipient_for(db: Database, alert: Alert, person: str,
                         channel: str) -> AlertRecipient | None:
    """The recipient row ``person`` (clicking in ``channel``) answers for, if any.

    Only the rows that could match are read (their DM, the channel, or listing them): an alert
    to thousands is acknowledged by thousands, each click must not load every recipient.
    """
    platform, workspace, _user = person.split(":", 2)
    places = [direct_place(person)]
    if channel:
        places.append(f"{platform}:{workspace}:{channel}")
    async with db.session() as session:
        rows = (await session.exec(select(AlertRecipient).where(
            AlertRecipient.alert_id == alert.id,
            sa.or_(AlertRecipient.destination.in_(places),  # type: ignore[attr-defined]
                   AlertRecipient.people.contains(  # type: ignore[attr-defined]
                       json.dumps(person), autoescape=True))))).all()
    return next((r for r in rows if _is_recipient(r, person, channel)), None)


def _is_recipient(row: AlertRecipient, person: str, channel: str) -> bool:
    """The DM's person, a listed person, or someone clicking in the delivered channel."""
    dest = Destination.parse(row.destination)
    platform, workspace, user = person.split(":", 2)
    same_place = dest.platform == platform and dest.workspace == workspace
    if dest.user_id:
        return same_place and dest.user_id == user
    return person in json.loads(row.people) or (same_place and bool(channel)
                                                and channel == dest.channel)


RECENT = timedelta(days=7)  # how far back a home looks for alerts still waiting for an answer


async def awaiting_ack(*, db: Database, person: str, now: datetime,
                       limit: int = 10) -> list[Alert]:
    """Sent, unexpired alerts (of the last week) addressed to ``person`` they have not answered.

    Addressed means a direct message to them or a recipient row listing them; a channel copy
    anyone in the channel may answer is not counted as theirs.
    """
    answered = select(AlertAck.alert_id).where(AlertAck.person == person)
    query = (select(Alert).join(AlertRecipient, AlertRecipient.alert_id == Alert.id)  # type: ignore[arg-type]
             .where(Alert.status == AlertStatus.SENT, Alert.ack_required,
                    Alert.sent_at >= now - RECENT,  # type: ignore[operator]
                    sa.or_(Alert.expires_at.is_(None),  # type: ignore[union-attr]
                           Alert.expires_at > now),  # type: ignore[operator,arg-type]
                    sa.or_(AlertRecipient.destination  # type: ignore[arg-type]
                           == direct_place(person),
                           AlertRecipient.people.contains(  # type: ignore[attr-defined]
                               json.dumps(person), autoescape=True)),
                    Alert.id.not_in(answered))  # type: ignore[union-attr]
             .order_by(Alert.sent_at.desc()).limit(limit))  # type: ignore[union-attr]
    async with db.session() as session:
        rows = (await session.exec(query.distinct())).all()
    return list(rows)
