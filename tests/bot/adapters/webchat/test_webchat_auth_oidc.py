"""Signing in with an OpenID Connect provider (a fake one on 127.0.0.1), and what is refused."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import sqlalchemy as sa
from yarl import URL

from bot.config.settings import ConfigError
from tests.bot.adapters.webchat.test_webchat_auth import Web, audit_rows
from tests.fakes.oidc_provider import FakeOidcProvider
from tests.support import make_settings, running_bot

SECRET_VAR = "WEBCHAT_OIDC_OKTA_CLIENT_SECRET"


def oidc_settings(tmp_path: Path, idp: FakeOidcProvider, **provider: Any):
    webchat = {"oidc": [{"name": "okta", "label": "County Okta", "issuer": idp.issuer,
                         "client_id": idp.client_id, **provider}]}
    return make_settings(tmp_path, env={SECRET_VAR: idp.client_secret}, demo=False,
                         webchat=webchat, roles={"state_staff": [f"web:okta:{idp.subject}"]})


async def _follow(web: Web, url: str, *, edit_callback=None) -> aiohttp.ClientResponse:
    """Browse like a browser would, one redirect at a time; the bot's final answer."""
    for _ in range(5):
        async with web.http.get(url, allow_redirects=False) as resp:
            await resp.read()
            if resp.status not in (302, 303):
                return resp
            location = resp.headers["Location"]
            if "/callback" in location and edit_callback is not None:
                location = edit_callback(location)
            if location == "/":
                return resp
            url = location
    raise AssertionError("too many redirects")


async def test_sign_in_with_the_provider_end_to_end(tmp_path: Path) -> None:
    async with FakeOidcProvider() as idp:
        async with running_bot(oidc_settings(tmp_path, idp)) as bot, Web(bot.url) as web:
            session = await web.session()
            assert session["providers"] == [{"name": "okta", "label": "County Okta",
                                             "url": "/webchat/oidc/okta/login"}]
            done = await _follow(web, f"{bot.url}/webchat/oidc/okta/login")
            assert done.status == 303 and done.headers["Location"] == "/"
            me = await web.session()
            assert me["signed_in"] and me["identity"] == "web:okta:00u1abcd"
            assert me["display_name"] == "Ann Example"
            # state, nonce and PKCE went out; the verifier came back to the token endpoint.
            sent = idp.authorize_requests[0]
            assert sent["redirect_uri"] == f"{bot.url}/webchat/oidc/okta/callback"
            assert sent["code_challenge_method"] == "S256" and sent["state"] and sent["nonce"]
            assert idp.token_requests[0]["code_verifier"]
            assert "client_secret" not in idp.token_requests[0]  # sent as HTTP Basic
            # The identity holds the role app.yaml gives web:okta:<sub>.
            assert bot.services.settings.app.has_role(me["identity"], "state_staff")
            assert (await web.post({"text": "help"}, **web.headers()))[0] == 200
            async with bot.services.db.engine.connect() as conn:
                left = (await conn.execute(sa.text("SELECT count(*) FROM web_oidc_login"))).scalar()
            assert left == 0  # the state was used up
            assert await audit_rows(bot.services.db) == [
                ("web:okta:00u1abcd", True, "openid connect (okta)")]


@pytest.mark.parametrize(("change", "reason"), [
    ({"tamper": {"nonce": "not-the-nonce"}}, "ID token was refused"),
    ({"tamper": {"iss": "https://evil.example"}}, "ID token was refused"),
    ({"tamper": {"aud": "someone-else"}}, "ID token was refused"),
    ({"tamper": {"exp": int(time.time()) - 600}}, "ID token was refused"),
    ({"sign_with_stranger": True}, "ID token was refused"),
    ({"discovery_issuer": "https://evil.example"}, "names another issuer"),
    ({"client_secret": "the-bot-has-another"}, "did not issue an ID token"),
])
async def test_bad_tokens_and_providers_are_refused(tmp_path: Path, change: dict,
                                                    reason: str) -> None:
    async with FakeOidcProvider() as idp:
        settings = oidc_settings(tmp_path, idp)
        for key, value in change.items():
            setattr(idp, key, value)
        async with running_bot(settings) as bot, Web(bot.url) as web:
            done = await _follow(web, f"{bot.url}/webchat/oidc/okta/login")
            assert done.status == 400
            assert reason in await done.text()
            assert (await web.session())["signed_in"] is False
            async with bot.services.db.engine.connect() as conn:
                sessions = (await conn.execute(sa.text("SELECT count(*) FROM web_session"))).scalar()
            assert sessions == 0
            [(actor, allowed, why)] = await audit_rows(bot.services.db)
            assert actor == "web:okta:?" and not allowed and reason in why


async def test_a_forged_or_replayed_state_is_refused(tmp_path: Path) -> None:
    async with FakeOidcProvider() as idp:
        async with running_bot(oidc_settings(tmp_path, idp)) as bot, Web(bot.url) as web:
            def forge(location: str) -> str:
                return str(URL(location).update_query(state="forged-state"))
            done = await _follow(web, f"{bot.url}/webchat/oidc/okta/login", edit_callback=forge)
            assert done.status == 400 and "state mismatch" in await done.text()
            # Another browser finishing this browser's sign-in (login CSRF) is refused.
            captured: list[str] = []

            def keep(location: str) -> str:
                captured.append(location)
                return location
            assert (await _follow(web, f"{bot.url}/webchat/oidc/okta/login",
                                  edit_callback=keep)).status == 303
            async with Web(bot.url) as victim:
                async with victim.http.get(captured[0], allow_redirects=False) as resp:
                    assert resp.status == 400
            # The same callback again, in the browser that started it: already used.
            async with web.http.get(captured[0], allow_redirects=False) as resp:
                assert resp.status == 400


async def test_each_provider_needs_its_secret_in_the_environment(tmp_path: Path) -> None:
    async with FakeOidcProvider() as idp:
        with pytest.raises(ConfigError, match=SECRET_VAR):
            make_settings(tmp_path, webchat={"oidc": [{"name": "okta", "issuer": idp.issuer,
                                                       "client_id": "x"}]})
    with pytest.raises(ConfigError, match="https"):
        make_settings(tmp_path, env={SECRET_VAR: "s"}, webchat={"oidc": [{
            "name": "okta", "issuer": "http://idp.example.org", "client_id": "x"}]})
    with pytest.raises(ConfigError, match="local"):
        make_settings(tmp_path, env={"WEBCHAT_OIDC_LOCAL_CLIENT_SECRET": "s"}, webchat={
            "oidc": [{"name": "local", "issuer": "https://idp.example.org", "client_id": "x"}]})


async def test_removing_a_provider_ends_its_sessions(tmp_path: Path) -> None:
    async with FakeOidcProvider() as idp:
        async with running_bot(oidc_settings(tmp_path, idp)) as bot, Web(bot.url) as web:
            await _follow(web, f"{bot.url}/webchat/oidc/okta/login")
            assert (await web.session())["signed_in"]
            jar = list(web.http.cookie_jar)
        # The same database, restarted without the provider in app.yaml.
        async with running_bot(make_settings(tmp_path, demo=False)) as bot:
            async with Web(bot.url) as web:
                for cookie in jar:
                    web.http.cookie_jar.update_cookies({cookie.key: cookie.value},
                                                       URL(bot.url))
                assert (await web.inbox())[0] == 401
