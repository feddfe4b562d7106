"""The sender's live status message: posted once, then edited as deliveries and acks change.

A periodic tick (every few seconds: that is the debounce) looks at recently sent alerts. The
first time it posts the status view to the sender (``alert:ID:status:<sender>``); afterwards,
when the view changed, it queues an edit of that message through the outbox under a key
derived from the view's content (``...:edit:<digest>``). Deliveries and acknowledgements only
grow, so a view never repeats and the same edit is never queued twice, even by two processes at
once (the key is unique). The outbox skips an edit once a newer one is queued.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from bot.db.engine import Database
from bot.messages import Destination, reply_to_dict
from bot.outbox.keys import EditKey
from bot.outbox.queue import edits_of, enqueue
from bot.services import Services
from handlers.alerts.delivery import status_reply
from handlers.alerts.models import Alert
from handlers.alerts.service import delivery_key

log = logging.getLogger(__name__)
WATCH = timedelta(hours=12)  # status messages are kept current this long after sending
INTERVAL = 5  # seconds between updates of one alert's status message, at most


def status_key(alert: Alert) -> str:
    """The outbox key of the sender's status message for ``alert``."""
    return delivery_key(alert.public_id, "status", alert.reply_to)


async def refresh_once(*, db: Database, now: datetime, zone: ZoneInfo | None = None) -> int:
    """Post or edit every watched alert's status message if its view changed; return count.

    Its times read in ``zone`` (the office's), never "2 minutes ago": the message is kept.
    """
    async with db.session() as session:
        alerts = (await session.exec(select(Alert).where(
            Alert.status == "sent", Alert.sent_at >= now - WATCH))).all()  # type: ignore[operator]
    queued = 0
    for alert in alerts:
        queued += await _refresh(db, alert, zone)
    return queued


async def _refresh(db: Database, alert: Alert, zone: ZoneInfo | None) -> int:
    reply = dataclasses.replace(await status_reply(db=db, alert=alert, zone=zone),
                                ephemeral=False)
    digest = hashlib.sha256(json.dumps(reply_to_dict(reply), sort_keys=True).encode()
                            ).hexdigest()[:16]
    first = status_key(alert)
    async with db.engine.connect() as conn:
        versions = await edits_of(conn, first, with_original=True, last=1)
    if versions and versions[-1].shows(reply):
        return 0
    destination = Destination.parse(alert.reply_to)
    async with db.session() as session:
        enqueue(session, key=EditKey(first, digest) if versions else first,
                destination=destination, reply=reply)
        try:
            await session.commit()
        except IntegrityError:  # another process queued the same view
            return 0
    return 1


async def alert_status_updates(services: Services) -> None:
    """One periodic tick: keep status messages current (their commits wake the outbox)."""
    await refresh_once(db=services.db, now=services.clock(),
                       zone=ZoneInfo(services.settings.app.office.time_zone))
