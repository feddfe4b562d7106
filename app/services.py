"""The long-lived objects of one process (database, knowledge base, outbox, clock).

Apart from the web server so a one-shot command (``electionbot ask``) builds them without
importing the HTTP stack and the platform adapters.
"""

from __future__ import annotations

import logging
from pathlib import Path

from bot.clock import FlowingClock
from bot.config.settings import Settings
from bot.db.engine import Database
from bot.ops.audit_key import bind_audit_key, settings_audit_key
from bot.outbox.pacing import Budgets
from bot.services import Services
from handlers.alerts.config import AlertsConfig
from knowledge import KnowledgeStore

log = logging.getLogger(__name__)


def knowledge_folder(settings: Settings) -> Path:
    """The articles folder, relative to app.yaml when not absolute."""
    folder = Path(settings.app.knowledge_path)
    return folder if folder.is_absolute() else settings.config_path.parent / folder


def index_cache_dir(settings: Settings) -> Path:
    """Where the knowledge index cache lives: the bot's own data folder, next to app.yaml."""
    return settings.config_path.parent / "data" / "index-cache"


def build_services(settings: Settings) -> Services:
    """Database, knowledge base and clock for one process."""
    db = Database(settings.env.DATABASE_URL)
    bind_audit_key(db.engine.sync_engine, settings_audit_key(settings))
    codes = [j.code for j in settings.app.jurisdictions]
    from bot.db.engine import utcnow

    store = KnowledgeStore(knowledge_folder(settings), jurisdictions=codes, today=utcnow().date(),
                           semantic=settings.app.semantic_retrieval,
                           cache_dir=index_cache_dir(settings))
    services = Services(settings=settings, db=db, knowledge=store)
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
