"""Forms rendered by each platform: the banner first, multi-selects, fields that redraw."""

from __future__ import annotations

from bot.adapters.slack.render import field_name, to_slack_modal, view_errors
from bot.adapters.slack.translate import form_values
from bot.adapters.teams.cards import build_card
from bot.messages import Form, FormField, Reply

FORM = Form("f:1", "Compose", (
    FormField("kind", "Kind", "select", options=(("a", "A"), ("b", "B")), refresh=True),
    FormField("tiers", "Tiers", "multiselect", required=False, value="T1,T3",
              options=(("T1", "T1"), ("T2", "T2"), ("T3", "T3"))),
), intro="Mind the public record.", banner="Call 911 first.", errors={"tiers": "Unknown"})


def test_slack_modal_leads_with_the_banner_and_redraws_on_a_choice() -> None:
    view = to_slack_modal(FORM)
    first = view["blocks"][0]["text"]["text"]
    assert first == ":rotating_light: *Call 911 first.*"
    inputs = [b for b in view["blocks"] if b["type"] == "input"]
    assert inputs[0]["dispatch_action"] is True and "dispatch_action" not in inputs[1]
    multi = inputs[1]["element"]
    assert multi["type"] == "multi_static_select"
    assert [o["value"] for o in multi["initial_options"]] == ["T1", "T3"]
    assert [field_name(b["block_id"]) for b in inputs] == ["kind", "tiers"]
    assert list(view_errors(FORM)) == [inputs[1]["block_id"]]
    state = {"values": {inputs[1]["block_id"]: {"tiers": {
        "type": "multi_static_select", "selected_options": multi["initial_options"]}}}}
    assert form_values({"state": state}) == {"tiers": "T1,T3"}


def test_teams_card_leads_with_the_banner_and_offers_a_multi_select() -> None:
    card = build_card(Reply(text="Compose", form=FORM), (), "", "Compose")
    first = card["body"][0]
    assert first["type"] == "Container" and first["style"] == "attention"
    assert first["items"][0]["text"] == "Call 911 first." and \
        first["items"][0]["color"] == "Attention"
    [tiers] = [e for e in card["body"] if e.get("id") == "tiers"]
    assert tiers["isMultiSelect"] is True and tiers["value"] == "T1,T3"
