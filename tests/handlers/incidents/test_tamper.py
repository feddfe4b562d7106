"""Tampering matrix: what a database writer does to the record, and `incidents verify` catching it.

Each case tampers through a plain SQL connection (as someone with database access would) and
runs the real CLI command. Cases where the attacker also holds the audit key are only caught
with a checkpoint taken before the tampering.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select
from typer.testing import CliRunner, Result

from app.cli.main import app
from app.services import build_services
from bot.db.engine import sync_url
from bot.ops.audit import audit
from bot.ops.audit_key import GENESIS, UNKEYED, AuditKey
from handlers.incidents.chain import counter_seal, event_hash, row_seal, seal_row
from handlers.incidents.models import Incident, IncidentEvent
from tests.handlers.incidents.conftest import INCIDENTS, NOW, ROLES
from tests.handlers.incidents.test_lifecycle import file, say
from tests.support import make_settings, migrated

SECRET = "a3f1" * 16
KEY = AuditKey(SECRET.encode(), "environment")


@dataclass
class Office:
    """One deployment's database and environment, with the CLI and a raw SQL handle."""

    env: dict[str, str]
    url: str

    def cli(self, *args: str) -> Result:
        return CliRunner().invoke(app, list(args), env=self.env)

    def sql(self, statement: str, **params: object) -> None:
        engine = sa.create_engine(sync_url(self.url))
        with engine.begin() as conn:
            conn.execute(sa.text(statement), params)
        engine.dispose()

    def recompute(self, human_id: str, key: AuditKey) -> None:
        """What an attacker does after editing: re-hash every event and re-seal the row."""
        engine = sa.create_engine(sync_url(self.url))
        with Session(engine) as session:
            incident = session.exec(select(Incident).where(Incident.human_id == human_id)).one()
            events = sorted(session.exec(select(IncidentEvent).where(
                IncidentEvent.incident_id == incident.id)).all(), key=lambda e: e.seq)
            prev = GENESIS
            for event in events:
                event.prev_hash = prev
                event.hash = prev = event_hash(key, prev_hash=prev, incident_id=event.incident_id,
                                               seq=event.seq, at=event.at, actor=event.actor,
                                               kind=event.kind, changes=event.changes)
                session.add(event)
            seal_row(key, incident, events[-1])
            incident.key_id = KEY.key_id  # as if it were the real key
            incident.seal = row_seal(key, incident)
            session.add(incident)
            session.commit()
        engine.dispose()


def make_office(tmp_path: Path, url: str | None = None) -> tuple[Office, list[str]]:
    """Three incidents: A (status + note), B (a manager's view), C (status), and audit rows."""
    env = {"ELECTIONBOT_AUDIT_KEY": SECRET, **({"DATABASE_URL": url} if url else {})}
    settings = make_settings(tmp_path, env=env, incidents=INCIDENTS, roles=ROLES)
    migrated(settings.env.DATABASE_URL)

    async def populate() -> list[str]:
        services = build_services(settings)
        services.clock = lambda: NOW
        try:
            a = await file(services)
            await say(services, "ct-mgr", f"status {a} triaged")
            await say(services, "ct-mgr", f"note {a} called the vendor")
            b = await file(services, "bob", jurisdiction="KS")
            await say(services, "boss", f"show {b}")  # someone else's report: a "viewed" event
            c = await file(services, "carl")
            await say(services, "ct-mgr", f"status {c} triaged")
            await say(services, "eve", f"show {a}")  # refused: an audit entry
            await audit(services.db, actor="webchat:local:eve", action="view", target=a,
                        allowed=False, reason="not reporter, manager or state staff")
            return [a, b, c]
        finally:
            await services.db.close()

    ids = asyncio.run(populate())
    office = Office({"ELECTIONBOT_CONFIG": str(settings.config_path),
                     "DATABASE_URL": settings.env.DATABASE_URL,
                     "ELECTIONBOT_AUDIT_KEY": SECRET}, settings.env.DATABASE_URL)
    return office, ids


def assert_broken(result: Result, *needles: str) -> None:
    assert result.exit_code == 1, result.output
    for needle in needles:
        assert needle in result.stderr, (needle, result.stderr)


@pytest.fixture
def office(tmp_path: Path) -> tuple[Office, list[str]]:
    return make_office(tmp_path)


def test_untampered_record_verifies(office: tuple[Office, list[str]]) -> None:
    db, _ = office
    result = db.cli("incidents", "verify")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("ok: 3 incident(s), 7 event(s), 2 audit entries verified")


# (case, tampering SQL, what the report names)
MATRIX = [
    ("delete the newest event, a note",
     ["DELETE FROM incident_event WHERE incident_id = 1 AND seq = 3"],
     "{a} event 3: the incident pins 3 events but the record has 2"),
    ("delete the newest event, a manager's view",
     ["DELETE FROM incident_event WHERE incident_id = 2 AND kind = 'viewed'"],
     "{b} event 2: the incident pins 2 events but the record has 1"),
    ("delete the newest status event and revert the row",
     ["DELETE FROM incident_event WHERE incident_id = 3 AND seq = 2",
      "UPDATE incident SET status = 'new', acknowledged_at = NULL, chain_count = 1, "
      "chain_head = (SELECT hash FROM incident_event WHERE incident_id = 3 AND seq = 1) "
      "WHERE id = 3"],
     "{c}: the incident row was altered behind the application (seal mismatch)"),
    ("delete the newest incident with its events",
     ["DELETE FROM incident_event WHERE incident_id = 3", "DELETE FROM incident WHERE id = 3"],
     "{c}: missing; 3 numbers were handed out"),
    ("delete a middle incident with its events",
     ["DELETE FROM incident_event WHERE incident_id = 2", "DELETE FROM incident WHERE id = 2"],
     "{b}: missing; 3 numbers were handed out"),
    ("delete the newest incident and rewind the counter",
     ["DELETE FROM incident_event WHERE incident_id = 3", "DELETE FROM incident WHERE id = 3",
      "UPDATE incident_counter SET last = 2"],
     "incident counter 2026: altered behind the application (seal mismatch)"),
    ("edit created_at",
     ["UPDATE incident SET created_at = '2026-11-01 09:00:00.000000' WHERE id = 2"],
     "{b} event 1: created_at differs from the time of the first event"),
    ("edit a column no event tracks",
     ["UPDATE incident SET idempotency_key = 'other' WHERE id = 2"],
     "{b}: the incident row was altered behind the application (seal mismatch)"),
    ("edit an audit entry",
     ["UPDATE audit_entry SET reason = 'allowed after all' WHERE seq = 1"],
     "audit entry 1: content was altered"),
    ("delete the newest audit entry",
     ["DELETE FROM audit_entry WHERE seq = (SELECT max(seq) FROM audit_entry)"],
     "audit log: the pinned head says 2 entries, the log has 1"),
]


@pytest.mark.parametrize(("case", "statements", "named"), MATRIX, ids=[m[0] for m in MATRIX])
def test_tampering_is_caught(office: tuple[Office, list[str]], case: str,
                             statements: list[str], named: str) -> None:
    db, (a, b, c) = office
    for statement in statements:
        db.sql(statement)
    assert_broken(db.cli("incidents", "verify"), "BROKEN " + named.format(a=a, b=b, c=c))


def test_rewrite_and_recompute_without_the_key(office: tuple[Office, list[str]]) -> None:
    db, (a, _, _) = office
    rewrite_description(db, a)
    db.recompute(a, UNKEYED)  # the old, keyless hash: anyone could do this before
    assert_broken(db.cli("incidents", "verify"),
                  f"BROKEN {a} event 1: content was altered, or re-computed without the audit key")


def rewrite_description(db: Office, human_id: str) -> None:
    engine = sa.create_engine(sync_url(db.url))
    with engine.begin() as conn:
        changes = json.loads(conn.execute(sa.text(
            "SELECT changes FROM incident_event WHERE seq = 1 AND incident_id = "
            "(SELECT id FROM incident WHERE human_id = :h)"), {"h": human_id}).scalar_one())
        changes["description"][1] = "Nothing happened."
        conn.execute(sa.text("UPDATE incident_event SET changes = :c WHERE seq = 1 AND "
                             "incident_id = (SELECT id FROM incident WHERE human_id = :h)"),
                     {"c": json.dumps(changes, sort_keys=True), "h": human_id})
        conn.execute(sa.text("UPDATE incident SET description = 'Nothing happened.' "
                             "WHERE human_id = :h"), {"h": human_id})
    engine.dispose()


def checkpoint(db: Office, path: Path) -> None:
    result = db.cli("incidents", "checkpoint", "--out", str(path))
    assert result.exit_code == 0, result.stderr
    assert_verifies_with(db, path)


def assert_verifies_with(db: Office, path: Path) -> None:
    result = db.cli("incidents", "verify", "--checkpoint", str(path))
    assert result.exit_code == 0, result.stderr


def test_rewrite_and_recompute_with_the_key_is_caught_by_a_checkpoint(
        office: tuple[Office, list[str]], tmp_path: Path) -> None:
    db, (a, _, _) = office
    checkpoint(db, tmp_path / "checkpoints.jsonl")
    rewrite_description(db, a)
    db.recompute(a, KEY)
    assert db.cli("incidents", "verify").exit_code == 0  # the key alone cannot tell
    assert_broken(db.cli("incidents", "verify", "--checkpoint", str(tmp_path / "checkpoints.jsonl")),
                  f"BROKEN {a} event 3: differs from the checkpoint of")


def test_truncation_after_a_checkpoint(office: tuple[Office, list[str]], tmp_path: Path) -> None:
    db, (a, _, _) = office
    checkpoint(db, tmp_path / "cp.jsonl")
    db.sql("DELETE FROM incident_event WHERE incident_id = 1 AND seq = 3")
    db.recompute(a, KEY)
    assert db.cli("incidents", "verify").exit_code == 0
    assert_broken(db.cli("incidents", "verify", "--checkpoint", str(tmp_path / "cp.jsonl")),
                  f"BROKEN {a} event 3: missing; the record was truncated after the checkpoint")


def test_deleting_an_incident_after_a_checkpoint(office: tuple[Office, list[str]],
                                                 tmp_path: Path) -> None:
    db, (_, _, c) = office
    checkpoint(db, tmp_path / "cp.jsonl")
    db.sql("DELETE FROM incident_event WHERE incident_id = 3")
    db.sql("DELETE FROM incident WHERE id = 3")
    db.sql("UPDATE incident_counter SET last = 2, seal = :s", s=counter_seal(KEY, 2026, 2))
    assert db.cli("incidents", "verify").exit_code == 0
    assert_broken(db.cli("incidents", "verify", "--checkpoint", str(tmp_path / "cp.jsonl")),
                  f"BROKEN {c}: deleted after the checkpoint of")


def test_an_altered_checkpoint_is_refused(office: tuple[Office, list[str]],
                                          tmp_path: Path) -> None:
    db, _ = office
    path = tmp_path / "cp.jsonl"
    checkpoint(db, path)
    checkpoint(db, path)  # appending: every line is checked
    lines = path.read_text().splitlines()
    assert len(lines) == 2
    forged = json.loads(lines[1])
    forged["incidents"] = forged["incidents"][:1]
    path.write_text(lines[0] + "\n" + json.dumps(forged) + "\n")
    assert_broken(db.cli("incidents", "verify", "--checkpoint", str(path)),
                  "BROKEN checkpoint line 2: signature does not match")


def test_another_key_is_named(office: tuple[Office, list[str]]) -> None:
    db, (a, _, _) = office
    result = CliRunner().invoke(app, ["incidents", "verify"],
                                env={**db.env, "ELECTIONBOT_AUDIT_KEY": "b" * 64})
    assert_broken(result, f"BROKEN {a}: sealed with another audit key (key id {KEY.key_id}")


def test_checkpoint_refuses_a_broken_record(office: tuple[Office, list[str]],
                                            tmp_path: Path) -> None:
    db, _ = office
    db.sql("DELETE FROM incident_event WHERE incident_id = 1 AND seq = 3")
    result = db.cli("incidents", "checkpoint", "--out", str(tmp_path / "cp.jsonl"))
    assert result.exit_code == 1 and "refusing to checkpoint" in result.stderr
    assert not (tmp_path / "cp.jsonl").exists()


@pytest.mark.postgres
def test_postgresql_newest_note_and_a_keyed_rewrite(postgres_url: str, tmp_path: Path) -> None:
    db, (a, _, _) = make_office(tmp_path, postgres_url)
    assert db.cli("incidents", "verify").exit_code == 0
    checkpoint(db, tmp_path / "cp.jsonl")
    rewrite_description(db, a)
    db.recompute(a, KEY)
    assert_broken(db.cli("incidents", "verify", "--checkpoint", str(tmp_path / "cp.jsonl")),
                  f"BROKEN {a} event 3: differs from the checkpoint of")
    db.sql("DELETE FROM incident_event WHERE incident_id = 1 AND seq = 3")
    assert_broken(db.cli("incidents", "verify"),
                  f"BROKEN {a} event 3: the incident pins 3 events but the record has 2")


def strip_to_legacy(db: Office, human_id: str) -> None:
    """Make an incident look like one from before the upgrade: an unkeyed chain, no seal."""
    rewrite_description(db, human_id)
    db.recompute(human_id, UNKEYED)
    db.sql("UPDATE incident SET seal = NULL, key_id = NULL, chain_count = NULL, chain_head = NULL "
           "WHERE human_id = :h", h=human_id)


def test_reseal_refuses_a_newer_incident_stripped_to_look_legacy(
        office: tuple[Office, list[str]]) -> None:
    db, (_, _, c) = office
    strip_to_legacy(db, c)
    assert_broken(db.cli("incidents", "verify", "--reseal"),
                  f"RESEAL refused to re-seal {c}: it is newer than records already sealed",
                  f"BROKEN {c}: not sealed with the audit key")


def test_an_audit_log_stripped_to_look_legacy_is_not_re_sealed_past_a_checkpoint(
        office: tuple[Office, list[str]], tmp_path: Path) -> None:
    db, _ = office
    checkpoint(db, tmp_path / "checkpoints.jsonl")
    db.sql("UPDATE audit_entry SET reason = 'allowed after all'")
    db.sql("UPDATE audit_entry SET seq = NULL, prev_hash = NULL, hash = NULL")
    db.sql("DELETE FROM audit_head")
    # Without the checkpoint it reads like a log from before the upgrade ...
    assert_broken(db.cli("incidents", "verify"), "audit log: 2 entries from before")
    # ... with it, re-sealing is refused and the change is named.
    refused = db.cli("incidents", "verify", "--reseal", "--checkpoint",
                     str(tmp_path / "checkpoints.jsonl"))
    assert_broken(refused, "RESEAL refused: the record differs from the checkpoint",
                  "BROKEN audit log")


def test_reseal_with_a_checkpoint_re_seals_nothing_that_changed_since(
        office: tuple[Office, list[str]], tmp_path: Path) -> None:
    db, (a, _, _) = office  # the oldest incident: no sealed record precedes it
    checkpoint(db, tmp_path / "checkpoints.jsonl")
    strip_to_legacy(db, a)
    refused = db.cli("incidents", "verify", "--reseal", "--checkpoint",
                     str(tmp_path / "checkpoints.jsonl"))
    assert_broken(refused, "RESEAL refused: the record differs from the checkpoint")
    assert_broken(db.cli("incidents", "verify"), f"BROKEN {a}: not sealed with the audit key")
