"""Who hears about an incident (app.yaml routing table) and the outbox entries for them.

Notifications already sent are edited in place when the incident's status, severity or
assignee changes, so a channel sees that someone took it (and does not take it twice).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.config.settings import AppConfig
from bot.messages import Destination
from bot.outbox.keys import EditKey, Key
from bot.outbox.queue import Status, enqueue, find
from handlers.incidents.config import IncidentSettings
from handlers.incidents.models import Incident
from handlers.incidents.replies import build_notification


@dataclass(frozen=True, slots=True)
class NotificationKey(Key):
    """One notice: ``incident:<id>:<reason>:<status>:<severity>:<destination>``.

    The status and severity at the time are part of it, so a notice is sent again for a new
    state, never twice for the same one.
    """

    human_id: str
    reason: str
    status: str
    severity: str
    destination: str

    def __str__(self) -> str:
        """The stored text."""
        return (f"incident:{self.human_id}:{self.reason}:{self.status}:{self.severity}:"
                f"{self.destination}")

    @classmethod
    def parse(cls, text: str) -> NotificationKey:
        """Read a stored key back (its destination may have been cut to the column)."""
        _kind, human_id, reason, status, severity, destination = text.split(":", 5)
        return cls(human_id, reason, status, severity, destination)

    @staticmethod
    def prefix(human_id: str) -> str:
        """The start of every notice key of one incident."""
        return f"incident:{human_id}:"


def destinations_for(incident: Incident, app: AppConfig, *, page: bool = True,
                     route: bool = True) -> list[Destination]:
    """On-call for SEV1 (unless ``page`` is False), plus every matching routing rule, once each.

    ``route`` False: on-call only (a report held until its jurisdiction is chosen).
    """
    chosen: list[str] = []
    if incident.severity == "SEV1" and page:
        chosen += app.section(IncidentSettings).on_call
    for rule in app.section(IncidentSettings).routing if route else ():
        if rule.matches(category=incident.category, severity=incident.severity,
                        jurisdiction=incident.jurisdiction):
            chosen += rule.notify
    return [Destination.parse(d) for d in dict.fromkeys(chosen)]


def enqueue_notifications(session: AsyncSession, incident: Incident, app: AppConfig, *,
                          reason: str, page: bool = True, route: bool = True) -> int:
    """Add one outbox message per destination to the caller's transaction."""
    targets = destinations_for(incident, app, page=page, route=route)
    reply = build_notification(incident, reason=reason)
    for destination in targets:
        key = NotificationKey(incident.human_id, reason, incident.status, incident.severity,
                              str(destination))
        enqueue(session, key=key, destination=destination, reply=reply)
    return len(targets)


TRACKED = frozenset({"status", "severity", "assignee"})  # changes shown on sent notifications


async def enqueue_notification_edits(session: AsyncSession, incident: Incident,
                                     app: AppConfig, *, seq: int, actor: str,
                                     at: datetime) -> int:
    """Queue an edit of every notification of ``incident`` not dead-lettered; return how many.

    Each edit's key carries the change's event number, so a later change's edit supersedes an
    earlier one that has not gone out yet. Its time is in the incident's jurisdiction's zone
    (the readers of a channel have no one zone).
    """
    zone = ZoneInfo(app.time_zone_for(incident.jurisdiction))
    queued = 0
    for sent in await find(session, NotificationKey.prefix(incident.human_id)):
        edit = EditKey(sent.key, str(seq))
        if sent.status == Status.DEAD or not edit.fits():  # too long to keep its version:
            continue  # the original stays as sent
        reason = NotificationKey.parse(sent.key).reason
        enqueue(session, key=edit, destination=Destination.parse(sent.destination),
                reply=build_notification(incident, reason=reason, changed=(actor, at, zone)))
        queued += 1
    return queued
