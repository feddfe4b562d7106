"""The web chat's sign-in attacked as deploy/ runs it (production mode, behind nginx)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
import pytest

from bot.adapters.webchat.accounts import add_account
from tests.bot.adapters.webchat.test_webchat_auth import PASSWORD, Web, audit_rows
from tests.support import make_settings, running_bot


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


async def test_sign_in_at_debug_logs_no_password_code_token_or_secret(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Both ways in (local account with TOTP, OpenID Connect) with every logger at DEBUG."""
    import io
    import logging
    import sys

    import pyotp

    from bot.ops.logs import QUIET_LOGGERS, configure
    from tests.bot.adapters.webchat.test_webchat_auth_oidc import _follow, oidc_settings
    from tests.bot.ops.test_logs import _Everything
    from tests.fakes.oidc_provider import FakeOidcProvider

    stream = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stream)
    root = logging.getLogger()
    saved = (root.handlers[:], root.level, {n: logging.getLogger(n).level for n in QUIET_LOGGERS})
    everything = _Everything()
    seen: list[str] = []
    try:
        configure("DEBUG")
        root.addHandler(everything)
        logging.getLogger("bot.test").debug("debug canary")
        async with FakeOidcProvider() as idp:
            async with running_bot(oidc_settings(tmp_path, idp)) as bot:
                secret = await add_account(bot.services.db, name="ann", password=PASSWORD,
                                           totp=True)
                assert secret is not None
                async with Web(bot.url) as web:
                    code = pyotp.TOTP(secret).now()
                    assert (await web.sign_in("ann", "wrong wrong wrong"))[0] == 401
                    status, body = await web.sign_in("ann", PASSWORD, code)
                    assert status == 200, body
                    seen += [web.csrf, *(c.value for c in web.http.cookie_jar)]
                    assert await web.sign_out() == 200
                async with Web(bot.url) as web:
                    def keep(location: str) -> str:
                        seen.append(location.split("code=")[1].split("&")[0])
                        return location
                    assert (await _follow(web, f"{bot.url}/webchat/oidc/okta/login",
                                          edit_callback=keep)).status == 303
                    seen += [c.value for c in web.http.cookie_jar]
                    seen += [r["code_verifier"] for r in idp.token_requests]
                    seen += [r["nonce"] for r in idp.authorize_requests]
                    seen += [r["state"] for r in idp.authorize_requests]
                seen += [PASSWORD, "wrong wrong wrong", secret, code, idp.client_secret]
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
        for name, level in saved[2].items():
            logging.getLogger(name).setLevel(level)
    output = stream.getvalue() + "\n".join(everything.lines)
    assert "debug canary" in output  # DEBUG really was on
    leaked = [s for s in seen if s and len(s) >= 6 and s in output]
    assert leaked == [], [line for line in output.splitlines() if any(s in line for s in leaked)]


async def test_a_severe_update_to_an_unapproved_alert_needs_a_second_broadcaster(
        tmp_path: Path) -> None:
    """One broadcaster cannot dodge the two-person rule by sending a severe alert as an
    'update' of an earlier local, non-severe one (a child alert inherited its parent's
    no-approval decision whatever its own severity)."""
    from tests.handlers.alerts.conftest import Chat, alert_settings, compose_values
    from tests.handlers.alerts.test_webchat_e2e import compose, wait_inbox

    async with running_bot(alert_settings(tmp_path), background=True) as bot, \
            aiohttp.ClientSession() as session:
        chat = Chat(session, bot.url)
        preview = await compose(chat, "bc1")
        assert "No approval needed" in preview["text"]
        parent_id = preview["buttons"][0]["value"]
        await chat.click("bc1", "alert:send", parent_id)
        await wait_inbox(chat, "clerk-ks", 1)
        form = await chat.say("bc1", f"alert update {parent_id}")
        child = await chat.submit("bc1", form["form"]["form_id"], {
            **{k: v for k, v in compose_values(tlp="GREEN").items()
               if k not in ("groups", "tiers", "jurisdictions")},
            "alert_type": "update", "severity": "extreme", "headline": "Evacuate the building"})
        assert "approval" in child["text"], child["text"]
        sent = await chat.click("bc1", "alert:send", child["buttons"][0]["value"])
        assert "Approval requested" in sent["text"], sent["text"]
        assert len(await chat.inbox("clerk-ks")) == 1  # nothing more went out
