"""The alert handler: compose, preview, approve, send, acknowledge, status, update / cancel."""

from __future__ import annotations

from datetime import UTC

from bot.messages import IncomingMessage, Reply, Tone
from bot.ops.jobs import Periodic
from bot.services import Services
from handlers.alerts import actions
from handlers.alerts.delivery import alert_follow_ups
from handlers.alerts.live_status import INTERVAL, alert_status_updates
from handlers.alerts.service import Actor, AlertError, PermissionDenied


class AlertHandler:
    """``/alert`` (Slack), "alert" (Teams and web chat), the composer and the alert buttons."""

    name = "alert"
    command: str | None = "alert"
    keywords: tuple[str, ...] = ("alert",)
    action_prefix = "alert:"

    def score(self, message: IncomingMessage, services: Services) -> float:
        """Free text never starts a broadcast; only the command or the word "alert" does."""
        return 0.0

    async def handle(self, message: IncomingMessage, services: Services) -> Reply:
        """Dispatch; refusals a person can understand come back as plain replies."""
        actor = Actor(message.sender.identity, services.settings.app)
        now = services.clock().astimezone(UTC)
        try:
            if message.form is not None:
                return await actions.on_form(message, services, actor, now)
            if message.action is not None:
                return await actions.on_action(message, services, actor, now)
            return await actions.on_text(message, services, actor, now)
        except PermissionDenied as exc:
            return Reply(text=str(exc), tone=Tone.DENIED, ephemeral=True)
        except AlertError as exc:
            return Reply(text=str(exc), tone=Tone.WARNING, ephemeral=True)


def alert_periodic(services: Services) -> list[Periodic]:
    """Follow-ups and live status of open alerts."""
    return [
        # Each step is due at a fraction of the window (as short as a minute): look often; a
        # tick before half of every open alert's window reads only the open alerts.
        Periodic("alert-follow-ups", 10, alert_follow_ups),
        Periodic("alert-status", INTERVAL, alert_status_updates),
    ]
