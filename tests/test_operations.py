"""Operations endpoints: readiness and Prometheus metrics."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from bot.config.settings import Settings
from bot.messages import Destination, Reply
from bot.outbox.queue import enqueue
from handlers.certifications.scheduler import run_once
from tests.certifications.conftest import CERT, ROLES, Clock, load_demo
from tests.support import make_settings, running_bot

Sample = tuple[str, frozenset[tuple[str, str]]]


async def test_metrics_count_requests_and_time_platform_endpoints(settings: Settings) -> None:
    async with running_bot(settings) as bot, aiohttp.ClientSession() as http:
        async with http.post(f"{bot.url}/webchat/messages", json={"user": "a", "text": "help"}):
            pass
        async with http.get(f"{bot.url}/metrics") as resp:
            assert resp.status == 200
            assert resp.headers["Content-Type"].startswith("text/plain")
            text = await resp.text()
    assert 'electionbot_http_requests_total{route="/webchat/messages",status="200"}' in text
    assert 'electionbot_ack_latency_seconds_count{route="/webchat/messages"}' in text
    assert 'electionbot_outbox_jobs{state="pending"} 0.0' in text


async def test_readiness_follows_the_database(settings: Settings) -> None:
    async with running_bot(settings) as bot, aiohttp.ClientSession() as http:
        async with http.get(f"{bot.url}/readyz") as resp:
            assert resp.status == 200 and (await resp.json())["ready"] is True
        await bot.services.db.engine.dispose()
        broken = "postgresql+psycopg://nobody@127.0.0.1:1/none"
        from bot.db.engine import Database

        bot.services.db = Database(broken)
        async with http.get(f"{bot.url}/readyz") as resp:
            assert resp.status == 503 and (await resp.json())["ready"] is False
        async with http.get(f"{bot.url}/healthz") as resp:
            assert resp.status == 503 and (await resp.json())["database"]["reachable"] is False


async def _scrape(http: aiohttp.ClientSession, url: str) -> dict[Sample, float]:
    async with http.get(f"{url}/metrics") as resp:
        text = await resp.text()
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


async def test_metrics_move_where_deliveries_reminders_and_answers_happen(
        tmp_path: Path) -> None:
    settings = make_settings(tmp_path, roles=ROLES, certification=CERT)
    async with running_bot(settings) as bot, aiohttp.ClientSession() as http:
        before = await _scrape(http, bot.url)
        for question in ("ask what is chain of custody", "ask what is the parking policy"):
            async with http.post(f"{bot.url}/webchat/messages",
                                 json={"user": "ann", "text": question}) as resp:
                assert resp.status == 200
        services = bot.services
        services.clock = Clock(datetime(2027, 1, 7, 17, tzinfo=UTC))  # reminders are due
        await load_demo(services)
        reminder_pass = await run_once(services)
        async with services.db.session() as session:  # a platform this server does not run
            enqueue(session, key="nowhere", destination=Destination.parse("slack:T1:C1"),
                    reply=Reply(text="x"))
            await session.commit()
        await services.outbox.drain()
        after = await _scrape(http, bot.url)

    def moved(name: str, **labels: str) -> float:
        sample = (name, frozenset(labels.items()))
        return after.get(sample, 0.0) - before.get(sample, 0.0)
    assert (reminder_pass.sent, reminder_pass.staff_digests) == (3, 1)
    assert moved("electionbot_reminders_sent_total") == 3
    assert moved("electionbot_deliveries_total", platform="webchat", result="sent") == 3 + 1
    assert moved("electionbot_deliveries_total", platform="slack", result="dead") == 1
    assert moved("electionbot_outbox_dead_letters_total", platform="slack",
                 reason="not_configured") == 1
    assert moved("electionbot_questions_total", outcome="answered") == 1
    assert moved("electionbot_questions_total", outcome="abstained") == 1
    assert moved("electionbot_questions_total", outcome="refused") == 0
