"""Who hears about an incident (app.yaml routing table) and the outbox entries for them.

Notifications already sent are edited in place when the incident's status, severity or
assignee changes, so a channel sees that someone took it (and does not take it twice).

``email:`` destinations (in ``on_call``, a routing rule's ``notify``, or a jurisdiction's
``managers``: a contact who is not in chat) get the same notice without its buttons, which
need someone signed in to chat, with a footer saying why they receive it and whom to ask. An
e-mail cannot be edited: e-mail readers get the announced changes (escalated, resolved,
severity) as new messages threaded under the first one instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.config.settings import AppConfig
from bot.messages import Destination
from bot.outbox.keys import EditKey, Key, text
from bot.outbox.queue import Status, enqueue, find, status
from handlers.incidents.config import IncidentSettings, RoutingRule
from handlers.incidents.models import Incident
from handlers.incidents.replies import build_email_notification, build_notification


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


@dataclass(frozen=True, slots=True)
class Why:
    """Why a destination hears about an incident (e-mail's footer says it).

    ``kind``: ``on_call``, ``routing`` (``rule`` matched) or ``manager`` (an ``email:``
    contact among the jurisdiction's managers).
    """

    kind: str
    rule: RoutingRule | None = None


def recipients_for(incident: Incident, app: AppConfig, *, page: bool = True,
                   route: bool = True) -> dict[Destination, Why]:
    """Who is told, each destination once with the first reason it matched.

    On-call for SEV1 (unless ``page`` is False), every matching routing rule, and the
    jurisdiction's e-mail contacts. ``route`` False: on-call only (a report held until its
    jurisdiction is chosen).
    """
    settings = app.section(IncidentSettings)
    chosen: dict[str, Why] = {}
    if incident.severity == "SEV1" and page:
        for target in settings.on_call:
            chosen.setdefault(target, Why("on_call"))
    if route:
        for rule in settings.routing:
            if rule.matches(category=incident.category, severity=incident.severity,
                            jurisdiction=incident.jurisdiction):
                for target in rule.notify:
                    chosen.setdefault(target, Why("routing", rule))
        for target in settings.email_managers(incident.jurisdiction):
            chosen.setdefault(target, Why("manager"))
    return {Destination.parse(d): why for d, why in chosen.items()}


def destinations_for(incident: Incident, app: AppConfig, *, page: bool = True,
                     route: bool = True) -> list[Destination]:
    """The destinations of :func:`recipients_for`, in order."""
    return list(recipients_for(incident, app, page=page, route=route))


async def enqueue_notifications(session: AsyncSession, incident: Incident, app: AppConfig, *,
                                reason: str, page: bool = True, route: bool = True) -> int:
    """Add one outbox message per destination to the caller's transaction; return how many.

    A destination already told about this state of the incident (its key is queued: say, on
    both the on-call list and a routing rule of a held report) is not told twice.
    """
    targets = recipients_for(incident, app, page=page, route=route)
    keys = {d: NotificationKey(incident.human_id, reason, incident.status, incident.severity,
                               str(d)) for d in targets}
    queued = await status(session, keys.values())
    reply = build_notification(incident, reason=reason)
    threads = await _first_emails(session, incident) if any(
        d.address for d in targets) else {}
    count = 0
    for destination, why in targets.items():
        key = keys[destination]
        if text(key) in queued:
            continue
        sent = reply if destination.address is None else build_email_notification(
            reply, incident, app, why=why, follows=threads.get(str(destination), ""))
        enqueue(session, key=key, destination=destination, reply=sent)
        count += 1
    return count


async def _first_emails(session: AsyncSession, incident: Incident) -> dict[str, str]:
    """The key of the first notice of ``incident`` to each ``email:`` destination (threads)."""
    first: dict[str, str] = {}
    for sent in await find(session, NotificationKey.prefix(incident.human_id)):
        if sent.destination.startswith("email:"):
            first.setdefault(sent.destination, sent.key)
    return first


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
        if sent.destination.startswith("email:"):  # a sent e-mail cannot change: the
            continue  # announced changes reach it as new messages (enqueue_notifications)
        if sent.status == Status.DEAD or not edit.fits():  # too long to keep its version:
            continue  # the original stays as sent
        reason = NotificationKey.parse(sent.key).reason
        enqueue(session, key=edit, destination=Destination.parse(sent.destination),
                reply=build_notification(incident, reason=reason, changed=(actor, at, zone)))
        queued += 1
    return queued
