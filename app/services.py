"""The long-lived objects of one process (database, knowledge base, outbox, clock).

Apart from the web server so a one-shot command (``electionbot ask``) builds them without
importing the HTTP stack and the platform adapters.
"""

from __future__ import annotations

import logging

from app.knowledge_base import load_knowledge
from bot.clock import FlowingClock
from bot.config.settings import Settings
from bot.db.engine import Database
from bot.ops.audit_key import bind_audit_key, settings_audit_key
from bot.outbox.pacing import Budgets
from bot.services import Services
from handlers.alerts.config import AlertsConfig

log = logging.getLogger(__name__)


def build_services(settings: Settings) -> Services:
    """Database, knowledge base and clock for one process."""
    db = Database(settings.env.DATABASE_URL)
    bind_audit_key(db.engine.sync_engine, settings_audit_key(settings))
    services = Services(settings=settings, db=db, knowledge=load_knowledge(settings))
    services.outbox.budgets = pacing_budgets(settings)
    if settings.env.ELECTIONBOT_SIMULATED_START is not None:
        log.warning("running on a simulated clock (drill)",
                    extra={"start": settings.env.ELECTIONBOT_SIMULATED_START.isoformat()})
        services.clock = FlowingClock(settings.env.ELECTIONBOT_SIMULATED_START)
    return services


def pacing_budgets(settings: Settings) -> Budgets:
    """The outbox's send rates per platform: app.yaml ``alerts.pacing`` and ``email.pacing``."""
    relay = settings.app.email.pacing
    return Budgets(**settings.app.section(AlertsConfig).pacing.model_dump(),
                   email_per_second=relay.per_second, email_burst=float(relay.burst))
