"""End to end over the web chat HTTP path: compose, preview, approve, send, ack, update, cancel."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
import sqlalchemy as sa

from tests.handlers.alerts.conftest import Chat, alert_settings, compose_values
from tests.support import running_bot


@pytest.fixture
async def chat(tmp_path: Path) -> AsyncIterator[Chat]:
    async with running_bot(alert_settings(tmp_path), background=True) as bot, \
            aiohttp.ClientSession() as session:
        c = Chat(session, bot.url)
        c.bot = bot  # type: ignore[attr-defined]
        yield c


async def wait_inbox(chat: Chat, user: str, count: int) -> list[dict]:
    for _ in range(100):
        items = await chat.inbox(user)
        if len(items) >= count:
            return items
        await asyncio.sleep(0.1)
    raise AssertionError(f"{user} got {len(await chat.inbox(user))} messages, wanted {count}")


async def settled(chat: Chat) -> None:
    """Wait until the outbox has nothing waiting or in flight (so a late extra would show)."""
    for _ in range(100):
        async with chat.bot.services.db.engine.connect() as conn:  # type: ignore[attr-defined]
            busy = (await conn.execute(sa.text(
                "SELECT count(*) FROM outbox_message WHERE status IN ('pending', 'sending')"
            ))).scalar_one()
        if not busy:
            return
        await asyncio.sleep(0.1)
    raise AssertionError("the outbox did not settle")


async def compose(chat: Chat, user: str, **values: str) -> dict:
    opened = await chat.say(user, "alert")
    assert opened["form"]["form_id"].startswith("alert:compose:")
    return await chat.submit(user, opened["form"]["form_id"], compose_values(**values))


async def audit_rows(chat: Chat) -> list[tuple]:
    async with chat.bot.services.db.engine.connect() as conn:  # type: ignore[attr-defined]
        return list((await conn.execute(sa.text(
            "SELECT actor, action, reason FROM audit_entry ORDER BY id"))).all())


async def test_compose_send_acknowledge_and_status(chat: Chat) -> None:
    preview = await compose(chat, "bc1")
    assert "1 recipient(s) (T1: 1)" in preview["text"] and "No approval needed" in preview["text"]
    assert "please acknowledge within 120 minutes" in preview["sections"][-1]["context"]
    one = await compose(chat, "bc1", ack_window="1")
    assert "please acknowledge within 1 minute" in one["sections"][-1]["context"]
    assert "1 minutes" not in one["sections"][-1]["context"]
    alert_id = preview["buttons"][0]["value"]
    sent = await chat.click("bc1", "alert:send", alert_id)
    assert f"Alert {alert_id} is going out to 1 destination" in sent["text"]
    again = await chat.click("bc1", "alert:send", alert_id)
    assert "not sent again" in again["text"]
    (message,) = await wait_inbox(chat, "clerk-ks", 1)
    assert "TLP:GREEN" in message["text"] and "Polling hours" in message["text"]
    assert [b["value"] for b in message["buttons"]] == [alert_id] * 4  # only the opaque id
    assert (await chat.click("clerk-ks", "alert:ack:received", alert_id))["text"].startswith(
        "Thank you, recorded: Received")
    assert "Already recorded: Received" in (
        await chat.click("clerk-ks", "alert:ack:actioned", alert_id))["text"]
    # The delivered copy is marked as answered in place; a personal copy keeps "Need help".
    message, marked = await wait_inbox(chat, "clerk-ks", 2)
    assert marked["replaces"].startswith("webchat:") and "replaces" not in message
    assert any(s["text"].startswith("Acknowledged: Received, ") for s in marked["sections"])
    assert [b["action_id"] for b in marked["buttons"]] == ["alert:ack:need_help"]
    await settled(chat)
    assert len(await chat.inbox("clerk-ks")) == 2  # one mark, not one per click
    refused = await chat.click("eve", "alert:ack:received", alert_id)
    assert refused["tone"] == "denied"
    assert ("webchat:local:eve", "alert:ack", "not a recipient of this alert") in \
        await audit_rows(chat)
    status = await chat.say("bc1", f"alert status {alert_id}")
    joined = "\n".join(s["text"] for s in status["sections"])
    assert ("T1: 1/1 delivered, 0 failed; received 1, actioned 0, not applicable 0, "
            "need help 0, not yet 0") in joined
    assert "Wichita Clerk (web chat): received" in joined and "KS: 1/1" in joined
    assert "Not acknowledged yet: none, everyone has acknowledged." in joined
    assert (await chat.say("eve", f"alert status {alert_id}"))["tone"] == "denied"


async def test_t3_needs_clear_and_a_second_broadcasters_approval(chat: Chat) -> None:
    amber = await compose(chat, "bc1", tiers="T1,T3", jurisdictions="", tlp="AMBER")
    assert "TLP:AMBER may not go to T3" in amber["text"] and "Nothing was sent" in amber["text"]
    preview = await compose(chat, "bc1", tiers="T1,T3", jurisdictions="", tlp="CLEAR")
    assert "3 recipient(s) (T1: 2, T3: 1)" in preview["text"] and "approval" in preview["text"]
    alert_id = preview["buttons"][0]["value"]
    assert "Approval requested from 1" in (await chat.click("bc1", "alert:send", alert_id))["text"]
    own = await chat.click("bc1", "alert:approve", alert_id)
    assert own["tone"] == "denied" and "second broadcaster" in own["text"]
    stranger = await chat.click("eve", "alert:approve", alert_id)
    assert stranger["tone"] == "denied"
    (request,) = await wait_inbox(chat, "bc2", 1)
    assert request["buttons"][0]["action_id"] == "alert:approve"
    assert await chat.inbox("league") == []  # nothing goes out before the approval
    approved = await chat.click("bc2", "alert:approve", alert_id)
    assert "going out to 3 destination" in approved["text"]
    for user in ("clerk-ct", "clerk-ks", "league"):
        await wait_inbox(chat, user, 1)
    (decision,) = await wait_inbox(chat, "bc1", 1)
    # Named as people read it, never as a raw webchat:local:bc2 identity.
    assert "approved and sent by {@0}" in decision["text"]
    assert decision["mentions"] == [{"identity": "webchat:local:bc2", "name": "bc2"}]
    actors = [r[0] for r in await audit_rows(chat)]
    assert actors.count("webchat:local:bc1") == 1 and "webchat:local:eve" in actors

    # An all-clear reaches everyone who got the parent, whatever its own audience.
    form = await chat.say("bc1", f"alert allclear {alert_id}")
    assert form["form"]["form_id"].endswith(f":{alert_id}")
    assert form["text"] == f"All clear for alert {alert_id}"
    child = await chat.submit("bc1", form["form"]["form_id"], {
        **{k: v for k, v in compose_values(tlp="CLEAR").items()
           if k not in ("groups", "tiers", "jurisdictions")},
        "alert_type": "all_clear", "headline": "All clear: polling hours confirmed"})
    assert "3 recipient(s)" in child["text"]
    child_id = child["buttons"][0]["value"]
    await chat.click("bc1", "alert:send", child_id)
    await chat.click("bc2", "alert:approve", child_id)
    for user in ("clerk-ct", "clerk-ks", "league"):
        items = await wait_inbox(chat, user, 2)
        assert f"ALL CLEAR for alert {alert_id}" in items[1]["sections"][-1]["context"]


async def test_refusal_is_recorded_and_nothing_is_sent(chat: Chat) -> None:
    preview = await compose(chat, "bc1", severity="severe")
    alert_id = preview["buttons"][0]["value"]
    await chat.click("bc1", "alert:send", alert_id)
    refused = await chat.click("bc2", "alert:refuse", alert_id)
    assert "will not be sent" in refused["text"]
    (decision,) = await wait_inbox(chat, "bc1", 1)
    assert "refused by {@0}" in decision["text"] and decision["mentions"][0]["name"] == "bc2"
    late = await chat.click("bc2", "alert:approve", alert_id)
    assert "refused" in late["text"]
    await settled(chat)
    assert await chat.inbox("clerk-ks") == []


async def test_only_broadcasters_compose_or_send_and_exercises_are_marked(chat: Chat) -> None:
    assert (await chat.say("eve", "alert"))["tone"] == "denied"
    preview = await compose(chat, "bc1", alert_type="exercise", tiers="T1", headline="Drill")
    alert_id = preview["buttons"][0]["value"]
    denied = await chat.click("eve", "alert:send", alert_id)
    assert denied["tone"] == "denied"
    await chat.click("bc1", "alert:send", alert_id)
    (message,) = await wait_inbox(chat, "clerk-ks", 1)
    assert message["text"].startswith("EXERCISE - EXERCISE - EXERCISE")
    help_reply = await chat.click("clerk-ks", "alert:ack:need_help", alert_id)
    assert "State staff have been told" in help_reply["text"]
    boss = await wait_inbox(chat, "boss", 1)
    assert "needs help with alert" in boss[0]["text"] and "Contact them: {@0}" in boss[0]["text"]
    assert boss[0]["mentions"] == [{"identity": "webchat:local:clerk-ks", "name": "clerk-ks"}]


async def test_composer_lists_network_groups_and_preview_says_why(chat: Chat) -> None:
    opened = await chat.say("bc1", "alert")
    fields = {f["name"]: f for f in opened["form"]["fields"]}
    assert [v for v, _ in fields["groups"]["options"]] == ["clerks", "partners", "staff"]
    assert fields["groups"]["kind"] == fields["tiers"]["kind"] == "multiselect"
    assert [v for v, _ in fields["template"]["options"]] == ["", "rumor_control"]
    preview = await chat.submit("bc1", opened["form"]["form_id"],
                                compose_values(tiers="T1", jurisdictions="CT"))
    assert preview["text"].endswith("Approval needed: it needs a second broadcaster's approval because it is "
                                    "statewide (CT was chosen; statewide alerts always need one).")
    refused = await chat.submit("bc1", opened["form"]["form_id"],
                                compose_values(groups="everyone"))
    assert refused["form"]["errors"]["groups"].startswith("Unknown group: everyone.")


async def test_invalid_composer_input_comes_back_with_field_errors(chat: Chat) -> None:
    reply = await compose(chat, "bc1", headline="x" * 81, tiers="T9", jurisdictions="ZZ",
                          ack_window="abc")
    errors = reply["form"]["errors"]
    assert set(errors) >= {"headline", "tiers", "jurisdictions", "ack_window"}
    headline = next(f for f in reply["form"]["fields"] if f["name"] == "headline")
    assert headline["value"] == "x" * 81  # nothing typed is lost


async def test_cancel_reaches_everyone_who_got_the_parent(chat: Chat) -> None:
    preview = await compose(chat, "bc1")
    alert_id = preview["buttons"][0]["value"]
    await chat.click("bc1", "alert:send", alert_id)
    await wait_inbox(chat, "clerk-ks", 1)
    form = await chat.say("bc1", f"alert cancel {alert_id}")
    values = {**{k: v for k, v in compose_values().items()
                 if k not in ("groups", "tiers", "jurisdictions")},
              "alert_type": "cancel", "headline": "Cancelled: sent in error", "ack_required": "no"}
    child = await chat.submit("bc1", form["form"]["form_id"], values)
    await chat.click("bc1", "alert:send", child["buttons"][0]["value"])
    items = await wait_inbox(chat, "clerk-ks", 2)
    assert f"CANCELS alert {alert_id}" in items[1]["sections"][-1]["context"]
    assert items[1]["buttons"] == []


async def test_need_help_after_received_still_reaches_state_staff_once(chat: Chat) -> None:
    preview = await compose(chat, "bc1", tiers="T1", jurisdictions="KS")
    alert_id = preview["buttons"][0]["value"]
    await chat.click("bc1", "alert:send", alert_id)
    await wait_inbox(chat, "clerk-ks", 1)
    assert (await chat.click("clerk-ks", "alert:ack:received", alert_id))["text"] == \
        "Thank you, recorded: Received."
    helped = await chat.click("clerk-ks", "alert:ack:need_help", alert_id)
    assert helped["text"].startswith("State staff have been told and will contact you.")
    assert "Your acknowledgement stays: Received" in helped["text"]
    (told,) = await wait_inbox(chat, "boss", 1)
    assert "KS clerk (Wichita Clerk) needs help with alert" in told["text"]
    again = await chat.click("clerk-ks", "alert:ack:need_help", alert_id)
    assert again["text"].startswith("State staff already know")
    await settled(chat)
    assert len(await chat.inbox("boss")) == 1  # told once
