"""Demo mode is explicit and cannot leak; production refuses self-declared and anonymous callers.

The real server over real HTTP on 127.0.0.1: in demo mode a request that came through a proxy
is refused (403, audited) on every route; outside demo mode the self-declared web chat and
anonymous Teams (no MICROSOFT_APP_ID) refuse to act.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlmodel import select

from bot.db.models import AuditEntry, ConversationReference, WebChatInbox
from tests.fakes.bot_connector import FakeBotConnector, load_activity, post_activity
from tests.support import RunningBot, make_settings, running_bot

PROD_ROLES = {"state_staff": ["slack:T0TEST:UBOSS"]}


@pytest.fixture
def fake() -> Iterator[FakeBotConnector]:
    with FakeBotConnector() as connector:
        yield connector


async def _request(method: str, url: str, *, headers: dict[str, str] | None = None,
                   body: Any = None) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as http, http.request(
            method, url, json=body, headers=headers or {}) as resp:
        text = await resp.text()
        try:
            return resp.status, json.loads(text)
        except json.JSONDecodeError:
            return resp.status, text


async def _audits(bot: RunningBot) -> list[AuditEntry]:
    async with bot.services.db.session() as session:
        return list((await session.exec(select(AuditEntry))).all())


PROXY_HEADERS = [{"X-Forwarded-For": "203.0.113.9"}, {"Forwarded": "for=203.0.113.9"},
                 {"X-Real-IP": "203.0.113.9"}, {"x-forwarded-proto": "https"}]
ROUTES = [("GET", "/", None), ("POST", "/webchat/messages", {"user": "boss", "text": "help"}),
          ("GET", "/webchat/inbox?user=boss&after=0", None), ("GET", "/healthz", None)]


@pytest.mark.parametrize("headers", PROXY_HEADERS)
async def test_demo_mode_refuses_proxied_requests_on_every_route(
        tmp_path: Path, fake: FakeBotConnector, headers: dict[str, str]) -> None:
    async with running_bot(make_settings(tmp_path, demo=True)) as bot:
        for method, path, body in ROUTES:
            status, answer = await _request(method, bot.url + path, headers=headers, body=body)
            assert status == 403, (path, answer)
            assert "demo mode refuses requests that came through a proxy" in answer["error"]
        activity = load_activity("personal_message", fake.url + "/", text="help")
        status, answer = await _request("POST", f"{bot.url}/api/messages", headers=headers,
                                        body=activity)
        assert status == 403 and "proxy" in answer["error"]
        audits = await _audits(bot)
        assert sorted(a.target for a in audits) == sorted(
            [p.split("?")[0] for _, p, _ in ROUTES] + ["/api/messages"])
        header = next(iter(headers)).lower()
        assert [(a.action, a.allowed, a.reason.lower()) for a in audits] == \
            [("demo.refused_request", False, f"{header} header")] * len(audits)
        # Refused before any handler ran: no turn, no reply, nothing filed.
        assert fake.calls == []
        async with bot.services.db.session() as session:
            assert (await session.exec(select(ConversationReference))).all() == []
        # Without the proxy header the same demo server answers.
        status, answer = await _request("POST", f"{bot.url}/webchat/messages",
                                        body={"user": "boss", "text": "help"})
        assert status == 200 and answer["replies"]


async def test_production_accepts_proxy_headers(tmp_path: Path) -> None:
    # deploy/nginx.conf adds X-Forwarded-For in front of production instances.
    settings = make_settings(tmp_path, demo=False, roles=PROD_ROLES)
    async with running_bot(settings) as bot:
        status, health = await _request("GET", f"{bot.url}/healthz",
                                        headers={"X-Forwarded-For": "203.0.113.9"})
        assert status == 200 and health["mode"] == "production"
        assert await _audits(bot) == []


async def test_healthz_reports_the_mode(tmp_path: Path) -> None:
    async with running_bot(make_settings(tmp_path, demo=True)) as bot:
        status, health = await _request("GET", f"{bot.url}/healthz")
        assert status == 200 and health["mode"] == "demo"


async def test_production_web_chat_refuses_self_declared_names(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, demo=False, roles=PROD_ROLES)
    async with running_bot(settings) as bot:
        async with bot.services.db.session() as session:  # someone's TLP:AMBER alert
            session.add(WebChatInbox(user_id="state-demo", payload=json.dumps(
                {"text": "TLP:AMBER alert for state staff"})))
            await session.commit()
        status, answer = await _request("GET", f"{bot.url}/webchat/inbox?user=state-demo&after=0")
        assert status == 401 and answer["error"] == "Sign in first."
        status, answer = await _request("POST", f"{bot.url}/webchat/messages",
                                        body={"user": "state-demo", "text": "incident"})
        assert status == 401 and answer["error"] == "Sign in first."
        status, page = await _request("GET", f"{bot.url}/")
        assert status == 200 and 'id="demo-banner"' in page and " hidden>" in page


async def test_demo_page_has_the_banner(tmp_path: Path) -> None:
    async with running_bot(make_settings(tmp_path, demo=True)) as bot:
        status, page = await _request("GET", f"{bot.url}/")
        assert status == 200
        assert "Demo mode: anyone can pick any name; never use with real data" in page
        status, script = await _request("GET", f"{bot.url}/webchat/chat.js")
        assert status == 200 and "demo-banner" in script and 'mode !== "demo"' in script


async def test_production_teams_without_app_id_is_not_configured(
        tmp_path: Path, fake: FakeBotConnector) -> None:
    settings = make_settings(tmp_path, demo=False, roles=PROD_ROLES)
    async with running_bot(settings) as bot:
        activity = load_activity("personal_message", fake.url + "/", text="help")
        status, answer = await post_activity(bot.url, activity)
        assert (status, answer) == (503, {"error": "Teams is not configured "
                                                   "(set MICROSOFT_APP_ID)"})
        # The endpoint answers without running a turn: no reply is posted, nothing is stored.
        assert fake.calls == []
        async with bot.services.db.session() as session:
            assert (await session.exec(select(ConversationReference))).all() == []
        status, health = await _request("GET", f"{bot.url}/healthz")
        assert health["platforms"]["teams"] == "disabled"


async def test_demo_teams_without_app_id_runs_the_turn(
        tmp_path: Path, fake: FakeBotConnector) -> None:
    async with running_bot(make_settings(tmp_path, demo=True)) as bot:
        activity = load_activity("personal_message", fake.url + "/", text="help")
        status, _ = await post_activity(bot.url, activity)
        assert status == 200
        [reply] = await fake.wait_for_sends(1)
        assert "assistant" in reply.body["text"]
