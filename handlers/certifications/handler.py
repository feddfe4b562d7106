"""The certification handler: ``/cert`` status, reports, supervisor views and reminder buttons."""

from __future__ import annotations

import re
from datetime import UTC

from bot.messages import IncomingMessage, Reply
from bot.ops.jobs import Periodic
from bot.services import Services
from handlers.certifications import commands, interactions
from handlers.certifications.config import CertificationConfig
from handlers.certifications.scheduler import certification_reminders

#: How something is done ("how do i renew my certification", "what do I need for my
#: certification"): a question for the knowledge base, not a look at one's own standing.
HOW_TO = re.compile(r"\b(how (do|can|should|would|does) (i|we|one|you)|how to|what do (i|we) "
                    r"(need|have) to|what (is|are|'s) (needed|required)|steps? (to|for)|"
                    r"requirements?|c[oó]mo)\b")


class CertificationHandler:
    """``/cert`` and its verbs, the completion form, and the reminder / verifier buttons."""

    name = "certification"
    command: str | None = "cert"
    keywords: tuple[str, ...] = ("cert", "certification")
    action_prefix = "cert:"

    def claims(self, message: IncomingMessage) -> bool:
        """Questions about one's own certification standing ("am i up to date on my certification").

        Not how to do something ("how do i renew my certification"): the knowledge base
        answers those.
        """
        text = message.text.lower()
        return ("certif" in text and any(w in text for w in ("my ", "am i", "status", "due"))
                and not HOW_TO.search(text))

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
