"""A possible repeat says so first, on every platform, in one wording."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from bot.adapters.slack.manifest import build_slack_manifest_dict
from bot.adapters.slack.render import to_slack_message
from bot.adapters.teams.render import to_activity
from bot.adapters.webchat.endpoint import render
from bot.messages import REPEAT_LINE, Button, Reply, Section, reply_from_dict, reply_to_dict
from tests.support import make_settings

ALERT = Reply(text="Polls in Ward 3 close at 9 pm", sections=(
    Section("Polls in Ward 3 close at 9 pm", "TLP:CLEAR"),), buttons=(Button("Got it", "ack"),))


def test_the_marking_survives_the_outbox() -> None:
    assert reply_from_dict(json.loads(json.dumps(reply_to_dict(
        Reply(text="x", repeat=True))))).repeat is True
    assert reply_from_dict({"text": "old row"}).repeat is False  # rows queued before the field


def test_slack_leads_with_the_repeat_line_in_blocks_and_notification() -> None:
    for reply in (Reply(text="plain", repeat=True), replace(ALERT, repeat=True)):
        message = to_slack_message(reply)
        first = message["blocks"][0]
        assert first["type"] == "context" and REPEAT_LINE in first["elements"][0]["text"]
        assert message["text"].startswith(REPEAT_LINE)
    plain = to_slack_message(ALERT)
    assert REPEAT_LINE not in json.dumps(plain)


def test_teams_leads_with_the_repeat_line_above_the_card() -> None:
    card = to_activity(replace(ALERT, repeat=True))
    assert card["text"].startswith(f"**{REPEAT_LINE}**") and card["summary"].startswith(
        REPEAT_LINE)
    text_only = to_activity(Reply(text="Reminder: certify by Friday", repeat=True))
    assert text_only["text"].splitlines()[0] == f"**{REPEAT_LINE}**"
    assert REPEAT_LINE not in json.dumps(to_activity(ALERT))


def test_web_chat_leads_with_the_repeat_line() -> None:
    shown = render(Reply(text="Reminder", repeat=True))
    assert shown["text"].splitlines()[0] == REPEAT_LINE and shown["repeat"] is True
    assert render(Reply(text="Reminder"))["text"] == "Reminder"


def test_the_manifest_does_not_ask_to_read_channels(tmp_path: Path) -> None:
    scopes = build_slack_manifest_dict(make_settings(tmp_path), "https://bot.example/")[
        "oauth_config"]["scopes"]["bot"]
    assert "im:history" in scopes  # direct messages can be checked after a crash
    assert not {"channels:history", "groups:history"} & set(scopes)
