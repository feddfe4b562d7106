"""Fixtures: services on a real database with a Kansas roster across two time zones."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from app.services import build_services
from bot.messages import Destination, Reply
from bot.services import Services
from handlers.certifications import service
from handlers.certifications.importer import parse_completions, parse_roster
from handlers.certifications.ledger import programs_for
from tests.support import make_settings, migrated

CERT = {
    "holidays": ["2026-11-26", "2026-12-25", "2027-01-01"],
    "elections": [{"day": "2026-11-03", "name": "General"}],
    "quiet_days_before": 7, "quiet_days_after": 2,
    "supervisors": {"KS": ["webchat:local:ks-super"]},
    "scheduler_interval_seconds": 0.05,
}
ROLES = {"state_staff": ["webchat:local:boss"]}
ROSTER = """external_id,name,identity,jurisdiction,time_zone,program,role,term_type,took_office
ks-pat,Pat Johnson,webchat:local:pat,KS,America/Chicago,KS-CLERK,county_clerk,four_year,2025-01-13
ks-lee,Lee Wallace,webchat:local:lee,KS,America/Denver,KS-CLERK,county_clerk,four_year,2025-02-03
ks-kim,Kim Ortiz,,KS,America/Chicago,KS-CLERK,county_clerk,four_year,2025-02-03
"""
COMPLETIONS = """external_id,course,completed_on
ks-pat,KS-Y1-PLAN,2025-04-10
"""


@dataclass
class Recorder:
    """A transport that records what the outbox sends, with the (fake) time of sending."""

    clock: Callable[[], datetime]
    sent: list[tuple[datetime, str, Reply]] = field(default_factory=list)

    async def send(self, destination: Destination, reply: Reply, *, key: str) -> str:
        self.sent.append((self.clock(), str(destination), reply))
        return f"rec:{len(self.sent)}"


@dataclass
class Clock:
    """An injectable, settable clock."""

    now: datetime = datetime(2026, 9, 1, 12, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


async def make_services(tmp_path: Path, url: str | None = None, clock: Clock | None = None,
                        **cert: Any) -> Services:
    env = {"DATABASE_URL": url} if url else None
    settings = make_settings(tmp_path, env=env, roles=ROLES, certification={**CERT, **cert})
    migrated(settings.env.DATABASE_URL)
    services = build_services(settings)
    services.clock = clock or Clock()
    return services


async def load_demo(services: Services) -> None:
    app = services.settings.app
    rows, errors = parse_roster(ROSTER, app, programs_for(app))
    assert not errors
    await service.import_roster(db=services.db, rows=rows)
    courses = {c: x.hours for p in programs_for(app).values() for c, x in p.courses.items()}
    known = set(await service.official_ids(db=services.db))
    done, errors = parse_completions(COMPLETIONS, courses, known)
    assert not errors
    await service.import_completions(db=services.db, rows=done, actor="test")
