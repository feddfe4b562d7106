"""The help handler: what the bot can do, and the fallback for anything unrecognised."""

from __future__ import annotations

import re

from bot.config.settings import AppConfig
from bot.messages import IncomingMessage, Reply, Section, literal
from bot.services import Services
from handlers.certifications.commands import supervises_any
from knowledge.language import detect_language

#: The help's words by language; ``{ask}``, ``{incident}``, ``{cert}``, ``{alert}`` are the
#: configured command names.
_HELP = {
    "en": {
        "ask": "**Ask a question**: `{ask} how do I report false election information?` or just "
               "type your question. I answer only from vetted articles and say so when I have none.",
        "incident": "**Report an incident**: `{incident}` opens the form; `{incident} TEXT` files a "
                    "quick report; `{incident} help` for follow-up commands. If anyone is in "
                    "immediate danger, call 911 first.",
        "cert": "**Certification**: `{cert}` shows your status; `{cert} done COURSE` reports a "
                "course you completed; `{cert} help` for more.",
        "supervise": "**Officials you supervise**: `{cert} @user` or `{cert} jurisdiction CODE`.",
        "broadcast": "**Alerts**: `{alert}` composes an alert to election staff; `{alert} help` for "
                     "status, updates, all-clear and cancel.",
        "status": "**Alerts**: `{alert} status ID` shows who has acknowledged an alert.",
        "help": "**help**: this message.",
        "intro": "I'm the {office} assistant.",
        "unknown": "I don't know the command {command}. ",
        "context": "Answers cite their source and whose state they apply to.",
    },
    "es": {
        "ask": "**Hacer una pregunta**: `{ask} ¿cómo reporto información electoral falsa?` o "
               "simplemente escriba su pregunta. Solo respondo con artículos verificados y lo digo "
               "cuando no tengo uno.",
        "incident": "**Reportar un incidente**: `{incident}` abre el formulario; `{incident} TEXTO` "
                    "envía un reporte rápido; `{incident} help` para el seguimiento. Si alguien "
                    "está en peligro inmediato, llame primero al 911.",
        "cert": "**Certificación**: `{cert}` muestra su estado; `{cert} done CURSO` registra un "
                "curso completado; `{cert} help` para más.",
        "supervise": "**Funcionarios que supervisa**: `{cert} @usuario` o "
                     "`{cert} jurisdiction CÓDIGO`.",
        "broadcast": "**Alertas**: `{alert}` redacta una alerta para el personal electoral; "
                     "`{alert} help` para estado, actualizaciones, fin y cancelación.",
        "status": "**Alertas**: `{alert} status ID` muestra quién confirmó una alerta.",
        "help": "**help** o **ayuda**: este mensaje.",
        "intro": "Soy el asistente de {office}.",
        "unknown": "No conozco el comando {command}. ",
        "context": "Las respuestas citan su fuente y a qué estado se aplican.",
    },
}


def command_lines(app: AppConfig, identity: str, language: str = "en") -> list[str]:
    """One line per command this person may use, with the configured command names.

    Everybody may ask, report an incident and see their own certification; certification
    supervisors (and state staff) look up others; broadcasters compose alerts, and state staff
    who do not broadcast may still see an alert's status. ``language``: "en" or "es".
    """
    words = _HELP.get(language, _HELP["en"])
    keys = ["ask", "incident", "cert"]
    if supervises_any(app, identity):
        keys.append("supervise")
    if app.has_role(identity, "broadcaster"):
        keys.append("broadcast")
    elif app.has_role(identity, "state_staff"):
        keys.append("status")
    c = app.commands
    return [words[k].format(ask=c.ask, incident=c.incident, cert=c.cert, alert=c.alert)
            for k in keys] + [words["help"]]


def build_help_reply(app: AppConfig, identity: str, *, unknown: str | None = None,
                     language: str = "en") -> Reply:
    """The list of things this person can ask for (naming an unknown command first, if any)."""
    words = _HELP.get(language, _HELP["en"])
    intro = words["intro"].format(office=app.office.name)
    if unknown:
        intro = words["unknown"].format(command=literal(unknown)) + intro
    return Reply(text=intro,
                 sections=(Section("\n".join(command_lines(app, identity, language)),
                                   context=words["context"]),),
                 ephemeral=True)


def help_language(command: str | None, text: str) -> str:
    """"es" when help is asked in Spanish: "hola" or "ayuda", or Spanish words around it."""
    if (command or "").lower() in ("hola", "ayuda"):
        return "es"
    return detect_language(text) if text.strip() else "en"


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
        return Reply(text="De nada. Escriba otra pregunta cuando quiera, o `ayuda`.",
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
                                language=help_language(message.command, message.text))
