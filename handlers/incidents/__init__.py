"""The incident handler: file (form, quick text, from a message), follow up, close."""

from __future__ import annotations

import re
import secrets
from datetime import UTC

from bot.messages import IncomingMessage, Reply, Tone
from bot.services import Services
from handlers.incidents import actions, commands
from handlers.incidents.catalog import DANGER_WORDS
from handlers.incidents.forms import build_report_form
from handlers.incidents.permissions import Actor, IncidentError, PermissionDenied
from handlers.incidents.replies import CALL_911

REPORT_WORDS = re.compile(r"\b(report|file)\b.{0,20}\b(incident|threat|problem|issue)\b", re.I)


class IncidentHandler:
    """``/incident`` and its verbs, the report form, and the notification buttons."""

    name = "incident"
    command: str | None = "incident"
    keywords: tuple[str, ...] = ("incident", "incidente")
    action_prefix = "incident:"

    def score(self, message: IncomingMessage, services: Services) -> float:
        """Someone describing danger, or asking to report something, wants this handler."""
        words = {w.strip(".,!?;:'\"()").lower() for w in message.text.split()}
        if words & DANGER_WORDS or REPORT_WORDS.search(message.text):
            return 0.8
        return 0.0

    async def handle(self, message: IncomingMessage, services: Services) -> Reply:
        """Dispatch to the verb; errors a person can fix come back as plain replies."""
        actor = Actor(message.sender.identity, services.settings.app)
        now = services.clock().astimezone(UTC)
        try:
            if message.form is not None:
                return await actions.on_form(message, services, actor, now)
            if message.action is not None:
                return await actions.on_action(message, services, actor, now)
            if message.command is None and self.score(message, services) > 0 and \
                    message.text.split(" ", 1)[0].lower() not in commands.VERBS:
                return self._offer_form(services, message.text)
            return await commands.on_text(message, services, actor, now)
        except PermissionDenied as exc:
            return Reply(text=str(exc), tone=Tone.DENIED, ephemeral=True)
        except IncidentError as exc:
            return Reply(text=str(exc), tone=Tone.WARNING, ephemeral=True)

    def _offer_form(self, services: Services, text: str) -> Reply:
        form = build_report_form(services.settings.app, nonce=secrets.token_urlsafe(9),
                                 values={"description": text[:3000]})
        return Reply(text=f"{CALL_911} To file a report, complete this form.", form=form,
                     ephemeral=True)

