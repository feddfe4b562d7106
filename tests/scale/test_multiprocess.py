"""Several web instances and workers as separate processes on the real PostgreSQL.

Two `serve --no-worker` instances and two `worker` processes share one database. Incidents are
filed alternately on both instances; an alert goes to 2,000 destinations; reminders fall due for
1,000 officials; one worker is killed with SIGKILL in the middle. Every delivery and reminder
must happen exactly once, none lost, and the dead worker's share must be picked up within a
bounded time. All processes run on a simulated clock starting 2026-12-17 15:00 UTC (09:00 in
Chicago, when the Kansas year-one deadline's 14-day reminder is due).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import aiohttp
import pytest
import sqlalchemy as sa

from app.services import build_services
from bot.db.engine import Database, upgrade, utcnow
from bot.ops.jobs import prepare_engine_schema
from handlers.alerts import service
from handlers.alerts.forms import validate
from handlers.alerts.service import Actor
from tests.handlers.alerts.conftest import ALERTS, ROLES, compose_values
from tests.handlers.incidents.conftest import INCIDENTS
from tests.support import free_port, make_settings

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.timeout(300)]
MEMBERS = 2000
OFFICIALS = 1000
START = "2026-12-17T15:00:05+00:00"
CERT = {"holidays": ["2026-12-25"], "scheduler_interval_seconds": 2,
        "supervisors": {"KS": ["webchat:local:boss"]}}


def _roster(path: Path) -> Path:
    lines = ["external_id,name,identity,jurisdiction,time_zone,program,role,term_type,"
             "took_office"]
    lines += [f"o{i},Official {i},webchat:local:o{i},KS,America/Chicago,KS-CLERK,county_clerk,"
              f"four_year,2025-02-03" for i in range(OFFICIALS)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _spawn(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "app", *args], env=env,
                            stdout=log.open("wb"), stderr=subprocess.STDOUT)


async def _wait_http(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as http:
        while time.monotonic() < deadline:
            try:
                async with http.get(url) as resp:
                    if resp.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.2)
    raise AssertionError(f"{url} did not come up")


async def _count(db: Database, sql: str) -> int:
    async with db.engine.connect() as conn:
        return int((await conn.execute(sa.text(sql))).scalar_one())


async def _send_alert(settings) -> int:  # noqa: ANN001
    services = build_services(settings)
    now = utcnow()
    actor = Actor("webchat:local:bc1", settings.app)
    clean, errors = validate(compose_values(tiers="", groups="many"), settings.app, now,
                             child=False, known_groups={"many"})
    assert clean is not None, errors
    alert, _ = await service.create_draft(db=services.db, app=settings.app, actor=actor,
                                          clean=clean, reply_to="webchat:local:@bc1", now=now)
    _, count = await service.send(db=services.db, app=settings.app, actor=actor,
                                  public_id=alert.public_id, now=now)
    await services.db.close()
    return count


async def test_two_web_instances_two_workers_and_a_killed_worker(tmp_path: Path,
                                                                 postgres_url: str) -> None:
    many = {"name": "many", "tier": "T1", "members": [
        {"destination": f"webchat:local:@m{i}", "organisation": f"Org {i % 50}",
         "jurisdiction": "KS"} for i in range(MEMBERS)]}
    settings = make_settings(tmp_path, env={"DATABASE_URL": postgres_url}, roles=ROLES,
                             incidents=INCIDENTS, certification=CERT,
                             alerts={**ALERTS, "groups": [*ALERTS["groups"], many]})
    upgrade(postgres_url)
    schema_services = build_services(settings)
    await prepare_engine_schema(schema_services)
    await schema_services.db.close()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SLACK_", "MICROSOFT_", "DATABASE_URL", "ELECTIONBOT_"))}
    env.update({"ELECTIONBOT_CONFIG": str(tmp_path / "app.yaml"), "DATABASE_URL": postgres_url,
                "ELECTIONBOT_SIMULATED_START": START})
    imported = subprocess.run([sys.executable, "-m", "app", "roster", "import",
                               str(_roster(tmp_path / "officials.csv"))], env=env,
                              capture_output=True, text=True, timeout=120)
    assert imported.returncode == 0, imported.stdout + imported.stderr
    ports = [free_port(), free_port()]
    # Demo mode: the reporters are self-declared web chat names (demo.yaml's grants).
    procs = [_spawn(["serve", "--demo", "--no-worker", "--port", str(p)], env,
                    tmp_path / f"web{p}.log") for p in ports]
    workers = [_spawn(["worker", "--demo", "--concurrency", "4"], env,
                      tmp_path / f"worker{i}.log")
               for i in range(2)]
    db = Database(postgres_url)
    try:
        for port in ports:
            await _wait_http(f"http://127.0.0.1:{port}/readyz")
        async with aiohttp.ClientSession() as http:
            for n in range(10):
                url = f"http://127.0.0.1:{ports[n % 2]}/webchat/messages"
                async with http.post(url, json={"user": f"r{n}", "text":
                                                f"incident tabulator {n} jammed"}) as resp:
                    assert resp.status == 200
                    assert "Filed INC-" in (await resp.json())["replies"][0]["text"]
        assert await _send_alert(settings) == MEMBERS
        deadline = time.monotonic() + 60
        while await _count(db, "SELECT count(*) FROM webchat_inbox") < 600:
            assert time.monotonic() < deadline, "deliveries did not start"
            await asyncio.sleep(0.1)
        workers[0].send_signal(signal.SIGKILL)  # mid-broadcast, no chance to clean up
        workers[0].wait(timeout=10)
        unsent_at_kill = await _count(db, "SELECT count(*) FROM outbox_message "
                                          "WHERE status <> 'sent'")
        assert unsent_at_kill > 0, "the kill must land in the middle of the broadcast"
        killed_at = time.monotonic()
        deadline = killed_at + 120
        reminder_rows = ("SELECT count(*) FROM outbox_message "
                         "WHERE key LIKE 'cert:webchat:local:o%'")
        while (await _count(db, "SELECT count(*) FROM outbox_message WHERE status <> 'sent'")
               or await _count(db, reminder_rows) < OFFICIALS):
            assert time.monotonic() < deadline, "work of the killed worker was not picked up"
            await asyncio.sleep(0.2)
        recovered_in = time.monotonic() - killed_at
        async with db.engine.connect() as conn:
            rows = (await conn.execute(sa.text("SELECT payload FROM webchat_inbox"))).all()
            human_ids = sorted(r[0] for r in (await conn.execute(sa.text(
                "SELECT human_id FROM incident"))).all())
        keys = Counter(json.loads(r[0])["outbox_key"] for r in rows)
        alert_keys = [k for k in keys if k.startswith("alert:")]
        assert len(alert_keys) == MEMBERS, "every destination reached"
        reminders = [k for k in keys if k.startswith("cert:webchat:local:o")]
        assert len(reminders) == OFFICIALS, "every official reminded"
        assert await _count(db, "SELECT count(*) FROM cert_reminder_sent") >= OFFICIALS
        assert max(keys.values()) == 1, "nothing delivered twice"
        assert await _count(db, "SELECT count(*) FROM outbox_message") == len(keys)
        assert human_ids == [f"INC-{utcnow().year}-{n:06d}" for n in range(1, 11)]
        assert recovered_in < 120
    finally:
        for proc in procs + workers:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs + workers:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        await db.close()
