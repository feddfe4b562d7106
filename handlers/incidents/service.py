"""Incident operations.

Every change appends a hash-chained event, and moves the chain head pinned (and sealed) on the
incident row, in the same transaction; notifications are enqueued in that transaction too (sent
later by the outbox). One user intent is one transaction, a note given with it included.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.config.settings import AppConfig
from bot.db.engine import Database
from bot.errors import Refused, UserError
from bot.ops.audit import audit
from bot.ops.audit_key import UNKEYED, UNKEYED_ID, AuditKey, audit_key_for
from handlers.incidents import limits
from handlers.incidents.catalog import TRANSITIONS, severity_from_answers
from handlers.incidents.chain import (
    GENESIS,
    counter_seal,
    event_hash,
    plain,
    seal_row,
    snapshot,
)
from handlers.incidents.forms import CleanReport
from handlers.incidents.models import Incident, IncidentEvent
from handlers.incidents.notify import TRACKED, enqueue_notification_edits, enqueue_notifications
from handlers.incidents.permissions import Actor
from handlers.incidents.queries import find_by_key, get_incident


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


async def create_incident(*, db: Database, app: AppConfig, report: CleanReport, reporter: str,
                          key: str, now: datetime, source_link: str = "",
                          needs_details: bool = False,
                          severity: str | None = None) -> tuple[Incident, bool]:
    """Store a report once per ``key``; return (incident, created). See :func:`file_incident`."""
    filed = await file_incident(db=db, app=app, report=report, reporter=reporter, key=key,
                                now=now, source_link=source_link, needs_details=needs_details,
                                severity=severity)
    return filed.incident, filed.created


async def file_incident(*, db: Database, app: AppConfig, report: CleanReport, reporter: str,
                        key: str, now: datetime, source_link: str = "",
                        needs_details: bool = False, severity: str | None = None,
                        origin: str = "") -> Filed:
    """Store a report once per ``key`` within the limits; notify in the same commit.

    Over a filing limit nothing is stored, the refusal is audited and IncidentLimit says why;
    a retry of an already filed report (same ``key``) is never counted or refused.
    """
    audit_key = audit_key_for(db.engine.sync_engine)
    async with db.session() as session:
        incident = Incident(
            human_id=await _next_human_id(session, audit_key, now.year), idempotency_key=key[:200],
            reporter=reporter, category=report.category, subcategory=report.subcategory,
            jurisdiction=report.jurisdiction, site=report.site, occurred_at=report.occurred_at,
            severity=severity or severity_from_answers(danger=report.danger,
                                                       stopped=report.stopped,
                                                       degraded=report.degraded),
            danger=report.danger, stopped=report.stopped, degraded=report.degraded,
            description=report.description, details=json.dumps(report.details, sort_keys=True),
            source_link=source_link[:500], needs_details=needs_details, created_at=now,
            law_enforcement_agency=report.law_enforcement_agency,
            law_enforcement_case=report.law_enforcement_case)
        session.add(incident)
        try:
            await session.flush()
            try:
                await limits.take_filing(session, app, reporter=reporter, origin=origin,
                                         jurisdiction=report.jurisdiction, now=now)
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
                                        origin=origin, now=now)
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
        raise UserError(f"No incident {human_id.upper()}.")
    if not actor.can_view(incident):
        await audit(db, actor=actor.identity, action="view", target=incident.human_id,
                    allowed=False, reason="not reporter, manager or state staff")
        raise Refused(f"You don't have access to {incident.human_id}.")
    if incident.reporter != actor.identity:
        await _change(db, incident.human_id, actor=actor, kind="viewed", now=now,
                      apply=lambda inc: {}, check=False)
    return incident


async def _change(db: Database, human_id: str, *, actor: Actor, kind: str, now: datetime,
                  apply: Any, check: bool = True, notify: str | None = None,
                  note: str = "", limit_pages: bool = False, origin: str = "") -> Incident:
    """Load, authorise, apply ``apply(incident) -> {field: new}``, record, commit (with retry).

    A ``note`` is recorded as a second event in the same transaction (status with a note).
    ``limit_pages``: a reporter's own change counts against their SEV1 paging limit.
    """
    key = audit_key_for(db.engine.sync_engine)
    for _attempt in range(3):
        async with db.session() as session:
            incident = (await session.exec(select(Incident).where(
                Incident.human_id == human_id.upper()))).first()
            if incident is None:
                raise UserError(f"No incident {human_id.upper()}.")
            if check and not actor.can_change(incident):
                await audit(db, actor=actor.identity, action=kind, target=incident.human_id,
                            allowed=False, reason="not a manager for this jurisdiction")
                raise Refused(
                    f"Only incident managers for {incident.jurisdiction} or state staff can "
                    f"change {incident.human_id}.")
            updates = apply(incident)
            if "note" in updates:
                changes: dict[str, Any] = {"note": updates.pop("note")}
            else:
                changes = {name: [plain(getattr(incident, name)), plain(value)]
                           for name, value in updates.items() if getattr(incident, name) != value}
            for name, value in updates.items():
                setattr(incident, name, value)
            session.add(incident)
            event = await _append_event(session, key, incident, actor=actor.identity,
                                        kind=kind, changes=changes, at=now)
            if TRACKED & changes.keys():  # before the new ones below: those show it already
                await enqueue_notification_edits(session, incident, seq=event.seq,
                                                 actor=actor.identity, at=now)
            if notify and limit_pages:
                await limits.notify(session, incident, actor.app, reason=notify,
                                    reporter=actor.identity, origin=origin, now=now)
            elif notify:
                enqueue_notifications(session, incident, actor.app, reason=notify)
            if note:
                await _append_event(session, key, incident, actor=actor.identity, kind="note",
                                    changes={"note": note[:3000]}, at=now)
            try:
                await session.commit()
            except IntegrityError:
                await session.rollback()
                continue  # someone changed it at the same moment: re-read and re-apply
            return incident
    raise UserError("The incident changed while you were updating it; please try again.")


async def change_status(*, db: Database, actor: Actor, human_id: str, status: str,
                        note: str, now: datetime) -> Incident:
    """Move through the lifecycle; closing needs lessons learned and, for SEV1/2, police info."""
    def apply(incident: Incident) -> dict[str, Any]:
        if status not in TRANSITIONS.get(incident.status, frozenset()):
            raise UserError(f"{incident.human_id} is {incident.status}; it can move to: "
                                f"{', '.join(sorted(TRANSITIONS[incident.status])) or 'nothing'}.")
        if status == "closed":
            missing = close_requirements(incident)
            if missing:
                raise UserError(f"Before closing {incident.human_id}: {'; '.join(missing)}.")
        updates: dict[str, Any] = {"status": status}
        if status == "triaged" and incident.acknowledged_at is None:
            updates["acknowledged_at"] = now
        if status == "resolved":
            updates["resolved_at"] = now
            if note:
                updates["resolution"] = note[:3000]
        if status == "closed":
            updates["closed_at"] = now
        return updates

    return await _change(db, human_id, actor=actor, kind="status", now=now, apply=apply,
                         notify="status" if status in ("escalated", "resolved") else None,
                         note=note)


def close_requirements(incident: Incident) -> list[str]:
    """What is still missing before an incident may be closed."""
    missing = []
    if incident.severity in ("SEV1", "SEV2") and not (
            incident.law_enforcement_agency and incident.law_enforcement_case):
        missing.append("record the law enforcement agency and case number (required for "
                       "SEV1/SEV2)")
    if not incident.lessons_learned:
        missing.append("record lessons learned")
    return missing


async def complete_quick_report(*, db: Database, actor: Actor, human_id: str,
                                report: CleanReport, now: datetime,
                                origin: str = "") -> Incident:
    """Fill in a quick report from the full form; a higher severity notifies again."""
    incident = await get_incident(db, human_id)
    if incident is None:
        raise UserError(f"No incident {human_id.upper()}.")
    own = incident.reporter == actor.identity
    severity = severity_from_answers(danger=report.danger, stopped=report.stopped,
                                     degraded=report.degraded)
    raised = severity < incident.severity  # "SEV1" < "SEV3": more severe

    def apply(_incident: Incident) -> dict[str, Any]:
        return {"category": report.category, "subcategory": report.subcategory,
                "jurisdiction": report.jurisdiction, "site": report.site,
                "occurred_at": report.occurred_at, "danger": report.danger,
                "stopped": report.stopped, "degraded": report.degraded,
                "description": report.description, "severity": severity,
                "details": json.dumps(report.details, sort_keys=True), "needs_details": False,
                "law_enforcement_agency": report.law_enforcement_agency,
                "law_enforcement_case": report.law_enforcement_case}

    return await _change(db, human_id, actor=actor, kind="completed", now=now, apply=apply,
                         check=not own, notify="severity" if raised else None,
                         limit_pages=own, origin=origin)


async def update_fields(*, db: Database, actor: Actor, human_id: str, fields: dict[str, str],
                        now: datetime) -> Incident:
    """Edit the close-out fields (law enforcement, lessons learned, resolution)."""
    allowed = {"law_enforcement_agency": 200, "law_enforcement_case": 100,
               "lessons_learned": 3000, "resolution": 3000}
    clean = {k: v.strip()[:allowed[k]] for k, v in fields.items() if k in allowed}
    return await _change(db, human_id, actor=actor, kind="edit", now=now,
                         apply=lambda _inc: clean)


async def assign(*, db: Database, actor: Actor, human_id: str, assignee: str,
                 now: datetime) -> Incident:
    """Give the incident an owner (a platform identity)."""
    def apply(incident: Incident) -> dict[str, Any]:
        updates: dict[str, Any] = {"assignee": assignee}
        if incident.status == "new":
            updates.update(status="triaged", acknowledged_at=incident.acknowledged_at or now)
        return updates

    return await _change(db, human_id, actor=actor, kind="assign", now=now, apply=apply)


async def change_severity(*, db: Database, actor: Actor, human_id: str, severity: str,
                          reason: str, now: datetime) -> Incident:
    """Re-level an incident; a reason is required and recorded."""
    if not reason.strip():
        raise UserError("Give a reason for the severity change.")

    def apply(_incident: Incident) -> dict[str, Any]:
        return {"severity": severity}

    return await _change(db, human_id, actor=actor, kind="severity", now=now, apply=apply,
                         notify="severity", note=f"Severity: {reason}")


async def add_note(*, db: Database, actor: Actor, human_id: str, text: str,
                   now: datetime) -> Incident:
    """Append a note; reporters may add notes to their own reports."""
    incident = await get_incident(db, human_id)
    own = incident is not None and incident.reporter == actor.identity
    return await _change(db, human_id, actor=actor, kind="note", now=now,
                         apply=lambda _inc: {"note": text[:3000]}, check=not own)
