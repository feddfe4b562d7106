"""The production server over real HTTP, Teams side, with no app id (loopback, no auth).

Activities go to /api/messages with serviceUrl pointing at the fake Bot Connector; the bot's
replies must arrive there.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from bot.db.models import ConversationReference
from tests.fakes.bot_connector import Call, FakeBotConnector, load_activity, post_activity
from tests.support import RunningBot, make_settings, running_bot

PERSONAL = "a:1xYzPersonalConversationId0123456789abcdefghijklmnopqrstuv"
CHANNEL = "19:3e9f1c0b2a4d4c6e8f0a1b2c3d4e5f60@thread.tacv2"


@dataclass
class Teams:
    bot: RunningBot
    fake: FakeBotConnector

    def activity(self, name: str, **changes: Any) -> dict[str, Any]:
        return load_activity(name, self.fake.url + "/", **changes)

    async def post(self, activity: dict[str, Any] | bytes, **kwargs: Any) -> tuple[int, Any]:
        return await post_activity(self.bot.url, activity, **kwargs)


@pytest.fixture
def fake() -> Iterator[FakeBotConnector]:
    with FakeBotConnector() as connector:
        yield connector


@pytest.fixture
async def teams(tmp_path: Path, fake: FakeBotConnector) -> AsyncIterator[Teams]:
    async with running_bot(make_settings(tmp_path)) as bot:
        yield Teams(bot, fake)


def card(call: Call) -> dict[str, Any]:
    [attachment] = call.body["attachments"]
    return attachment["content"]


def all_text(call: Call) -> str:
    return json.dumps(call.body, ensure_ascii=False)


async def test_help_in_personal_chat(teams: Teams) -> None:
    activity = teams.activity("personal_message", text="help")
    status, _ = await teams.post(activity)
    assert status == 200
    [reply] = await teams.fake.wait_for_sends(1)
    assert reply.conversation_id == PERSONAL and reply.reply_to_id == activity["id"]
    assert "Test Office assistant" in reply.body["text"]
    assert reply.body["type"] == "message"
    assert reply.body["recipient"]["id"] == activity["from"]["id"]
    assert "Authorization" not in reply.headers  # no app id: anonymous outbound calls


async def test_question_answered_from_knowledge_base(teams: Teams) -> None:
    status, _ = await teams.post(teams.activity("personal_message"))
    assert status == 200
    [reply] = await teams.fake.wait_for_sends(1)
    assert "VoteSure@sos.ca.gov" in reply.shown
    body = card(reply)["body"]
    assert any("PAUSE" in block.get("text", "") for block in body)
    assert len(json.dumps(reply.body).encode()) < 28 * 1024


async def test_channel_mention_is_stripped(teams: Teams) -> None:
    activity = teams.activity("channel_mention")
    status, _ = await teams.post(activity)
    assert status == 200
    [reply] = await teams.fake.wait_for_sends(1)
    assert reply.conversation_id == f"{CHANNEL};messageid=1709392200000"
    assert "VoteSure@sos.ca.gov" in reply.shown


async def _ask_and_get_helpful_button(teams: Teams) -> dict[str, Any]:
    await teams.post(teams.activity("personal_message"))
    [answer] = await teams.fake.wait_for_sends(1)
    buttons = [a for a in card(answer).get("actions", [])
               if a["data"].get("action_id", "").startswith("faq:helpful")]
    assert buttons, f"the answer card has no faq:helpful button: {card(answer)}"
    return buttons[0]["data"]


async def test_action_submit_of_helpful_button(teams: Teams) -> None:
    data = await _ask_and_get_helpful_button(teams)
    status, _ = await teams.post(teams.activity("card_submit", value=data))
    assert status == 200
    sends = await teams.fake.wait_for_sends(2)
    assert "Thanks" in sends[1].body["text"]


async def test_invoke_answered_fast_and_retry_has_one_effect(teams: Teams) -> None:
    data = await _ask_and_get_helpful_button(teams)
    invoke = teams.activity("invoke_card_action")
    invoke["value"]["action"]["data"] = data
    started = time.monotonic()
    status, body = await teams.post(invoke)
    assert time.monotonic() - started < 5.0
    assert status == 200 and body["statusCode"] == 200
    assert body["type"] == "application/vnd.microsoft.activity.message"
    assert "Thanks" in body["value"]
    # Teams retries an invoke with the same activity id: acknowledged, not acted on again.
    status, again = await teams.post(invoke)
    assert status == 200 and again["statusCode"] == 200
    sends = await teams.fake.wait_for_sends(2)
    thanks = [s for s in sends if "Thanks" in s.shown]
    assert len(thanks) == 1 and len(sends) == 2


async def test_retried_message_is_answered_once(teams: Teams) -> None:
    activity = teams.activity("personal_message", text="help")
    assert (await teams.post(activity))[0] == 200
    assert (await teams.post(activity))[0] == 200
    await teams.fake.wait_for_sends(1)
    assert len(teams.fake.sends()) == 1


async def test_install_stores_a_conversation_reference(teams: Teams) -> None:
    status, _ = await teams.post(teams.activity("conversation_update_install"))
    assert status == 200
    [welcome] = await teams.fake.wait_for_sends(1)  # the welcome card (test_home_teams.py)
    assert welcome.body["summary"].startswith("Welcome to the Test Office assistant")
    async with teams.bot.services.db.session() as session:
        rows = (await session.execute(sa.select(ConversationReference))).scalars().all()
    [row] = rows
    assert row.platform == "teams" and row.channel == PERSONAL
    assert row.workspace == "72f988bf-86f1-41af-91ab-2d7cd011db47"
    assert row.user_id == "6f1c2e3d-4b5a-6978-8a9b-0c1d2e3f4a5b"
    reference = json.loads(row.reference)
    assert reference["serviceUrl"] == teams.fake.url + "/"
    assert reference["conversation"]["id"] == PERSONAL
    assert reference["bot"]["id"] == "28:00000000-0000-0000-0000-0000000b0771"


async def test_channel_reference_points_at_the_channel(teams: Teams) -> None:
    await teams.post(teams.activity("channel_mention"))
    await teams.fake.wait_for_sends(1)
    async with teams.bot.services.db.session() as session:
        [row] = (await session.execute(sa.select(ConversationReference))).scalars().all()
    assert row.channel == CHANNEL and row.user_id is None
    assert json.loads(row.reference)["conversation"]["id"] == CHANNEL


async def test_throttled_reply_is_retried_once(teams: Teams) -> None:
    teams.fake.fail_next(1, 429, retry_after=0)
    status, _ = await teams.post(teams.activity("personal_message", text="help"))
    assert status == 200
    [reply] = await teams.fake.wait_for_sends(1)
    assert "assistant" in reply.body["text"]
    assert [c.status for c in teams.fake.calls] == [429, 200]


async def test_blocked_conversation_is_not_retried(teams: Teams) -> None:
    teams.fake.fail_next(3, 403, sub_code="MessageWritesBlocked")
    status, _ = await teams.post(teams.activity("personal_message", text="help"))
    assert status == 200
    assert [c.status for c in teams.fake.calls] == [403]


@pytest.mark.parametrize(("body", "content_type", "expected"), [
    (b"{not json", "application/json", 400),
    (b"\xff\xfe\x00", "application/json", 400),
    (b"[1, 2]", "application/json", 400),
    (b'{"text": "no type"}', "application/json", 400),
    (b'{"type": "message", "conversation": {"id": "x"}}', "application/json", 400),
    (b'{"type": "message", "serviceUrl": "http://x/", "from": "me",'
     b' "conversation": {"id": "x"}}', "application/json", 400),
    (b"type=message", "application/x-www-form-urlencoded", 415),
    (b"hello", "text/plain", 415),
])
async def test_bad_bodies_get_clear_4xx(teams: Teams, body: bytes, content_type: str,
                                        expected: int) -> None:
    status, answer = await teams.post(body, content_type=content_type)
    assert status == expected
    assert isinstance(answer, dict) and answer["error"]
    assert teams.fake.calls == []


async def test_oversized_body_is_413(teams: Teams) -> None:
    activity = teams.activity("personal_message", text="x" * (2 * 1024 * 1024))
    status, _ = await teams.post(activity)
    assert status == 413
    assert teams.fake.calls == []


async def test_healthz_reports_teams_as_a_string(teams: Teams) -> None:
    import aiohttp

    async with aiohttp.ClientSession() as session, session.get(
            f"{teams.bot.url}/healthz") as response:
        body = await response.json()
    assert body["platforms"]["teams"] == "disabled"  # no app id: local / Emulator mode only
    status, _ = await teams.post(teams.activity("personal_message", text="help"))
    assert status == 200
    await asyncio.wait_for(teams.fake.wait_for_sends(1), 5)


async def test_slow_invoke_is_answered_in_time_and_finishes_later(
        teams: Teams, monkeypatch: pytest.MonkeyPatch) -> None:
    from app.server import ROUTER
    from bot.adapters.teams import endpoint as teams_adapter

    router = teams.bot.app[ROUTER]
    real_dispatch = router.dispatch
    release = asyncio.Event()

    async def slow_dispatch(message: Any) -> Any:
        await release.wait()
        return await real_dispatch(message)

    monkeypatch.setattr(teams_adapter, "INVOKE_DEADLINE", 0.2)
    monkeypatch.setattr(router, "dispatch", slow_dispatch)
    invoke = teams.activity("invoke_card_action")
    invoke["value"]["action"]["data"] = {"action_id": "help:show", "value": ""}
    started = time.monotonic()
    status, body = await teams.post(invoke)
    assert status == 200 and body["statusCode"] == 200 and "Working on it" in body["value"]
    assert time.monotonic() - started < 2.0
    assert teams.fake.sends() == []
    release.set()
    [reply] = await teams.fake.wait_for_sends(1)
    assert "assistant" in reply.body["text"]
