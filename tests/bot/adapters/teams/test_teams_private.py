"""Replies meant for one person, and forms that move on in place, against the fake Bot Connector.

A click in a channel is seen by everyone there; its confirmation or refusal is for the clicker
only: a targeted message (shown to them alone), else their personal chat, else the thread with
an @mention. A form's "Next" replaces the card it was clicked on instead of posting a new one.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.messages import (
    Action,
    Form,
    FormSubmission,
    IncomingMessage,
    Reply,
    Sender,
    for_one_person,
    redraws_form,
)
from tests.bot.adapters.teams.test_teams_incidents import (
    CHANNEL,
    INCIDENTS,
    PERSONAL,
    REPORTER,
    TENANT,
    Teams,
    _without_none,
    card,
    inputs,
    submit_action,
    valid_report,
)
from tests.fakes.bot_connector import Call, FakeBotConnector, load_activity
from tests.support import make_settings, running_bot, wait_until

DANA_IN_CHANNEL = "29:1AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-dana-channel"
GHOST = "99999999-0000-4000-8000-000000000002"  # never opened the bot's personal chat


@pytest.fixture(params=[True], ids=["targeted"])
def fake(request: pytest.FixtureRequest) -> Iterator[FakeBotConnector]:
    with FakeBotConnector(targeted=request.param) as connector:
        yield connector


@pytest.fixture
async def teams(tmp_path: Path, fake: FakeBotConnector) -> AsyncIterator[Teams]:
    settings = make_settings(tmp_path, incidents=INCIDENTS)
    async with running_bot(settings, background=True) as bot:
        teams = Teams(bot, fake)
        await teams.post(teams.in_channel(text="<at>Electionbot</at> help"))
        await teams.say("help")  # Dana's personal chat: the bot has its reference
        yield teams


def clicked_in_channel(teams: Teams, value: dict[str, str], who: str = REPORTER,
                       **changes: Any) -> dict[str, Any]:
    """``who`` clicks a button on a card in the team channel (Dana unless said otherwise)."""
    name = "Dana Clerk" if who == REPORTER else "Pat Nobody"
    account = DANA_IN_CHANNEL if who == REPORTER else f"29:{who}-channel"
    changes = {"replyToId": "1709392200000", **changes,
               "from": {"id": account, "name": name, "aadObjectId": who}}
    return teams.in_channel(text=None, value=value, **changes)


async def escalate_button(teams: Teams) -> dict[str, str]:
    """File a SEV1 report; return the Escalate button of the channel's notification card."""
    await teams.submit(valid_report(), await teams.open_form())
    [post] = await teams.fake.wait_for_sends_to(CHANNEL, 1)
    return next(a["data"] for a in card(post)["actions"] if a["title"] == "Escalate")


async def _now(value: list[Call]) -> list[Call]:
    return value


def in_thread(teams: Teams, since: int) -> list[Call]:
    """What everyone in the channel sees: non-targeted posts to the channel since ``since``."""
    return [c for c in teams.fake.sends()[since:]
            if c.conversation_id.startswith(CHANNEL) and not c.targeted]


async def test_denial_to_a_channel_click_is_shown_to_the_clicker_only(teams: Teams) -> None:
    escalate = await escalate_button(teams)
    before = len(teams.fake.sends())
    click = clicked_in_channel(teams, escalate)
    assert (await teams.post(click))[0] == 200
    reply = await teams.reply_to(click)
    assert reply.targeted and "Only incident managers for CT" in reply.shown
    assert reply.body["recipient"]["id"] == DANA_IN_CHANNEL
    assert {"type": "activityTreatment", "treatment": "targeted"} in reply.body["entities"]
    assert in_thread(teams, before) == []


async def test_a_typed_question_in_a_channel_is_still_answered_in_the_thread(
        teams: Teams) -> None:
    ask = teams.in_channel(text="<at>Electionbot</at> help")
    assert (await teams.post(ask))[0] == 200
    reply = await teams.reply_to(ask)
    assert not reply.targeted and reply.conversation_id.startswith(CHANNEL)
    assert "entities" not in reply.body or not any(
        e.get("type") == "activityTreatment" for e in reply.body["entities"])


@pytest.mark.parametrize("fake", [False], ids=["no-targeted"], indirect=True)
async def test_without_targeted_messages_the_denial_goes_to_the_personal_chat(
        teams: Teams) -> None:
    escalate = await escalate_button(teams)
    before = len(teams.fake.sends())
    assert (await teams.post(clicked_in_channel(teams, escalate)))[0] == 200
    sends = await teams.fake.wait_for_sends_to(PERSONAL, 3)  # "help", the report's, this
    private = sends[-1]
    assert "Only incident managers for CT" in private.shown and private.reply_to_id is None
    refused = [c for c in teams.fake.calls if c.targeted]
    assert [c.status for c in refused] == [400]  # tried once, then the personal chat
    assert in_thread(teams, before) == []


@pytest.mark.parametrize("fake", [False], ids=["no-targeted"], indirect=True)
async def test_with_nowhere_private_the_thread_names_the_person(teams: Teams) -> None:
    escalate = await escalate_button(teams)
    before = len(teams.fake.sends())
    click = clicked_in_channel(teams, escalate, who=GHOST)
    assert (await teams.post(click))[0] == 200
    posts = await wait_until(lambda: _now(in_thread(teams, before)))
    [reply] = [c for c in posts if c.reply_to_id == click["id"]]
    assert reply.body["text"].startswith("<at>Pat Nobody</at>")
    [mention] = [e for e in reply.body["entities"] if e["type"] == "mention"]
    assert mention["mentioned"]["id"] == f"29:{GHOST}-channel"
    assert mention["text"] == "<at>Pat Nobody</at>"
    assert "Only incident managers" in reply.shown


async def test_form_errors_after_a_channel_submit_are_private(teams: Teams) -> None:
    opened = teams.in_channel(text="<at>Electionbot</at> incident")
    assert (await teams.post(opened))[0] == 200
    form_card = await teams.reply_to(opened)
    assert not form_card.targeted  # what was typed in the thread is answered there
    form_id = submit_action(card(form_card))["data"]["form_id"]
    before = len(teams.fake.sends())
    submit = clicked_in_channel(teams, {"form_id": form_id, **valid_report(when_date="")},
                                replyToId=form_card.answered_id)
    assert (await teams.post(submit))[0] == 200
    reply = await teams.reply_to(submit)
    assert reply.targeted and "Please fix the highlighted fields." in reply.shown
    assert inputs(card(reply))["site"]["value"] == "Town Hall polling place"
    assert in_thread(teams, before) == [] and teams.fake.updates() == []


async def test_next_replaces_the_card_it_was_clicked_on(teams: Teams) -> None:
    opened = teams.personal(text="incident")
    assert (await teams.post(opened))[0] == 200
    first = await teams.reply_to(opened)
    form_id = submit_action(card(first))["data"]["form_id"]
    sends = len(teams.fake.sends())
    step = _without_none(load_activity(
        "personal_message", teams.fake.url + "/", text=None, replyToId=first.answered_id,
        value={"form_id": form_id, "danger": "no", "category": "physical_safety",
               "description": "Shouting at the door"}))
    assert (await teams.post(step))[0] == 200
    [update] = await wait_until(lambda: _now(teams.fake.updates()))
    assert update.path == f"/v3/conversations/{PERSONAL}/activities/{first.answered_id}"
    form = card(update)
    assert submit_action(form)["title"] == "File report"
    assert submit_action(form)["data"]["form_id"] == form_id
    assert inputs(form)["description"]["value"] == "Shouting at the door"
    assert len(teams.fake.sends()) == sends  # nothing new posted in the chat


async def test_next_is_posted_when_the_card_cannot_be_updated(teams: Teams) -> None:
    form_id = await teams.open_form()
    teams.fake.fail_next(1, 404, conversation=PERSONAL)
    step = _without_none(load_activity(
        "personal_message", teams.fake.url + "/", text=None, replyToId="gone-1",
        value={"form_id": form_id, "danger": "no", "category": "cyber", "description": "x"}))
    assert (await teams.post(step))[0] == 200
    reply = await teams.reply_to(step)
    assert submit_action(card(reply))["title"] == "File report"
    assert [c.status for c in teams.fake.calls if c.method == "PUT"] == [404]


async def test_next_on_a_universal_action_refreshes_the_card_in_the_invoke(
        teams: Teams) -> None:
    form_id = await teams.open_form()
    sends = len(teams.fake.sends())
    invoke = load_activity("invoke_card_action", teams.fake.url + "/")
    invoke["value"]["action"]["data"] = {"form_id": form_id, "danger": "no",
                                         "category": "physical_safety", "description": "x"}
    status, body = await teams.post(invoke)
    assert status == 200 and body["statusCode"] == 200
    assert body["type"] == "application/vnd.microsoft.card.adaptive"
    assert submit_action(body["value"])["title"] == "File report"
    assert len(teams.fake.sends()) == sends and teams.fake.updates() == []


def test_the_core_says_what_is_for_one_person() -> None:
    sender = Sender("teams", TENANT, REPORTER)
    click = IncomingMessage(sender, channel=CHANNEL, action=Action("incident:ack", "INC-1"))
    typed = IncomingMessage(sender, channel=CHANNEL, text="incident list")
    personal = IncomingMessage(sender, channel="a:1", is_direct=True, action=Action("x"))
    denial = Reply("No.", ephemeral=True)
    assert for_one_person(click, denial)
    assert not for_one_person(typed, denial)  # typed in the thread: answered there
    assert not for_one_person(personal, denial)  # a personal chat is private already
    assert not for_one_person(click, Reply("Everyone should see this."))
    form = Form("incident:report:n", "Report", ())
    submitted = IncomingMessage(sender, form=FormSubmission("incident:report:n", {}))
    assert redraws_form(submitted, Reply("Report", form=form))
    assert not redraws_form(submitted, Reply("Fix it", form=Form(
        "incident:report:n", "Report", (), errors={"site": "Required."})))
    assert not redraws_form(submitted, Reply("Other", form=Form("other", "Other", ())))


async def test_in_gcc_no_targeted_message_is_tried(tmp_path: Path) -> None:
    """Targeted messages are only used where the cloud's Teams takes them; GCC gets the chat."""
    with FakeBotConnector() as connector:
        settings = make_settings(tmp_path, incidents=INCIDENTS, teams={"cloud": "gcc"})
        async with running_bot(settings, background=True) as bot:
            teams = Teams(bot, connector)
            await teams.post(teams.in_channel(text="<at>Electionbot</at> help"))
            await teams.say("help")
            escalate = await escalate_button(teams)
            before = len(connector.sends())
            assert (await teams.post(clicked_in_channel(teams, escalate)))[0] == 200
            sends = await connector.wait_for_sends_to(PERSONAL, 3)
            assert "Only incident managers for CT" in sends[-1].shown
            assert not any(c.targeted for c in connector.calls)
            assert in_thread(teams, before) == []
