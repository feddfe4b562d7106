"""Slash commands go through one global Bolt middleware: acked at once, answered in a task."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import pytest

# The middleware is driven with Bolt's own request and response types, as Bolt drives it.
from slack_bolt.async_app import AsyncRespond  # noqa: TID251
from slack_bolt.request.async_request import AsyncBoltRequest  # noqa: TID251
from slack_bolt.response import BoltResponse  # noqa: TID251
from slack_sdk.web.async_client import AsyncWebClient  # noqa: TID251

from bot.adapters.slack.listeners import SlashCommands
from bot.ops.metrics import REPLAYS
from tests.bot.adapters.slack.slack_support import (
    FORM,
    command_body,
    eventually,
    signed_headers,
    slack_bot,
)


def _request(body: dict[str, Any]) -> AsyncBoltRequest:
    return AsyncBoltRequest(body=body, mode="socket_mode")


async def _next() -> BoltResponse:
    return BoltResponse(status=404, body="next")


async def test_a_command_is_acked_and_answered_in_a_task() -> None:
    seen: list[tuple[dict[str, Any], AsyncRespond | None]] = []
    done = asyncio.Event()

    async def on_command(body: dict[str, Any], respond: AsyncRespond | None,
                         request: AsyncBoltRequest, client: AsyncWebClient) -> None:
        seen.append((body, respond))
        done.set()

    body = {"command": "/ask", "text": "hi", "user_id": "U1", "team_id": "T1",
            "response_url": "https://hooks.slack.test/r/1"}
    response = await SlashCommands(on_command).async_process(
        req=_request(body), resp=BoltResponse(status=200), next=_next)
    assert response is not None and (response.status, response.body) == (200, "")
    await asyncio.wait_for(done.wait(), 5)
    [(got, respond)] = seen
    assert got == body and respond is not None
    assert respond.response_url == "https://hooks.slack.test/r/1"


@pytest.mark.parametrize("body", [{"type": "block_actions", "actions": []}, {"command": "ask"},
                                  {"command": "/"}, {"ssl_check": "1", "token": "x"}])
async def test_anything_else_goes_on_to_bolt(body: dict[str, Any]) -> None:
    async def on_command(*_args: Any) -> None:
        raise AssertionError("not a command")

    response = await SlashCommands(on_command).async_process(
        req=_request(body), resp=BoltResponse(status=200), next=_next)
    assert response is not None and response.body == "next"


async def test_a_failing_command_is_logged_without_its_message(
        caplog: pytest.LogCaptureFixture) -> None:
    failed = asyncio.Event()

    async def on_command(*_args: Any) -> None:
        failed.set()
        raise RuntimeError("what the person typed")

    caplog.set_level(logging.ERROR, logger="bot.adapters.slack.listeners")
    response = await SlashCommands(on_command).async_process(
        req=_request({"command": "/ask", "user_id": "U1"}), resp=BoltResponse(status=200),
        next=_next)
    assert response is not None and response.status == 200
    await asyncio.wait_for(failed.wait(), 5)
    for _ in range(100):  # the task logs right after raising: yield until it has
        if caplog.records:
            break
        await asyncio.sleep(0)
    [record] = caplog.records
    assert record.getMessage() == "slack command failed"
    assert getattr(record, "hide_exception_message", False) is True


async def test_the_ssl_check_is_still_answered_by_bolt(tmp_path: Path) -> None:
    async with slack_bot(tmp_path) as sb:
        assert await sb.signed(b"ssl_check=1&token=legacy-verification-token") == (200, "")


async def test_a_command_over_http_is_answered_once(tmp_path: Path) -> None:
    async with slack_bot(tmp_path) as sb:
        raw = command_body(sb.fake, "what is the pause method")
        headers = signed_headers(raw, FORM)
        assert await sb.post(raw, headers) == (200, "")
        [post] = await sb.fake.wait_for("response")
        assert "PAUSE method" in post.params["text"]
        before = REPLAYS.labels("slack")._value.get()
        assert await sb.post(raw, headers) == (200, "")  # the exact replay: acked, no answer
        await eventually(lambda: _replay_counted(sb, before))
        assert [c.method for c in sb.fake.calls].count("response") == 1


async def _replay_counted(sb: Any, before: float) -> bool:
    return len([k for k in await sb.processed_keys() if k.startswith("slack:sig:")]) == 1 \
        and REPLAYS.labels("slack")._value.get() > before


async def test_each_request_gets_its_own_client_copy(tmp_path: Path) -> None:
    from bot.adapters.slack.app import build_bolt_app
    from tests.support import make_settings

    settings = make_settings(tmp_path, {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s",
                                        "SLACK_API_URL": "http://127.0.0.1:9/api/"})
    bolt = build_bolt_app(settings)
    app_client = bolt.client
    requests = [_request({"command": "/ask", "team_id": team, "user_id": "U1"})
                for team in ("T1", "T2")]
    for req in requests:
        bolt._init_context(req)
    first, second = (req.context.client for req in requests)
    assert first is not app_client and second is not first
    assert (first.default_params, second.default_params) == ({"team_id": "T1"},
                                                             {"team_id": "T2"})
    assert first.base_url == app_client.base_url == "http://127.0.0.1:9/api/"
    assert first.retry_handlers == app_client.retry_handlers
    assert first.retry_handlers is not app_client.retry_handlers
    first.token = "xoxb-for-this-request"  # what authorization does
    assert app_client.token is None and second.token is None
    assert app_client.default_params == {}
