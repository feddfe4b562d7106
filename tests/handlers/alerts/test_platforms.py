"""Alerts end to end on the real Slack and Teams HTTP paths (issue 6, "Tests").

A broadcaster on Slack runs ``/alert``, fills the modal, requests approval; a second
broadcaster approves from Slack; deliveries land at the fake Slack (a channel, DMs) and at the
fake Bot Connector (a Teams user's personal chat, known from an earlier message); recipients
acknowledge from the buttons on both platforms; ``/alert status`` shows it; an all-clear
reaches everyone who got the parent. Refusals: a non-recipient's click, TLP above a tier's
ceiling.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from tests.bot.adapters.slack.slack_support import buttons_of
from tests.fakes.bot_connector import Call
from tests.fakes.slack_api import Call as SlackCall
from tests.handlers.alerts.conftest import compose_values
from tests.handlers.alerts.platform_support import (
    CLERKS,
    DANA,
    DANA_CHAT,
    SAM,
    TEAM,
    TENANT,
    Platforms,
    card_buttons,
    platforms,
    rows,
    until,
)

STATEWIDE_T1_T3 = {"tiers": "T1,T3", "jurisdictions": "", "tlp": "CLEAR"}
SLACK_DESTINATIONS = (CLERKS, "DUCLERK", "DULEAGUE")


@pytest.fixture
async def net(tmp_path: Path) -> AsyncIterator[Platforms]:
    async with platforms(tmp_path) as running:
        yield running


def flat(params: dict[str, Any]) -> str:
    """Every string of a Slack message (text, blocks, context), one per line."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, str):
            found.append(node)
        elif isinstance(node, dict):
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)
    walk({k: params.get(k) for k in ("text", "blocks", "view")})
    return "\n".join(found)


async def slack_post(net: Platforms, channel: str,
                     match: Callable[[SlackCall], bool]) -> SlackCall:
    """The first chat.postMessage to ``channel`` that ``match``es (waiting for it)."""
    async def check() -> SlackCall | None:
        return next((c for c in net.slack.calls_to("chat.postMessage", channel=channel)
                     if match(c)), None)
    found: SlackCall = await until(check, f"a matching post to {channel}")
    return found


async def teams_alerts(net: Platforms, count: int) -> list[Call]:
    """Proactive sends (not replies) to Dana's personal chat, waiting for ``count``."""
    async def check() -> list[Call] | None:
        sends = [c for c in net.teams.sends_to(DANA_CHAT) if c.reply_to_id is None]
        return sends if len(sends) >= count else None
    found: list[Call] = await until(check, f"{count} proactive Teams sends")
    return found


def preview_of(alert_id: str | None = None) -> Callable[[SlackCall], bool]:
    """A DM holding the preview of a new alert (not ``alert_id``)."""
    def match(call: SlackCall) -> bool:
        button = buttons_of(call.params.get("blocks") or []).get("Request approval")
        return button is not None and button["value"] != alert_id
    return match


def approval_for(alert_id: str) -> Callable[[SlackCall], bool]:
    def match(call: SlackCall) -> bool:
        button = buttons_of(call.params.get("blocks") or []).get("Approve and send")
        return button is not None and button["value"] == alert_id
    return match


async def compose_and_approve(net: Platforms, view: dict[str, Any], values: dict[str, str],
                              parent: str | None = None) -> str:
    """Submit the composer as UBC1, request approval, approve as UBC2; the alert id."""
    answer = await net.submit("UBC1", view, values)
    assert answer["response_action"] == "update"
    preview = await slack_post(net, "DUBC1", preview_of(parent))
    request = buttons_of(preview.params["blocks"])["Request approval"]
    alert_id = str(request["value"])
    assert alert_id in flat(answer)  # the modal turns into the preview
    # The recipients per tier are in the DM's text (Slack's notification / fallback line).
    assert "4 recipient(s) (T1: 3, T3: 1)" in preview.params["text"]
    assert "approval" in preview.params["text"]
    asked = await net.press(request, user="UBC1", channel="DUBC1")
    assert asked["response_type"] == "ephemeral"
    assert f"Approval requested from 1 other broadcaster(s) for alert {alert_id}" in asked["text"]
    ask = await slack_post(net, "DUBC2", approval_for(alert_id))
    approve = buttons_of(ask.params["blocks"])["Approve and send"]
    own = await net.press(approve, user="UBC1", channel="DUBC1")
    assert own["blocks"][0]["text"]["text"].startswith(":no_entry:")
    assert "second broadcaster" in own["text"]
    approved = await net.press(approve, user="UBC2", channel="DUBC2")
    assert f"Alert {alert_id} is going out to 4 destination(s)" in approved["text"]
    return alert_id


async def test_compose_approve_deliver_acknowledge_status_and_all_clear(net: Platforms) -> None:
    # Dana (Teams) talks to the bot once, so her personal-chat reference is stored.
    await net.teams_post(net.personal(text="help"))

    view = await net.open_modal("UBC1")
    assert view["callback_id"].startswith("alert:compose:")
    values = compose_values(**STATEWIDE_T1_T3)
    assert await rows(net.bot, "SELECT id FROM alert") == []

    # Nothing reaches a recipient before the second broadcaster approves.
    answer = await net.submit("UBC1", view, values)
    preview = await slack_post(net, "DUBC1", preview_of())
    request = buttons_of(preview.params["blocks"])["Request approval"]
    alert_id = str(request["value"])
    assert alert_id in flat(answer) and "Polling hours" in flat(answer)
    assert f"Preview of alert {alert_id}: 4 recipient(s) (T1: 3, T3: 1)" in preview.params["text"]
    await net.press(request, user="UBC1", channel="DUBC1")
    ask = await slack_post(net, "DUBC2", approval_for(alert_id))
    assert net.slack.calls_to("chat.postMessage", channel=CLERKS) == []
    assert [c for c in net.teams.sends_to(DANA_CHAT) if c.reply_to_id is None] == []
    approved = await net.press(buttons_of(ask.params["blocks"])["Approve and send"],
                               user="UBC2", channel="DUBC2")
    assert f"Alert {alert_id} is going out to 4 destination(s)" in approved["text"]
    decision = await slack_post(net, "DUBC1", lambda c: "approved and sent" in c.params["text"])
    assert "approved and sent by <@UBC2>" in decision.params["text"]  # a ping, not an id

    # Deliveries: a channel and two DMs on Slack, Dana's personal chat on Teams.
    slack_buttons = {}
    for channel in SLACK_DESTINATIONS:
        [post] = await net.slack_posts(channel, 1)
        assert "TLP:CLEAR" in post.params["text"] and "Polling hours" in post.params["text"]
        slack_buttons[channel] = buttons_of(post.params["blocks"])
        assert {b["value"] for b in slack_buttons[channel].values()} == {alert_id}
    opened = json.dumps([c.params for c in net.slack.calls_to("conversations.open")])
    assert "UCLERK" in opened and "ULEAGUE" in opened
    [card] = await teams_alerts(net, 1)
    assert card.body["recipient"]["aadObjectId"] == DANA and "TLP:CLEAR" in card.shown
    teams_buttons = card_buttons(card)
    assert teams_buttons["Received"] == {"action_id": "alert:ack:received", "value": alert_id}

    # Acknowledgements from the buttons, on Slack and on Teams.
    in_channel = await net.press(slack_buttons[CLERKS]["Received"], user="UCTCLERK",
                                 channel=CLERKS)
    assert in_channel["text"].startswith("Thank you, recorded: Received")
    assert in_channel["response_type"] == "ephemeral" and in_channel["replace_original"] is False
    in_dm = await net.press(slack_buttons["DUCLERK"]["Actioned"], user="UCLERK",
                            channel="DUCLERK")
    assert in_dm["text"].startswith("Thank you, recorded: Actioned")
    again = await net.press(slack_buttons["DUCLERK"]["Received"], user="UCLERK",
                            channel="DUCLERK")
    assert "Already recorded: Actioned" in again["text"]
    on_teams = await net.teams_click(teams_buttons["Received"])
    assert on_teams.body["text"].startswith("Thank you, recorded: Received")

    # Each answered copy is edited in place to say so (the channel's by whom), once.
    async def marked() -> list[Any] | None:
        edits = {c.params["channel"]: c for c in net.slack.calls_to("chat.update")}
        teams_edits = [c for c in net.teams.calls if c.method == "PUT"]
        return [edits[CLERKS], edits["DUCLERK"], teams_edits[0]] \
            if {CLERKS, "DUCLERK"} <= set(edits) and teams_edits else None
    channel_edit, dm_edit, teams_edit = await until(marked, "the answered copies to be marked")
    assert "Acknowledged for Hartford Registrars: Received by " in flat(channel_edit.params)
    assert "Actioned" not in flat(channel_edit.params).split("Acknowledged")[1].split("\n")[0]
    assert set(buttons_of(channel_edit.params["blocks"])) == set(slack_buttons[CLERKS])
    assert "Acknowledged: Actioned, " in flat(dm_edit.params)
    assert list(buttons_of(dm_edit.params["blocks"])) == ["Need help"]
    assert "Acknowledged: Received, " in teams_edit.shown

    async def idle() -> bool:
        return not await rows(net.bot, "SELECT id FROM outbox_message WHERE status IN "
                                       "('pending', 'sending') AND key NOT LIKE '%:status:%'")
    await until(idle, "the outbox to send everything queued")
    assert len(net.slack.calls_to("chat.update", channel=CLERKS)) == 1  # the first answer only

    # Clicks from people who got nothing are refused and audited, on both platforms.
    stranger = await net.press(slack_buttons["DUCLERK"]["Received"], user="U0STRANGER",
                               channel="DU0STRANGER")
    assert stranger["blocks"][0]["text"]["text"].startswith(":no_entry:")
    sam = await net.teams_click(teams_buttons["Received"], who=SAM)
    assert "not a recipient" in sam.shown  # a denial: a card in the attention colour
    assert sam.body["attachments"][0]["content"]["body"][0]["style"] == "attention"
    refused = await rows(net.bot, "SELECT actor FROM audit_entry WHERE action = 'alert:ack' "
                                  "AND reason = 'not a recipient of this alert'")
    assert sorted(r[0] for r in refused) == sorted([f"slack:{TEAM}:U0STRANGER",
                                                    f"teams:{TENANT}:{SAM}"])
    acks = await rows(net.bot, "SELECT person, kind FROM alert_ack ORDER BY person")
    assert sorted(acks) == sorted([(f"slack:{TEAM}:UCTCLERK", "received"),
                                   (f"slack:{TEAM}:UCLERK", "actioned"),
                                   (f"teams:{TENANT}:{DANA}", "received")])

    # The status view (delivery rows are marked sent just after the fakes answer).
    async def status() -> str | None:
        shown = flat(await net.command("UBC1", f"status {alert_id}"))
        return shown if "T1: 3/3 delivered, 0 failed; received 2, actioned 1, " in shown and \
            "T3: 1/1 delivered" in shown else None
    shown = await until(status, "the status view to fill in")
    assert ("T3: 1/1 delivered, 0 failed; received 0, actioned 0, not applicable 0, "
            "need help 0, not yet 1") in shown
    assert "Not acknowledged yet (1): League (League of Voters, T3)" in shown
    denied = await net.command("UCLERK", f"status {alert_id}")
    assert denied["blocks"][0]["text"]["text"].startswith(":no_entry:")

    # An all-clear reaches everyone who got the parent (its own audience comes from it).
    child_view = await net.open_modal("UBC1", f"allclear {alert_id}")
    assert child_view["callback_id"].endswith(f":{alert_id}")
    child_values = {**{k: v for k, v in compose_values(tlp="CLEAR").items()
                       if k not in ("groups", "tiers", "jurisdictions")},
                    "alert_type": "all_clear", "headline": "All clear: polling hours confirmed"}
    child_id = await compose_and_approve(net, child_view, child_values, parent=alert_id)
    assert child_id != alert_id
    for channel in SLACK_DESTINATIONS:
        posts = await net.slack_posts(channel, 2)
        assert len(posts) == 2
        assert f"ALL CLEAR for alert {alert_id}" in flat(posts[1].params)
    cards = await teams_alerts(net, 2)
    assert len(cards) == 2 and f"ALL CLEAR for alert {alert_id}" in json.dumps(cards[1].body)


async def test_tlp_above_a_tiers_ceiling_is_refused_and_nothing_is_stored(
        net: Platforms) -> None:
    view = await net.open_modal("UBC1")
    answer = await net.submit("UBC1", view, compose_values(**{**STATEWIDE_T1_T3,
                                                              "tlp": "AMBER"}))
    assert answer["response_action"] == "update"
    shown = flat(answer)
    assert "TLP:AMBER may not go to T3" in shown and "Nothing was sent" in shown
    refusal = await slack_post(net, "DUBC1", lambda c: "may not go to T3" in c.params["text"])
    assert buttons_of(refusal.params.get("blocks") or []) == {}
    assert await rows(net.bot, "SELECT id FROM alert") == []
    assert net.slack.calls_to("chat.postMessage", channel=CLERKS) == []


async def test_only_broadcasters_open_the_composer_on_slack(net: Platforms) -> None:
    answer = await net.command("UCLERK", "")
    assert answer["blocks"][0]["text"]["text"].startswith(":no_entry:")
    assert answer["response_type"] == "ephemeral"
    assert net.slack.calls_to("views.open") == []
