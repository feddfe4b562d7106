"""Incident operations.

Every change appends a hash-chained event, and moves the chain head pinned (and sealed) on the
incident row, in the same transaction; notifications are enqueued in that transaction too (sent
later by the outbox). One user intent is one transaction, a note given with it included.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.config.settings import AppConfig
from bot.db.engine import Database
from bot.errors import Refused, UserError
from bot.messages import literal
from bot.ops.audit import audit
from bot.ops.audit_key import UNKEYED, UNKEYED_ID, AuditKey, audit_key_for
from handlers.incidents import limits
from handlers.incidents.chain import (
    GENESIS,
    counter_seal,
    event_hash,
    plain,
    seal_row,
    snapshot,
)
from handlers.incidents.enums import IncidentStatus, Severity
from handlers.incidents.models import Incident, IncidentCreate, IncidentEvent
from handlers.incidents.notify import TRACKED, enqueue_notification_edits, enqueue_notifications
from handlers.incidents.permissions import Actor
from handlers.incidents.queries import find_by_key, get_incident

T = TypeVar("T")


async def _next_human_id(session: AsyncSession, key: AuditKey, year: int) -> str:
    await session.execute(sa.text(
        "INSERT INTO incident_counter (year, last) VALUES (:y, 0) ON CONFLICT (year) DO NOTHING"),
        {"y": year})
    number = (await session.execute(sa.text(
        "UPDATE incident_counter SET last = last + 1 WHERE year = :y RETURNING last"),
        {"y": year})).scalar_one()
    await session.execute(sa.text("UPDATE incident_counter SET seal = :s WHERE year = :y"),
                          {"s": counter_seal(key, year, number), "y": year})
    return f"INC-{year}-{number:06d}"


async def _append_event(session: AsyncSession, key: AuditKey, incident: Incident, *, actor: str,
                        kind: str, changes: dict[str, Any], at: datetime) -> IncidentEvent:
    """Append one event and move the head pinned on the row, in the caller's transaction."""
    assert incident.id is not None
    last = (await session.exec(select(IncidentEvent).where(
        IncidentEvent.incident_id == incident.id).order_by(
        IncidentEvent.seq.desc()).limit(1))).first()  # type: ignore[attr-defined]
    seq = (last.seq + 1) if last else 1
    prev = last.hash if last else GENESIS
    chain_key = key
    if last is not None and incident.key_id != key.key_id:
        # Recorded before the upgrade (no seal yet) or without a key: extend it the same way
        # until `incidents verify --reseal` re-seals it; a mixed chain would never verify.
        chain_key = UNKEYED if incident.seal is None or incident.key_id == UNKEYED_ID else key
    body = json.dumps(changes, sort_keys=True, default=plain)
    event = IncidentEvent(incident_id=incident.id, seq=seq, at=at, actor=actor, kind=kind,
                          changes=body, prev_hash=prev,
                          hash=event_hash(chain_key, prev_hash=prev, incident_id=incident.id,
                                          seq=seq, at=at, actor=actor, kind=kind, changes=body))
    session.add(event)
    if last is None or incident.seal is not None:
        seal_row(chain_key, incident, event)
        session.add(incident)
    return event


@dataclass(frozen=True)
class Filed:
    """The outcome of filing: the incident, whether it is new, whether on-call was paged."""

    incident: Incident
    created: bool
    paged: bool = True


async def file_incident(*, db: Database, app: AppConfig, report: IncidentCreate, reporter: str,
                        key: str, now: datetime, origin: str = "", language: str = "en") -> Filed:
    """Store a report once per ``key`` within the limits; notify in the same commit.

    A report with no jurisdiction yet is held: only on-call hears of it (a SEV1) until
    :func:`handlers.incidents.flows.route` sets one.

    Over a filing limit nothing is stored, the refusal is audited and IncidentLimit says why
    (in the reporter's ``language``);
    a retry of an already filed report (same ``key``) is never counted or refused.
    """
    audit_key = audit_key_for(db.engine.sync_engine)
    async with db.session() as session:
        incident = Incident(**report.columns(), reporter=reporter, created_at=now,
                            human_id=await _next_human_id(session, audit_key, now.year),
                            idempotency_key=key[:200])
        session.add(incident)
        try:
            await session.flush()
            try:
                await limits.take_filing(session, app, reporter=reporter, origin=origin,
                                         jurisdiction=report.jurisdiction, now=now,
                                         language=language)
            except limits.IncidentLimit as refused:
                await session.rollback()
                await audit(db, actor=reporter, action="incident.file", target="limit",
                            allowed=False, reason=f"over {refused.quota.setting}="
                                                  f"{refused.quota.limit}; report not filed")
                raise
            changes = {k: [None, v] for k, v in snapshot(incident).items()}
            await _append_event(session, audit_key, incident, actor=reporter, kind="created",
                                changes=changes, at=now)
            paged = await limits.notify(session, incident, app, reason="new", reporter=reporter,
                                        origin=origin, now=now, route=bool(incident.jurisdiction))
            await session.commit()
        except IntegrityError:
            await session.rollback()
            existing = await find_by_key(db, key)
            if existing is None:
                raise
            return Filed(existing, False)
    if not paged:
        await audit(db, actor=reporter, action="incident.page", target=incident.human_id,
                    allowed=False, reason=f"over sev1_pages_per_hour="
                                          f"{app.limits.sev1_pages_per_hour}; recorded, not paged")
    return Filed(incident, True, paged)


async def view_incident(*, db: Database, actor: Actor, human_id: str,
                        now: datetime) -> Incident:
    """Fetch for display; managers' views of someone else's report are recorded."""
    incident = await get_incident(db, human_id)
    if incident is None:
        raise UserError(f"No incident {literal(human_id.upper())}.")
    if not actor.can_view(incident):
        await audit(db, actor=actor.identity, action="view", target=incident.human_id,
                    allowed=False, reason="not reporter, manager or state staff")
        raise Refused(f"You don't have access to {incident.human_id}.")
    if incident.reporter != actor.identity:
        await edit(db, incident.human_id, actor=actor, now=now, check=False,
                   work=lambda editing: editing.step("viewed", {}))
    return incident


@dataclass
class Editing:
    """One incident, loaded for change in an open transaction; each step records an event.

    Nothing is committed here: :func:`edit` commits once, after every step of the intent.
    """

    session: AsyncSession
    key: AuditKey
    incident: Incident
    actor: Actor
    now: datetime

    async def step(self, kind: str, updates: dict[str, Any], *, notify: str | None = None,
                   limit_pages: bool = False, origin: str = "") -> IncidentEvent:
        """Apply ``updates``, append a ``kind`` event, and queue what the change announces.

        ``limit_pages``: a reporter's own change counts against their SEV1 paging limit.
        """
        await self.session.flush()  # earlier steps' rows are visible to the queries below
        incident, actor = self.incident, self.actor
        changes = {name: [plain(getattr(incident, name)), plain(value)]
                   for name, value in updates.items() if getattr(incident, name) != value}
        for name, value in updates.items():
            setattr(incident, name, value)
        self.session.add(incident)
        event = await _append_event(self.session, self.key, incident, actor=actor.identity,
                                    kind=kind, changes=changes, at=self.now)
        if TRACKED & changes.keys():  # before the new ones below: those show it already
            await enqueue_notification_edits(self.session, incident, actor.app, seq=event.seq,
                                             actor=actor.identity, at=self.now)
        if notify and limit_pages:
            await limits.notify(self.session, incident, actor.app, reason=notify,
                                reporter=actor.identity, origin=origin, now=self.now)
        elif notify:
            await enqueue_notifications(self.session, incident, actor.app, reason=notify)
        return event

    async def note(self, text: str) -> IncidentEvent:
        """Append a note event (a note alone, or the note given with another change)."""
        return await _append_event(self.session, self.key, self.incident,
                                   actor=self.actor.identity, kind="note",
                                   changes={"note": text[:3000]}, at=self.now)


async def edit(db: Database, human_id: str, *, actor: Actor, now: datetime,
               work: Callable[[Editing], Awaitable[T]], check: bool = True,
               action: str = "change") -> T:
    """Load, authorise, run ``work`` (its steps), commit once; retry on a concurrent change.

    ``check``: only managers of the incident's jurisdiction and state staff may change it
    (a refusal is audited as ``action``). A :class:`UserError` raised by ``work`` leaves
    nothing written.
    """
    key = audit_key_for(db.engine.sync_engine)
    for _attempt in range(3):
        async with db.session() as session:
            incident = (await session.exec(select(Incident).where(
                Incident.human_id == human_id.upper()))).first()
            if incident is None:
                raise UserError(f"No incident {literal(human_id.upper())}.")
            if check and not actor.can_change(incident):
                await audit(db, actor=actor.identity, action=action, target=incident.human_id,
                            allowed=False, reason="not a manager for this jurisdiction")
                raise Refused(
                    f"Only incident managers for {literal(incident.jurisdiction)} or state staff can "
                    f"change {incident.human_id}." if incident.jurisdiction else
                    f"Only the reporter or state staff can say where {incident.human_id} "
                    f"happened.")
            result = await work(Editing(session, key, incident, actor, now))
            try:
                await session.commit()
            except IntegrityError:
                await session.rollback()
                continue  # someone changed it at the same moment: re-read and re-apply
            return result
    raise UserError("The incident changed while you were updating it; please try again.")


async def complete_quick_report(*, db: Database, actor: Actor, human_id: str,
                                report: IncidentCreate, now: datetime,
                                origin: str = "") -> Incident:
    """Fill in a quick report from the full form; a higher severity notifies again.

    A held report (no jurisdiction yet) is routed to the jurisdiction the form gives.
    """
    incident = await get_incident(db, human_id)
    if incident is None:
        raise UserError(f"No incident {literal(human_id.upper())}.")
    own = incident.reporter == actor.identity
    raised = report.severity > Severity(incident.severity)
    # The reporter's link to the original message stays; everything they answered is replaced.
    updates = {**report.columns(), "needs_details": False}
    updates.pop("source_link")

    async def work(editing: Editing) -> Incident:
        held = not editing.incident.jurisdiction
        await editing.step("completed", updates, notify="severity" if raised else None,
                           limit_pages=own, origin=origin)
        if held and not raised:  # route it now (a raised severity's notice already does)
            await enqueue_notifications(editing.session, editing.incident, actor.app,
                                        reason="new", page=False)
        return editing.incident

    return await edit(db, human_id, actor=actor, now=now, work=work, check=not own,
                      action="completed")


async def assign(*, db: Database, actor: Actor, human_id: str, assignee: str,
                 now: datetime) -> Incident:
    """Give the incident an owner (a platform identity)."""
    async def work(editing: Editing) -> Incident:
        incident = editing.incident
        updates: dict[str, Any] = {"assignee": assignee}
        if incident.status == IncidentStatus.NEW:
            updates.update(status=IncidentStatus.TRIAGED,
                           acknowledged_at=incident.acknowledged_at or now)
        await editing.step("assign", updates)
        return incident

    return await edit(db, human_id, actor=actor, now=now, work=work, action="assign")


async def add_note(*, db: Database, actor: Actor, human_id: str, text: str,
                   now: datetime) -> Incident:
    """Append a note; reporters may add notes to their own reports."""
    incident = await get_incident(db, human_id)
    own = incident is not None and incident.reporter == actor.identity

    async def work(editing: Editing) -> Incident:
        await editing.note(text)
        return editing.incident

    return await edit(db, human_id, actor=actor, now=now, work=work, check=not own,
                      action="note")
