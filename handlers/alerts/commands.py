"""The typed alert verbs: ``/alert`` (the composer), ``status``, ``update``, ``allclear``, ``cancel``."""

from __future__ import annotations

import secrets
from datetime import datetime

from bot.errors import Refused, UserError
from bot.messages import IncomingMessage, Reply
from bot.services import Services
from bot.when import reader_zone
from handlers.alerts import delivery, service
from handlers.alerts.enums import AlertStatus
from handlers.alerts.forms import build_composer
from handlers.alerts.network import load_network
from handlers.alerts.replies import build_usage
from handlers.alerts.service import Actor

CHILD_VERBS = {"update": "update", "allclear": "all_clear", "cancel": "cancel"}


def require_broadcaster(actor: Actor, what: str) -> None:
    """Refuse anyone but a broadcaster (``what`` completes "Only broadcasters can ...")."""
    if not actor.is_broadcaster:
        raise Refused(f"Only broadcasters can {what}.")


async def on_text(message: IncomingMessage, services: Services, actor: Actor,
                  now: datetime) -> Reply:
    """``/alert`` opens the composer; ``status|update|allclear|cancel ID``."""
    app = services.settings.app
    verb, _, rest = message.text.strip().partition(" ")
    verb, target = verb.lower(), rest.strip().upper()
    if not verb:
        require_broadcaster(actor, "compose alerts")
        groups = sorted({e.group for e in await load_network(services.db, app)})
        return Reply(text="Compose an alert", ephemeral=True,
                     form=build_composer(app, nonce=secrets.token_urlsafe(9), groups=groups))
    if verb not in ("status", *CHILD_VERBS) or not target:
        return build_usage(app.commands.alert)
    alert = await service.get_alert(services.db, target)
    if verb == "status":
        if not (actor.is_broadcaster or app.has_role(actor.identity, "state_staff")):
            raise Refused("Only broadcasters and state staff can see alert status.")
        # Read now, by this person: their own zone, else their jurisdiction's, else the office's.
        zone = reader_zone(await services.people.time_zone_of(actor.identity),
                           app.time_zone_for(message.jurisdiction))
        return await delivery.status_reply(db=services.db, alert=alert, zone=zone, now=now)
    require_broadcaster(actor, "update alerts")
    if alert.status != AlertStatus.SENT:
        if verb == "cancel":  # nothing went out yet: just stop it
            await service.decide(db=services.db, alert=alert, actor=actor, status=AlertStatus.DISCARDED,
                                 now=now, note="cancelled before sending")
            return Reply(text=f"Alert {alert.public_id} was cancelled before sending.",
                         ephemeral=True)
        raise UserError(f"Alert {alert.public_id} has not been sent; nothing to update.")
    values = {"alert_type": CHILD_VERBS[verb], "severity": alert.severity, "tlp": alert.tlp,
              "headline": alert.headline[:80], "ack_required": "no" if verb != "update" else "yes",
              "exercise": "yes" if alert.exercise else "no"}
    kind = CHILD_VERBS[verb].replace("_", " ").capitalize()
    return Reply(text=f"{kind} for alert {alert.public_id}", ephemeral=True,
                 form=build_composer(app, nonce=secrets.token_urlsafe(9), parent=alert.public_id,
                                     values=values))
