"""The incident handler: file (form, quick text, from a message), follow up, close."""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime

from bot.messages import IncomingMessage, Reply
from bot.services import Services
from handlers.faq.handler import answer_off_loop
from handlers.faq.replies import labels, source_line
from handlers.faq.scope import Asker
from handlers.incidents import commands, interactions
from handlers.incidents.danger import call_911, danger_language, reports_danger
from handlers.incidents.forms import build_report_form
from handlers.incidents.permissions import Actor
from knowledge.language import detect_language

REPORT_WORDS = re.compile(r"\b(report|file)\b.{0,20}\b(incident|threat|problem|issue)\b|"
                          r"\b(reportar|denunciar|presentar)\b.{0,20}\b(incidente|amenaza|"
                          r"problema)\b", re.I)


class IncidentHandler:
    """``/incident`` and its verbs, the report form, and the notification buttons."""

    name = "incident"
    command: str | None = "incident"
    keywords: tuple[str, ...] = ("incident", "incidente")
    action_prefix = "incident:"

    def claims(self, message: IncomingMessage) -> bool:
        """Someone reporting danger, or asking to report something, wants this handler.

        A question about a danger ("what's the policy on guns at polling places?") is the
        FAQ's, which leads its answer with the 911 line (``handlers.incidents.danger``).
        """
        return bool(reports_danger(message.text) or REPORT_WORDS.search(message.text))

    def urgent(self, message: IncomingMessage) -> bool:
        """A report of danger is this handler's even after another's keyword ("help! ...")."""
        return reports_danger(message.text)

    async def handle(self, message: IncomingMessage, services: Services) -> Reply:
        """Dispatch to the verb (refusals and user errors are answered by the router)."""
        actor = Actor(message.sender.identity, services.settings.app)
        now = services.clock().astimezone(UTC)
        if message.form is not None:
            return await interactions.on_form(message, services, actor, now)
        if message.action is not None:
            return await interactions.on_action(message, services, actor, now)
        if message.command is None:  # free text this handler claimed: danger, or "report ..."
            return await self._offer_form(services, message, now)
        return await commands.on_text(message, services, actor, now)

    async def _offer_form(self, services: Services, message: IncomingMessage,
                          now: datetime) -> Reply:
        language = danger_language(message.text, detect_language(message.text))
        form = build_report_form(services.settings.app, nonce=secrets.token_urlsafe(9),
                                 values={"description": message.text[:3000]},
                                 reporter=message.sender.identity, now=now,
                                 declared=message.jurisdiction, language=language)
        if language == "es":
            text = f"{call_911('es')} Para presentar un reporte, complete este formulario."
        else:
            text = f"{call_911()} To file a report, complete this form."
        steps = await safety_steps(message, services, language)
        return Reply(text=f"{text}\n\n{steps}" if steps else text, form=form, ephemeral=True)


#: The line above the knowledge base's steps shown with the report form.
STEPS_LEAD = {"en": "Meanwhile, from the knowledge base:",
              "es": "Mientras tanto, según la base de conocimientos:"}


async def safety_steps(message: IncomingMessage, services: Services, language: str) -> str:
    """What the knowledge base says to do, in a few lines, when it answers the report; else "".

    "White powder in an envelope": do not open it, leave the room, wash your hands. The FAQ's
    own decision (guard, vetted or draft, the asker's state) picks the article; a report it
    would not answer gets nothing, never a guess.
    """
    answer = await answer_off_loop(question=message.text, services=services,
                                   asker=Asker(message.jurisdiction))
    article = answer.article
    if article is None or answer.refusal_kind is not None:
        return ""
    shown = "es" if language == "es" and article.es is not None else "en"
    title, summary, _body = article.localized(shown)
    note = f"_{labels(shown).draft_note}_\n" if article.is_draft else ""
    return (f"{STEPS_LEAD.get(language, STEPS_LEAD['en'])} **{title}**\n{note}{summary}\n"
            f"_{source_line(article, shown)}_")

