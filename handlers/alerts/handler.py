"""The alert handler: compose, preview, approve, send, acknowledge, status, update / cancel."""

from __future__ import annotations

from datetime import UTC

from bot.messages import IncomingMessage, Reply
from bot.ops.jobs import Periodic
from bot.services import Services
from handlers.alerts import commands, interactions
from handlers.alerts.delivery import alert_follow_ups
from handlers.alerts.live_status import INTERVAL, alert_status_updates
from handlers.alerts.service import Actor


class AlertHandler:
    """``/alert`` (Slack), "alert" (Teams and web chat), the composer and the alert buttons."""

    name = "alert"
    command: str | None = "alert"
    keywords: tuple[str, ...] = ("alert",)
    action_prefix = "alert:"

    def claims(self, message: IncomingMessage) -> bool:
        """Free text never starts a broadcast; only the command or the word "alert" does."""
        return False

    async def handle(self, message: IncomingMessage, services: Services) -> Reply:
        """Dispatch (refusals and user errors are answered by the router)."""
        actor = Actor(message.sender.identity, services.settings.app)
        now = services.clock().astimezone(UTC)
        if message.form is not None:
            return await interactions.on_form(message, services, actor, now)
        if message.action is not None:
            return await interactions.on_action(message, services, actor, now)
        return await commands.on_text(message, services, actor, now)


def alert_periodic(services: Services) -> list[Periodic]:
    """Follow-ups and live status of open alerts."""
    return [
        # Each step is due at a fraction of the window (as short as a minute): look often; a
        # tick before half of every open alert's window reads only the open alerts.
        Periodic("alert-follow-ups", 10, alert_follow_ups),
        Periodic("alert-status", INTERVAL, alert_status_updates),
    ]
