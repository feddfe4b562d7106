"""The web chat's sign-in attacked as deploy/ runs it (production mode, behind nginx)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
import pytest

from bot.adapters.webauth import add_account
from tests.support import make_settings, running_bot
from tests.test_webchat_auth import PASSWORD, Web, audit_rows


async def test_a_burst_of_parallel_guesses_gets_no_more_tries_than_the_limit(
        tmp_path: Path) -> None:
    """Forty guesses sent at once: only per_pair (5) of them are checked, the rest are locked."""
    async with running_bot(make_settings(tmp_path, demo=False)) as bot, Web(bot.url) as web:
        await add_account(bot.services.db, name="ann", password=PASSWORD, totp=False)
        await web.session()

        async def guess(i: int) -> int:
            async with web.http.post(f"{bot.url}/webchat/signin", headers=web.headers(), json={
                    "user": "ann", "password": f"guess number {i:04d}", "code": ""}) as resp:
                return resp.status
        statuses = await asyncio.gather(*(guess(i) for i in range(40)))
        assert statuses.count(401) <= 5 and statuses.count(429) >= 35, sorted(statuses)
        assert (await web.sign_in("ann"))[0] == 429  # still locked for the right password
        checked = [r for r in await audit_rows(bot.services.db) if r[2] == "wrong password"]
        assert len(checked) <= 5


async def test_a_correct_password_waiting_for_its_code_is_not_a_failure(tmp_path: Path) -> None:
    """Counting an attempt before checking it must not count the code prompt against anyone."""
    settings = make_settings(tmp_path, demo=False, webchat={"signin_limits": {"per_pair": 2}})
    async with running_bot(settings) as bot, Web(bot.url) as web:
        await add_account(bot.services.db, name="ann", password=PASSWORD, totp=True)
        for _ in range(4):
            status, body = await web.sign_in("ann")
            assert status == 401 and body.get("code_needed"), body


@pytest.mark.parametrize("origin", ["http://[::1", "http://[", "https://[zz]:x"])
async def test_a_malformed_origin_is_refused_not_a_500(tmp_path: Path, origin: str) -> None:
    async with running_bot(make_settings(tmp_path, demo=False)) as bot, Web(bot.url) as web:
        await web.session()
        async with web.http.post(f"{bot.url}/webchat/signin", json={
                "user": "ann", "password": PASSWORD, "code": ""},
                headers=web.headers(Origin=origin)) as resp:
            assert resp.status == 403, await resp.text()


async def test_a_malformed_host_header_is_not_a_500(tmp_path: Path) -> None:
    async with running_bot(make_settings(tmp_path, demo=False)) as bot:
        async with aiohttp.ClientSession() as http, http.get(
                f"{bot.url}/webchat/session", headers={"Host": "[::1"}) as resp:
            assert resp.status < 500, await resp.text()
