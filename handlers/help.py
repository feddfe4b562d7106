"""The help handler: what the bot can do, and the fallback for anything unrecognised."""

from __future__ import annotations

from bot.messages import IncomingMessage, Reply, Section
from bot.services import Services


def build_help_reply(services: Services, *, unknown: str | None = None) -> Reply:
    """The list of things a person can ask for, with the configured command names."""
    commands = services.settings.app.commands
    office = services.settings.app.office.name
    intro = f"I'm the {office} assistant."
    if unknown:
        intro = f"I don't know the command {unknown}. " + intro
    lines = [
        f"**Ask a question**: `{commands.ask} how do I report false election information?` "
        "or just type your question. I answer only from vetted articles and say so when I "
        "have none.",
        f"**Report an incident**: `{commands.incident}` opens the form; "
        f"`{commands.incident} TEXT` files a quick report; `{commands.incident} help` for "
        "follow-up commands. If anyone is in immediate danger, call 911 first.",
        "**help**: this message.",
    ]
    return Reply(
        text=intro,
        sections=(Section("\n".join(lines),
                          context="Answers cite their source and whose state they apply to."),),
        ephemeral=True,
    )


class HelpHandler:
    """Answers ``help``, greetings, unknown commands and unmatched free text."""

    name = "help"
    command: str | None = None
    keywords: tuple[str, ...] = ("help", "hi", "hello", "hey", "?")
    action_prefix = "help:"

    def claims(self, message: IncomingMessage) -> bool:
        """Claims no free text: the router falls back to it when no one else does."""
        return False

    async def handle(self, message: IncomingMessage, services: Services) -> Reply:
        """Show help (naming an unknown command when that is why we are here)."""
        return build_help_reply(services, unknown=message.command)
