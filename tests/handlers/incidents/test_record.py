"""The tamper-evident record, export with and without redaction, the after-action report,
and a crash between commit and notification."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa

from bot.db.engine import utcnow
from bot.outbox.worker import Outbox
from bot.services import Services
from handlers.incidents.records import after_action, export_rows, incidents_since, to_csv, verify_all
from tests.handlers.incidents.conftest import NOW
from tests.handlers.incidents.test_lifecycle import file, say


async def execute(services: Services, sql: str, **params: object) -> None:
    async with services.db.engine.begin() as conn:
        await conn.execute(sa.text(sql), params)


async def test_untouched_chains_verify(services: Services) -> None:
    first = await file(services)
    await file(services, "bob", jurisdiction="KS")
    await say(services, "boss", f"status {first} in_progress checking")
    result = await verify_all(services.db)
    assert (result.incidents, result.events, result.breaks) == (2, 4, [])


async def test_editing_an_event_behind_the_apps_back_is_caught(services: Services) -> None:
    human_id = await file(services)
    await say(services, "boss", f"note {human_id} called the vendor")
    await execute(services, "UPDATE incident_event SET changes = '{\"note\": \"nothing\"}' "
                            "WHERE kind = 'note'")
    breaks = (await verify_all(services.db)).breaks
    assert breaks == [f"{human_id} event 2: content was altered, or re-computed without the "
                      "audit key (MAC mismatch)"]


async def test_editing_the_incident_row_is_caught(services: Services) -> None:
    human_id = await file(services)
    await execute(services, "UPDATE incident SET severity = 'SEV4'")
    breaks = (await verify_all(services.db)).breaks
    assert breaks and "severity differs" in str(breaks[0]) and human_id in str(breaks[0])


async def test_deleting_an_event_is_caught(services: Services) -> None:
    human_id = await file(services)
    await say(services, "boss", f"note {human_id} one")
    await say(services, "boss", f"note {human_id} two")
    await execute(services, "DELETE FROM incident_event WHERE seq = 2")
    breaks = (await verify_all(services.db)).breaks
    assert "event missing" in str(breaks[0])


async def test_export_redacts_identities_and_personal_data(services: Services) -> None:
    human_id = await file(services, description="Poll worker Jane Smith called 860-555-0100")
    await say(services, "ct-mgr", f"assign {human_id} me")
    rows = export_rows(await incidents_since(services.db, NOW.replace(day=1)), redact=True)
    plain = export_rows(await incidents_since(services.db, NOW.replace(day=1)), redact=False)
    assert plain[0]["reporter"] == "webchat:local:ann"
    assert "Jane Smith" in plain[0]["description"]
    text = json.dumps(rows)
    for secret in ("webchat:local:ann", "ct-mgr", "Jane Smith", "860-555-0100"):
        assert secret not in text
    parsed = list(csv.DictReader(io.StringIO(to_csv(rows))))
    assert parsed[0]["human_id"] == human_id and parsed[0]["reporter"] == "[redacted]"


async def test_after_action_summary(services: Services) -> None:
    first = await file(services)
    await file(services, "bob", jurisdiction="KS", category="cyber", subcategory="")
    await say(services, "ct-mgr", f"status {first} triaged")
    await say(services, "ct-mgr", f"status {first} resolved fixed")
    summary = after_action(await incidents_since(services.db, NOW.replace(day=1)))
    assert summary.total == 2
    assert summary.by_category == {"equipment_systems": 1, "cyber": 1}
    assert summary.minutes_to_ack["median"] == 0.0
    assert len(summary.open_items) == 1


async def test_crash_between_commit_and_notification_still_notifies(services: Services) -> None:
    await file(services)  # committed; the process "dies" before any outbox pass
    async with services.db.engine.connect() as conn:
        pending = (await conn.execute(sa.text(
            "SELECT count(*) FROM outbox_message WHERE status = 'pending'"))).scalar_one()
    assert pending == 2  # boss (SEV2) and the CT manager
    restarted = Outbox(services.db, clock=lambda: utcnow() + timedelta(minutes=1))
    delivered: list[str] = []

    class Recorder:
        async def send(self, destination, reply, *, key):  # noqa: ANN001, ANN202
            delivered.append(str(destination))
            return "ok"

    restarted.register("webchat", Recorder())
    assert await restarted.run_once() == 2
    assert sorted(delivered) == ["webchat:local:@boss", "webchat:local:@ct-mgr"]


async def test_cli_verify_export_and_report(tmp_path: Path) -> None:
    from tests.handlers.incidents.conftest import make_services

    services = await make_services(tmp_path)  # writes tmp_path/app.yaml and tmp_path/bot.db.engine
    await file(services)
    await services.db.close()
    env = {**os.environ, "ELECTIONBOT_CONFIG": str(tmp_path / "app.yaml"),
           "DATABASE_URL": services.settings.env.DATABASE_URL}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "app", *args], env=env,
                              capture_output=True, text=True, timeout=60)

    assert run("incidents", "verify").stdout.startswith("ok: 1 incident(s), 1 event(s)")
    report = run("incidents", "report", "--election", "2026-11-03")
    assert "Incidents since 2026-10-04: 1" in report.stdout, report.stderr
    assert "equipment_systems 1" in report.stdout
    exported = run("incidents", "export", "--since", "2026-11-01", "--format", "json", "--redact")
    assert json.loads(exported.stdout)[0]["reporter"] == "[redacted]"
    bad = run("incidents", "export", "--since", "yesterday")
    assert bad.returncode == 1 and "not a date" in bad.stderr
    engine = sa.create_engine(services.settings.env.DATABASE_URL)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE incident SET description = 'edited'"))
    engine.dispose()
    broken = run("incidents", "verify")
    assert broken.returncode == 1 and "BROKEN INC-2026-000001" in broken.stderr
