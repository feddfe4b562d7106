"""Upgrading an 0008-era database: its unkeyed records keep their verifiability.

The rows are written the way the code before the audit key wrote them (plain SHA-256 chains,
no pinned head, no audit chain); after `db upgrade`, `incidents verify --reseal` verifies each
the old way and only then re-seals it with the key, refusing one that was already tampered.
"""

from __future__ import annotations

import asyncio
import json
import os
import stat
from datetime import timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command

from app.config import load_settings
from app.services import build_services
from bot.config.settings import environment_warnings
from bot.db.engine import UTCDateTime, alembic_config, sync_url, upgrade
from bot.ops.audit_key import GENESIS, UNKEYED, resolve_audit_key
from handlers.incidents.chain import SEALED, UNSEALED, event_hash, plain, snapshot
from handlers.incidents.models import Incident
from tests.handlers.incidents.conftest import INCIDENTS, NOW, ROLES
from tests.handlers.incidents.test_lifecycle import say
from tests.handlers.incidents.test_tamper import SECRET, Office, assert_broken
from tests.support import make_settings

TS = UTCDateTime()
INCIDENT = sa.table("incident", *(sa.column(name, TS) if name.endswith("_at") else sa.column(name)
                                  for name in SEALED if name not in ("chain_count", "chain_head",
                                                                     "key_id")))
EVENT = sa.table("incident_event", sa.column("incident_id"), sa.column("seq"),
                 sa.column("at", TS), sa.column("actor"), sa.column("kind"),
                 sa.column("changes"), sa.column("prev_hash"), sa.column("hash"))
AUDIT = sa.table("audit_entry", sa.column("at", TS), sa.column("actor"), sa.column("action"),
                 sa.column("target"), sa.column("allowed"), sa.column("reason"))


def legacy_incident(conn: sa.Connection, number: int, notes: tuple[str, ...] = ()) -> None:
    """One incident and its events exactly as the pre-key code stored them."""
    at = NOW + timedelta(minutes=number)
    row: dict[str, Any] = dict(
        id=number, human_id=f"INC-2026-{number:06d}", idempotency_key=f"key-{number}",
        reporter="webchat:local:ann", category="equipment_systems", subcategory="",
        jurisdiction="CT", site="City Hall", occurred_at=at, severity="SEV3", danger=False,
        stopped=False, degraded=True, description=f"Scanner {number} jams.", details="{}",
        source_link="", needs_details=False, status="new", assignee=None,
        law_enforcement_agency="", law_enforcement_case="", lessons_learned="", resolution="",
        created_at=at, acknowledged_at=None, resolved_at=None, closed_at=None)
    conn.execute(INCIDENT.insert().values(**row))
    created = {k: [None, v] for k, v in snapshot(Incident(**row)).items()}
    prev = GENESIS
    for seq, (kind, changes) in enumerate([("created", created),
                                           *(("note", {"note": n}) for n in notes)], start=1):
        body = json.dumps(changes, sort_keys=True, default=plain)
        digest = event_hash(UNKEYED, prev_hash=prev, incident_id=number, seq=seq, at=at,
                            actor="webchat:local:ann", kind=kind, changes=body)
        conn.execute(EVENT.insert().values(incident_id=number, seq=seq, at=at,
                                           actor="webchat:local:ann", kind=kind, changes=body,
                                           prev_hash=prev, hash=digest))
        prev = digest


def legacy_office(tmp_path: Path, *tampering: str) -> Office:
    settings = make_settings(tmp_path, env={"ELECTIONBOT_AUDIT_KEY": SECRET},
                             incidents=INCIDENTS, roles=ROLES)
    url = settings.env.DATABASE_URL
    command.upgrade(alembic_config(url), "0008_slack_installations")
    engine = sa.create_engine(sync_url(url))
    with engine.begin() as conn:
        legacy_incident(conn, 1, notes=("called the vendor",))
        legacy_incident(conn, 2)
        conn.execute(sa.text("INSERT INTO incident_counter (year, last) VALUES (2026, 2)"))
        conn.execute(AUDIT.insert().values(at=NOW, actor="webchat:local:eve", action="view",
                                           target="INC-2026-000001", allowed=False,
                                           reason="not reporter, manager or state staff"))
        for statement in tampering:
            conn.execute(sa.text(statement))
    engine.dispose()
    upgrade(url)  # what `electionbot db upgrade` (or `serve`) does
    return Office({"ELECTIONBOT_CONFIG": str(settings.config_path), "DATABASE_URL": url,
                   "ELECTIONBOT_AUDIT_KEY": SECRET}, url)


def test_an_0008_database_verifies_after_upgrade_and_reseal(tmp_path: Path) -> None:
    db = legacy_office(tmp_path)
    assert_broken(db.cli("incidents", "verify"),
                  "BROKEN INC-2026-000001: not sealed with the audit key",
                  "incident counter 2026: not sealed", "audit log: 1 entries from before")
    resealed = db.cli("incidents", "verify", "--reseal")
    assert resealed.exit_code == 0, resealed.stderr
    assert resealed.stdout.startswith("ok: 2 incident(s), 3 event(s), 1 audit entries verified")

    async def carry_on() -> None:  # the running bot appends to the re-sealed record
        services = build_services(load_settings(db.env, demo=True))
        services.clock = lambda: NOW
        await say(services, "boss", "note INC-2026-000002 vendor on site")
        await services.db.close()

    asyncio.run(carry_on())
    assert db.cli("incidents", "verify").stdout.startswith("ok: 2 incident(s), 4 event(s)")
    db.sql("DELETE FROM incident_event WHERE incident_id = 2 AND seq = 2")
    assert_broken(db.cli("incidents", "verify"), "BROKEN INC-2026-000002 event 2: the incident "
                                                 "pins 2 events but the record has 1")


def test_reseal_refuses_a_chain_that_fails_the_old_verification(tmp_path: Path) -> None:
    db = legacy_office(tmp_path, "UPDATE incident SET description = 'Nothing.' WHERE id = 2")
    result = db.cli("incidents", "verify", "--reseal")
    assert_broken(result, "RESEAL refused to re-seal INC-2026-000002 event 1: field description "
                          "differs from its recorded history",
                  "BROKEN INC-2026-000002: not sealed with the audit key")
    assert "INC-2026-000001" not in result.stderr  # the sound one was re-sealed


def test_every_incident_column_is_sealed_or_excluded_on_purpose() -> None:
    columns = {c.name for c in Incident.__table__.columns}  # type: ignore[attr-defined]
    assert columns == set(SEALED) | set(UNSEALED)


def test_embedded_default_generates_a_private_key_file(tmp_path: Path) -> None:
    key = resolve_audit_key(None, f"sqlite:///{tmp_path / 'data' / 'bot.db'}")
    path = tmp_path / "data" / "audit.key"
    assert key.keyed and key.source == "file"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert path.read_text().strip().encode() == key.secret and len(key.secret) == 64


def test_postgresql_without_a_key_is_warned_about(tmp_path: Path) -> None:
    pg = make_settings(tmp_path, env={"DATABASE_URL": "postgresql+psycopg://x@127.0.0.1/db"})
    assert "ELECTIONBOT_AUDIT_KEY: not set on PostgreSQL" in environment_warnings(pg.env)[0]
    keyed = make_settings(tmp_path, env={"DATABASE_URL": "postgresql+psycopg://x@127.0.0.1/db",
                                         "ELECTIONBOT_AUDIT_KEY": SECRET})
    assert environment_warnings(keyed.env) == []
    assert not resolve_audit_key(None, "postgresql+psycopg://x@127.0.0.1/db").keyed


async def test_healthz_says_whether_records_are_keyed(tmp_path: Path) -> None:
    import aiohttp

    from tests.support import running_bot

    for env, keyed, source in (({"ELECTIONBOT_AUDIT_KEY": SECRET}, True, "environment"),
                               ({}, True, "file")):
        folder = tmp_path / source
        folder.mkdir()
        async with running_bot(make_settings(folder, env=env)) as bot, \
                aiohttp.ClientSession() as http, http.get(f"{bot.url}/healthz") as resp:
            body = await resp.json()
        assert body["audit"]["keyed"] is keyed and body["audit"]["key_source"] == source
        assert SECRET not in json.dumps(body)
