"""What a broadcaster typed into the composer reaches the preview as the characters typed.

A headline is shown to the sender (preview), approvers and every recipient: typed markup must
never become a link, a ping of whoever the reply mentions, or bold, on Slack or Teams; a typed
alert id or course echoed in an error is text too.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from app.services import build_services
from bot.adapters.slack.render import to_slack_message
from bot.adapters.teams.cards import form_blocks
from bot.adapters.teams.render import to_activity
from bot.messages import Form, FormField, FormSubmission, IncomingMessage, Reply, Sender
from bot.router import Router
from bot.services import Services
from handlers import build_handlers
from tests.handlers.alerts.conftest import alert_settings, compose_values
from tests.support import migrated

ATTACK = "[x](https://evil.example) {@0} **b**"


@pytest.fixture
async def services(tmp_path: Path) -> AsyncIterator[Services]:
    settings = alert_settings(tmp_path)
    migrated(settings.env.DATABASE_URL)
    svc = build_services(settings)
    yield svc
    await svc.db.close()


async def _as(services: Services, **message: object) -> Reply:
    sender = Sender("webchat", "local", "bc1", display_name="Broadcaster One")
    return await Router(build_handlers(), services).dispatch(
        IncomingMessage(sender=sender, channel="webchat:bc1", is_direct=True, **message))


async def _preview(services: Services) -> Reply:
    values = compose_values(headline=ATTACK, body=f"Body {ATTACK}", jurisdictions="KS")
    reply = await _as(services, form=FormSubmission("alert:compose:n1", values))
    assert reply.text.startswith("Preview of alert"), reply.text
    return reply


async def test_a_typed_headline_is_no_link_mention_or_bold_in_the_slack_preview(
        services: Services) -> None:
    message = to_slack_message(await _preview(services), workspace="T0TEST")
    shown = json.dumps(message["blocks"]) + message["text"]
    assert "<https://evil" not in shown and "|x>" not in shown
    assert "*b*" not in shown and "<@" not in shown and "<!" not in shown
    assert "{@0}" in shown and "evil.example" in shown  # the typed characters, all there


async def test_a_typed_headline_is_no_link_mention_or_bold_in_the_teams_preview(
        services: Services) -> None:
    card = json.dumps(to_activity(await _preview(services)), ensure_ascii=False)
    assert not re.search(r"\[[^\]]*\]\(", card)  # no markdown link anywhere
    assert "**b**" not in card and "<at>" not in card
    assert "{@0}" in card and "evil.example" in card


async def test_typed_ids_and_form_errors_echoed_back_stay_text() -> None:
    form = Form("f", "T", (FormField("groups", "Groups"),), errors={"groups": f"Unknown: {ATTACK}"})
    body = json.dumps([b for b in form_blocks(form)[0] if b["type"] == "TextBlock"],
                      ensure_ascii=False)  # markdown is read in TextBlocks (errorMessage: plain)
    assert "[x](" not in body and "**b**" not in body and "evil.example" in body


async def test_an_unknown_alert_id_typed_is_echoed_as_text(services: Services) -> None:
    reply = await _as(services, text=f"status {ATTACK}", command="/alert")
    card = json.dumps(to_activity(reply), ensure_ascii=False)
    slack = json.dumps(to_slack_message(reply, workspace="T0TEST"), ensure_ascii=False)
    assert "No alert" in card and "No alert" in slack
    assert "[X](" not in card and "**B**" not in card  # Teams reads markdown links
    assert "<HTTPS://" not in slack and "|X>" not in slack and "*B*" not in slack
