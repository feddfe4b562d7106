"""The help handler: what the bot can do, and the fallback for anything unrecognised."""

from __future__ import annotations

import re

from bot.config.settings import AppConfig
from bot.messages import IncomingMessage, Reply, Section, literal
from bot.services import Services
from handlers.certifications.commands import supervises_any


def command_lines(app: AppConfig, identity: str, language: str = "en") -> list[str]:
    """One line per command this person may use, with the configured command names.

    Everybody may ask, report an incident and see their own certification; certification
    supervisors (and state staff) look up others; broadcasters compose alerts, and state staff
    who do not broadcast may still see an alert's status. ``language``: "en" or "es".
    """
    c = app.commands
    es = language == "es"
    lines = [
        f"**Hacer una pregunta**: `{c.ask} ¿cómo reporto información electoral falsa?` o "
        "simplemente escriba su pregunta. Solo respondo con artículos verificados y lo digo "
        "cuando no tengo uno." if es else
        f"**Ask a question**: `{c.ask} how do I report false election information?` "
        "or just type your question. I answer only from vetted articles and say so when I "
        "have none.",
        f"**Reportar un incidente**: `{c.incident}` abre el formulario; `{c.incident} TEXTO` "
        f"envía un reporte rápido; `{c.incident} help` para el seguimiento. Si alguien está "
        "en peligro inmediato, llame primero al 911." if es else
        f"**Report an incident**: `{c.incident}` opens the form; "
        f"`{c.incident} TEXT` files a quick report; `{c.incident} help` for "
        "follow-up commands. If anyone is in immediate danger, call 911 first.",
        f"**Certificación**: `{c.cert}` muestra su estado; `{c.cert} done CURSO` registra un "
        f"curso completado; `{c.cert} help` para más." if es else
        f"**Certification**: `{c.cert}` shows your status; "
        f"`{c.cert} done COURSE` reports a course you completed; "
        f"`{c.cert} help` for more.",
    ]
    if supervises_any(app, identity):
        lines.append(f"**Funcionarios que supervisa**: `{c.cert} @usuario` o "
                     f"`{c.cert} jurisdiction CÓDIGO`." if es else
                     f"**Officials you supervise**: `{c.cert} @user` or "
                     f"`{c.cert} jurisdiction CODE`.")
    if app.has_role(identity, "broadcaster"):
        lines.append(f"**Alertas**: `{c.alert}` redacta una alerta para el personal electoral; "
                     f"`{c.alert} help` para estado, actualizaciones, fin y cancelación." if es else
                     f"**Alerts**: `{c.alert}` composes an alert to election staff; "
                     f"`{c.alert} help` for status, updates, all-clear and cancel.")
    elif app.has_role(identity, "state_staff"):
        lines.append(f"**Alertas**: `{c.alert} status ID` muestra quién confirmó una alerta."
                     if es else
                     f"**Alerts**: `{c.alert} status ID` shows who has acknowledged "
                     "an alert.")
    lines.append("**help** o **ayuda**: este mensaje." if es else "**help**: this message.")
    return lines


def build_help_reply(app: AppConfig, identity: str, *, unknown: str | None = None,
                     language: str = "en") -> Reply:
    """The list of things this person can ask for (naming an unknown command first, if any)."""
    es = language == "es"
    intro = f"Soy el asistente de {app.office.name}." if es else f"I'm the {app.office.name} assistant."
    if unknown:
        intro = (f"No conozco el comando {literal(unknown)}. " if es else
                 f"I don't know the command {literal(unknown)}. ") + intro
    return Reply(
        text=intro,
        sections=(Section("\n".join(command_lines(app, identity, language)),
                          context="Las respuestas citan su fuente y a qué estado se aplican."
                          if es else "Answers cite their source and whose state they apply to."),),
        ephemeral=True,
    )


#: Words that make a help request Spanish ("hola", "ayuda", "¿qué puedes hacer?").
_SPANISH_HELP = re.compile(r"\b(?:hola|ayuda|ay[uú]dame|puedes|puede|haces|funciona|buen[oa]s)\b|[¿¡]",
                           re.I)


def help_language(text: str) -> str:
    """"es" for a Spanish greeting or request for help, else "en"."""
    return "es" if _SPANISH_HELP.search(text or "") else "en"


#: Thanks, in a few words (English and Spanish): answered with a short "you're welcome".
THANKS = re.compile(r"(?:ok(?:ay)?,? )?(?:thanks?(?: you)?(?: so much| very much| a lot)?|"
                    r"thx|ty|tysm|many thanks|(?:muchas )?gracias(?: por todo)?)"
                    r"(?: (?:again|bot|electionbot))?", re.I)
#: Asking what the bot is for: answered with the help.
ABOUT = re.compile(r"(?:so )?(?:what can (?:you|u) do|what do (?:you|u) do|what are (?:you|u)|"
                   r"what can i ask(?: you)?|how (?:does this|do (?:you|i)) work|"
                   r"how do i use (?:you|this)|who are (?:you|u)|"
                   r"(?:qu[eé]|en qu[eé]) (?:puedes|puede) (?:hacer|ayudar(?:me)?)|"
                   r"qu[eé] haces|c[oó]mo funciona(?:s)?)(?: for me| here| aqu[ií])?", re.I)
_TRIM = " \t.!?¡¿,;:)(-"


def small_talk(text: str) -> str | None:
    """``"thanks"`` or ``"about"`` when the whole message is only that, else None."""
    words = text.strip(_TRIM)
    if THANKS.fullmatch(words):
        return "thanks"
    if ABOUT.fullmatch(words):
        return "about"
    return None


def thanks_reply(text: str) -> Reply:
    """A short, friendly answer to thanks (in Spanish to "gracias")."""
    if "gracias" in text.lower():
        return Reply(text="De nada. Escriba otra pregunta cuando quiera, o `help`.",
                     ephemeral=True)
    return Reply(text="You're welcome. Ask another question any time, or type `help`.",
                 ephemeral=True)


class HelpHandler:
    """Answers ``help``, greetings, thanks, unknown commands and unmatched free text."""

    name = "help"
    command: str | None = None
    keywords: tuple[str, ...] = ("help", "hi", "hello", "hey", "?", "hola", "ayuda")
    #: Keywords that ask for help only on their own: "hi, quick q: ..." and "¡Ayuda! necesito
    #: saber cómo ..." are questions.
    greetings: tuple[str, ...] = ("hi", "hello", "hey", "hola", "ayuda")
    action_prefix = "help:"

    def claims(self, message: IncomingMessage) -> bool:
        """Only thanks and "what can you do?" (the router also falls back to it)."""
        return small_talk(message.text) is not None

    def unknown_command(self, message: IncomingMessage) -> str | None:
        """The command that brought us here, unless it asked for help (``help``, ``/help``)."""
        word = (message.command or "").lstrip("/").lower()
        return None if not word or word in self.keywords else message.command

    async def handle(self, message: IncomingMessage, services: Services) -> Reply:
        """Show help (naming an unknown command when that is why we are here); thank back."""
        if not message.command and small_talk(message.text) == "thanks":
            return thanks_reply(message.text)
        return build_help_reply(services.settings.app, message.sender.identity,
                                unknown=self.unknown_command(message),
                                language=help_language(f"{message.command or ''} {message.text}"))
