"""Slack's Home tab, first-visit welcome and assistant features, over signed HTTP to a fake Slack."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from bot.adapters.slack.render import MAX_BUTTON_LABEL
from tests.bot.adapters.slack.slack_support import SlackBot, command_body, load, slack_bot
from tests.handlers.certifications.platform_support import CERT, ROLES, import_demo

HOME_BLOCKS = {"section", "context", "actions", "header", "divider", "image"}


def check_home_view(view: dict[str, Any]) -> list[dict[str, Any]]:
    """What Slack would refuse in a Home view: wrong type, too many blocks, bad buttons."""
    assert view["type"] == "home"
    blocks = view["blocks"]
    assert 0 < len(blocks) <= 100
    assert {b["type"] for b in blocks} <= HOME_BLOCKS
    ids = [e["action_id"] for b in blocks if b["type"] == "actions" for e in b["elements"]]
    assert len(ids) == len(set(ids)), "action ids must be unique within a view"
    for block in blocks:
        if block["type"] == "section":
            assert "text" in block or "fields" in block
            assert len(block.get("text", {}).get("text", "")) <= 3000
        if block["type"] == "actions":
            assert 0 < len(block["elements"]) <= 25
            assert all(e["type"] == "button" and len(e["text"]["text"]) <= MAX_BUTTON_LABEL
                       for e in block["elements"])
    return blocks


def text_of(blocks: list[dict[str, Any]]) -> str:
    return json.dumps(blocks)


def home_event(tab: str = "home", event_id: str = "Ev0HOME1") -> dict[str, Any]:
    body = load("app_home_opened")
    return {**body, "event_id": event_id, "event": {**body["event"], "tab": tab}}


def published(sb: SlackBot) -> list[dict[str, Any]]:
    return [json.loads(c.params["view"]) if isinstance(c.params["view"], str) else c.params["view"]
            for c in sb.fake.calls_to("views.publish")]


async def test_home_tab_publishes_the_persons_home_and_republishes_after_a_filing(
        tmp_path: Path) -> None:
    async with slack_bot(tmp_path, config={"certification": CERT, "roles": ROLES}) as sb:
        await import_demo(sb.bot.services.settings, tmp_path)
        started = time.monotonic()
        status, _ = await sb.event(home_event())
        assert status == 200 and time.monotonic() - started < 3
        [call] = await sb.fake.wait_for("views.publish")
        assert call.params["user_id"] == "U0ASKER"
        blocks = check_home_view(published(sb)[0])
        shown = text_of(blocks)
        assert "Home for Pat Johnson" in shown and "KS-CLERK" in shown
        assert "Your open incidents*: none." in shown
        # Pat files a quick report: her home is republished with it, without opening it again.
        status, _ = await sb.signed(command_body(sb.fake, "Tabulator 2 jammed in Topeka KS",
                                                 name="r2", command="/incident"))
        assert status == 200
        await sb.fake.wait_for("views.publish", count=2)
        again = text_of(check_home_view(published(sb)[1]))
        assert "Your open incidents* (1)" in again and "INC-" in again


async def test_home_for_a_stranger_and_for_state_staff_is_valid(tmp_path: Path) -> None:
    async with slack_bot(tmp_path, config={"certification": CERT, "roles": ROLES}) as sb:
        body = home_event()
        await sb.event({**body, "event": {**body["event"], "user": "UBOSS"}})
        await sb.fake.wait_for("views.publish")
        shown = text_of(check_home_view(published(sb)[0]))
        assert "Needs attention statewide" in shown and "Open SEV1 incidents" in shown


async def test_messages_tab_welcomes_once(tmp_path: Path) -> None:
    async with slack_bot(tmp_path) as sb:
        await sb.event(home_event("messages", "Ev0MSG1"))
        [post] = await sb.fake.wait_for("chat.postMessage")
        assert post.params["channel"] == "D0DIRECT"
        assert post.params["text"].startswith("Welcome to the Test Office assistant")
        blocks = post.params["blocks"]
        blocks = json.loads(blocks) if isinstance(blocks, str) else blocks
        labels = [e["text"]["text"] for b in blocks if b["type"] == "actions"
                  for e in b["elements"]]
        assert "What is the PAUSE method?" in labels and len(labels) == 4
        assert "Report an incident" in text_of(blocks)  # the commands this person may use
        await sb.event(home_event("messages", "Ev0MSG2"))  # a second visit: no second welcome
        await sb.event(home_event("home", "Ev0HOME3"))
        await sb.fake.wait_for("views.publish")
        assert len(sb.fake.calls_to("chat.postMessage")) == 1


async def test_assistant_thread_gets_prompts_and_status_where_slack_has_them(
        tmp_path: Path) -> None:
    async with slack_bot(tmp_path) as sb:
        await sb.event(load("assistant_thread_started"))
        [prompts] = await sb.fake.wait_for("assistant.threads.setSuggestedPrompts")
        params = prompts.params
        assert params["channel_id"] == "D0DIRECT" and params["thread_ts"] == "1700000020.000100"
        sent = params["prompts"] if isinstance(params["prompts"], list) \
            else json.loads(params["prompts"])
        assert [p["message"] for p in sent][0] == "What is the PAUSE method?" and len(sent) == 4
        await sb.fake.wait_for("chat.postMessage")  # the first thread: the welcome as well
        # A question in the assistant thread: "is looking this up…" while answering.
        body = load("message_im")
        await sb.event({**body, "event": {**body["event"], "thread_ts": "1700000020.000100"}})
        [status] = await sb.fake.wait_for("assistant.threads.setStatus")
        assert status.params["status"] == "is looking this up…"
        assert status.params["thread_ts"] == "1700000020.000100"
        posts = await sb.fake.wait_for("chat.postMessage", count=2)
        assert "PAUSE" in posts[1].params["text"]
        assert posts[1].params["thread_ts"] == "1700000020.000100"


async def test_without_assistant_features_the_answer_comes_as_usual(tmp_path: Path) -> None:
    async with slack_bot(tmp_path) as sb:
        sb.fake.fail("assistant.threads.setStatus", error="not_allowed_token_type", times=10)
        body = load("message_im")
        status, _ = await sb.event(body)
        assert status == 200
        [post] = await sb.fake.wait_for("chat.postMessage")
        assert "PAUSE" in post.params["text"]
        # The workspace lacks the feature: the next question does not ask Slack again.
        await sb.event({**body, "event_id": "Ev0DIRECT2",
                        "event": {**body["event"], "client_msg_id": "x2", "ts": "1700000003.1"}})
        await sb.fake.wait_for("chat.postMessage", count=2)
        assert len(sb.fake.calls_to("assistant.threads.setStatus")) == 1
        sb.fake.fail("assistant.threads.setSuggestedPrompts", error="unknown_method", times=10)
        await sb.event(load("assistant_thread_started"))
        posts = await sb.fake.wait_for("chat.postMessage", count=3)
        assert posts[2].params["text"].startswith("Welcome")  # the welcome offers the questions
