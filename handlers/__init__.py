"""HANDLERS: the one explicit, ordered registration point. No discovery, no side effects."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from bot.router import Handler
from bot.services import Services
from handlers.faq import FaqHandler
from handlers.help import HelpHandler
from handlers.incidents import IncidentHandler


def build_background(services: Services) -> list[Callable[[], Coroutine[Any, Any, None]]]:
    """Long-running background loops started by ``serve`` (each runs until cancelled)."""
    return [services.outbox.run]


def build_handlers() -> list[Handler]:
    """The handlers in priority order (earlier wins a tie)."""
    return [IncidentHandler(), FaqHandler(), HelpHandler()]
