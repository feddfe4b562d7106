"""Readiness flips while PostgreSQL is unreachable and recovers when it returns, losing nothing.

The bot reaches PostgreSQL through a small TCP proxy owned by the test, so "PostgreSQL goes
away" is cutting the proxy, without stopping the server other tests share.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from pathlib import Path

import aiohttp
import pytest
import sqlalchemy as sa

from tests.handlers.incidents.conftest import INCIDENTS, ROLES, report_values
from tests.support import free_port, make_settings, running_bot

pytestmark = pytest.mark.postgres


class Proxy:
    """Forwards 127.0.0.1:<port> to PostgreSQL; ``cut()`` drops every connection.

    It runs on its own thread and event loop, so the bot's synchronous start-up work (the
    migration check) can go through it without deadlocking the test's loop.
    """

    def __init__(self, port: int) -> None:
        self.port = port
        self.server: asyncio.Server | None = None
        self.links: set[asyncio.StreamWriter] = set()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    async def start(self) -> None:
        await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(self._start(), self.loop))

    async def cut(self) -> None:
        await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(self._cut(), self.loop))

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5)

    async def _start(self) -> None:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", self.port,
                                                 reuse_address=True)

    async def _cut(self) -> None:
        assert self.server is not None
        self.server.close()
        for writer in list(self.links):
            writer.transport.abort()
        await self.server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", 5432)
        self.links |= {writer, up_writer}

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(ConnectionError, OSError):
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            dst.transport.abort()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        self.links -= {writer, up_writer}


async def test_readiness_flips_and_recovers_without_losing_work(tmp_path: Path,
                                                                 postgres_url: str) -> None:
    proxy = Proxy(free_port())
    await proxy.start()
    via_proxy = postgres_url.replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}")
    settings = make_settings(tmp_path, env={"DATABASE_URL": via_proxy}, incidents=INCIDENTS,
                             roles=ROLES)
    async with running_bot(settings) as bot, aiohttp.ClientSession() as http:
        async def ready() -> int:
            async with http.get(f"{bot.url}/readyz") as resp:
                return resp.status

        form = {"user": "ann", "form": {"id": "incident:report:p1", "values": report_values()}}
        async with http.post(f"{bot.url}/webchat/messages", json=form) as resp:
            assert "Filed INC-" in (await resp.json())["replies"][0]["text"]
        assert await ready() == 200
        await proxy.cut()
        assert await ready() == 503
        async with http.post(f"{bot.url}/webchat/messages", json={**form, "form": {
                "id": "incident:report:p2", "values": report_values()}}) as resp:
            reply = (await resp.json())["replies"][0]["text"]
            assert resp.status == 200 and reply.startswith("Sorry, something went wrong")
            assert "Traceback" not in reply  # a short apology with a reference, nothing stored
        with contextlib.suppress(Exception):
            await bot.services.outbox.run_once()  # the worker's pass fails; nothing is lost
        await proxy.start()
        for _ in range(50):
            if await ready() == 200:
                break
            await asyncio.sleep(0.1)
        assert await ready() == 200
        delivered = 0
        for _ in range(50):
            delivered += await bot.services.outbox.run_once()
            if delivered >= 2:
                break
            await asyncio.sleep(0.1)
        async with bot.services.db.engine.connect() as conn:
            states = [r[0] for r in (await conn.execute(sa.text(
                "SELECT status FROM outbox_message"))).all()]
        assert states == ["sent", "sent"]  # SEV2 to the boss and the CT manager, once each
    await proxy.cut()
    proxy.close()
