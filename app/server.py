"""One aiohttp application: /slack/events, /api/messages, /healthz and the local web chat."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from pathlib import Path

from aiohttp import web
from aiohttp.typedefs import Middleware

from app.demo import demo_fence
from bot.adapters import http_input
from bot.adapters import pages as domain_pages
from bot.adapters.email import app as email
from bot.adapters.slack import app as slack
from bot.adapters.teams import endpoint as teams
from bot.adapters.webchat import endpoint as webchat
from bot.db.idempotency import forget_older_than
from bot.ops import metrics
from bot.ops.audit_key import audit_health
from bot.ops.heap import refreeze_if_frozen
from bot.ops.jobs import build_procrastinate, defer_drain_soon, run_in_process
from bot.ops.logs import quiet_malformed_requests
from bot.router import Router
from bot.services import Services
from handlers import build_handlers, build_pages, build_periodic

log = logging.getLogger(__name__)
MAX_BODY = 1024 * 1024
SERVICES: web.AppKey[Services] = web.AppKey("services", Services)
ROUTER: web.AppKey[Router] = web.AppKey("router", Router)
PLATFORMS: web.AppKey[dict[str, bool]] = web.AppKey("platforms", dict)
WORKER: web.AppKey[bool] = web.AppKey("worker", bool)


@web.middleware
async def error_boundary(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """The last resort: no traceback ever reaches a caller; log it with a correlation id.

    Bad input never gets here (``http_input.guard`` and the adapters answer it with a 4xx).
    The log carries the route pattern and the traceback's frames, never the request's data:
    no path values, query, headers, body, nor exception messages (which can quote input).
    """
    try:
        return await handler(request)
    except web.HTTPException:
        raise
    except Exception:
        correlation_id = uuid.uuid4().hex[:12]
        route = request.match_info.route.resource
        log.exception("request failed", extra={
            "route": route.canonical if route is not None else "unmatched",
            "correlation_id": correlation_id, "hide_exception_message": True})
        return web.json_response(
            {"error": "internal error", "correlation_id": correlation_id}, status=500)


async def healthz(request: web.Request) -> web.Response:
    """Liveness and what is switched on."""
    services = request.app[SERVICES]
    db_ok = await services.db.ping()
    kb = services.knowledge
    body = {
        "status": "ok" if db_ok else "degraded",
        "database": {"reachable": db_ok, "backend": "sqlite" if services.db.is_sqlite
                     else "postgresql"},
        "knowledge": {"loaded": bool(kb.current.articles), "articles": len(kb.current.articles),
                      "last_reload_error": kb.last_error is not None,
                      "retrieval": kb.current.engine,
                      "question_memory": kb.current.memory_size},
        "platforms": {name: ("enabled" if on else "disabled")
                      for name, on in request.app[PLATFORMS].items()},
        "simulated_clock": services.settings.env.ELECTIONBOT_SIMULATED_START is not None,
        "audit": audit_health(services.db),
        "email": _email_health(services),
        "mode": services.settings.mode,
    }
    return web.json_response(body, status=200 if db_ok else 503)


def _email_health(services: Services) -> dict[str, object]:
    """Whether e-mail is configured and how the relay is reached (no host, user or password)."""
    relay = services.settings.relay
    if relay is None:
        return {"configured": False}
    tls = "implicit" if relay.implicit_tls else f"starttls {services.settings.app.email.starttls}"
    return {"configured": True, "tls": tls,
            "per_second": services.settings.app.email.pacing.per_second}


async def readyz(request: web.Request) -> web.Response:
    """Readiness for a load balancer: 503 while the database is unreachable."""
    services = request.app[SERVICES]
    ready = await services.db.ping()
    return web.json_response({"ready": ready, "database": ready}, status=200 if ready else 503)


async def metrics_endpoint(request: web.Request) -> web.Response:
    """Prometheus text exposition."""
    with contextlib.suppress(Exception):  # the gauge is best effort; the counters still serve
        await metrics.refresh_job_gauge(request.app[SERVICES].db)
    body, content_type = metrics.exposition()
    return web.Response(body=body, headers={"Content-Type": content_type})


def create_app(services: Services, *, background: bool = True,
               worker: bool = True) -> web.Application:
    """Wire routes and adapters; platforms without credentials answer a clear 503.

    ``background`` runs the per-instance housekeeping (knowledge watch, key expiry);
    ``worker`` also runs the outbox and periodic work in this process (the embedded default).
    Without it (``serve --no-worker`` on PostgreSQL) work is handed to ``electionbot worker``.
    """
    quiet_malformed_requests()  # a protocol-level 400 is the client's fault: no traceback
    middlewares: list[Middleware] = [metrics.measure, error_boundary, http_input.guard]
    if services.settings.demo:  # every route, before any handler reads the request
        middlewares.insert(2, demo_fence(services.db))
    app = web.Application(client_max_size=MAX_BODY, middlewares=middlewares,
                          # Compressed bodies are refused (415) by http_input.guard; aiohttp
                          # must not inflate them first (bombs, garbage streams, brotli).
                          handler_args={"auto_decompress": False})
    router = Router(build_handlers(), services)
    app[SERVICES] = services
    app[ROUTER] = router
    app[PLATFORMS] = {
        "slack": slack.setup(app, router),
        "teams": teams.setup(app, router),
        "webchat": webchat.setup(app, router),
        "email": email.setup(app, router),
    }
    domain_pages.setup(app, services, build_pages())  # no sign-in: each page checks its own
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics_endpoint)
    app[WORKER] = worker
    if background:
        app.cleanup_ctx.append(_background)
    return app


async def _background(app: web.Application) -> AsyncIterator[None]:
    services = app[SERVICES]
    tasks = [asyncio.create_task(_watch_knowledge(services)),
             asyncio.create_task(_forget_old_keys(services))]
    async with contextlib.AsyncExitStack() as stack:
        if app[WORKER]:
            tasks += [asyncio.create_task(services.outbox.run()),
                      asyncio.create_task(run_in_process(services, build_periodic(services)))]
        else:
            engine = build_procrastinate(services, [])
            await stack.enter_async_context(engine.open_async())
            services.outbox.on_wake = defer_drain_soon(engine)
        loop = asyncio.get_running_loop()
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signal.SIGHUP, lambda: _reload(services))
        yield
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    await services.db.close()


def _reload(services: Services) -> None:
    if services.knowledge.reload(today=services.clock().date()):
        refreeze_if_frozen()


def _snapshot(folder: Path) -> tuple[tuple[str, int, int], ...]:
    """Name, modification time and size of every article file (``*.md``, not hidden).

    One directory read and one ``stat`` per file: the watcher takes this every few seconds.
    """
    found = []
    with os.scandir(folder) as entries:
        for entry in entries:
            if entry.name.endswith(".md") and not entry.name.startswith("."):
                stat = entry.stat()
                found.append((entry.name, stat.st_mtime_ns, stat.st_size))
    return tuple(sorted(found))


async def _watch_knowledge(services: Services, interval: float = 2.0) -> None:
    """Reload when an article changes on disk; a broken edit keeps the old base serving."""
    folder = services.knowledge.folder
    last = await asyncio.to_thread(_snapshot, folder)
    while True:
        await asyncio.sleep(interval)
        current = await asyncio.to_thread(_snapshot, folder)
        if current != last:
            last = current
            await asyncio.to_thread(_reload, services)


async def _forget_old_keys(services: Services) -> None:
    while True:
        with contextlib.suppress(Exception):
            await forget_older_than(services.db, timedelta(days=2))
        await asyncio.sleep(3600)
