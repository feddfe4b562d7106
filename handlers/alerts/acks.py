"""Recording an answer to an alert: one path for a chat button and an e-mail link.

:func:`record` is what a click on an acknowledgement button does (``interactions``) and what
the confirmation of an e-mailed link does (``ack_page``): the acknowledgement itself (one per
person and alert; a non-recipient is refused and audited), the marking of the copies already
delivered, and for "Need help" the one message to state staff. So ``/alert status``, the
follow-up ladder and the sender's live status see both alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError

from bot.services import Services
from handlers.alerts import delivery, service
from handlers.alerts.enums import AckKind
from handlers.alerts.models import AlertAck, AlertRecipient


@dataclass(frozen=True)
class Outcome:
    """What one answer did.

    ``created``: it was recorded (else ``ack`` is the earlier answer, which stands).
    ``help_asked``: None unless the answer was "Need help"; then whether state staff were
    told now (False: they had been told before).
    """

    ack: AlertAck
    created: bool
    recipient: AlertRecipient
    help_asked: bool | None = None


async def record(services: Services, *, public_id: str, person: str, channel: str,
                 kind: AckKind, now: datetime) -> Outcome:
    """Record ``person``'s answer (Refused when they are not a recipient; audited)."""
    ack, created, recipient = await service.acknowledge(
        db=services.db, public_id=public_id, person=person, channel=channel, kind=kind, now=now)
    if created:
        await _mark_answered(services, public_id, recipient, kind=kind, now=now,
                             who=await services.people.name_of(person))
    if kind is not AckKind.NEED_HELP:
        return Outcome(ack, created, recipient)
    # Asking for help works after an earlier "Received" too; state staff hear it once.
    alert = await service.get_alert(services.db, public_id)
    try:
        async with services.db.session() as session:
            delivery.enqueue_help(session, alert, services.settings.app, person=person,
                                  recipient=recipient)
            await session.commit()
    except IntegrityError:
        return Outcome(ack, created, recipient, help_asked=False)
    return Outcome(ack, created, recipient, help_asked=True)


async def _mark_answered(services: Services, public_id: str, recipient: AlertRecipient, *,
                         kind: str, now: datetime, who: str) -> None:
    alert = await service.get_alert(services.db, public_id)
    parent = await service.parent_public_id(services.db, alert)
    try:
        async with services.db.session() as session:
            await delivery.enqueue_ack_edit(
                session, alert, recipient, kind=kind, at=now, who=who, parent=parent,
                zone=ZoneInfo(services.settings.app.office.time_zone))
            await session.commit()
    except IntegrityError:
        return  # an earlier acknowledgement in the same channel already marked the copy
