"""Background work behind one seam, with two back ends.

Domains register *periodic* work (``Periodic``: a name, an interval and an async tick) in
``handlers.build_periodic``. The embedded default (SQLite, one process) runs every tick in-process
in ``serve``. On PostgreSQL with ``electionbot worker``, the ticks are procrastinate periodic
tasks: procrastinate defers each tick once across all workers on all machines, hands it to one
worker, retries stalled jobs of a dead worker, and keeps its queue in the same PostgreSQL.

The guarantees (exactly-once effects, pacing, retries, dead letters) are not in the back end:
they live in the database rows the ticks work on (the outbox's leased claims, unique reminder and
delivery keys), so a tick that runs twice, or on two machines at once, still has one effect.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from bot.services import Services

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Periodic:
    """Work to repeat every ``every`` seconds (1-59); ``tick`` must be safe to run concurrently."""

    name: str
    every: int
    tick: Callable[[Services], Awaitable[Any]]


async def run_in_process(services: Services, periodic: Sequence[Periodic]) -> None:
    """The embedded back end: each tick in its own loop until cancelled."""
    async def loop(job: Periodic) -> None:
        while True:
            try:
                await job.tick(services)
            except Exception:
                log.exception("background tick failed; next tick will retry",
                              extra={"job": job.name})
            await asyncio.sleep(job.every)

    tasks = [asyncio.create_task(loop(job), name=job.name) for job in periodic]
    try:
        await asyncio.gather(*tasks)
    finally:
        for task in tasks:
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(*tasks, return_exceptions=True)


def conninfo(database_url: str) -> str:
    """A libpq connection string from our SQLAlchemy URL."""
    from sqlalchemy.engine import make_url

    url = make_url(database_url)
    if url.get_backend_name() != "postgresql":
        raise ValueError("the distributed worker needs DATABASE_URL=postgresql+psycopg://...")
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


DRAIN_TASK = "electionbot.outbox_drain"


def build_procrastinate(services: Services, periodic: Sequence[Periodic]) -> Any:
    """A procrastinate App running the outbox drain and our periodic ticks (PostgreSQL only)."""
    import procrastinate

    app = procrastinate.App(connector=procrastinate.PsycopgConnector(
        conninfo=conninfo(services.settings.env.DATABASE_URL)))

    @app.task(name=DRAIN_TASK, queue="outbox", pass_context=False)
    async def drain() -> None:
        await services.outbox.drain()

    # The sweep catches what a lost wake-up or a retry's backoff left due.
    _register(app, services, Periodic("outbox-sweep", 2, _drain_tick), queue="outbox")
    for job in periodic:
        _register(app, services, job)
    _register_stalled_job_rescue(app)
    return app


async def _drain_tick(services: Services) -> None:
    await services.outbox.drain()


def defer_drain_soon(app: Any) -> Callable[[], None]:
    """An ``Outbox.on_wake`` that asks the engine for a drain (at most one waiting at a time)."""
    import procrastinate.exceptions

    pending: set[asyncio.Task[None]] = set()

    async def defer() -> None:
        with contextlib.suppress(procrastinate.exceptions.AlreadyEnqueued):
            await app.configure_task(DRAIN_TASK, queueing_lock="outbox-drain").defer_async()

    def wake() -> None:
        task = asyncio.get_running_loop().create_task(defer())
        pending.add(task)
        task.add_done_callback(pending.discard)

    return wake


def _cron(every: int) -> str:
    # Six-field cron: the sixth field is seconds. Minutes for longer intervals.
    if every >= 60:
        return f"*/{max(1, every // 60)} * * * *"
    return f"* * * * * */{max(1, every)}"


def _register(app: Any, services: Services, job: Periodic, queue: str = "periodic") -> None:
    # procrastinate defers each periodic tick once across the whole deployment.
    @app.periodic(cron=_cron(job.every), periodic_id=job.name)
    @app.task(name=f"electionbot.{job.name}", queue=queue, pass_context=False)
    async def tick(timestamp: int) -> None:
        await job.tick(services)


def _register_stalled_job_rescue(app: Any) -> None:
    @app.periodic(cron="* * * * * */5", periodic_id="rescue")
    @app.task(name="electionbot.rescue_stalled", queue="periodic", pass_context=True)
    async def rescue(context: Any, timestamp: int) -> None:
        # A worker killed with SIGKILL leaves its jobs "doing"; its heartbeat stops, so after
        # the timeout the jobs go back to the queue for a live worker.
        manager = context.app.job_manager
        for stalled in await manager.get_stalled_jobs(seconds_since_heartbeat=STALLED_AFTER):
            if stalled.task_name != "electionbot.rescue_stalled":
                await manager.retry_job(stalled)


STALLED_AFTER = 10.0
HEARTBEAT = 2.0
UPGRADE_LOCK = 72_410_002


async def ensure_schema(app: Any, database_url: str) -> bool:
    """Create procrastinate's tables once (serialised across instances); True if created."""
    import psycopg

    async with await psycopg.AsyncConnection.connect(conninfo(database_url),
                                                     autocommit=True) as conn:
        await conn.execute("SELECT pg_advisory_lock(%s)", (UPGRADE_LOCK,))
        try:
            row = await (await conn.execute(
                "SELECT to_regclass('procrastinate_jobs') IS NOT NULL")).fetchone()
            if row and row[0]:
                return False
            await app.schema_manager.apply_schema_async()
            return True
        finally:
            await conn.execute("SELECT pg_advisory_unlock(%s)", (UPGRADE_LOCK,))


async def prepare_engine_schema(services: Services) -> None:
    """On PostgreSQL, make sure procrastinate's tables exist (``db upgrade`` and start-up)."""
    if services.db.is_sqlite:
        return
    engine = build_procrastinate(services, [])
    async with engine.open_async():
        await ensure_schema(engine, services.settings.env.DATABASE_URL)


async def run_worker(services: Services, periodic: Sequence[Periodic], *,
                     queues: Sequence[str], concurrency: int) -> None:
    """``electionbot worker``: procrastinate runs drains and ticks until SIGTERM / SIGINT.

    On SIGTERM procrastinate stops taking jobs and waits (up to the graceful timeout) for the
    ones in flight; a job cut off by SIGKILL is retried elsewhere by the stalled-job rescue.
    Then the database is closed, which first writes the rows its group-commit writers still
    hold (web chat inbox messages, question log).
    """
    engine = build_procrastinate(services, periodic)
    try:
        async with engine.open_async():
            await ensure_schema(engine, services.settings.env.DATABASE_URL)
            services.outbox.on_wake = defer_drain_soon(engine)
            await engine.run_worker_async(
                queues=list(queues), concurrency=concurrency, install_signal_handlers=True,
                update_heartbeat_interval=HEARTBEAT, stalled_worker_timeout=STALLED_AFTER,
                shutdown_graceful_timeout=30, listen_notify=True, delete_jobs="successful")
    finally:
        await services.db.close()
