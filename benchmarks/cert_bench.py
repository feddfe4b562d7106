"""The whole certification reminder pass at 100,000 officials, database reads and writes included.

A real SQLite file (default) or a fresh database on the local PostgreSQL (``--database
postgresql``) is filled with a roster (officials, assignments, verified completions, a few
waivers) across the three shipped programs and four time zones, then the scheduler's own
``run_once`` runs exactly as the server runs it every minute: it reads the ledger, plans, builds
each person's digest and writes the digest, reminder and outbox rows. Measured for that pass:

- ``seconds``: wall time end to end (target: under 10 s at 100,000 officials);
- ``max_stall_ms``: the longest event-loop stall during it, from a ticker task that sleeps 10 ms
  and records how late it woke (target: under 50 ms); ``stalls_over_50ms`` counts them;
- ``cpu_seconds`` of the process, ``rss_mib`` now and ``max_rss_mib`` (peak since start);
- what the pass did (due, sent, skipped) and the rows it left (reminders, outbox messages);
- a second pass right after (the steady state of the next tick: everything is already sent).

The machine's load average is read before and after. Prints JSON (``--out FILE`` also writes it).

    .venv/bin/python benchmarks/cert_bench.py [--officials 100000] [--database postgresql]
        [--emails PERCENT] [--out result.json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm

ROOT = Path(os.environ.get("CERT_BENCH_ROOT", Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(ROOT))

try:  # the code measured may be older than app/services.py (a baseline checkout)
    from app.services import build_services
except ImportError:
    from app.server import build_services  # type: ignore[attr-defined, no-redef]
from bot.db.engine import sync_url  # noqa: E402

try:  # as ``serve`` does once it is ready (a baseline checkout may only freeze)
    from bot.ops.runtime import ready_to_serve
except ImportError:
    from bot.ops.heap import freeze_startup_objects as ready_to_serve  # noqa: E402
from bot.services import Services  # noqa: E402
from handlers.certifications.ledger import programs_for  # noqa: E402
from handlers.certifications.scheduler import run_once  # noqa: E402
from tests.support import make_settings, migrated  # noqa: E402

NOW = datetime(2026, 12, 17, 17, tzinfo=UTC)  # a Thursday: 09:00-12:00 in every zone below
ZONES = {"KS-CLERK": ("KS", ("America/Chicago", "America/Denver")),
         "CT-ROV": ("CT", ("America/New_York",)),
         "CERA": ("CA", ("America/Los_Angeles", "America/Chicago"))}
ROLES = {"KS-CLERK": "county_clerk", "CT-ROV": "registrar", "CERA": "election_director"}
CERT = {"holidays": ["2026-11-26", "2026-12-25", "2027-01-01"],
        "elections": [{"day": "2026-11-03", "name": "General"}],
        "supervisors": {"KS": ["webchat:local:ks-super"], "CT": ["webchat:local:ct-super"]}}
PG = "postgresql+psycopg://postgres@127.0.0.1:5432/"


def roster(n: int, services: Services, seed: int = 5,
           emails: int = 0) -> dict[str, list[dict[str, Any]]]:
    """Rows for ``n`` officials: one assignment each, random verified completions, 2 % waived.

    ``emails`` percent of them have an address on the roster (those without a chat identity
    are then reminded by e-mail); the random draws are the same whatever it is.
    """
    rng = random.Random(seed)
    programs = programs_for(services.settings.app)
    codes = sorted(programs)
    stamp = datetime(2026, 1, 1, tzinfo=UTC)
    rows: dict[str, list[dict[str, Any]]] = {"cert_official": [], "cert_assignment": [],
                                             "cert_completion": [], "cert_waiver": []}
    for i in range(1, n + 1):
        code = codes[i % len(codes)]
        jurisdiction, zones = ZONES[code]
        took = date(2019, 1, 1) + timedelta(days=rng.randrange(0, 2900))
        term = rng.choice(("two_year", "four_year"))
        rows["cert_official"].append({
            "id": i, "external_id": f"x{i}", "name": f"Official {i}",
            "email": f"official{i}@county{i % 97}.example.gov" if i % 100 < emails else "",
            "identity": None if rng.random() < 0.03 else f"webchat:local:u{i}",
            "jurisdiction": jurisdiction, "time_zone": rng.choice(zones), "flagged": "",
            "updated_at": stamp})
        rows["cert_assignment"].append({
            "official_id": i, "program": code, "role": ROLES[code], "term_type": term,
            "took_office": took, "term_end": took + timedelta(days=730 if term == "two_year"
                                                                else 1460),
            "from_deputy": rng.random() < 0.1, "acting": False})
        courses = list(programs[code].courses.values())
        for course in rng.sample(courses, rng.randrange(0, len(courses) + 1)):
            rows["cert_completion"].append({
                "official_id": i, "course": course.code, "hours": course.hours or 4.0,
                "completed_on": took + timedelta(days=rng.randrange(0, 2000)), "evidence": "",
                "status": "verified", "reported_by": "", "verified_by": None,
                "created_at": stamp})
        if rng.random() < 0.02:
            rows["cert_waiver"].append({"official_id": i, "program": code, "until": None,
                                        "reason": "bench", "granted_by": "",
                                        "granted_at": stamp})
    return rows


def seed(url: str, rows: dict[str, list[dict[str, Any]]]) -> None:
    """Bulk insert through a plain synchronous engine (set-up, not measured)."""
    engine = sa.create_engine(sync_url(url))
    meta = sa.MetaData()
    meta.reflect(engine, only=list(rows))
    with engine.begin() as conn:
        for table, values in rows.items():
            for start in range(0, len(values), 20_000):
                if values[start:start + 20_000]:
                    conn.execute(sa.insert(meta.tables[table]), values[start:start + 20_000])
    engine.dispose()


async def timed_pass(services: Services) -> dict[str, Any]:
    """One ``run_once`` with a 10 ms ticker recording how late the loop let it run."""
    lateness: list[float] = []
    stop = asyncio.Event()

    async def ticker() -> None:
        while not stop.is_set():
            before = time.perf_counter()
            await asyncio.sleep(0.01)
            lateness.append(time.perf_counter() - before - 0.01)

    tick = asyncio.create_task(ticker())
    await asyncio.sleep(0.05)
    lateness.clear()
    wall, cpu = time.perf_counter(), time.process_time()
    result = await run_once(services)
    seconds, cpu_seconds = time.perf_counter() - wall, time.process_time() - cpu
    stop.set()
    await tick
    worst = max(lateness, default=0.0)
    return {"seconds": round(seconds, 3), "cpu_seconds": round(cpu_seconds, 3),
            "max_stall_ms": round(worst * 1000, 1),
            "stalls_over_50ms": sum(1 for late in lateness if late > 0.05),
            "ticks": len(lateness), "result": vars(result)}


async def count(services: Services, sql: str) -> int:
    """One count from the database."""
    async with services.db.engine.connect() as conn:
        return int((await conn.execute(sa.text(sql))).scalar() or 0)


def rss_mib() -> float:
    """This process's resident set now."""
    with open("/proc/self/statm") as f:
        return round(int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20, 1)


async def bench(n: int, database: str, tmp: Path, emails: int = 0) -> dict[str, Any]:
    """Seed ``n`` officials, then time a first and a second pass."""
    env = None
    if database == "postgresql":
        import psycopg

        name = f"certbench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres",
                             autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        env = {"DATABASE_URL": PG + name}
    settings = make_settings(tmp, env=env, roles={"state_staff": ["webchat:local:boss"]},
                             certification=CERT)
    migrated(settings.env.DATABASE_URL)
    services = build_services(settings)
    services.clock = lambda: NOW
    started = time.perf_counter()
    seed(settings.env.DATABASE_URL, roster(n, services, emails=emails))
    seeded = time.perf_counter() - started
    sa.orm.configure_mappers()  # a running server did this on its first request
    ready_to_serve()  # as ``serve`` does once it is ready
    load_before = os.getloadavg()
    first = await timed_pass(services)
    second = await timed_pass(services)
    load_after = os.getloadavg()
    out = {"officials": n, "database": database, "emails_percent": emails,
           "now": NOW.isoformat(),
           "seed_seconds": round(seeded, 2), "first_pass": first, "second_pass": second,
           "reminder_rows": await count(services, "SELECT count(*) FROM cert_reminder_sent"),
           "outbox_rows": await count(services,
                                      "SELECT count(*) FROM outbox_message WHERE key LIKE 'cert%'"),
           "rss_mib": rss_mib(),
           "max_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
           "cpus": os.cpu_count(), "load_average_1m_before": round(load_before[0], 2),
           "load_average_1m_after": round(load_after[0], 2),
           "target_seconds": 10.0, "target_stall_ms": 50.0}
    out["meets_target"] = (first["seconds"] < 10.0 and first["max_stall_ms"] < 50.0
                           and second["max_stall_ms"] < 50.0)
    await services.db.close()
    if env is not None:  # the fresh PostgreSQL database goes, as the SQLite file does
        import psycopg

        with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres",
                             autocommit=True) as conn:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    return out


def main() -> None:
    """Parse arguments, run, print (and write) JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--officials", type=int, default=100_000)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--emails", type=int, default=0, choices=range(0, 101),
                        metavar="PERCENT", help="officials with an e-mail address (0-100)")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="cert-bench-") as tmp:
        result = asyncio.run(bench(args.officials, args.database, Path(tmp), args.emails))
    result["code"] = str(ROOT)
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
