"""What a person asks for in one go, done in one transaction.

"Close with lessons learned", "status with a note", "severity with a reason" and "route this
held report there" each record several events or sends (the close-out fields, resolved, closed;
the status and its note; the severity and its reason; the jurisdiction and its notifications):
they commit together or not at all, on one read of the incident.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.db.engine import Database
from bot.errors import Refused, UserError
from bot.messages import literal
from bot.ops.audit import audit
from handlers.incidents.catalog import TRANSITIONS
from handlers.incidents.enums import IncidentStatus, Severity
from handlers.incidents.models import Incident
from handlers.incidents.notify import enqueue_notifications
from handlers.incidents.permissions import Actor
from handlers.incidents.queries import get_incident
from handlers.incidents.routing import may_route_to
from handlers.incidents.service import Editing, edit

#: The close-out fields a close form may set, with their longest length.
CLOSE_OUT = {"law_enforcement_agency": 200, "law_enforcement_case": 100,
             "lessons_learned": 3000, "resolution": 3000}


def status_updates(incident: Incident, status: IncidentStatus, *, now: datetime,
                   resolution: str = "") -> dict[str, Any]:
    """The fields a move to ``status`` sets; UserError when the lifecycle does not allow it."""
    if status not in TRANSITIONS[IncidentStatus(incident.status)]:
        raise UserError(f"{incident.human_id} is {incident.status}; it can move to: "
                        f"{', '.join(sorted(TRANSITIONS[incident.status])) or 'nothing'}.")
    if status is IncidentStatus.CLOSED:
        missing = close_requirements(incident)
        if missing:
            raise UserError(f"Before closing {incident.human_id}: {'; '.join(missing)}.")
    updates: dict[str, Any] = {"status": status}
    if status is IncidentStatus.TRIAGED and incident.acknowledged_at is None:
        updates["acknowledged_at"] = now
    if status is IncidentStatus.RESOLVED:
        updates["resolved_at"] = now
        if resolution:
            updates["resolution"] = resolution[:3000]
    if status is IncidentStatus.CLOSED:
        updates["closed_at"] = now
    return updates


def status_notice(status: IncidentStatus) -> str | None:
    """Which moves are announced to the incident's channels."""
    announced = (IncidentStatus.ESCALATED, IncidentStatus.RESOLVED)
    return "status" if status in announced else None


def close_requirements(incident: Incident) -> list[str]:
    """What is still missing before an incident may be closed."""
    missing = []
    if Severity(incident.severity) >= Severity.SEV2 and not (
            incident.law_enforcement_agency and incident.law_enforcement_case):
        missing.append("record the law enforcement agency and case number (required for "
                       "SEV1/SEV2)")
    if not incident.lessons_learned:
        missing.append("record lessons learned")
    return missing


async def change_status(*, db: Database, actor: Actor, human_id: str, status: IncidentStatus,
                        note: str, now: datetime) -> Incident:
    """Move through the lifecycle with an optional note (a resolution when resolving)."""
    async def work(editing: Editing) -> Incident:
        updates = status_updates(editing.incident, status, now=now, resolution=note)
        await editing.step("status", updates, notify=status_notice(status))
        if note:
            await editing.note(note)
        return editing.incident

    return await edit(db, human_id, actor=actor, now=now, work=work, action="status")


async def change_severity(*, db: Database, actor: Actor, human_id: str, severity: Severity,
                          reason: str, now: datetime) -> Incident:
    """Re-level an incident; the reason is required and recorded with it."""
    if not reason.strip():
        raise UserError("Give a reason for the severity change.")

    async def work(editing: Editing) -> Incident:
        await editing.step("severity", {"severity": severity}, notify="severity")
        await editing.note(f"Severity: {reason}")
        return editing.incident

    return await edit(db, human_id, actor=actor, now=now, work=work, action="severity")


@dataclass(frozen=True)
class Closing:
    """The outcome of a close: the incident, and what is still missing (empty: closed)."""

    incident: Incident
    missing: list[str] = field(default_factory=list)


async def close(*, db: Database, actor: Actor, human_id: str, now: datetime,
                fields: dict[str, str] | None = None, note: str = "") -> Closing:
    """Record the close-out ``fields`` given, then resolve (if needed) and close, at once.

    When something closing needs is still missing, what was given (fields, note) is kept and
    nothing else changes: the caller asks for the rest.
    """
    given = {k: v.strip()[:CLOSE_OUT[k]] for k, v in (fields or {}).items() if k in CLOSE_OUT}

    async def work(editing: Editing) -> Closing:
        if given:
            await editing.step("edit", given)
        missing = close_requirements(editing.incident)
        if not missing:
            if editing.incident.status != IncidentStatus.RESOLVED:
                resolved = status_updates(editing.incident, IncidentStatus.RESOLVED, now=now)
                await editing.step("status", resolved,
                                   notify=status_notice(IncidentStatus.RESOLVED))
            await editing.step("status", status_updates(editing.incident, IncidentStatus.CLOSED,
                                                        now=now))
        if note:
            await editing.note(note)
        return Closing(editing.incident, missing)

    return await edit(db, human_id, actor=actor, now=now, work=work, action="status")


async def route(*, db: Database, actor: Actor, human_id: str, jurisdiction: str,
                now: datetime) -> Incident:
    """Set a held report's jurisdiction and notify its routing table (on-call already paged).

    The reporter or state staff may choose; a report already routed is left as it is.
    """
    if not may_route_to(actor.app, jurisdiction):
        raise UserError(f"{literal(jurisdiction)} is not a jurisdiction this office works "
                        "with.")
    found = await get_incident(db, human_id)
    own = found is not None and found.reporter == actor.identity

    async def work(editing: Editing) -> Incident:
        incident = editing.incident
        if incident.jurisdiction:
            raise UserError(f"{incident.human_id} is already routed to "
                            f"{literal(incident.jurisdiction)}.")
        await editing.step("routed", {"jurisdiction": jurisdiction})
        await enqueue_notifications(editing.session, incident, actor.app, reason="new",
                                    page=False)
        return incident

    return await edit(db, human_id, actor=actor, now=now, work=work, check=not own,
                      action="route")


#: "Add details" fields stored in their own columns; the rest go into the details JSON.
DETAIL_COLUMNS = {"le_agency": "law_enforcement_agency", "le_case": "law_enforcement_case"}


async def may_add_details(*, db: Database, actor: Actor, human_id: str) -> Incident:
    """The incident, when ``actor`` is its reporter or manages it now; else refused (audited)."""
    incident = await get_incident(db, human_id)
    if incident is None:
        raise UserError(f"No incident {literal(human_id.upper())}.")
    if incident.reporter != actor.identity and not actor.can_change(incident):
        await audit(db, actor=actor.identity, action="details", target=incident.human_id,
                    allowed=False, reason="not the reporter or a manager")
        raise Refused(f"Only the reporter or incident managers can add details to "
                      f"{incident.human_id}.")
    return incident


async def add_details(*, db: Database, actor: Actor, human_id: str, values: dict[str, str],
                      now: datetime) -> Incident:
    """Record the "Add details" form in one event of the incident's chain, in one commit.

    The reporter may add details to their own report, managers (re-checked now) to any of
    their jurisdiction's; the details merge into what was recorded, nothing is removed.
    """
    incident = await may_add_details(db=db, actor=actor, human_id=human_id)
    own = incident.reporter == actor.identity

    async def work(editing: Editing) -> Incident:
        current = editing.incident
        extra = {k: v for k, v in values.items() if k not in DETAIL_COLUMNS}
        merged = {**json.loads(current.details or "{}"), **extra}
        updates: dict[str, object] = {DETAIL_COLUMNS[k]: v for k, v in values.items()
                                      if k in DETAIL_COLUMNS}
        updates["details"] = json.dumps(merged, sort_keys=True)
        await editing.step("details", updates)
        return current

    return await edit(db, human_id, actor=actor, now=now, work=work, check=not own,
                      action="details")
