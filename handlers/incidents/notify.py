"""Who hears about an incident (app.yaml routing table) and the outbox entries for them."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.config import AppConfig
from bot.messages import Destination
from bot.outbox_queue import enqueue
from handlers.incidents.models import Incident
from handlers.incidents.replies import build_notification


def destinations_for(incident: Incident, app: AppConfig) -> list[Destination]:
    """On-call for SEV1, plus every routing rule that matches; each destination once."""
    chosen: list[str] = []
    if incident.severity == "SEV1":
        chosen += app.incidents.on_call
    for rule in app.incidents.routing:
        if rule.matches(category=incident.category, severity=incident.severity,
                        jurisdiction=incident.jurisdiction):
            chosen += rule.notify
    return [Destination.parse(d) for d in dict.fromkeys(chosen)]


def enqueue_notifications(session: AsyncSession, incident: Incident, app: AppConfig, *,
                          reason: str) -> int:
    """Add one outbox message per destination to the caller's transaction."""
    targets = destinations_for(incident, app)
    reply = build_notification(incident, reason=reason)
    stamp = f"{incident.status}:{incident.severity}"
    for destination in targets:
        enqueue(session, key=f"incident:{incident.human_id}:{reason}:{stamp}:{destination}",
                destination=destination, reply=reply)
    return len(targets)
