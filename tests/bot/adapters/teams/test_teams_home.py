"""Teams: a welcome card on install in personal chat, the home card when the person types home."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.adapters.teams.cards import ACTION_KEY, VALUE_KEY
from bot.adapters.teams.translate import install_message
from bot.home import ASK_ACTION, WELCOME_ACTION
from tests.fakes.bot_connector import Call, FakeBotConnector, load_activity, post_activity
from tests.support import RunningBot, make_settings, running_bot

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
DANA = "6f1c2e3d-4b5a-6978-8a9b-0c1d2e3f4a5b"  # the personal-chat user of the fixtures


@pytest.fixture
def fake() -> Iterator[FakeBotConnector]:
    with FakeBotConnector() as connector:
        yield connector


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[RunningBot]:
    roles = {"state_staff": [f"teams:{TENANT}:{DANA}"], "broadcaster": [f"teams:{TENANT}:{DANA}"]}
    async with running_bot(make_settings(tmp_path, roles=roles)) as running:
        yield running


def card(call: Call) -> dict[str, Any]:
    [attachment] = call.body["attachments"]
    return attachment["content"]


def submits(content: dict[str, Any]) -> list[dict[str, Any]]:
    """Every Action.Submit on the card, in card actions and in ActionSets."""
    found = list(content.get("actions", []))
    stack = list(content["body"])
    while stack:
        item = stack.pop(0)
        found += item.get("actions", []) if item.get("type") == "ActionSet" else []
        stack += item.get("items", [])
    return [a for a in found if a["type"] == "Action.Submit"]


def test_install_in_personal_chat_is_the_welcome_and_in_a_team_the_help() -> None:
    personal = load_activity("conversation_update_install", "https://smba.example/")
    message = install_message(personal)
    assert message is not None and message.action is not None
    assert message.action.action_id == WELCOME_ACTION and message.is_direct
    team = {**personal, "conversation": {**personal["conversation"],
                                         "conversationType": "channel"}}
    other = install_message(team)
    assert other is not None and other.text == "help" and other.action is None


async def test_install_posts_the_welcome_card_to_the_bot_connector(
        bot: RunningBot, fake: FakeBotConnector) -> None:
    status, _ = await post_activity(bot.url, load_activity("conversation_update_install",
                                                           fake.url + "/"))
    assert status == 200
    [welcome] = await fake.wait_for_sends(1)
    content = card(welcome)
    shown = json.dumps(content, ensure_ascii=False)
    assert "Welcome to the Test Office assistant" in shown
    asks = [a for a in submits(content) if a["data"].get(ACTION_KEY) == ASK_ACTION]
    assert [a["title"] for a in asks][0] == "What is the PAUSE method?" and len(asks) == 4
    assert asks[0]["data"][VALUE_KEY] == "What is the PAUSE method?"
    # Dana is a broadcaster: her welcome lists the alert commands.
    assert "composes an alert" in shown


async def test_typing_home_in_personal_chat_shows_the_home_card(
        bot: RunningBot, fake: FakeBotConnector) -> None:
    activity = load_activity("personal_message", fake.url + "/", text="home")
    status, _ = await post_activity(bot.url, activity)
    assert status == 200
    [reply] = await fake.wait_for_sends(1)
    shown = json.dumps(card(reply), ensure_ascii=False)
    assert "Home for" in shown and "Needs attention statewide" in shown
    assert "Open SEV1 incidents" in shown and "Your open incidents" in shown
