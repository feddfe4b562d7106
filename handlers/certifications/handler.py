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
                    r"requirements?|c[oó]mo(?! va\b| voy\b| ando\b))\b")

#: The word "cert", "certification", "certified" ... (not "certain").
CERT = re.compile(r"\bcert(?!ain)")
#: One's own standing: "am i up to date", "my certification status", "when am i due".
OWN_STANDING = re.compile(
    r"\b(am i|have i|did i|where do i stand|what do i (still )?(owe|have left|need left)|"
    r"(when|what)('s| is| are)? (am i|is my|are my|my) \w*|my (\w+ )?(cert\w*|status|hours|"
    r"courses?|classes|credits?|deadlines?|progress|record|renewal|transcript|standing)|"
    r"status|due|"
    # in Spanish: "¿cuál es mi estado de certificación?", "¿cómo va mi certificación?"
    r"mis? (\w+ )?(estado|certificaci[oó]n|progreso|avance|cursos|horas|fecha l[ií]mite|"
    r"renovaci[oó]n)|me falta\w*|estoy (al d[ií]a|certificad[oa]|atrasad[oa]))(?!\w)")
#: A rule that applies to everyone ("do i have to keep taking classes after i'm certified"): the
#: knowledge base answers it.
RULE_QUESTION = re.compile(
    r"\b(do (i|we|you|clerks|officials|registrars) (have|need) to|after (i'?m|im|i am|you'?re|"
    r"youre|you are|being|getting|one is|they'?re|theyre) (certified|done)|once (i'?m|im|i am|"
    r"you'?re|youre|you are|certified)|does (everyone|every|each|a|an|the)|is there)\b")


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
        return bool(CERT.search(text) and OWN_STANDING.search(text)) and not HOW_TO.search(text) \
            and not RULE_QUESTION.search(text)

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
