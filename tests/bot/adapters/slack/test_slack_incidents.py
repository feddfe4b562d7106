"""Incidents end to end through Slack: signed HTTP into the production server, the outbox
worker running, and the fake Slack Web API receiving what the bot sends."""

from __future__ import annotations

import json
import re
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.adapters.slack.render import field_name
from bot.ops import metrics
from handlers.incidents.catalog import CATEGORIES
from tests.bot.adapters.slack.slack_support import (
    FORM,
    SlackBot,
    buttons_of,
    click,
    command_body,
    eventually,
    interaction_body,
    load,
    query,
    signed_headers,
    slack_bot,
    view_action,
    view_submission,
)
from tests.support import wait_until

ONCALL = "C0ONCALL"
CONFIG: dict[str, Any] = {
    "roles": {"state_staff": ["slack:T0TEST:UBOSS"]},
    "incidents": {
        "on_call": [f"slack:T0TEST:{ONCALL}"],
        "managers": {"CT": ["slack:T0TEST:UMGR"]},
        "routing": [{"jurisdictions": ["KS"], "notify": ["slack:T0TEST:@UKSMGR"]}],
    },
}
HUMAN_ID = re.compile(r"INC-\d{4}-\d{6}")
YESTERDAY = (datetime.now(UTC) - timedelta(days=2)).date().isoformat()
VALID = {"danger": "no", "category": "equipment_systems", "jurisdiction": "CT",
         "site": "Town Hall", "when_date": YESTERDAY, "stopped": "no", "degraded": "yes",
         "description": "The tabulator stopped accepting ballots."}


@pytest.fixture
async def sb(tmp_path: Path) -> AsyncIterator[SlackBot]:
    async with slack_bot(tmp_path, background=True, config=CONFIG) as running:
        yield running

        async def settled() -> bool:
            # Stop only between sends: a worker cancelled mid-write can hang the loop's close.
            return not await query(running, "SELECT id FROM outbox_message "
                                            "WHERE status = 'sending'")

        await eventually(settled)


async def open_form(sb: SlackBot, name: str = "open",
                    category: str | None = "equipment_systems") -> dict[str, Any]:
    """Run ``/incident`` with no text; return the modal the bot opened (with ``category``
    chosen in it: the modal as redrawn for that category)."""
    before = len(sb.fake.calls_to("views.open"))
    status, body = await sb.signed(command_body(sb.fake, "", name=name, command="/incident"))
    assert status == 200 and body == ""
    call = (await sb.fake.wait_for("views.open", before + 1))[-1]
    assert call.params["trigger_id"] == f"trig-{name}"
    view: dict[str, Any] = call.params["view"]
    return view if category is None else await choose(sb, view, "category", category)


async def choose(sb: SlackBot, view: dict[str, Any], name: str, value: str) -> dict[str, Any]:
    """Choose ``value`` in the modal's ``name`` select; return the modal after views.update."""
    before = len(sb.fake.calls_to("views.update"))
    status, body = await sb.signed(interaction_body(view_action(view, name, value)))
    assert status == 200 and body == ""
    call = (await sb.fake.wait_for("views.update", before + 1))[-1]
    assert call.params["view_id"] == "V0MODAL" and call.params["hash"] == "1700000000.abc"
    updated: dict[str, Any] = call.params["view"]
    assert updated["callback_id"] == view["callback_id"]
    return updated


def inputs_of(view: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The modal's input blocks by field name."""
    return {field_name(b["block_id"]): b for b in view["blocks"] if b["type"] == "input"}


async def submit(sb: SlackBot, view: dict[str, Any], values: dict[str, str],
                 **kw: str) -> dict[str, Any]:
    """Submit the modal; the ack must come within Slack's 3 s."""
    started = time.monotonic()
    status, body = await sb.signed(interaction_body(view_submission(view, values, **kw)))
    assert status == 200 and time.monotonic() - started < 3.0
    return json.loads(body) if body else {}


async def command(sb: SlackBot, text: str, name: str, user: str = "U0ASKER") -> dict[str, Any]:
    """Run ``/incident TEXT``; return what came back on the response_url."""
    before = len(sb.fake.calls_to("response"))
    raw = command_body(sb.fake, text, name=name, command="/incident", user_id=user)
    assert (await sb.signed(raw))[0] == 200
    params: dict[str, Any] = (await sb.fake.wait_for("response", before + 1))[-1].params
    return params


async def quick_report(sb: SlackBot, text: str, name: str) -> str:
    answer = await command(sb, text, name)
    match = HUMAN_ID.search(answer["text"])
    assert match and answer["response_type"] == "ephemeral"
    return match.group(0)


def block_text(block: dict[str, Any]) -> str:
    return str((block.get("text") or {}).get("text", ""))


async def test_incident_command_opens_a_modal_with_the_warning_first(sb: SlackBot) -> None:
    first = await open_form(sb, category=None)
    assert block_text(first["blocks"][0]).startswith(":rotating_light: *If anyone is in "
                                                     "immediate danger or there is a threat")
    assert list(inputs_of(first)) == ["danger", "category", "description"]
    assert inputs_of(first)["category"]["dispatch_action"] is True
    view = await choose(sb, first, "category", "equipment_systems")
    assert "CALL 911 NOW" in block_text(view["blocks"][0])
    assert "public records" in block_text(view["blocks"][1])
    assert len(view["blocks"]) <= 100 and len(view["title"]["text"]) <= 24
    inputs = inputs_of(view)
    assert inputs["description"]["hint"]["text"].startswith("Describe people by role")
    assert inputs["when_date"]["element"]["type"] == "datepicker"
    for block in inputs.values():
        element = block["element"]
        if element["type"] == "static_select":
            options = element.get("options") or []
            assert 0 < len(options) <= 100 and all(o["value"] for o in options)
            assert all(len(o["text"]["text"]) <= 75 for o in options)


async def test_invalid_submission_gets_errors_per_field_and_stores_nothing(sb: SlackBot) -> None:
    view = await open_form(sb)
    future = (datetime.now(UTC) + timedelta(days=3)).date().isoformat()
    answer = await submit(sb, view, {"when_date": future,
                                     "description": "Voter SSN 123-45-6789 was shown"})
    assert answer["response_action"] == "errors"
    errors = {field_name(k): v for k, v in answer["errors"].items()}
    assert {"jurisdiction", "site", "danger", "when_date", "description"} <= set(errors)
    assert "future" in errors["when_date"] and "public records" in errors["description"]
    block_ids = {b.get("block_id") for b in view["blocks"]}
    assert set(answer["errors"]) <= block_ids
    assert await query(sb, "SELECT id FROM incident") == []
    assert await query(sb, "SELECT id FROM outbox_message") == []


async def test_sev1_submission_confirms_after_commit_and_notifies_on_call(sb: SlackBot) -> None:
    view = await open_form(sb)
    answer = await submit(sb, view, {**VALID, "danger": "yes"})
    assert answer["response_action"] == "update"
    shown = answer["view"]
    assert shown["title"]["text"].startswith("CALL 911 NOW")
    assert "CALL 911 NOW" in block_text(shown["blocks"][0])
    [(human_id, severity)] = await query(sb, "SELECT human_id, severity FROM incident")
    assert HUMAN_ID.fullmatch(human_id) and severity == "SEV1"
    assert human_id in json.dumps(shown)
    [note] = await sb.fake.wait_for("chat.postMessage", channel=ONCALL)
    assert buttons_of(note.params["blocks"]).keys() == {
        "Acknowledge", "Assign to me", "Escalate", "Resolve"}
    assert {b["value"] for b in buttons_of(note.params["blocks"]).values()} == {human_id}
    assert note.params["unfurl_links"] is False and note.params["unfurl_media"] is False
    assert note.params["metadata"]["event_type"] == "electionbot_outbox"
    assert note.params["metadata"]["event_payload"]["key"].startswith(f"incident:{human_id}")
    [dm] = await sb.fake.wait_for("chat.postMessage", channel="DU0ASKER")
    assert dm.params["text"].startswith("CALL 911 NOW") and human_id in dm.params["text"]


async def test_replayed_or_resent_submission_files_one_incident(sb: SlackBot) -> None:
    view = await open_form(sb)
    raw = interaction_body(view_submission(view, VALID))
    headers = signed_headers(raw, FORM)
    first = await sb.post(raw, headers)
    replay = await sb.post(raw, headers)
    resent = await sb.post(raw, signed_headers(raw, FORM, timestamp=str(int(time.time()) - 5)))
    assert first[0] == replay[0] == resent[0] == 200 and replay[1] == ""
    assert "Filed INC-" in first[1] and "Already filed" in resent[1]
    assert len(await query(sb, "SELECT id FROM incident")) == 1
    await sb.fake.wait_for("chat.postMessage", channel="DU0ASKER")
    confirmations = await query(sb, "SELECT key FROM outbox_message WHERE key LIKE 'slack:confirm%'")
    assert len(confirmations) == 1


async def test_message_shortcut_opens_a_prefilled_modal_that_files_with_a_link(
        sb: SlackBot) -> None:
    shortcut = {**load("message_shortcut"), "response_url": sb.fake.response_url("short")}
    status, _ = await sb.signed(interaction_body(shortcut))
    assert status == 200
    [opened] = await sb.fake.wait_for("views.open")
    assert opened.params["trigger_id"] == shortcut["trigger_id"]
    assert "CALL 911 NOW" in block_text(opened.params["view"]["blocks"][0])
    view = await choose(sb, opened.params["view"], "category", "equipment_systems")
    inputs = {k: b["element"] for k, b in inputs_of(view).items()}
    assert inputs["description"]["initial_value"] == shortcut["message"]["text"]
    link = "slack:T0TEST:C0ELECT:1700000009.000100"
    assert inputs["source_link"]["initial_value"] == link
    answer = await submit(sb, view, {k: v for k, v in VALID.items() if k != "description"})
    assert answer["response_action"] == "update"
    [(source, description)] = await query(sb, "SELECT source_link, description FROM incident")
    assert source == link and description == shortcut["message"]["text"]


async def notified(sb: SlackBot) -> tuple[str, dict[str, dict[str, Any]]]:
    """File a SEV1 quick report; return its id and the buttons of the on-call notification."""
    human_id = await quick_report(sb, "man with a gun at the door, Hartford CT", "quick")
    [note] = await sb.fake.wait_for("chat.postMessage", channel=ONCALL)
    return human_id, buttons_of(note.params["blocks"])


async def press(sb: SlackBot, button: dict[str, Any], user: str, name: str) -> dict[str, Any]:
    before = len(sb.fake.calls_to("response"))
    payload = click(sb.fake, button, user=user, channel=ONCALL, name=name)
    assert (await sb.signed(interaction_body(payload)))[0] == 200
    params: dict[str, Any] = (await sb.fake.wait_for("response", before + 1))[-1].params
    return params


async def test_manager_acknowledges_from_the_notification(sb: SlackBot) -> None:
    human_id, buttons = await notified(sb)
    answer = await press(sb, buttons["Acknowledge"], "UMGR", "ack")
    assert answer["response_type"] == "ephemeral" and answer["replace_original"] is False
    assert human_id in answer["text"] and "triaged" in answer["text"]
    assert await query(sb, "SELECT status FROM incident") == [("triaged",)]


async def test_unauthorised_resolve_is_denied_and_changes_nothing(sb: SlackBot) -> None:
    _human_id, buttons = await notified(sb)
    answer = await press(sb, buttons["Resolve"], "U0STRANGER", "resolve")
    assert answer["response_type"] == "ephemeral" and "Only incident managers" in answer["text"]
    assert await query(sb, "SELECT status FROM incident") == [("new",)]
    denied = await query(sb, "SELECT actor, allowed FROM audit_entry")
    assert denied == [("slack:T0TEST:U0STRANGER", False)]


async def test_incident_verbs_answer_ephemeral_and_keep_mentions(sb: SlackBot) -> None:
    human_id = await quick_report(sb, "the printer at precinct 4 in Connecticut is jammed", "quick")
    assigned = await command(sb, f"assign {human_id} <@UMGR|morgan>", "assign", user="UBOSS")
    assert assigned["response_type"] == "ephemeral" and "Assigned" in assigned["text"]
    assert await query(sb, "SELECT assignee FROM incident") == [("slack:T0TEST:UMGR",)]
    listed = await command(sb, "list open", "list", user="UMGR")
    assert listed["response_type"] == "ephemeral" and human_id in json.dumps(listed)
    moved = await command(sb, f"status {human_id} in_progress checking it", "status", "UMGR")
    assert moved["response_type"] == "ephemeral" and "in_progress" in moved["text"]
    shown = await command(sb, f"show {human_id}", "show", user="UMGR")
    assert shown["response_type"] == "ephemeral" and "precinct 4" in json.dumps(shown)


async def test_quick_report_offers_to_complete_it_in_a_modal(sb: SlackBot) -> None:
    answer = await command(sb, "long line outside, printer jammed", "quick")
    human_id = HUMAN_ID.search(answer["text"]).group(0)  # type: ignore[union-attr]
    complete = buttons_of(answer["blocks"])["Complete report"]
    payload = click(sb.fake, complete, user="U0ASKER", channel="C0ELECT", name="complete")
    assert (await sb.signed(interaction_body(payload)))[0] == 200
    [opened] = await sb.fake.wait_for("views.open")
    assert opened.params["view"]["callback_id"] == f"incident:completeform:{human_id}"


async def test_two_dms_to_one_person_open_the_conversation_once(sb: SlackBot) -> None:
    for n in range(2):
        view = await open_form(sb, f"open{n}")
        answer = await submit(sb, view, {**VALID, "jurisdiction": "KS"}, view_id=f"V{n}")
        assert answer["response_action"] == "update"
    await sb.fake.wait_for("chat.postMessage", 2, channel="DUKSMGR")
    assert len(sb.fake.calls_to("conversations.open", users="UKSMGR")) == 1
    stored = await query(sb, "SELECT channel FROM conversation_reference "
                             "WHERE key = 'slack:T0TEST:dm:UKSMGR'")
    assert stored == [("DUKSMGR",)]


async def outbox_row(sb: SlackBot, status: str) -> Any:
    rows = await query(sb, "SELECT status, attempts, last_error FROM outbox_message "
                           f"WHERE destination = 'slack:T0TEST:{ONCALL}'")
    return rows[0] if rows and rows[0][0] == status else None


async def test_rate_limited_notification_is_delivered_once_after_retry_after(
        sb: SlackBot) -> None:
    sb.fake.fail("chat.postMessage", status=429, retry_after=1, channel=ONCALL)
    await quick_report(sb, "shots fired near the polling place", "quick")
    first, second = await sb.fake.wait_for("chat.postMessage", 2, timeout=15, channel=ONCALL)
    assert second.at - first.at >= 1.0
    assert second.params["metadata"] == first.params["metadata"]

    async def sent() -> bool:
        return await outbox_row(sb, "sent") is not None

    await eventually(sent)
    assert (await outbox_row(sb, "sent"))[1] == 2
    assert len(sb.fake.calls_to("chat.postMessage", channel=ONCALL)) == 2


async def test_missing_channel_is_dead_lettered(sb: SlackBot) -> None:
    sb.fake.fail("chat.postMessage", error="channel_not_found", channel=ONCALL)
    await quick_report(sb, "a bomb threat was phoned in", "quick")

    async def dead() -> bool:
        return await outbox_row(sb, "dead") is not None

    await eventually(dead)
    assert (await outbox_row(sb, "dead"))[2] == "channel_not_found"
    assert len(sb.fake.calls_to("chat.postMessage", channel=ONCALL)) == 1


@pytest.mark.parametrize("category", sorted(CATEGORIES))
async def test_each_category_can_be_filed(sb: SlackBot, category: str) -> None:
    view = await open_form(sb, category=category)
    subs = CATEGORIES[category][1]
    typed = {**VALID, "category": category}
    if subs:
        typed["subcategory"] = f"{category}/{subs[0]}"
    answer = await submit(sb, view, typed)
    assert answer["response_action"] == "update", answer
    assert "Filed INC-" in json.dumps(answer["view"])
    rows = await query(sb, "SELECT category, subcategory FROM incident")
    assert rows == [(category, subs[0] if subs else "")]


async def test_incident_typed_in_a_dm_offers_a_button_that_opens_the_modal(sb: SlackBot) -> None:
    dm = load("message_im")
    dm["event"]["text"] = "incident"
    status, _ = await sb.event(dm)
    assert status == 200
    [posted] = await sb.fake.wait_for("chat.postMessage", channel="D0DIRECT")
    assert "CALL 911" in posted.params["text"]  # the form's lead is not lost on the way
    button = buttons_of(posted.params["blocks"])["Open the form"]
    assert sb.fake.calls_to("views.open") == []  # Slack opens modals only from a click
    await sb.signed(interaction_body(click(sb.fake, button, user="U0ASKER", channel="D0DIRECT",
                                           name="dmopen")))
    [opened] = await sb.fake.wait_for("views.open")
    assert opened.params["trigger_id"] == "trig-dmopen"
    assert opened.params["view"]["callback_id"].startswith("incident:")
    view = await choose(sb, opened.params["view"], "category", "equipment_systems")
    answer = await submit(sb, view, VALID)
    assert answer["response_action"] == "update"
    assert len(await query(sb, "SELECT id FROM incident")) == 1


async def test_choosing_a_category_redraws_the_modal_with_only_its_types_and_fields(
        sb: SlackBot) -> None:
    first = await open_form(sb, category=None)
    cyber = await choose(sb, {**first}, "category", "cyber")
    types = [o["value"] for o in inputs_of(cyber)["subcategory"]["element"]["options"]]
    assert types and all(t.startswith("cyber/") for t in types)
    assert not {"mis_url", "mis_platform", "mis_reach"} & set(inputs_of(cyber))
    mis = await choose(sb, cyber, "category", "misinformation")
    inputs = inputs_of(mis)
    assert {"mis_url", "mis_platform", "mis_reach"} <= set(inputs)
    assert all(o["value"].startswith("misinformation/")
               for o in inputs["subcategory"]["element"]["options"])
    # another category's type no longer rides in a block Slack would keep
    assert inputs["subcategory"]["block_id"] != inputs_of(cyber)["subcategory"]["block_id"]
    assert mis["blocks"][0] == first["blocks"][0]  # the 911 line stays first


async def test_a_submitted_first_step_comes_back_as_the_whole_form(sb: SlackBot) -> None:
    first = await open_form(sb, category=None)
    answer = await submit(sb, first, {"danger": "no", "category": "ballot_custody",
                                      "description": "Seal number does not match the log."})
    assert answer["response_action"] == "update"
    inputs = inputs_of(answer["view"])
    assert inputs["description"]["element"]["initial_value"].startswith("Seal number")
    assert {"site", "jurisdiction", "when_date"} <= set(inputs)
    assert await query(sb, "SELECT id FROM incident") == []


async def test_the_sent_notification_shows_who_took_it_and_loses_its_buttons_when_resolved(
        sb: SlackBot) -> None:
    human_id, buttons = await notified(sb)
    await press(sb, buttons["Assign to me"], "UMGR", "take")
    [taken] = await sb.fake.wait_for("chat.update", channel=ONCALL, timeout=15)
    text = json.dumps(taken.params["blocks"])
    assert human_id in text and "*Assignee*\\n<@UMGR>" in text  # a ping in its own workspace
    assert "last change by <@UMGR>" in text
    assert buttons_of(taken.params["blocks"]).keys() == buttons.keys()
    [(ref,)] = await query(sb, "SELECT message_ref FROM outbox_message WHERE destination = "
                               f"'slack:T0TEST:{ONCALL}' AND key NOT LIKE '%:edit:%'")
    assert ref == f"{ONCALL}:{taken.params['ts']}"  # the very message that was posted
    await press(sb, buttons["Resolve"], "UMGR", "resolve")
    _, resolved = await sb.fake.wait_for("chat.update", 2, channel=ONCALL, timeout=15)
    assert "resolved" in json.dumps(resolved.params["blocks"])
    assert buttons_of(resolved.params["blocks"]) == {}  # nothing left to press
    rows = await query(sb, "SELECT key, status FROM outbox_message WHERE key LIKE '%:edit:%'")
    assert len(rows) == 2 and all(status in ("sent", "pending", "sending") for _, status in rows)


def test_offering_a_form_never_cuts_the_text_nor_repeats_the_intro() -> None:
    from bot.adapters.slack.listeners import MAX_BUTTON_VALUE, OPEN_FORM, offer_form
    from bot.messages import Form, Reply

    form = Form("incident:new", "Report an incident", fields=(), intro="CALL 911 NOW first.")
    offered = offer_form(Reply(text="CALL 911 NOW first.", form=form), "incident")
    assert offered.form is None and offered.text.count("CALL 911 NOW") == 1
    assert [(b.action_id, b.value) for b in offered.buttons] == [(OPEN_FORM, "incident")]
    long = "incident " + "x" * MAX_BUTTON_VALUE
    too_long = offer_form(Reply(text="", form=form), long)
    assert too_long.buttons == () and "slash command" in too_long.text
    assert "CALL 911 NOW" in too_long.text
    plain = Reply(text="no form here")
    assert offer_form(plain, "anything") is plain


async def test_an_open_form_click_is_asked_again_as_the_clicker_and_only_once(
        sb: SlackBot) -> None:
    from bot.adapters.slack.listeners import OPEN_FORM

    forged = {"action_id": OPEN_FORM, "value": "alert"}  # U0ASKER is no broadcaster
    payload = click(sb.fake, forged, user="U0ASKER", channel="D0DIRECT", name="forged")
    assert (await sb.signed(interaction_body(payload)))[0] == 200
    [denied] = await sb.fake.wait_for("response")
    assert denied.params["blocks"][0]["text"]["text"].startswith(":no_entry:")
    empty = click(sb.fake, {"action_id": OPEN_FORM, "value": ""}, user="U0ASKER",
                  channel="D0DIRECT", name="empty")
    assert (await sb.signed(interaction_body(empty)))[0] == 200
    _, answered = await sb.fake.wait_for("response", 2)
    assert answered.params["text"] and "Traceback" not in answered.params["text"]
    opener = {"action_id": OPEN_FORM, "value": "incident"}
    payload = click(sb.fake, opener, user="U0ASKER", channel="D0DIRECT", name="open1")
    def replays() -> float:
        return metrics.REGISTRY.get_sample_value("electionbot_replays_ignored_total",
                                                 {"platform": "slack"}) or 0.0

    before = replays()
    raw = interaction_body(payload)
    headers = signed_headers(raw, FORM)  # one signature: the second post is an exact replay
    for _ in range(2):  # a replayed click opens nothing twice
        assert (await sb.post(raw, headers))[0] == 200
    await sb.fake.wait_for("views.open")

    async def replay_seen() -> bool:  # the barrier: the second click has been handled
        return replays() > before

    await wait_until(replay_seen, timeout=45)  # SQLite may queue the insert behind a write
    assert len(sb.fake.calls_to("views.open")) == 1
