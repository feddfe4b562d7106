"""The production server over real HTTP with a fake Slack Web API and signed requests."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp
import pytest

from tests.bot.adapters.slack.slack_support import (
    FORM,
    SlackBot,
    command_body,
    interaction_body,
    load,
    query,
    signed_headers,
    slack_bot,
)
from tests.fakes.slack_api import FakeSlackApi
from tests.support import make_settings, running_bot, wait_until


@pytest.fixture
async def sb(tmp_path: Path) -> AsyncIterator[SlackBot]:
    async with slack_bot(tmp_path) as running:
        yield running


async def test_url_verification_echoes_the_challenge(sb: SlackBot) -> None:
    status, body = await sb.event({"type": "url_verification", "challenge": "c-123",
                                   "token": "x"})
    assert status == 200 and json.loads(body) == {"challenge": "c-123"}


async def test_ask_command_acks_fast_and_answers_on_response_url(sb: SlackBot) -> None:
    started = time.monotonic()
    status, body = await sb.signed(command_body(sb.fake, "what is the pause method"))
    elapsed = time.monotonic() - started
    assert status == 200 and body == ""
    assert elapsed < 1.0
    [post] = await sb.fake.wait_for("response")
    assert post.params["response_type"] == "in_channel"
    assert "PAUSE method" in post.params["text"]
    assert post.params["unfurl_links"] is False
    buttons = [e for b in post.params["blocks"] if b["type"] == "actions" for e in b["elements"]]
    ids = [b["action_id"] for b in buttons]
    assert buttons and len(ids) == len(set(ids))


async def test_an_answer_is_never_posted_to_a_response_url_off_slacks_hosts(sb: SlackBot) -> None:
    # Signed (as if the signing secret had leaked), but the response_url points elsewhere:
    # the bot refuses to post there, audits it, and keeps answering proper requests.
    async with FakeSlackApi() as elsewhere:
        raw = command_body(sb.fake, "what is the pause method", name="off",
                           response_url=elsewhere.response_url("stolen"))
        assert (await sb.signed(raw))[0] == 200

        async def audited() -> list[Any]:
            return await query(sb, "SELECT actor, action, allowed FROM audit_entry "
                                   "WHERE action = 'slack.response_url'")
        [(actor, _, allowed)] = await wait_until(audited)
        assert actor.startswith("slack:") and not allowed
        assert (await sb.signed(command_body(sb.fake, "what is the pause method")))[0] == 200
        [post] = await sb.fake.wait_for("response")
        assert "PAUSE method" in post.params["text"]
        assert elsewhere.calls == []


async def test_a_question_containing_the_word_payload_is_answered(sb: SlackBot) -> None:
    # Bolt's own parse takes any form body containing "payload" for an interaction and finds
    # none: the command came to Bolt as {} and was refused as from an unknown workspace.
    status, body = await sb.signed(command_body(sb.fake, "what payload may a poll worker lift"))
    assert status == 200 and body == ""
    [post] = await sb.fake.wait_for("response")
    assert post.params["response_type"] == "in_channel" and post.params["text"]


async def test_unknown_command_gets_ephemeral_help(sb: SlackBot) -> None:
    raw = command_body(sb.fake, "", command="/nosuchthing")
    status, _ = await sb.signed(raw)
    assert status == 200
    [post] = await sb.fake.wait_for("response")
    assert post.params["response_type"] == "ephemeral"
    assert "Test Office assistant" in post.params["text"]
    assert "/nosuchthing" in post.params["text"]


async def test_help_command_gets_the_help_text_alone(sb: SlackBot) -> None:
    status, _ = await sb.signed(command_body(sb.fake, "", command="/help"))
    assert status == 200
    [post] = await sb.fake.wait_for("response")
    assert post.params["response_type"] == "ephemeral"
    assert post.params["text"].startswith("I'm the Test Office assistant")
    assert "know the command" not in post.params["text"]
    assert "/cert" in str(post.params["blocks"])


async def test_user_text_with_channel_mention_is_escaped(sb: SlackBot) -> None:
    status, _ = await sb.signed(command_body(sb.fake, "<!channel> <@U1> & what is the weather"))
    assert status == 200
    [post] = await sb.fake.wait_for("response")
    rendered = json.dumps(post.params)
    assert "<!channel>" not in rendered and "<@U1>" not in rendered


async def test_mention_is_answered_in_thread_with_mention_stripped(sb: SlackBot) -> None:
    status, _ = await sb.event(load("app_mention"))
    assert status == 200
    [call] = await sb.fake.wait_for("chat.postMessage")
    assert call.params["channel"] == "C0ELECT"
    assert call.params["thread_ts"] == "1700000001.000100"
    assert "PAUSE method" in call.params["text"]
    assert call.params["unfurl_links"] is False and call.params["unfurl_media"] is False
    assert call.headers["Authorization"] == "Bearer xoxb-test-0000-token"


async def test_direct_message_gets_a_reply(sb: SlackBot) -> None:
    status, _ = await sb.event(load("message_im"))
    assert status == 200
    [call] = await sb.fake.wait_for("chat.postMessage")
    assert call.params["channel"] == "D0DIRECT" and "PAUSE method" in call.params["text"]


async def test_bot_messages_are_ignored(sb: SlackBot) -> None:
    status, _ = await sb.event(load("bot_message"))
    assert status == 200
    # A real message afterwards is answered; the bot's own message before it never was.
    await sb.event(load("message_im"))
    await sb.fake.wait_for("chat.postMessage")
    assert len(sb.fake.calls_to("chat.postMessage")) == 1
    assert "slack:event:Ev0BOTSELF" not in await sb.processed_keys()


async def test_button_click_is_answered_through_response_url(sb: SlackBot) -> None:
    await sb.signed(command_body(sb.fake, "what is the pause method", name="answer"))
    [answer] = await sb.fake.wait_for("response")
    buttons = [e for b in answer.params["blocks"] if b["type"] == "actions" for e in b["elements"]]
    no = next(b for b in buttons if b["value"].endswith("no"))
    payload = {**load("block_actions"), "response_url": sb.fake.response_url("click")}
    payload["actions"] = [{**payload["actions"][0], "action_id": no["action_id"],
                           "value": no["value"]}]
    status, _ = await sb.signed(interaction_body(payload))
    assert status == 200
    posts = await sb.fake.wait_for("response", 2)
    click = posts[1]
    assert click.params["text"].startswith("Thanks for telling us")
    assert click.params["response_type"] == "ephemeral"
    assert click.params["replace_original"] is False


@pytest.fixture
def key_checks(monkeypatch: pytest.MonkeyPatch) -> KeyChecks:
    checks = KeyChecks()
    from bot.adapters.slack import listeners as slack_listeners

    real = slack_listeners.first_time

    async def recording(db, key):  # type: ignore[no-untyped-def]
        result = await real(db, key)
        await checks.add(key, result)
        return result

    from bot import router as router_module
    from handlers.faq import handler as faq_handler
    from handlers.faq import service as faq_service

    for module in (slack_listeners, router_module, faq_handler):
        monkeypatch.setattr(module, "first_time", recording)
    real_claim = faq_service.claim_in

    def recording_claim(key: str):  # type: ignore[no-untyped-def]
        # A question's claim runs in the question log's transaction (a worker thread on SQLite).
        run, loop = real_claim(key), asyncio.get_running_loop()

        def recorded(conn):  # type: ignore[no-untyped-def]
            result = run(conn)
            loop.call_soon_threadsafe(lambda: loop.create_task(checks.add(key[:200], result)))
            return result
        return recorded

    monkeypatch.setattr(faq_service, "claim_in", recording_claim)
    return checks


class KeyChecks:
    """Every dedupe decision the listeners made, to wait on instead of sleeping."""

    def __init__(self) -> None:
        self.results: list[tuple[str, bool]] = []
        self._changed = asyncio.Condition()

    async def add(self, key: str, result: bool) -> None:
        async with self._changed:
            self.results.append((key, result))
            self._changed.notify_all()

    async def wait(self, prefix: str, count: int) -> list[bool]:
        def done() -> bool:
            return len(self.of(prefix)) >= count

        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(done), 10)
        return self.of(prefix)

    def of(self, prefix: str) -> list[bool]:
        return [r for k, r in self.results if k.startswith(prefix)]


async def test_event_retry_causes_no_second_post(sb: SlackBot, key_checks: KeyChecks) -> None:
    await sb.event(load("message_im"))
    await sb.fake.wait_for("chat.postMessage")
    status, _ = await sb.event(load("message_im"), {"X-Slack-Retry-Num": "1",
                                                    "X-Slack-Retry-Reason": "http_timeout"})
    assert status == 200
    assert await key_checks.wait("slack:event:Ev0DIRECT1", 2) == [True, False]
    assert len(sb.fake.calls_to("chat.postMessage")) == 1


async def test_exact_replay_of_a_signed_command_has_one_effect(sb: SlackBot,
                                                               key_checks: KeyChecks) -> None:
    raw = command_body(sb.fake, "what is the pause method", name="once")
    headers = signed_headers(raw, FORM)
    first = await sb.post(raw, headers)
    second = await sb.post(raw, headers)
    assert first[0] == second[0] == 200
    assert sorted(await key_checks.wait("slack:sig:", 2)) == [False, True]
    await sb.fake.wait_for("response")
    assert len(sb.fake.calls_to("response")) == 1
    assert len([k for k in await sb.processed_keys() if k.startswith("slack:sig:")]) == 1
    # The question was recorded once, in the same transaction as its key.
    assert await query(sb, "SELECT count(*) FROM faq_question") == [(1,)]


async def test_rate_limited_post_is_retried_once_after_retry_after(sb: SlackBot) -> None:
    sb.fake.fail("chat.postMessage", status=429, retry_after=1)
    await sb.event(load("message_im"))
    calls = await sb.fake.wait_for("chat.postMessage", 2, timeout=15)
    assert len(calls) == 2 and sb.fake.calls_to("chat.postMessage") == calls
    assert 1.0 <= calls[1].at - calls[0].at < 3.0
    assert calls[1].params["text"] == calls[0].params["text"]


BAD_SIGNATURES = {
    "bad": lambda raw: {**signed_headers(raw, FORM), "X-Slack-Signature": "v0=" + "0" * 64},
    "missing": lambda raw: {"Content-Type": FORM},
    "missing_timestamp": lambda raw: {
        k: v for k, v in signed_headers(raw, FORM).items() if k != "X-Slack-Request-Timestamp"},
    "tampered": lambda raw: signed_headers(raw.replace(b"pause", b"PAUSE"), FORM),
    "stale": lambda raw: signed_headers(raw, FORM, timestamp=str(int(time.time()) - 301)),
    "future": lambda raw: signed_headers(raw, FORM, timestamp=str(int(time.time()) + 301)),
    "non_numeric": lambda raw: signed_headers(raw, FORM, timestamp="yesterday"),
    "wrong_secret": lambda raw: signed_headers(raw, FORM, secret="not-the-secret"),
}


@pytest.mark.parametrize("case", sorted(BAD_SIGNATURES))
async def test_signature_failures_are_401_and_record_nothing(sb: SlackBot, case: str) -> None:
    raw = command_body(sb.fake, "what is the pause method")
    status, body = await sb.post(raw, BAD_SIGNATURES[case](raw))
    assert status == 401, body
    assert json.loads(body) == {"error": "invalid request signature"}
    assert sb.fake.calls == []
    assert await sb.processed_keys() == []


@pytest.mark.parametrize(("raw", "content_type", "status"), [
    (b"{not json", "application/json", 400),
    (b"[1, 2]", "application/json", 400),
    (b"payload=%7Bbroken", FORM, 400),
    (b"\xff\xfe", FORM, 400),
    (b"hello", "text/plain", 415),
    (b'{"type": "event_callback", "event": "x"}', "application/json", 400),
    (b"payload=" + quote(json.dumps({"type": "block_actions", "actions": "x"})).encode(),
     FORM, 400),
    (b"payload=" + quote(json.dumps({"type": "view_submission", "view": {"state": {
        "values": {"a": "b"}}}})).encode(), FORM, 400),
])
async def test_malformed_requests_get_a_clear_4xx(sb: SlackBot, raw: bytes, content_type: str,
                                                  status: int) -> None:
    got, body = await sb.signed(raw, content_type)
    assert got == status and "error" in json.loads(body)
    assert sb.fake.calls == []


async def test_oversized_body_is_413(sb: SlackBot) -> None:
    raw = b"text=" + b"a" * (1024 * 1024 + 10)
    got, body = await sb.signed(raw)
    assert got == 413 and "too large" in json.loads(body)["error"]


async def test_ack_is_fast_even_when_the_database_is_slow(sb: SlackBot,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.adapters.slack import listeners as slack_listeners

    gate = asyncio.Event()
    real = slack_listeners.first_time

    async def slow_first_time(db, key):  # type: ignore[no-untyped-def]
        await gate.wait()
        return await real(db, key)

    monkeypatch.setattr(slack_listeners, "first_time", slow_first_time)
    started = time.monotonic()
    status, _ = await sb.signed(command_body(sb.fake, "what is the pause method"))
    assert status == 200 and time.monotonic() - started < 1.0
    assert sb.fake.calls_to("response") == []
    gate.set()
    await sb.fake.wait_for("response")


async def test_ack_and_answer_do_not_wait_for_a_slow_auth_test(tmp_path: Path) -> None:
    # The workspace is listed in slack.workspaces, so admitting it needs no auth.test (an
    # unlisted one waits for auth.test to learn SLACK_BOT_TOKEN's own team).
    async with slack_bot(tmp_path, config={"slack": {"workspaces": ["T0TEST"]}}) as sb:
        sb.fake.delays["auth.test"] = 5.0
        started = time.monotonic()
        status, _ = await sb.signed(command_body(sb.fake, "what is the pause method"))
        assert status == 200 and time.monotonic() - started < 1.0
        [post] = await sb.fake.wait_for("response", timeout=4.0)
        assert "PAUSE method" in post.params["text"]


async def test_disabled_slack_is_503_with_a_clear_body(tmp_path: Path) -> None:
    async with running_bot(make_settings(tmp_path)) as bot, aiohttp.ClientSession() as http:
        async with http.post(f"{bot.url}/slack/events", data=b"x") as resp:
            assert resp.status == 503
            assert "SLACK_BOT_TOKEN" in (await resp.json())["error"]
        async with http.get(f"{bot.url}/healthz") as resp:
            assert (await resp.json())["platforms"]["slack"] == "disabled"


async def test_healthz_shows_slack_enabled(sb: SlackBot) -> None:
    async with sb.http.get(f"{sb.bot.url}/healthz") as resp:
        assert (await resp.json())["platforms"]["slack"] == "enabled"
