"""Malformed input on every route gets a clear 4xx (or a 200 for a well-formed oddity), never a 5xx.

One regression test per case the audit found (issue 11, item 5), against the real server.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import logging
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import sqlalchemy as sa

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
from tests.fakes.bot_connector import FakeBotConnector, load_activity, post_activity
from tests.handlers.incidents.conftest import INCIDENTS, ROLES, report_values

JSON = "application/json"


class Tracebacks(logging.Handler):
    """Every record logged with an exception, from any logger."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info or "Traceback" in record.getMessage():
            self.records.append(record)


@pytest.fixture
def tracebacks() -> AsyncIterator[Tracebacks]:
    handler = Tracebacks()
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield handler  # type: ignore[misc]
    finally:
        root.removeHandler(handler)


@pytest.fixture
async def sb(tmp_path: Path) -> AsyncIterator[SlackBot]:
    async with slack_bot(tmp_path, config={"incidents": INCIDENTS, "roles": ROLES}) as bot:
        yield bot


async def _post(http: aiohttp.ClientSession, url: str, data: bytes,
                headers: dict[str, str]) -> tuple[int, str]:
    async with http.post(url, data=data, headers=headers) as resp:
        return resp.status, await resp.text()


# -- the module itself --------------------------------------------------------------------------

def test_loads_limits_depth_integers_and_constants() -> None:
    from bot.adapters import http_input

    assert http_input.loads(b'{"a": [1, 2.5, "x"]}') == {"a": [1, 2.5, "x"]}
    for bad, words in [(b"[" * 65 + b"]" * 65, "nested"), (b"1" * 51, "digits"),
                       (b'{"a": NaN}', "NaN"), (b'{"a": Infinity}', "Infinity"),
                       (b"\xff", "UTF-8"), (b"{", "JSON"), (b"[1e999]", "number")]:
        with pytest.raises(http_input.InputError, match=words):
            http_input.loads(bad)
    assert http_input.loads(b"[" * 64 + b"]" * 64) is not None
    # Brackets inside strings are not nesting.
    assert http_input.loads(json.dumps({"t": "[" * 500}).encode()) == {"t": "[" * 500}


def test_surrogates_and_nul_are_refused_in_protocol_fields_and_cleaned_in_free_text() -> None:
    from bot.adapters import http_input

    raw = b'{"user": "ann", "text": "a\\ud800b\\u0000c", "form": {"values": {"d": "\\udfff"}}}'
    data = http_input.loads(raw, free_text=("text", "values"))
    assert data == {"user": "ann", "text": "a\ufffdbc", "form": {"values": {"d": "\ufffd"}}}
    with pytest.raises(http_input.InputError, match=r"user"):
        http_input.loads(b'{"user": "a\\ud800"}', free_text=("text",))
    with pytest.raises(http_input.InputError, match=r"form\.id"):
        http_input.loads(b'{"form": {"id": "x\\u0000"}}', free_text=("text",))
    with pytest.raises(http_input.InputError, match="field name"):
        http_input.loads(b'{"\\ud800": 1}')


def test_query_int_accepts_ascii_digits_only() -> None:
    from bot.adapters import http_input

    assert http_input.query_int({"after": "12"}, "after") == 12
    assert http_input.query_int({}, "after") == 0
    for bad in ("\u00b2", "\u0661", "-1", "1" * 30, "", " 1"):
        with pytest.raises(http_input.InputError, match="after"):
            http_input.query_int({"after": bad}, "after")


# -- every POST route: compressed bodies --------------------------------------------------------

@pytest.mark.parametrize("path", ["/webchat/messages", "/api/messages", "/slack/events"])
@pytest.mark.parametrize("encoding", ["gzip", "deflate", "br", "x-garbage"])
async def test_compressed_bodies_are_refused_with_415(sb: SlackBot, path: str,
                                                      encoding: str, tracebacks: Tracebacks) -> None:
    raw = b"\x1f\x8b\x08\x00garbage, not a gzip stream"
    headers = {**signed_headers(raw, JSON), "Content-Encoding": encoding}
    status, body = await _post(sb.http, sb.bot.url + path, raw, headers)
    assert status == 415, body
    assert "Content-Encoding" in json.loads(body)["error"]
    # A valid gzip stream is refused the same way (no decompression bombs to bound).
    good = gzip.compress(json.dumps({"user": "ann", "text": "help"}).encode())
    status, _ = await _post(sb.http, sb.bot.url + path, good, {**headers, "Content-Encoding": "gzip"})
    assert status == 415
    assert tracebacks.records == []


# -- Slack ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("timestamp", ["1" * 400, "9" * 20, "\u00b2" * 3, "1" * 5000, "-5", ""])
async def test_slack_absurd_timestamps_are_401(sb: SlackBot, timestamp: str,
                                              tracebacks: Tracebacks) -> None:
    raw = command_body(sb.fake, "help")
    headers = {"Content-Type": FORM, "X-Slack-Request-Timestamp": timestamp,
               "X-Slack-Signature": "v0=" + "0" * 64}
    status, body = await sb.post(raw, headers)
    assert status == 401, body
    assert tracebacks.records == []


def _slack_cases() -> dict[str, tuple[bytes, str]]:
    def form(payload: dict[str, Any]) -> tuple[bytes, str]:
        return interaction_body(payload), FORM

    def event(inner: Any, **extra: Any) -> tuple[bytes, str]:
        body = {"type": "event_callback", "team_id": "T0TEST", "api_app_id": "A0BOT",
                "event_id": f"Ev{time.monotonic_ns()}", "event": inner, **extra}
        return json.dumps(body).encode(), JSON

    actions = load("block_actions")
    view = load("view_submission")
    shortcut = load("message_shortcut")
    return {
        "event_null": event(None),
        "event_empty": event({}),
        "event_type_not_string": event({"type": 5}),
        "event_message_without_fields": event({"type": "message"}),
        "event_mention_text_not_string": event({"type": "app_mention", "text": 5,
                                                "user": "U1", "channel": "C1", "ts": "1.2"}),
        "event_unknown_type": event({"type": "totally_new_event"}),
        "event_channel_int": event({**load("message_im")["event"], "channel": 5}),
        "authorizations_float": event({"type": "message"}, authorizations=1.5),
        "command_without_user": (b"command=%2Fask&text=help&team_id=T0TEST&user_id=", FORM),
        "workflow_step_execute": event({"type": "workflow_step_execute", "callback_id": "x",
                                        "workflow_step": {"workflow_step_execute_id": "1"}}),
        "workflow_step_execute_without_step": event({"type": "workflow_step_execute"}),
        "actions_without_action_id": form({**actions, "actions": [{"value": "1:no"}]}),
        "actions_empty": form({**actions, "actions": []}),
        "action_id_not_string": form({**actions, "actions": [{"action_id": 7}]}),
        "actions_without_user": form({**actions, "user": None}),
        "workflow_step_edit": form({"type": "workflow_step_edit", "callback_id": "x",
                                    "trigger_id": "t", "team": {"id": "T0TEST"}}),
        "view_workflow_step": form({**view, "view": {**view["view"], "type": "workflow_step"}}),
        "view_without_view": form({k: v for k, v in view.items() if k != "view"}),
        "view_without_callback": form({**view, "view": {"id": "V1", "state": {"values": {}}}}),
        "view_callback_not_string": form({**view, "view": {**view["view"], "callback_id": 5}}),
        "view_user_without_id": form({**view, "user": {"name": "pat"}}),
        "view_closed": form({**view, "type": "view_closed"}),
        "shortcut_without_callback": form({"type": "shortcut", "trigger_id": "t",
                                           "team": {"id": "T0TEST"}, "user": {"id": "U1"}}),
        "message_action_without_callback": form({k: v for k, v in shortcut.items()
                                                 if k != "callback_id"}),
        "message_action_message_not_object": form({**shortcut, "message": None}),
        "unknown_type": form({"type": "brand_new_interaction", "team": {"id": "T0TEST"}}),
        "no_type": form({"team": {"id": "T0TEST"}}),
        "type_not_string": form({"type": ["block_actions"]}),
        "block_suggestion_without_action": form({"type": "block_suggestion",
                                                 "team": {"id": "T0TEST"}}),
        "interactive_message": form({"type": "interactive_message", "callback_id": "x",
                                     "actions": [{"name": "a"}], "team": {"id": "T0TEST"}}),
        "dialog_submission": form({"type": "dialog_submission", "callback_id": "x",
                                   "submission": None, "team": {"id": "T0TEST"}}),
        "url_verification_without_challenge": (b'{"type": "url_verification"}', JSON),
        "command_without_command": (b"text=help&team_id=T0TEST", FORM),
        "command_not_slash": (b"command=ask&text=help&team_id=T0TEST", FORM),
        "team_id_list": (b'{"type": "event_callback", "team_id": [1], "event": {"type": "x"}}',
                         JSON),
        "deep_payload": (b"payload=" + b"%5B" * 3000 + b"%5D" * 3000, FORM),
        "huge_int_payload": (b'{"type": "event_callback", "event_id": ' + b"9" * 5000 + b"}", JSON),
        "lone_surrogate_in_team": (b'{"type": "event_callback", "team_id": "T\\ud800", '
                                   b'"event": {"type": "x"}}', JSON),
    }


SLACK_CASES = _slack_cases()


@pytest.mark.parametrize("case", sorted(SLACK_CASES))
async def test_signed_odd_slack_payloads_never_get_a_5xx(sb: SlackBot, case: str,
                                                         tracebacks: Tracebacks) -> None:
    raw, content_type = SLACK_CASES[case]
    status, body = await sb.signed(raw, content_type)
    assert status < 500 and status in (200, 400, 404), (status, body)
    assert "Traceback" not in body
    # Listener work runs after the ack: give it the moment it needs, then look at the log.
    await _settle()
    assert [r.getMessage() for r in tracebacks.records] == []


async def _settle() -> None:
    """Let Bolt's listener tasks (run after the ack) finish before the log is read."""
    for _ in range(50):
        pending = [t for t in asyncio.all_tasks()
                   if "ListenerRunner" in getattr(t.get_coro(), "__qualname__", "")]
        if not pending:
            return
        await asyncio.wait(pending, timeout=5)


async def test_slack_command_and_modal_with_nul_and_surrogates_are_answered(
        sb: SlackBot, tracebacks: Tracebacks) -> None:
    from tests.bot.adapters.slack.test_slack_incidents import VALID, open_form, submit

    raw = command_body(sb.fake, "what is the pause\x00 method", name="nul")
    assert b"%00" in raw
    status, body = await sb.signed(raw)
    assert status == 200, body
    [post] = await sb.fake.wait_for("response")
    assert "PAUSE method" in post.params["text"]
    view = await open_form(sb)
    # interaction_body's json.dumps escapes both: "\u0000" and "\ud800" reach the server.
    await submit(sb, view, {**VALID, "description": "Tabulator\x00 3 jammed \ud800 badly"})
    await _settle()
    [(description,)] = await query(sb, "SELECT description FROM incident")
    assert description == "Tabulator 3 jammed \ufffd badly"
    assert tracebacks.records == []


# -- web chat ------------------------------------------------------------------------------------

@pytest.mark.parametrize("after", ["\u00b2", "\u0663", "\uff11", "1" * 5000, "9" * 30, "-1"])
async def test_webchat_inbox_non_ascii_or_absurd_after_is_400(sb: SlackBot, after: str,
                                                            tracebacks: Tracebacks) -> None:
    async with sb.http.get(f"{sb.bot.url}/webchat/inbox",
                           params={"user": "ann", "after": after}) as resp:
        assert resp.status == 400, await resp.text()
        assert "after" in (await resp.json())["error"]
    assert tracebacks.records == []


@pytest.mark.parametrize(("raw", "words"), [
    (b'{"user": "ann", "text": ' + b"[" * 5000 + b"]" * 5000 + b"}", "nested"),
    (b'{"user": "ann", "text": "x", "n": ' + b"9" * 5000 + b"}", "digits"),
    (b'{"user": "ann", "text": "x", "n": ' + b"9" * 400 + b"}", "digits"),
    (b'{"user": "ann\\ud800", "text": "x"}', "user"),
    (b'{"user": "ann", "text": "x", "jurisdiction": "C\\u0000T"}', "jurisdiction"),
    (b'{"user": "ann", "text": "x", "n": NaN}', "NaN"),
])
async def test_webchat_hostile_json_is_400(sb: SlackBot, raw: bytes, words: str,
                                          tracebacks: Tracebacks) -> None:
    status, body = await _post(sb.http, f"{sb.bot.url}/webchat/messages", raw,
                               {"Content-Type": JSON})
    assert status == 400, body
    assert words in json.loads(body)["error"]
    assert tracebacks.records == []


async def test_webchat_report_with_surrogates_and_nul_is_kept(sb: SlackBot,
                                                             tracebacks: Tracebacks) -> None:
    url = f"{sb.bot.url}/webchat/messages"
    status, body = await _post(sb.http, url, b'{"user": "ann", "text": "incident"}',
                               {"Content-Type": JSON})
    form_id = json.loads(body)["replies"][0]["form"]["form_id"]
    values = report_values(description="Tabulator\u0000 3 jammed \ud800 badly")
    raw = json.dumps({"user": "ann", "form": {"id": form_id, "values": values}}).encode()
    assert b"\\ud800" in raw and b"\\u0000" in raw
    status, body = await _post(sb.http, url, raw, {"Content-Type": JSON})
    assert status == 200, body
    async with sb.bot.services.db.engine.connect() as conn:
        [description] = (await conn.execute(sa.text("SELECT description FROM incident"))).one()
    assert description == "Tabulator 3 jammed \ufffd badly"
    assert tracebacks.records == []


# -- Teams ------------------------------------------------------------------------------------------

@pytest.fixture
def connector() -> AsyncIterator[FakeBotConnector]:
    with FakeBotConnector() as fake:
        yield fake  # type: ignore[misc]


@pytest.mark.parametrize(("raw", "words"), [
    (b'{"type": "message", "x": ' + b"[" * 5000 + b"]" * 5000 + b"}", "nested"),
    (b'{"type": "message", "x": ' + b"7" * 4400 + b"}", "digits"),
    (b'{"type": "message", "x": ' + b"7" * 400 + b"}", "digits"),
    (b'{"type": "mess\\udfffage"}', "type"),
])
async def test_teams_hostile_json_is_400_before_auth(sb: SlackBot, raw: bytes, words: str,
                                                    tracebacks: Tracebacks) -> None:
    status, body = await post_activity(sb.bot.url, raw)
    assert status == 400, body
    assert words in body["error"]
    assert tracebacks.records == []


@pytest.mark.parametrize("name", ["composeExtension/query", "task/fetch", "made/up",
                                  "signin/verifyState", "actionableMessage/executeAction"])
async def test_unknown_teams_invokes_get_an_invoke_response(sb: SlackBot, name: str,
                                                           connector: FakeBotConnector,
                                                           tracebacks: Tracebacks) -> None:
    activity = {**load_activity("invoke_card_action", connector.url + "/"), "name": name}
    status, body = await post_activity(sb.bot.url, activity)
    assert status == 200, body
    assert body["statusCode"] == 200 and "not supported" in body["value"]
    assert tracebacks.records == []


@pytest.mark.parametrize("name", [None, "", 5])
async def test_malformed_teams_invokes_are_400(sb: SlackBot, name: Any,
                                              connector: FakeBotConnector,
                                              tracebacks: Tracebacks) -> None:
    activity = {**load_activity("invoke_card_action", connector.url + "/"), "name": name}
    status, body = await post_activity(sb.bot.url, activity)
    assert status == 400, body
    assert tracebacks.records == []


@pytest.mark.parametrize(("change", "words"), [
    ({"recipient": None}, "recipient"),
    ({"conversation": {"id": "a:1\ufeff", "conversationType": "personal"}}, "conversation.id"),
    ({"from": {"id": "29:\u00e9"}}, "from.id"),
])
async def test_teams_activities_the_reply_could_not_address_are_400(
        sb: SlackBot, connector: FakeBotConnector, change: dict[str, Any], words: str,
        tracebacks: Tracebacks) -> None:
    activity = {**load_activity("personal_message", connector.url + "/"), **change}
    status, body = await post_activity(sb.bot.url, activity)
    assert status == 400 and words in body["error"], body
    assert tracebacks.records == []


async def test_teams_message_with_nul_and_surrogate_text_is_answered(
        sb: SlackBot, connector: FakeBotConnector, tracebacks: Tracebacks) -> None:
    activity = load_activity("personal_message", connector.url + "/", text="help\x00 \ud800")
    raw = json.dumps(activity).encode()
    status, body = await post_activity(sb.bot.url, raw)
    assert status == 200, body
    await connector.wait_for_sends(1)
    assert tracebacks.records == []
