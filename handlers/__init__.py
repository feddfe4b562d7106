"""HANDLERS: the one explicit, ordered registration point. No discovery, no side effects."""

from __future__ import annotations

from bot.router import Handler
from handlers.faq import FaqHandler
from handlers.help import HelpHandler
from handlers.incidents import IncidentHandler


def build_handlers() -> list[Handler]:
    """The handlers in priority order (earlier wins a tie)."""
    return [IncidentHandler(), FaqHandler(), HelpHandler()]
