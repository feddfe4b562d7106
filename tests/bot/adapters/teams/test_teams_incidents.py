"""Incidents end to end on the Teams path: real server, real outbox worker, fake Bot Connector.

Routing in app.yaml notifies a Teams channel (on call, SEV1) and the CT manager's personal
chat (SEV1); cyber reports go to a user who never installed the app. The channel and the
manager's chat are reachable because earlier activities stored their conversation references.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from bot.adapters.teams.proactive import NO_REFERENCE
from bot.db.models import AuditEntry, OutboxMessage
from handlers.incidents.models import Incident
from tests.fakes.bot_connector import Call, FakeBotConnector, load_activity, post_activity
from tests.support import RunningBot, make_settings, running_bot

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
REPORTER = "6f1c2e3d-4b5a-6978-8a9b-0c1d2e3f4a5b"  # Dana, of teams_personal_message.json
MANAGER = "0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9"  # Sam, of teams_channel_mention.json
GHOST = "99999999-0000-4000-8000-000000000001"  # never talked to the bot
PERSONAL = "a:1xYzPersonalConversationId0123456789abcdefghijklmnopqrstuv"
MANAGER_CHAT = "a:1ManagerPersonalConversationId0123456789abcdefghijklmnop"
CHANNEL = "19:3e9f1c0b2a4d4c6e8f0a1b2c3d4e5f60@thread.tacv2"
INCIDENTS = {
    "on_call": [f"teams:{TENANT}:{CHANNEL}"],
    "managers": {"CT": [f"teams:{TENANT}:{MANAGER}"]},
    "routing": [
        {"severities": ["SEV1"], "notify": [f"teams:{TENANT}:@{MANAGER}"]},
        {"categories": ["cyber"], "notify": [f"teams:{TENANT}:@{GHOST}"]},
    ],
}
FAST_PATH = ("danger", "category", "jurisdiction", "site", "when_date", "stopped", "degraded",
             "description")
BUTTONS = ["Acknowledge", "Assign to me", "Escalate", "Resolve"]


@dataclass
class Teams:
    """The running bot, the fake connector, and helpers that act as Teams users."""

    bot: RunningBot
    fake: FakeBotConnector

    async def post(self, activity: dict[str, Any]) -> tuple[int, Any]:
        return await post_activity(self.bot.url, activity)

    def personal(self, who: str = REPORTER, **changes: Any) -> dict[str, Any]:
        """An activity in ``who``'s personal chat with the bot."""
        activity = _without_none(load_activity("personal_message", self.fake.url + "/",
                                               **changes))
        if who != REPORTER:
            activity["from"] = {"id": f"29:{who}", "name": "Sam Registrar", "aadObjectId": who}
            activity["conversation"] = {**activity["conversation"], "id": MANAGER_CHAT}
        return activity

    def in_channel(self, **changes: Any) -> dict[str, Any]:
        """An activity by the manager in the team channel (a thread under a post)."""
        return _without_none(load_activity("channel_mention", self.fake.url + "/", **changes))

    async def say(self, text: str, who: str = REPORTER) -> Call:
        """Type in a personal chat; return the bot's reply."""
        activity = self.personal(who, text=text)
        assert (await self.post(activity))[0] == 200
        return await self.reply_to(activity)

    async def submit(self, values: dict[str, str], form_id: str) -> Call:
        """Action.Submit on the report card in the reporter's personal chat."""
        activity = self.personal(text=None, value={"form_id": form_id, **values})
        assert (await self.post(activity))[0] == 200
        return await self.reply_to(activity)

    async def reply_to(self, activity: dict[str, Any], timeout: float = 10.0) -> Call:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            replies = [c for c in self.fake.sends() if c.reply_to_id == activity["id"]]
            if replies:
                [reply] = replies
                return reply
            await asyncio.sleep(0.01)
        raise AssertionError(f"no reply to {activity['id']}: {self.fake.calls}")

    async def open_form(self) -> str:
        """Type "incident" and return the card's form id."""
        return submit_action(card(await self.say("incident")))["data"]["form_id"]


def _without_none(activity: dict[str, Any]) -> dict[str, Any]:
    """``text=None`` means a card click: no text at all, as Teams sends it."""
    return {k: v for k, v in activity.items() if v is not None}


@pytest.fixture
def fake() -> Iterator[FakeBotConnector]:
    with FakeBotConnector() as connector:
        yield connector


@pytest.fixture
async def teams(tmp_path: Path, fake: FakeBotConnector) -> AsyncIterator[Teams]:
    settings = make_settings(tmp_path, incidents=INCIDENTS,
                             roles={"state_staff": ["webchat:local:boss"]})
    async with running_bot(settings, background=True) as bot:
        teams = Teams(bot, fake)
        # The bot learns the channel (an @mention there) and the manager's personal chat.
        await teams.post(teams.in_channel(text="<at>Electionbot</at> help"))
        await teams.say("help", who=MANAGER)
        yield teams


def card(call: Call) -> dict[str, Any]:
    [attachment] = call.body["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    content: dict[str, Any] = attachment["content"]
    return content


def inputs(card_: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["id"]: e for e in card_["body"] if e["type"].startswith("Input.")}


def submit_action(card_: dict[str, Any]) -> dict[str, Any]:
    [action] = [a for a in card_["actions"] if "form_id" in a["data"]]
    return action


def valid_report(**changes: str) -> dict[str, str]:
    yesterday = (datetime.now(ZoneInfo("America/New_York")) - timedelta(days=1)).date()
    return {"danger": "yes", "category": "physical_safety", "subcategory": "",
            "jurisdiction": "CT", "site": "Town Hall polling place",
            "when_date": yesterday.isoformat(), "when_time": "", "stopped": "no",
            "degraded": "no", "description": "A man with a knife is shouting at the door.",
            **changes}


async def incidents(bot: RunningBot) -> list[Incident]:
    async with bot.services.db.session() as session:
        return list((await session.exec(select(Incident))).all())


async def outbox(bot: RunningBot) -> list[OutboxMessage]:
    async with bot.services.db.session() as session:
        return list((await session.exec(select(OutboxMessage))).all())


async def wait_for(check: Callable[[], Awaitable[Any]], timeout: float = 10.0) -> Any:
    """Poll ``check`` until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = await check()
        if result:
            return result
        await asyncio.sleep(0.02)
    raise AssertionError(f"condition not met within {timeout} s")


async def outbox_row(bot: RunningBot, destination: str, status: str) -> OutboxMessage:
    async def check() -> OutboxMessage | None:
        return next((r for r in await outbox(bot)
                     if r.destination == destination and r.status == status), None)
    row: OutboxMessage = await wait_for(check)
    return row


@pytest.mark.parametrize("where", ["personal", "channel"])
async def test_typing_incident_opens_the_card_with_the_warning_first(teams: Teams,
                                                                     where: str) -> None:
    activity = (teams.personal(text="incident") if where == "personal"
                else teams.in_channel(text="<at>Electionbot</at> incident"))
    assert (await teams.post(activity))[0] == 200
    step = card(await teams.reply_to(activity))
    first = step["body"][0]
    assert first["type"] == "Container" and first["style"] == "attention"
    [line] = first["items"]
    assert line["text"].startswith("If anyone is in immediate danger or there is a threat")
    assert line["weight"] == "Bolder" and line["color"] == "Attention"
    assert list(inputs(step)) == ["danger", "category", "description"]
    assert submit_action(step)["title"] == "Next"
    form_id = submit_action(step)["data"]["form_id"]
    assert form_id.startswith("incident:report:")
    # "Next" sends the category: the answer is the card for it (the card re-sent)
    form = card(await teams.submit({"danger": "no", "category": "physical_safety",
                                    "description": "Shouting at the door"}, form_id))
    assert form["body"][0] == first
    fields = inputs(form)
    assert set(FAST_PATH) <= set(fields) and "details" not in fields
    assert fields["when_date"]["type"] == "Input.Date" and fields["when_date"]["value"]
    assert fields["description"]["value"] == "Shouting at the door"
    assert fields["danger"]["isRequired"] is True and fields["subcategory"]["isRequired"] is False
    assert {c["value"].split("/")[0] for c in fields["subcategory"]["choices"]} == {
        "physical_safety"}
    assert not {"mis_url", "mis_platform", "mis_reach"} & set(fields)
    assert any("by role only" in e.get("text", "") for e in form["body"])  # the hint
    assert submit_action(form)["data"]["form_id"] == form_id
    assert submit_action(form)["title"] == "File report"


async def test_invalid_submit_keeps_the_typing_and_stores_nothing(teams: Teams) -> None:
    form_id = await teams.open_form()
    typed = {"site": "Town Hall", "description": "Voter gave SSN 123-45-6789 at the desk",
             "danger": "no", "category": "cyber", "subcategory": "physical_safety/weapon"}
    reply = await teams.submit(typed, form_id)
    rendered = card(reply)
    fields = inputs(rendered)
    assert fields["site"]["value"] == "Town Hall"
    assert fields["description"]["value"] == typed["description"]
    assert fields["danger"]["value"] == "no"
    errors = [e["text"] for e in rendered["body"] if e.get("color") == "Attention"][1:]
    assert any("Social Security" in e for e in errors)
    assert errors.count("Required.") >= 1  # the date
    assert "This type belongs to another category." in errors
    assert {c["value"].split("/")[0] for c in fields["subcategory"]["choices"]} == {"cyber"}
    assert submit_action(rendered)["data"]["form_id"] == form_id
    assert await incidents(teams.bot) == []


async def test_sev1_submit_confirms_then_notifies_channel_and_manager(teams: Teams) -> None:
    reply = await teams.submit(valid_report(), await teams.open_form())
    assert reply.shown.startswith("CALL 911 NOW")
    assert card(reply)["body"][0]["style"] == "attention"  # the danger tone, on the card
    [incident] = await incidents(teams.bot)
    assert incident.severity == "SEV1" and incident.human_id in reply.shown
    [post] = await teams.fake.wait_for_sends_to(CHANNEL, 1)
    assert post.reply_to_id is None  # a new post in the channel, not a reply in a thread
    assert incident.human_id in post.shown and post.shown.count("New incident") == 1
    assert [a["title"] for a in card(post)["actions"]] == BUTTONS
    assert card(post)["actions"][0]["data"] == {"action_id": "incident:ack",
                                                "value": incident.human_id}
    dms = await teams.fake.wait_for_sends_to(MANAGER_CHAT, 2)  # the earlier "help", then this
    assert incident.human_id in dms[-1].shown and dms[-1].reply_to_id is None
    assert dms[-1].body["recipient"]["aadObjectId"] == MANAGER
    await outbox_row(teams.bot, f"teams:{TENANT}:{CHANNEL}", "sent")


async def test_invoke_submit_is_answered_in_time_and_a_retry_files_once(teams: Teams) -> None:
    form_id = await teams.open_form()
    invoke = load_activity("invoke_card_action", teams.fake.url + "/")
    invoke["value"]["action"]["data"] = {"form_id": form_id, **valid_report()}
    started = time.monotonic()
    status, body = await teams.post(invoke)
    assert time.monotonic() - started < 5.0
    assert status == 200 and body["statusCode"] == 200
    assert body["value"].startswith("CALL 911 NOW")
    status, again = await teams.post(invoke)  # Teams retries with the same activity id
    assert status == 200 and again["statusCode"] == 200
    assert len(await incidents(teams.bot)) == 1
    assert len([c for c in teams.fake.sends() if c.reply_to_id == invoke["id"]]) == 1


async def _notification_buttons(teams: Teams) -> dict[str, dict[str, str]]:
    await teams.submit(valid_report(), await teams.open_form())
    [post] = await teams.fake.wait_for_sends_to(CHANNEL, 1)
    return {a["title"]: a["data"] for a in card(post)["actions"]}


async def test_manager_acknowledges_from_the_channel_card(teams: Teams) -> None:
    buttons = await _notification_buttons(teams)
    click = teams.in_channel(text=None, value=buttons["Acknowledge"])
    assert (await teams.post(click))[0] == 200
    reply = await teams.reply_to(click)
    assert reply.body["text"].startswith("Updated:") and "triaged" in reply.body["text"]
    assert reply.targeted  # the confirmation is for the manager who clicked, not the channel
    [incident] = await incidents(teams.bot)
    assert incident.status == "triaged" and incident.acknowledged_at is not None


async def test_click_by_someone_else_is_denied_and_changes_nothing(teams: Teams) -> None:
    buttons = await _notification_buttons(teams)
    click = teams.personal(text=None, value=buttons["Escalate"])  # the reporter, not a manager
    assert (await teams.post(click))[0] == 200
    reply = await teams.reply_to(click)
    assert "Only incident managers for CT" in reply.shown
    [incident] = await incidents(teams.bot)
    assert incident.status == "new"
    async with teams.bot.services.db.session() as session:
        [denial] = (await session.exec(select(AuditEntry))).all()
    assert denial.allowed is False and denial.actor == f"teams:{TENANT}:{REPORTER}"


async def test_user_who_never_installed_the_app_is_a_dead_letter(teams: Teams) -> None:
    report = valid_report(category="cyber", danger="no", description="Phishing email clicked.")
    reply = await teams.submit(report, await teams.open_form())
    assert reply.shown.startswith("Filed INC-")
    row = await outbox_row(teams.bot, f"teams:{TENANT}:@{GHOST}", "dead")
    assert row.last_error == NO_REFERENCE and row.attempts == 1


async def test_throttled_notification_is_delivered_once(teams: Teams) -> None:
    teams.fake.fail_next(1, 429, retry_after=0, conversation=CHANNEL)
    await teams.submit(valid_report(), await teams.open_form())
    row = await outbox_row(teams.bot, f"teams:{TENANT}:{CHANNEL}", "sent")
    assert row.attempts == 2 and row.message_ref and row.message_ref.startswith(CHANNEL)
    assert [c.status for c in teams.fake.calls if c.conversation_id == CHANNEL] == [429, 200]
    assert len(teams.fake.sends_to(CHANNEL)) == 1


@pytest.mark.parametrize(("status", "sub_code", "reason"), [
    (403, "MessageWritesBlocked", "403 MessageWritesBlocked"),
    (404, None, "404 conversation not found"),
])
async def test_blocked_or_missing_conversation_is_not_retried(
        teams: Teams, status: int, sub_code: str | None, reason: str) -> None:
    teams.fake.fail_next(5, status, sub_code=sub_code, conversation=CHANNEL)
    await teams.submit(valid_report(), await teams.open_form())
    row = await outbox_row(teams.bot, f"teams:{TENANT}:{CHANNEL}", "dead")
    assert row.last_error is not None and row.last_error.startswith(reason)
    assert [c.status for c in teams.fake.calls if c.conversation_id == CHANNEL] == [status]


async def test_list_and_show_answer_in_chat(teams: Teams) -> None:
    await teams.submit(valid_report(), await teams.open_form())
    [incident] = await incidents(teams.bot)
    listed = await teams.say("incident list", who=MANAGER)
    assert "1 incident(s)" in listed.body["text"] and incident.human_id in str(listed.body)
    shown = await teams.say(f"incident show {incident.human_id}", who=MANAGER)
    assert shown.shown.startswith(incident.human_id)
    assert "knife" in str(shown.body)



async def test_typed_markup_reaches_the_managers_teams_chat_as_literal_text(teams: Teams) -> None:
    """Over real HTTP: a report whose site and description carry a markdown link, a mention
    placeholder and bold reaches the manager's personal chat as those characters."""
    attack = "[x](https://evil.example) {@0} **b**"
    reply = await teams.submit(valid_report(site=f"Hall {attack}",
                                            description=f"Knife at the door {attack}"),
                               await teams.open_form())
    assert reply.shown.startswith("CALL 911 NOW")
    [incident] = await incidents(teams.bot)
    dms = await teams.fake.wait_for_sends_to(MANAGER_CHAT, 2)  # the earlier "help", then this
    body = dms[-1].body
    assert incident.human_id in dms[-1].shown
    shown = json.dumps(body, ensure_ascii=False)
    assert "[x](" not in shown and "](https://evil.example)" not in shown  # no markdown link
    assert "<at>" not in shown and not [e for e in body.get("entities", [])
                                         if e.get("type") == "mention"]  # nobody pinged
    assert "**b**" not in shown  # no bold
    assert "evil.example" in shown and "{@0}" in shown  # every typed character still there
