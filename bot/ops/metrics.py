"""Prometheus metrics: requests, ack latency, outbox jobs, deliveries, dead letters, reminders.

Counters are incremented where the thing happens: deliveries and dead letters by the outbox
worker, reminders by the certification scheduler once a digest's transaction commits, answers
and abstentions by the FAQ as it records a question.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Awaitable, Callable

import sqlalchemy as sa
from aiohttp import web
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

from bot.db.engine import Database
from bot.messages import PLATFORMS

REGISTRY = CollectorRegistry(auto_describe=True)
REQUESTS = Counter("electionbot_http_requests_total", "HTTP requests by route and status",
                   ["route", "status"], registry=REGISTRY)
ACK_LATENCY = Histogram(
    "electionbot_ack_latency_seconds", "Time to answer a platform request (the ack)",
    ["route"], registry=REGISTRY,
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 3.0, 5.0))
DELIVERIES = Counter("electionbot_deliveries_total", "Background sends by platform and result",
                     ["platform", "result"], registry=REGISTRY)
REMINDERS = Counter("electionbot_reminders_sent_total",
                    "Certification reminder digests committed for sending (once per recipient "
                    "and day)", registry=REGISTRY)
OUTCOMES = ("answered", "abstained", "refused")
QUESTIONS = Counter("electionbot_questions_total",
                    "Questions by outcome: answered, abstained or refused (bounded: OUTCOMES)",
                    ["outcome"], registry=REGISTRY)
for _outcome in OUTCOMES:
    QUESTIONS.labels(_outcome)
DEAD_REASONS = ("bad_destination", "bad_payload", "permanent", "gave_up", "not_configured")
DEAD_LETTERS = Counter(
    "electionbot_outbox_dead_letters_total",
    "Outbox messages dead-lettered, by platform and reason class (bounded: DEAD_REASONS)",
    ["platform", "reason"], registry=REGISTRY)
for _platform in sorted(PLATFORMS):  # every series exists from the start, so alerts see 0 -> 1
    for _reason in DEAD_REASONS:
        DEAD_LETTERS.labels(_platform, _reason)
REPLAYS = Counter("electionbot_replays_ignored_total",
                  "Platform retries and replays recognised and given no second effect",
                  ["platform"], registry=REGISTRY)
JOBS = Gauge("electionbot_outbox_jobs", "Outbox messages by state", ["state"], registry=REGISTRY)
PLATFORM_ROUTES = frozenset({"/slack/events", "/api/messages", "/webchat/messages"})


@web.middleware
async def measure(request: web.Request,
                  handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
                  ) -> web.StreamResponse:
    """Count every request; time the platform endpoints (their answer is the ack)."""
    route = request.match_info.route.resource.canonical if request.match_info.route.resource \
        else "unmatched"
    started = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as exc:
        status = exc.status
        raise
    finally:
        _requests(route, status).inc()
        if route in PLATFORM_ROUTES:
            _ack_latency(route).observe(time.perf_counter() - started)


# Each request's series, looked up once: ``labels()`` takes a lock and checks its arguments on
# every call. Routes are the app's patterns and statuses HTTP's, so the caches stay small.
@functools.lru_cache(maxsize=1024)
def _requests(route: str, status: int) -> Counter:
    return REQUESTS.labels(route, str(status))  # type: ignore[no-any-return]


@functools.lru_cache(maxsize=64)
def _ack_latency(route: str) -> Histogram:
    return ACK_LATENCY.labels(route)  # type: ignore[no-any-return]


def platform_label(platform: str) -> str:
    """A platform name fit for a label: one of the known platforms, else "unknown"."""
    return platform if platform in PLATFORMS else "unknown"


def count_delivery(platform: str, result: str, reason: str | None = None) -> None:
    """Count one outbox outcome; a dead letter also by its reason class."""
    label = platform_label(platform)
    DELIVERIES.labels(label, result).inc()
    if result == "dead":
        DEAD_LETTERS.labels(label, reason if reason in DEAD_REASONS else "permanent").inc()


def count_question(outcome: str) -> None:
    """Count one question by its outcome (an unknown outcome is not counted)."""
    if outcome in OUTCOMES:
        _questions(outcome).inc()


@functools.lru_cache(maxsize=64)
def _questions(outcome: str) -> Counter:
    return QUESTIONS.labels(outcome)  # type: ignore[no-any-return]


async def refresh_job_gauge(db: Database) -> None:
    """Read outbox counts by state (called at scrape time)."""
    async with db.engine.connect() as conn:
        rows = (await conn.execute(sa.text(
            "SELECT status, count(*) FROM outbox_message GROUP BY status"))).all()
    seen = {str(status): int(n) for status, n in rows}
    for state in ("pending", "sending", "sent", "dead"):
        JOBS.labels(state).set(seen.get(state, 0))


def exposition() -> tuple[bytes, str]:
    """The text format Prometheus scrapes."""
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
