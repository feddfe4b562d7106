"""View submissions over HTTP, Socket Mode through a fake websocket, and the manifest."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import yaml

from app.server import ROUTER
from bot.adapters.slack.manifest import build_slack_manifest
from bot.messages import Form, FormField, IncomingMessage, Reply
from tests.bot.adapters.slack.slack_support import SlackBot, interaction_body, load, slack_bot
from tests.support import make_settings


@pytest.fixture
async def sb(tmp_path: Path) -> AsyncIterator[SlackBot]:
    async with slack_bot(tmp_path) as running:
        yield running


FIELDS = (FormField("summary", "What happened"),)


async def test_view_submission_errors_are_the_ack_body(sb: SlackBot,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[IncomingMessage] = []

    async def dispatch(message: IncomingMessage) -> Reply:
        seen.append(message)
        return Reply(text="fix", form=Form("incident:report", "Report", FIELDS,
                                           errors={"summary": "Please say what happened"}))

    monkeypatch.setattr(sb.bot.app[ROUTER], "dispatch", dispatch)
    status, body = await sb.signed(interaction_body(load("view_submission")))
    assert status == 200
    assert json.loads(body) == {"response_action": "errors",
                                "errors": {"summary": "Please say what happened"}}
    assert seen[0].form is not None and seen[0].form.values["jurisdiction"] == "KS"


async def test_view_submission_success_and_replay(sb: SlackBot,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[IncomingMessage] = []

    async def dispatch(message: IncomingMessage) -> Reply:
        calls.append(message)
        return Reply(text="Filed incident 7 <!channel>")

    monkeypatch.setattr(sb.bot.app[ROUTER], "dispatch", dispatch)
    raw = interaction_body(load("view_submission"))
    from tests.bot.adapters.slack.slack_support import FORM, signed_headers

    headers = signed_headers(raw, FORM)
    status, body = await sb.post(raw, headers)
    answer = json.loads(body)
    assert status == 200 and answer["response_action"] == "update"
    assert "Filed incident 7 &lt;!channel&gt;" in json.dumps(answer["view"])
    replay_status, replay_body = await sb.post(raw, headers)
    assert replay_status == 200 and replay_body == ""
    assert len(calls) == 1


async def test_socket_mode_dispatches_commands_and_events(tmp_path: Path) -> None:
    async with slack_bot(tmp_path, SLACK_APP_TOKEN="xapp-1-test") as sb:
        command = {**load("command"), "response_url": sb.fake.response_url("socket")}
        await sb.fake.socket_envelopes.put({"envelope_id": "env-1", "type": "slash_commands",
                                            "accepts_response_payload": True,
                                            "payload": command})
        await sb.fake.socket_envelopes.put({"envelope_id": "env-2", "type": "events_api",
                                            "accepts_response_payload": False,
                                            "payload": load("message_im")})
        acks = await sb.fake.wait_for("socket.ack", 2)
        assert {a.params["envelope_id"] for a in acks} == {"env-1", "env-2"}
        [post] = await sb.fake.wait_for("response")
        assert "PAUSE method" in post.params["text"]
        [message] = await sb.fake.wait_for("chat.postMessage")
        assert message.params["channel"] == "D0DIRECT"
        [opened] = sb.fake.calls_to("apps.connections.open")
        assert opened.headers["Authorization"] == "Bearer xapp-1-test"


def test_manifest_lists_commands_events_scopes_and_one_url(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, commands={"ask": "/ask-ct", "incident": "/incident"})
    manifest = yaml.safe_load(build_slack_manifest(settings, base_url="https://bot.example/"))
    url = "https://bot.example/slack/events"
    assert manifest["display_information"]["name"] == "Test Office Assistant"
    assert manifest["features"]["bot_user"]["display_name"] == "Test Office Assistant"
    commands = {c["command"]: c for c in manifest["features"]["slash_commands"]}
    assert set(commands) == {"/ask-ct", "/incident", "/alert", "/cert"}
    assert all(c["url"] == url and c["description"] and c["usage_hint"]
               for c in commands.values())
    settings_block = manifest["settings"]
    assert settings_block["event_subscriptions"]["request_url"] == url
    assert {"app_mention", "message.im", "tokens_revoked", "app_uninstalled"} <= set(
        settings_block["event_subscriptions"]["bot_events"])
    assert settings_block["interactivity"] == {"is_enabled": True, "request_url": url}
    assert settings_block["socket_mode_enabled"] is False
    assert settings_block["token_rotation_enabled"] is False
    assert commands["/incident"]["should_escape"] is True  # mentions arrive as <@U123|name>
    assert commands["/ask-ct"]["should_escape"] is False
    assert manifest["features"]["shortcuts"] == [{
        "name": "Report as incident", "type": "message", "callback_id": "report_incident",
        "description": "File an election incident report from this message"}]
    assert set(manifest["oauth_config"]["scopes"]["bot"]) == {
        "commands", "chat:write", "im:history", "im:write", "app_mentions:read", "users:read",
        "users:read.email", "channels:read", "groups:read", "assistant:write"}
    # The Home tab, its event, and the agent view's thread events.
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True
    assert manifest["features"]["agent_view"]["agent_description"]
    assert {"app_home_opened", "assistant_thread_started"} <= set(
        settings_block["event_subscriptions"]["bot_events"])
