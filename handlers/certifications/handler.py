"""The certification handler: ``/cert`` status, reports, supervisor views and reminder buttons."""

from __future__ import annotations

from datetime import UTC

from bot.messages import IncomingMessage, Reply
from bot.ops.jobs import Periodic
from bot.services import Services
from handlers.certifications import commands, interactions
from handlers.certifications.config import CertificationConfig
from handlers.certifications.scheduler import certification_reminders


class CertificationHandler:
    """``/cert`` and its verbs, the completion form, and the reminder / verifier buttons."""

    name = "certification"
    command: str | None = "cert"
    keywords: tuple[str, ...] = ("cert", "certification")
    action_prefix = "cert:"

    def claims(self, message: IncomingMessage) -> bool:
        """Questions about one's own certification or training hours."""
        text = message.text.lower()
        return "certif" in text and any(w in text for w in ("my ", "am i", "status", "due"))

    async def handle(self, message: IncomingMessage, services: Services) -> Reply:
        """Dispatch (refusals, audited where raised, and user errors are answered by the router)."""
        now = services.clock().astimezone(UTC)
        if message.form is not None:
            return await interactions.on_form(message, services, now)
        if message.action is not None:
            return await interactions.on_action(message, services, now)
        return await commands.on_text(message, services, now)


def certification_periodic(services: Services) -> list[Periodic]:
    """The reminder pass, at the configured interval."""
    interval = services.settings.app.section(CertificationConfig).scheduler_interval_seconds
    return [Periodic("certification-reminders", int(interval), certification_reminders)]
