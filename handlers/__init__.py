"""HANDLERS: the one explicit, ordered registration point. No discovery, no side effects."""

from __future__ import annotations

from bot.jobs import Periodic
from bot.router import Handler
from bot.services import Services
from handlers.alerts import AlertHandler
from handlers.alerts.delivery import alert_follow_ups, use_alert_budgets
from handlers.alerts.live_status import INTERVAL, alert_status_updates
from handlers.certifications import CertificationHandler
from handlers.certifications.scheduler import certification_reminders
from handlers.faq import FaqHandler
from handlers.help import HelpHandler
from handlers.incidents import IncidentHandler


def build_periodic(services: Services) -> list[Periodic]:
    """Background work besides the outbox: run in-process by ``serve``, or by ``worker``."""
    use_alert_budgets(services)
    return [
        # Each step is due at a fraction of the window (as short as a minute): look often; a
        # tick before half of every open alert's window reads only the open alerts.
        Periodic("alert-follow-ups", 10, alert_follow_ups),
        Periodic("alert-status", INTERVAL, alert_status_updates),
        Periodic("certification-reminders",
                 int(services.settings.app.certification.scheduler_interval_seconds),
                 certification_reminders),
    ]


def build_handlers() -> list[Handler]:
    """The handlers in priority order (earlier wins a tie)."""
    return [IncidentHandler(), AlertHandler(), CertificationHandler(), FaqHandler(),
            HelpHandler()]
