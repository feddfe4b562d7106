"""Fixtures for incident tests: services on a real database with a routing table."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from app.services import build_services
from bot.services import Services
from tests.support import make_settings, migrated

INCIDENTS = {
    "on_call": ["webchat:local:@oncall"],
    "managers": {"CT": ["webchat:local:ct-mgr"], "KS": ["webchat:local:ks-mgr"]},
    "routing": [
        {"severities": ["SEV1", "SEV2"], "notify": ["webchat:local:@boss"]},
        {"jurisdictions": ["CT"], "notify": ["webchat:local:@ct-mgr"]},
        {"categories": ["cyber"], "notify": ["webchat:local:@it-desk"]},
    ],
}
ROLES = {"state_staff": ["webchat:local:boss"]}
NOW = datetime(2026, 11, 3, 15, 0, tzinfo=UTC)


def report_values(**overrides: str) -> dict[str, str]:
    """A valid fast-path form submission."""
    values = {"danger": "no", "category": "equipment_systems",
              "subcategory": "equipment_systems/tabulator", "jurisdiction": "CT",
              "site": "Hartford City Hall", "when_date": "2026-11-03", "when_time": "08:15",
              "stopped": "yes", "degraded": "no", "description": "Tabulator 3 stopped reading ballots."}
    values.update(overrides)
    return values


async def make_services(tmp_path: Path, url: str | None = None) -> Services:
    """Migrated database, the fixture knowledge base and the routing table above."""
    env = {"DATABASE_URL": url} if url else None
    settings = make_settings(tmp_path, env=env, incidents=INCIDENTS, roles=ROLES)
    migrated(settings.env.DATABASE_URL)
    services = build_services(settings)
    services.clock = lambda: NOW
    return services


@pytest.fixture
async def services(tmp_path: Path) -> AsyncIterator[Services]:
    svc = await make_services(tmp_path)
    yield svc
    await svc.db.close()
