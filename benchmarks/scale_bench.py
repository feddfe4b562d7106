"""Scaling on PostgreSQL: deliveries per second, CPU per delivery and incident ack p99 with 1
and 2 workers / web instances, each a separate process, plus a profile of one worker. Prints one
JSON document (also written to ``--out``).

The platforms are not the bottleneck here: deliveries go to web chat inboxes (a database insert
per message, no rate limit), so the measurement is of the bot itself. Each configuration runs
``--runs`` times (median and spread). The broadcast's commit wakes the workers as the web's
commit hook does in production (a drain job through the job engine, one per worker), so no
sweep wait is in the timed window. CPU is read from /proc: the bot's processes (web, workers)
and PostgreSQL's backends (found in pg_stat_activity) apart, per delivery. On 2 cores, CPU per
delivery that does not rise with a second worker is the evidence that more cores will scale.
``BENCH_ROOT=DIR`` measures another checkout (run with that checkout's interpreter).

    .venv/bin/python benchmarks/scale_bench.py [--deliveries 3000] [--incidents 200] [--runs 3]
        [--out FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import pstats
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import aiohttp
import psycopg

ROOT = Path(os.environ.get("BENCH_ROOT") or Path(__file__).resolve().parent.parent)
sys.path.insert(0, str(ROOT))

try:  # the code measured may be older than app/services.py (a baseline checkout)
    from app.services import build_services
except ImportError:
    from app.server import build_services  # type: ignore[attr-defined, no-redef]
from bot.db.engine import Database, upgrade  # noqa: E402
from bot.messages import Destination, Reply  # noqa: E402
from bot.ops.jobs import DRAIN_TASK, conninfo, prepare_engine_schema  # noqa: E402
from bot.outbox.queue import enqueue  # noqa: E402
from tests.support import free_port, make_settings  # noqa: E402

ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


def spawn(args: list[str], env: dict[str, str], log: Path, profile: Path | None = None
          ) -> subprocess.Popen[bytes]:
    """Start `electionbot ARGS` (optionally under cProfile)."""
    prefix = [sys.executable]
    if profile is not None:
        prefix += ["-m", "cProfile", "-o", str(profile)]
    return subprocess.Popen([*prefix, "-m", "app", *args], env=env, stdout=log.open("wb"),
                            stderr=subprocess.STDOUT, cwd=ROOT)


async def wait_ready(port: int) -> None:
    """Until /readyz answers 200."""
    async with aiohttp.ClientSession() as http:
        for _ in range(1200):  # a loaded 2-core machine can take a minute to import and migrate
            try:
                async with http.get(f"http://127.0.0.1:{port}/readyz") as resp:
                    if resp.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError(f"web instance on {port} did not start")


async def count(db: Database, sql: str) -> int:
    """One integer from SQL."""
    import sqlalchemy as sa

    async with db.engine.connect() as conn:
        return int((await conn.execute(sa.text(sql))).scalar_one())


async def broadcast(db: Database, n: int, tag: str) -> None:
    """Commit ``n`` web chat deliveries in one transaction (as an alert send does)."""
    async with db.session() as session:
        for i in range(n):
            enqueue(session, key=f"bench:{tag}:{i}",
                    destination=Destination.parse(f"webchat:local:@m{i % 500}"),
                    reply=Reply(text=f"bench {tag} {i}"))
        await session.commit()


TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU of ``pids`` so far (a process gone counts 0)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / TICK


def backends(name: str) -> list[int]:
    """PostgreSQL backend pids serving database ``name``."""
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        return [r[0] for r in conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s", (name,)).fetchall()]


async def wake_workers(url: str, workers: int) -> None:
    """What the web's commit hook does after an enqueue: ask the job engine for drains."""
    import procrastinate

    app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=conninfo(url)))
    async with app.open_async():
        for _ in range(workers):
            await app.configure_task(DRAIN_TASK, queue="outbox").defer_async()


async def file_incidents(ports: list[int], n: int, concurrency: int = 20) -> list[float]:
    """Quick incident reports spread over the web instances; latency per request (ms)."""
    latencies: list[float] = []
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(n):
        queue.put_nowait(i)
    async with aiohttp.ClientSession() as http:
        async def worker() -> None:
            while not queue.empty():
                i = queue.get_nowait()
                url = f"http://127.0.0.1:{ports[i % len(ports)]}/webchat/messages"
                started = time.perf_counter()
                async with http.post(url, json={"user": f"u{i}", "text":
                                                f"incident scanner {uuid.uuid4().hex[:6]}"}) as r:
                    await r.read()
                latencies.append((time.perf_counter() - started) * 1000)
        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies


async def one_config(url: str, tmp: Path, webs: int, workers: int, deliveries: int,
                     incidents: int, profile: Path | None) -> dict[str, object]:
    """Start the processes, broadcast while filing incidents, stop everything."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SLACK_", "MICROSOFT_", "DATABASE_URL", "ELECTIONBOT_"))}
    env.update({"ELECTIONBOT_CONFIG": str(tmp / "app.yaml"), "DATABASE_URL": url,
                "ELECTIONBOT_LOG_LEVEL": "WARNING"})
    ports = [free_port() for _ in range(webs)]
    procs = [spawn(["serve", "--demo", "--no-worker", "--port", str(p)], env, tmp / f"web{p}.log")
             for p in ports]
    procs += [spawn(["worker", "--demo", "--concurrency", "16"], env, tmp / f"worker{i}.log",
                    profile if i == 0 else None) for i in range(workers)]
    db = Database(url)
    try:
        for port in ports:
            await wait_ready(port)
        before = await count(db, "SELECT count(*) FROM webchat_inbox")
        tag = uuid.uuid4().hex[:6]
        name = url.rsplit("/", 1)[1]
        pg_before = {pid: cpu_seconds([pid]) for pid in backends(name)}
        bot_before = cpu_seconds([p.pid for p in procs])
        started = time.perf_counter()
        await broadcast(db, deliveries, tag)
        await wake_workers(url, workers)
        latencies = await file_incidents(ports, incidents)
        while await count(db, "SELECT count(*) FROM outbox_message WHERE status <> 'sent'"):
            if time.perf_counter() - started > 600:
                raise RuntimeError("deliveries did not finish in 10 minutes")
            await asyncio.sleep(0.1)
        elapsed = time.perf_counter() - started
        bot_cpu = cpu_seconds([p.pid for p in procs]) - bot_before
        pg_cpu = sum(cpu_seconds([pid]) - pg_before.get(pid, 0.0) for pid in backends(name))
        delivered = await count(db, "SELECT count(*) FROM webchat_inbox") - before
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
        await db.close()
    ordered = sorted(latencies)
    return {"web_instances": webs, "workers": workers, "deliveries": delivered,
            "seconds": round(elapsed, 2), "deliveries_per_second": round(delivered / elapsed, 1),
            "incident_ack_p50_ms": round(statistics.median(ordered), 1),
            "incident_ack_p99_ms": round(ordered[int(len(ordered) * 0.99) - 1], 1),
            "bot_cpu_ms_per_delivery": round(bot_cpu / delivered * 1000, 3),
            "postgres_cpu_ms_per_delivery": round(pg_cpu / delivered * 1000, 3),
            "load1": os.getloadavg()[0]}


def top_functions(profile: Path, limit: int = 15) -> list[dict[str, object]]:
    """Where one worker's CPU went: functions by own time (cProfile's cumulative time is
    meaningless for coroutines, which it keeps counting while they are suspended)."""
    if not profile.exists():
        return []
    stats = pstats.Stats(str(profile))
    rows = []
    for (filename, line, name), (_cc, _nc, tt, ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        rows.append((ct, tt, f"{Path(filename).name}:{line}:{name}"))
    rows.sort(key=lambda r: r[1], reverse=True)
    total = sum(r[1] for r in rows) or 1.0
    return [{"function": name, "own_s": round(tt, 2), "share": round(tt / total, 3)}
            for _ct, tt, name in rows[:limit]]


CONFIGS = ((1, 1), (1, 2), (2, 2))  # (web instances, workers)
MEASURES = ("deliveries_per_second", "bot_cpu_ms_per_delivery", "postgres_cpu_ms_per_delivery",
            "incident_ack_p99_ms")


async def run(deliveries: int, incidents: int, runs: int, profile_worker: bool
              ) -> dict[str, object]:
    """Every configuration ``runs`` times (order alternated), each on a fresh database."""
    samples: dict[tuple[int, int], list[dict[str, object]]] = {c: [] for c in CONFIGS}
    hot: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        for i in range(runs):
            for webs, workers in (CONFIGS if i % 2 == 0 else CONFIGS[::-1]):
                profile = (tmp / "worker.prof" if profile_worker and i == 0
                           and (webs, workers) == (1, 1) else None)
                samples[(webs, workers)].append(await fresh_config(
                    tmp, webs, workers, deliveries, incidents, profile))
                if profile is not None:
                    hot = top_functions(profile)
    results = []
    for (webs, workers), runs_of in samples.items():
        row: dict[str, object] = {"web_instances": webs, "workers": workers, "runs": len(runs_of)}
        for measure in MEASURES:
            values = [float(r[measure]) for r in runs_of]  # type: ignore[arg-type]
            row[measure] = {"median": round(statistics.median(values), 3),
                            "min": round(min(values), 3), "max": round(max(values), 3)}
        results.append(row)

    def median(config: int, measure: str) -> float:
        return float(results[config][measure]["median"])  # type: ignore[index]
    return {"benchmark": "deliveries/s, CPU per delivery and incident ack with 1-2 web "
                         "instances and 1-2 workers",
            "database": "postgresql", "deliveries": deliveries, "results": results,
            "scaling_ratio_2_workers": round(median(1, "deliveries_per_second")
                                             / median(0, "deliveries_per_second"), 2),
            "bot_cpu_per_delivery_ratio_2_vs_1_workers": round(
                median(1, "bot_cpu_ms_per_delivery") / median(0, "bot_cpu_ms_per_delivery"), 2),
            "samples": {f"{w}x{k}": v for (w, k), v in samples.items()},
            "load1_end": os.getloadavg()[0], "cores": os.cpu_count(),
            **({"profile_of_one_worker_1x1": hot} if profile_worker else {})}


async def fresh_config(tmp: Path, webs: int, workers: int, deliveries: int, incidents: int,
                       profile: Path | None) -> dict[str, object]:
    """One configuration on a new database, dropped afterwards."""
    name = f"eb_scale_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    try:
        settings = make_settings(tmp, env={"DATABASE_URL": url})
        upgrade(url)
        services = build_services(settings)
        await prepare_engine_schema(services)
        await services.db.close()
        return await one_config(url, tmp, webs, workers, deliveries, incidents, profile)
    finally:
        with psycopg.connect(ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> None:
    """Parse arguments, run, print JSON."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--deliveries", type=int, default=3000)
    parser.add_argument("--incidents", type=int, default=200)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--profile", action="store_true",
                        help="profile the first 1x1 worker (cProfile inflates its CPU figure)")
    parser.add_argument("--out", type=Path, help="also write the JSON document to this file")
    args = parser.parse_args()
    result = asyncio.run(run(args.deliveries, args.incidents, args.runs, args.profile))
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
