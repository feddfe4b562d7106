"""Teams with an app id: only valid Bot Framework tokens get in; everything else is 401.

Offline: the Agents SDK's signing-key URL for Bot Framework tokens is pointed at the fake Bot
Connector, which serves a JWKS with its test key, and outbound calls use a fixed token.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.fakes.bot_connector import (
    FakeBotConnector,
    load_activity,
    offline_bot_framework,
    post_activity,
)
from tests.support import RunningBot, make_settings, running_bot

APP_ID = "00000000-0000-0000-0000-0000000b0771"
OUTBOUND = "fake-outbound-token"


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeBotConnector]:
    with FakeBotConnector() as connector:
        offline_bot_framework(monkeypatch, connector, token=OUTBOUND)
        yield connector


@pytest.fixture
async def bot(tmp_path: Path, fake: FakeBotConnector) -> AsyncIterator[RunningBot]:
    settings = make_settings(tmp_path, env={"MICROSOFT_APP_ID": APP_ID,
                                            "MICROSOFT_APP_PASSWORD": "not-used-offline"},
                             teams={"tenants": ["72f988bf-86f1-41af-91ab-2d7cd011db47"]})
    async with running_bot(settings) as running:
        yield running


def help_activity(fake: FakeBotConnector) -> dict[str, Any]:
    return load_activity("personal_message", fake.url + "/", text="help")


async def test_valid_token_is_accepted_and_reply_carries_our_token(
        bot: RunningBot, fake: FakeBotConnector) -> None:
    activity = help_activity(fake)
    token = fake.token(app_id=APP_ID, service_url=activity["serviceUrl"])
    status, _ = await post_activity(bot.url, activity, token=token)
    assert status == 200
    [reply] = await fake.wait_for_sends(1)
    assert reply.headers["Authorization"] == f"Bearer {OUTBOUND}"
    assert "Test Office assistant" in reply.body["text"]


def _bad_tokens(fake: FakeBotConnector, service_url: str) -> dict[str, str | None]:
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    good = {"app_id": APP_ID, "service_url": service_url}
    return {
        "missing": None,
        "malformed": "not.a.jwt",
        "garbage": "%%%",
        "wrong issuer": fake.token(**good, issuer="https://evil.example.org"),
        "wrong audience": fake.token(**good, audience="11111111-2222-3333-4444-555555555555"),
        "expired": fake.token(**good, expires_in=-600),
        "wrong serviceurl": fake.token(app_id=APP_ID, service_url="https://elsewhere.example/"),
        "wrong signing key": fake.token(**good, key=other_key),
    }


async def test_bad_tokens_get_401_and_nothing_is_sent(
        bot: RunningBot, fake: FakeBotConnector) -> None:
    activity = help_activity(fake)
    results = {}
    for name, token in _bad_tokens(fake, activity["serviceUrl"]).items():
        activity = {**activity, "id": f"{activity['id']}-{len(results)}"}
        results[name] = await post_activity(bot.url, activity, token=token)
    assert {name: status for name, (status, _) in results.items()} == {
        name: 401 for name in results}
    assert all(body == {"error": "unauthorized"} for _, body in results.values())
    assert fake.sends() == []
    assert [c.path for c in fake.calls] == []


async def test_non_bearer_scheme_is_401(bot: RunningBot, fake: FakeBotConnector) -> None:
    activity = help_activity(fake)
    token = fake.token(app_id=APP_ID, service_url=activity["serviceUrl"])
    import aiohttp

    async with aiohttp.ClientSession() as session, session.post(
            f"{bot.url}/api/messages", data=json.dumps(activity),
            headers={"Content-Type": "application/json",
                     "Authorization": f"Basic {token}"}) as response:
        assert response.status == 401
    assert fake.calls == []


async def test_bad_body_is_checked_before_the_token(bot: RunningBot) -> None:
    status, body = await post_activity(bot.url, b"{nope", token="whatever")
    assert status == 400 and "JSON" in body["error"]


async def test_healthz_reports_teams_enabled(bot: RunningBot) -> None:
    import aiohttp

    async with aiohttp.ClientSession() as session, session.get(f"{bot.url}/healthz") as resp:
        assert (await resp.json())["platforms"]["teams"] == "enabled"
