"""Operations endpoints: readiness and Prometheus metrics."""

from __future__ import annotations

import aiohttp

from bot.config.settings import Settings
from tests.support import running_bot


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
