"""HANDLERS: the one explicit, ordered registration point. No discovery, no side effects."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from bot.router import Handler
from bot.services import Services
from handlers.alerts import AlertHandler
from handlers.alerts.delivery import follow_up_loop, use_alert_budgets
from handlers.certifications import CertificationHandler
from handlers.certifications.scheduler import run_forever as run_cert_reminders
from handlers.faq import FaqHandler
from handlers.help import HelpHandler
from handlers.incidents import IncidentHandler


def build_background(services: Services) -> list[Callable[[], Coroutine[Any, Any, None]]]:
    """Long-running background loops started by ``serve`` (each runs until cancelled)."""
    use_alert_budgets(services)
    return [services.outbox.run, lambda: follow_up_loop(services),
            lambda: run_cert_reminders(services)]


def build_handlers() -> list[Handler]:
    """The handlers in priority order (earlier wins a tie)."""
    return [IncidentHandler(), AlertHandler(), CertificationHandler(), FaqHandler(),
            HelpHandler()]
