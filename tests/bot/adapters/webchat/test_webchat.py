"""The local web chat over real HTTP: asking, buttons, health, and every kind of bad input."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import aiohttp
import pytest
import sqlalchemy as sa

from bot.adapters.webchat.endpoint import WebChatTransport, inbox_key, read_inbox
from bot.config.settings import Settings
from bot.db.engine import Database
from bot.messages import Destination, Reply
from tests.support import count_transactions, make_settings, migrated, running_bot


async def _post(session: aiohttp.ClientSession, url: str, payload: object) -> tuple[int, dict]:
    async with session.post(f"{url}/webchat/messages", json=payload) as resp:
        return resp.status, await resp.json()


async def test_page_and_assets_are_served_with_a_strict_policy(settings: Settings) -> None:
    async with running_bot(settings) as bot, aiohttp.ClientSession() as session:
        async with session.get(f"{bot.url}/") as resp:
            assert resp.status == 200
            assert "electionbot" in await resp.text()
            assert "script-src 'self'" in resp.headers["Content-Security-Policy"]
        async with session.get(f"{bot.url}/webchat/chat.js") as resp:
            assert resp.status == 200
            assert "textContent" in await resp.text()


async def test_the_page_is_told_which_language_the_person_and_the_answer_use(
        settings: Settings) -> None:
    async with running_bot(settings) as bot, aiohttp.ClientSession() as session:
        _, spanish = await _post(session, bot.url, {"user": "ann",
                                                   "text": "¿Qué es el método PAUSE?"})
        _, english = await _post(session, bot.url, {"user": "ann",
                                                   "text": "what is the pause method"})
        _, clicked = await _post(session, bot.url, {"user": "ann", "action": {
            "id": "faq:helpful", "value": "1:yes"}})
    assert spanish["lang"] == "es" and spanish["replies"][0]["lang"] == "es"
    assert english["lang"] == "en" and english["replies"][0]["lang"] == "en"
    assert "lang" not in clicked  # a click says nothing about the language: the page keeps its own


async def test_ask_answer_feedback_round_trip(settings: Settings) -> None:
    async with running_bot(settings) as bot, aiohttp.ClientSession() as session:
        status, body = await _post(session, bot.url, {"user": "ann", "text": "what is the pause method"})
        assert status == 200
        reply = body["replies"][0]
        assert "VoteSure@sos.ca.gov" in reply["text"]
        assert any("Applies to: California" in s["context"] for s in reply["sections"])
        yes = next(b for b in reply["buttons"] if b["value"].endswith(":yes"))
        status, body = await _post(session, bot.url, {"user": "ann", "action": {
            "id": yes["action_id"], "value": yes["value"]}})
        assert body["replies"][0]["text"].startswith("Thanks")
        status, body = await _post(session, bot.url, {"user": "ann", "action": {
            "id": yes["action_id"], "value": yes["value"]}})
        assert "already recorded" in body["replies"][0]["text"]
        async with bot.services.db.engine.connect() as conn:
            count = (await conn.execute(sa.text("SELECT count(*) FROM faq_feedback"))).scalar()
        assert count == 1


async def test_help_and_unknown_question(settings: Settings) -> None:
    async with running_bot(settings) as bot, aiohttp.ClientSession() as session:
        _, body = await _post(session, bot.url, {"user": "ann", "text": "help"})
        assert "/ask" in body["replies"][0]["sections"][0]["text"]
        _, body = await _post(session, bot.url, {"user": "ann", "text": "who should i vote for"})
        assert "nonpartisan" in body["replies"][0]["text"]


async def test_healthz_reports_database_knowledge_and_platforms(settings: Settings) -> None:
    async with running_bot(settings) as bot, aiohttp.ClientSession() as session:
        async with session.get(f"{bot.url}/healthz") as resp:
            body = await resp.json()
    assert resp.status == 200
    assert body["status"] == "ok"
    assert body["database"]["reachable"] is True
    assert body["knowledge"]["loaded"] is True
    assert body["platforms"]["webchat"] == "enabled"
    assert body["platforms"]["slack"] == "disabled"


async def test_disabled_slack_answers_a_clear_503(settings: Settings) -> None:
    async with running_bot(settings) as bot, aiohttp.ClientSession() as session:
        async with session.post(f"{bot.url}/slack/events", data=b"x") as resp:
            assert resp.status == 503
            assert "SLACK_BOT_TOKEN" in (await resp.json())["error"]


@pytest.mark.parametrize(("payload", "message"), [
    ([], "JSON object"),
    ({"user": "", "text": "hi"}, "user"),
    ({"user": "<script>", "text": "hi"}, "user"),
    ({"user": "ann", "text": "   "}, "empty"),
    ({"user": "ann", "text": "x" * 4001}, "too long"),
    ({"user": "ann", "text": 5}, "string"),
    ({"user": "ann", "action": "faq"}, "action"),
    ({"user": "ann", "form": {"id": "f", "values": [1]}}, "form"),
])
async def test_malformed_input_gets_a_clear_400(settings: Settings, payload: object,
                                                message: str) -> None:
    async with running_bot(settings) as bot, aiohttp.ClientSession() as session:
        status, body = await _post(session, bot.url, payload)
    assert status == 400
    assert message in body["error"]


async def test_wrong_content_type_broken_json_and_oversized_body(settings: Settings) -> None:
    async with running_bot(settings) as bot, aiohttp.ClientSession() as session:
        url = f"{bot.url}/webchat/messages"
        async with session.post(url, data="text=hi",
                                headers={"Content-Type": "application/x-www-form-urlencoded"}) as r:
            assert r.status == 415
        async with session.post(url, data=b'{"user": "ann", "te',
                                headers={"Content-Type": "application/json"}) as r:
            assert r.status == 400
            assert "JSON" in (await r.json())["error"]
        big = json.dumps({"user": "ann", "text": "x" * (2 * 1024 * 1024)})
        async with session.post(url, data=big, headers={"Content-Type": "application/json"}) as r:
            assert r.status == 413
        async with bot.services.db.engine.connect() as conn:
            count = (await conn.execute(sa.text("SELECT count(*) FROM faq_question"))).scalar()
        assert count == 0


async def test_forged_or_stale_feedback_buttons_are_refused(settings: Settings) -> None:
    async with running_bot(settings) as bot, aiohttp.ClientSession() as session:
        for value in ("abc:yes", "99999:yes", "1:maybe"):
            _, body = await _post(session, bot.url, {"user": "ann", "action": {
                "id": "faq:helpful", "value": value}})
            assert body["replies"][0]["text"] == "That button is not valid any more."


async def test_disabled_web_chat_is_a_clear_404(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, webchat={"enabled": False})
    async with running_bot(settings) as bot, aiohttp.ClientSession() as session:
        async with session.get(f"{bot.url}/") as resp:
            assert resp.status == 404
            assert "disabled" in (await resp.json())["error"]


@pytest.mark.parametrize("query", ["", "?user=ann&after=-1", "?user=<x>&after=0",
                                   "?user=ann&after=abc", f"?user={'a' * 41}&after=0"])
async def test_inbox_refuses_malformed_queries(settings: Settings, query: str) -> None:
    async with running_bot(settings) as bot, aiohttp.ClientSession() as session:
        async with session.get(f"{bot.url}/webchat/inbox{query}") as resp:
            assert resp.status == 400
            assert "numeric after" in (await resp.json())["error"]
        async with session.get(f"{bot.url}/webchat/inbox?user=ann&after=0") as resp:
            assert resp.status == 200 and (await resp.json())["messages"] == []


async def test_proactive_sends_share_transactions_and_each_lands_once(tmp_path: Path) -> None:
    """A broadcast's 60 web chat sends arrive together: they are written in a few group
    commits, not 60; each gets its own inbox row, found again by its outbox key."""
    url = f"sqlite:///{tmp_path / 'w.db'}"
    migrated(url)
    db = Database(url)
    commits = count_transactions(db)
    transport = WebChatTransport(db)
    people = [Destination.parse(f"webchat:local:@p{i}") for i in range(60)]
    refs = await asyncio.gather(*(transport.send(d, Reply(text=f"alert {i}"), key=f"k{i}")
                                  for i, d in enumerate(people)))
    assert len(set(refs)) == 60
    assert 1 <= len(commits) < 10
    for i in (0, 59):
        (item,) = await read_inbox(db, inbox_key(people[i]), 0)
        assert item["reply"]["text"] == f"alert {i}" and f"webchat:{item['id']}" == refs[i]
        assert await transport.already_sent(people[i], f"k{i}") == refs[i]
    assert await transport.already_sent(people[0], "k1") is None
    # a key that begins another one ("k" of "k1"), or holding a quote, is matched whole
    tenth = await transport.send(people[1], Reply(text="again"), key='k"1')
    assert await transport.already_sent(people[1], "k") is None
    assert await transport.already_sent(people[1], 'k"1') == tenth
    assert await transport.already_sent(people[1], "k1") == refs[1]
    await db.close()
