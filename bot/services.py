"""What handlers are given: settings, database, knowledge base, outbox and clock, built once."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from bot.config.settings import Settings
from bot.db.engine import Database, utcnow
from bot.home import HomeRefresh
from bot.outbox.worker import Outbox
from knowledge import KnowledgeStore


@dataclass
class Services:
    """Shared, long-lived objects; handlers receive this instead of reaching for globals."""

    settings: Settings
    db: Database
    knowledge: KnowledgeStore
    clock: Callable[[], datetime] = field(default=utcnow)
    outbox: Outbox = field(init=False)
    #: Republishes the homes a change affects (adapters that can push a home register).
    homes: HomeRefresh = field(init=False, default_factory=HomeRefresh)

    def __post_init__(self) -> None:
        """The outbox shares the database and the clock."""
        self.outbox = Outbox(self.db, clock=lambda: self.clock())
