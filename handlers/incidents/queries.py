"""Read-only incident queries (no events are written here)."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlmodel import select

from bot.db.engine import Database
from handlers.incidents.catalog import OPEN_STATUSES
from handlers.incidents.config import IncidentSettings
from handlers.incidents.enums import Severity
from handlers.incidents.models import Incident, IncidentEvent
from handlers.incidents.permissions import Actor


async def find_by_key(db: Database, key: str) -> Incident | None:
    """The incident filed with this idempotency key, if any."""
    async with db.session() as session:
        return (await session.exec(select(Incident).where(
            Incident.idempotency_key == key[:200]))).first()


async def get_incident(db: Database, human_id: str) -> Incident | None:
    """An incident by its human id (INC-2026-000123), case-insensitive."""
    async with db.session() as session:
        return (await session.exec(select(Incident).where(
            Incident.human_id == human_id.upper()))).first()


async def events_of(db: Database, incident: Incident) -> Sequence[IncidentEvent]:
    """The incident's record, oldest first."""
    async with db.session() as session:
        return (await session.exec(select(IncidentEvent).where(
            IncidentEvent.incident_id == incident.id).order_by(IncidentEvent.seq))).all()  # type: ignore[arg-type]


async def list_incidents(*, db: Database, actor: Actor, scope: str,
                         value: str = "") -> Sequence[Incident]:
    """Open | mine | sev1 | jurisdiction X | all, filtered to what the actor may see."""
    query = select(Incident).order_by(Incident.id.desc()).limit(200)  # type: ignore[union-attr]
    if scope == "open":
        query = query.where(Incident.status.in_(OPEN_STATUSES))  # type: ignore[attr-defined]
    elif scope == "mine":
        query = query.where(sa.or_(Incident.reporter == actor.identity,  # type: ignore[arg-type]
                                   Incident.assignee == actor.identity))  # type: ignore[arg-type]
    elif scope == "sev1":
        query = query.where(Incident.severity == "SEV1",
                            Incident.status.in_(OPEN_STATUSES))  # type: ignore[attr-defined]
    elif scope == "jurisdiction":
        query = query.where(Incident.jurisdiction == value.upper())
    async with db.session() as session:
        rows = (await session.exec(query)).all()
    return [r for r in rows if actor.can_view(r)]


async def open_for(*, db: Database, actor: Actor, limit: int = 20) -> Sequence[Incident]:
    """Open incidents the actor reported, is assigned, or manages as a jurisdiction's manager.

    Most severe first, then newest. State staff manage everything; their own list is what
    they reported or were assigned (the rest they see as counts, :func:`open_counts`).
    """
    managed = [code for code, members in actor.app.section(IncidentSettings).managers.items()
               if actor.identity in members]
    mine = sa.or_(Incident.reporter == actor.identity,  # type: ignore[arg-type]
                  Incident.assignee == actor.identity,  # type: ignore[arg-type]
                  Incident.jurisdiction.in_(managed))  # type: ignore[attr-defined]
    query = (select(Incident).where(Incident.status.in_(OPEN_STATUSES), mine)  # type: ignore[attr-defined]
             .order_by(Incident.severity, Incident.id.desc()).limit(limit))  # type: ignore[union-attr]
    async with db.session() as session:
        return (await session.exec(query)).all()


async def open_counts(*, db: Database) -> dict[Severity, int]:
    """How many incidents are open, per severity (every jurisdiction)."""
    query = (select(Incident.severity, sa.func.count())  # type: ignore[call-overload]
             .where(Incident.status.in_(OPEN_STATUSES))  # type: ignore[attr-defined]
             .group_by(Incident.severity))
    async with db.session() as session:
        rows = (await session.exec(query)).all()
    return {Severity(severity): int(count) for severity, count in rows}
