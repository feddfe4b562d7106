"""Incidents filed through Slack's HTTP endpoint: throughput and ack latency, SQLite vs PostgreSQL.

Each request is a distinct signed `/incident TEXT` slash command (a quick report) from a distinct
reporter. The bot acks, then commits the incident (hash-chained event, outbox notifications) and
answers on the response_url. We measure the ack latency per request and the rate at which
incidents are committed, at 10 and 50 concurrent reporters, on a SQLite file and on the local
PostgreSQL, in one run. Prints one JSON document.

    .venv/bin/python benchmarks/incident_bench.py [--requests 300]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlencode

import aiohttp
import psycopg
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from slack_sdk.signature import SignatureVerifier  # noqa: E402, TID251

from tests.fakes.slack_api import FakeSlackApi  # noqa: E402
from tests.support import make_settings, running_bot  # noqa: E402

SECRET = "bench-signing-secret"
TOKEN = "xoxb-bench-token"
ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
ROUTING = {"routing": [{"severities": ["SEV3"], "notify": ["webchat:local:@desk"]}]}


def signed(fake: FakeSlackApi, run_id: str, n: int) -> tuple[bytes, dict[str, str]]:
    """A distinct quick report from a distinct reporter."""
    raw = urlencode({
        "team_id": "T0BENCH", "channel_id": "C0BENCH", "user_id": f"U{n:07d}",
        "user_name": "bench", "command": "/incident",
        "text": f"Poll book {run_id}-{n} is slow to sync at precinct {n % 40}",
        "response_url": fake.response_url(f"{run_id}-{n}"), "trigger_id": f"t-{run_id}-{n}",
        "api_app_id": "A0BENCH"}).encode()
    ts = str(int(time.time()))
    return raw, {"Content-Type": "application/x-www-form-urlencoded",
                 "X-Slack-Request-Timestamp": ts,
                 "X-Slack-Signature": str(SignatureVerifier(SECRET).generate_signature(
                     timestamp=ts, body=raw))}


async def incident_count(engine: sa.Engine) -> int:
    """Committed incidents so far."""
    def count() -> int:
        with engine.connect() as conn:
            return int(conn.execute(sa.text("SELECT count(*) FROM incident")).scalar_one())
    return await asyncio.to_thread(count)


async def measure(url: str, fake: FakeSlackApi, engine: sa.Engine, total: int,
                  concurrency: int) -> dict[str, float | int]:
    """Send ``total`` reports ``concurrency`` at a time; acks and commit rate."""
    run_id, latencies, failures = uuid.uuid4().hex[:6], [], 0
    before = await incident_count(engine)
    queue: asyncio.Queue[int] = asyncio.Queue()
    for n in range(total):
        queue.put_nowait(n)
    began = time.perf_counter()
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=200)) as http:
        async def worker() -> None:
            nonlocal failures
            while not queue.empty():
                raw, headers = signed(fake, run_id, queue.get_nowait())
                start = time.perf_counter()
                async with http.post(url, data=raw, headers=headers) as resp:
                    await resp.read()
                    failures += resp.status != 200
                latencies.append((time.perf_counter() - start) * 1000)
        await asyncio.gather(*(worker() for _ in range(concurrency)))
    while await incident_count(engine) < before + total:
        if time.perf_counter() - began > 300:
            break
        await asyncio.sleep(0.05)
    elapsed = time.perf_counter() - began
    filed = await incident_count(engine) - before
    ordered = sorted(latencies)
    return {"requests": total, "non_200": failures, "incidents_filed": filed,
            "incidents_per_second": round(filed / elapsed, 1),
            "ack_p50_ms": round(statistics.median(ordered), 2),
            "ack_p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], 2)}


async def one_backend(name: str, database_url: str, tmp: Path, total: int) -> dict[str, object]:
    """Both concurrency levels against one database."""
    async with FakeSlackApi() as fake:
        env = {"SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": SECRET,
               "SLACK_API_URL": fake.api_url, "DATABASE_URL": database_url}
        settings = make_settings(tmp, env, incidents=ROUTING)
        async with running_bot(settings, background=True) as bot:
            engine = sa.create_engine(database_url.replace("+aiosqlite", ""))
            url = f"{bot.url}/slack/events"
            await measure(url, fake, engine, 20, 5)  # warm-up
            results = {f"concurrency_{c}": await measure(url, fake, engine, total, c)
                       for c in (10, 50)}
            engine.dispose()
    return {name: results}


async def run(total: int) -> dict[str, object]:
    """SQLite and PostgreSQL in one run."""
    out: dict[str, object] = {"benchmark": "incident quick reports via signed Slack commands",
                              "requests_per_configuration": total, "results": {}}
    with tempfile.TemporaryDirectory() as tmp:
        sqlite_dir = Path(tmp) / "sqlite"
        sqlite_dir.mkdir()
        out["results"].update(await one_backend(  # type: ignore[union-attr]
            "sqlite", f"sqlite:///{sqlite_dir / 'bench.db'}", sqlite_dir, total))
        name = f"eb_bench_{uuid.uuid4().hex[:8]}"
        try:
            with psycopg.connect(ADMIN, autocommit=True, connect_timeout=3) as conn:
                conn.execute(f'CREATE DATABASE "{name}"')
        except psycopg.OperationalError as exc:
            out["results"]["postgresql"] = f"skipped: {exc}"  # type: ignore[index]
            return out
        try:
            pg_dir = Path(tmp) / "pg"
            pg_dir.mkdir()
            out["results"].update(await one_backend(  # type: ignore[union-attr]
                "postgresql", f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}", pg_dir,
                total))
        finally:
            with psycopg.connect(ADMIN, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return out


def main() -> None:
    """Parse arguments, run, print JSON."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=300)
    print(json.dumps(asyncio.run(run(parser.parse_args().requests)), indent=2))


if __name__ == "__main__":
    main()
