"""Who hears about an incident (app.yaml routing table) and the outbox entries for them.

Notifications already sent are edited in place when the incident's status, severity or
assignee changes, so a channel sees that someone took it (and does not take it twice).
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.config.settings import AppConfig
from bot.messages import Destination
from bot.outbox.queue import enqueue
from handlers.incidents.config import IncidentSettings
from handlers.incidents.models import Incident
from handlers.incidents.replies import build_notification

MAX_KEY = 200  # the outbox's key column


def destinations_for(incident: Incident, app: AppConfig, *,
                     page: bool = True) -> list[Destination]:
    """On-call for SEV1 (unless ``page`` is False), plus every matching routing rule, once each."""
    chosen: list[str] = []
    if incident.severity == "SEV1" and page:
        chosen += app.section(IncidentSettings).on_call
    for rule in app.section(IncidentSettings).routing:
        if rule.matches(category=incident.category, severity=incident.severity,
                        jurisdiction=incident.jurisdiction):
            chosen += rule.notify
    return [Destination.parse(d) for d in dict.fromkeys(chosen)]


def enqueue_notifications(session: AsyncSession, incident: Incident, app: AppConfig, *,
                          reason: str, page: bool = True) -> int:
    """Add one outbox message per destination to the caller's transaction."""
    targets = destinations_for(incident, app, page=page)
    reply = build_notification(incident, reason=reason)
    stamp = f"{incident.status}:{incident.severity}"
    for destination in targets:
        enqueue(session, key=f"incident:{incident.human_id}:{reason}:{stamp}:{destination}",
                destination=destination, reply=reply)
    return len(targets)


TRACKED = frozenset({"status", "severity", "assignee"})  # changes shown on sent notifications


async def enqueue_notification_edits(session: AsyncSession, incident: Incident, *, seq: int,
                                     actor: str, at: datetime) -> int:
    """Queue an edit of every notification of ``incident`` not dead-lettered; return how many.

    Each edit's key carries the change's event number, so a later change's edit supersedes an
    earlier one that has not gone out yet.
    """
    rows = (await session.execute(sa.text(
        "SELECT key, destination FROM outbox_message WHERE key LIKE :prefix "
        "AND key NOT LIKE '%:edit:%' AND status <> 'dead' ORDER BY id"),
        {"prefix": f"incident:{incident.human_id}:%"})).all()
    queued = 0
    for key, destination in rows:
        edit = f"{key}:edit:{seq}"
        if len(edit) > MAX_KEY:  # too long to keep its suffix; the original stays as sent
            continue
        reason = key.split(":")[2]
        enqueue(session, key=edit, edit_of=key, destination=Destination.parse(destination),
                reply=build_notification(incident, reason=reason, changed=(actor, at)))
        queued += 1
    return queued
