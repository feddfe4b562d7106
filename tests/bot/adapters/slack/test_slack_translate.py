"""Pure translation and rendering on captured Slack payloads (no I/O)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot.adapters.slack.app import parse_body, verify_signature
from bot.adapters.slack.listeners import dedupe_key
from bot.adapters.slack.render import (
    EMPTY_OPTION,
    MAX_BLOCKS,
    MAX_SECTION,
    escape,
    fallback_text,
    mrkdwn,
    to_slack_blocks,
    to_slack_message,
    to_slack_modal,
    to_view_response,
)
from bot.adapters.slack.translate import (
    NotForUs,
    form_values,
    strip_mention,
    to_incoming_message,
)
from bot.messages import Action, Button, Fact, Form, FormField, Mention, Reply, Section, Tone
from tests.support import ROOT

DATA = ROOT / "tests" / "data"


def load(name: str) -> dict[str, Any]:
    return json.loads((DATA / f"slack_{name}.json").read_text(encoding="utf-8"))


def mrkdwn_texts(node: Any) -> Any:
    if isinstance(node, dict):
        if node.get("type") == "mrkdwn":
            yield node["text"]
        for value in node.values():
            yield from mrkdwn_texts(value)
    elif isinstance(node, list):
        for value in node:
            yield from mrkdwn_texts(value)


def all_text(blocks: list[dict[str, Any]]) -> str:
    return json.dumps(blocks)


def test_slash_command_becomes_a_command_message() -> None:
    message = to_incoming_message(load("command"))
    assert message.command == "/ask"
    assert message.text == "what is the pause method"
    assert message.sender.identity == "slack:T0TEST:U0ASKER"
    assert message.channel == "C0ELECT"
    assert not message.is_direct


def test_app_mention_strips_the_bot_mention_and_threads_on_the_mention() -> None:
    message = to_incoming_message(load("app_mention"))
    assert message.text == "what is the pause method"
    assert message.thread == "1700000001.000100"
    assert message.command is None and not message.is_direct


def test_mention_in_a_thread_keeps_other_mentions_and_the_thread() -> None:
    message = to_incoming_message(load("app_mention_thread"), bot_user_id="UBOT")
    assert message.text == "thanks , and @U0OTHER asked: what does pause stand for"
    assert message.mentions == (Mention(f"slack:{message.sender.workspace}:U0OTHER", "U0OTHER"),)
    assert message.thread == "1700000001.000100"


def test_strip_mention_without_a_known_bot_id_removes_only_a_leading_mention() -> None:
    assert strip_mention("<@UBOT> hi <@U2>", None) == "hi <@U2>"


def test_direct_message_is_direct() -> None:
    message = to_incoming_message(load("message_im"))
    assert message.is_direct and message.channel == "D0DIRECT"
    assert message.text == "what is the pause method" and message.thread is None


def test_bot_messages_and_our_own_are_not_for_us() -> None:
    with pytest.raises(NotForUs):
        to_incoming_message(load("bot_message"))
    own = load("message_im")
    own["event"]["user"] = "UBOT"
    with pytest.raises(NotForUs):
        to_incoming_message(own, bot_user_id="UBOT")
    channel_message = load("message_im")
    channel_message["event"]["channel_type"] = "channel"
    with pytest.raises(NotForUs):
        to_incoming_message(channel_message)


def test_block_actions_strip_the_uniqueness_suffix() -> None:
    message = to_incoming_message(load("block_actions"))
    assert message.action == Action("faq:helpful", "1:no")
    assert message.sender.identity == "slack:T0TEST:U0ASKER"
    assert message.channel == "C0ELECT"


def test_view_submission_becomes_a_form() -> None:
    message = to_incoming_message(load("view_submission"))
    assert message.form is not None
    assert message.form.form_id == "incident:report"
    assert message.form.values == {"summary": "Polling place opened late <!channel>",
                                   "jurisdiction": "KS", "happened_on": "2026-11-03",
                                   "details": ""}


def test_unknown_payload_is_not_for_us() -> None:
    with pytest.raises(NotForUs):
        to_incoming_message({"type": "shortcut"})


def test_user_text_is_escaped_everywhere_in_a_message() -> None:
    typed = "hey <!channel> & <@U1> <!here> <https://evil.example|click>"
    reply = Reply(text=typed, sections=(Section(typed, context=typed),),
                  buttons=(Button(typed, "faq:show", "x"),))
    message = to_slack_message(reply)
    parsed = [message["text"]] + list(mrkdwn_texts(message["blocks"]))
    assert len(parsed) == 3 and not any("<" in t or ">" in t for t in parsed)
    # Labels are plain_text, which Slack never parses for mentions or links.
    assert message["blocks"][-1]["elements"][0]["text"]["type"] == "plain_text"
    assert "&lt;!channel&gt;" in message["text"] and "&amp;" in message["text"]
    assert message["blocks"][0]["text"]["text"] == escape(typed)
    assert message["blocks"][1]["elements"][0]["text"] == escape(typed)
    assert message["unfurl_links"] is False and message["unfurl_media"] is False


def test_core_formatting_survives_escaping() -> None:
    blocks = to_slack_blocks(Reply(text="**Title**",
                                   sections=(Section("**Title**\n`/ask` _it_ & more"),)))
    assert blocks[0]["text"]["text"] == "*Title*\n`/ask` _it_ &amp; more"


@pytest.mark.parametrize(("markdown", "slack"), [
    ("**bold** and _it_", "*bold* and _it_"),
    ("see [the guide](https://vote.example/a?b=1&c=2)", "see <https://vote.example/a?b=1&amp;c=2|the guide>"),
    ("mail [us](mailto:help@vote.example)", "mail <mailto:help@vote.example|us>"),
    ("[no](javascript:alert(1))", "[no](javascript:alert(1))"),  # other schemes stay text
    ("typed <!here> [x](https://a.example)", "typed &lt;!here&gt; <https://a.example|x>"),
    ("2 * 3 * 4", "2 * 3 * 4"),
    ("Steps:\n- Pay attention\n* Ask\n  + nested", "Steps:\n• Pay attention\n• Ask\n  • nested"),
    ("\\- not a bullet\n-5 degrees\n1. one", "- not a bullet\n-5 degrees\n1. one"),
])
def test_commonmark_becomes_mrkdwn_after_escaping(markdown: str, slack: str) -> None:
    assert mrkdwn(markdown) == slack


def test_mentions_ping_only_in_their_own_workspace() -> None:
    mentions = (Mention("slack:T1:U1", "ann"), Mention("slack:T2:U2", "bob"),
                Mention("teams:tenant:aad", "Cy <Lee>"))
    text = "{@0}, {@1} and {@2}; {@3} is no one"
    assert mrkdwn(text, mentions, "T1") == "<@U1>, *bob* and *Cy &lt;Lee&gt;*; {@3} is no one"
    assert mrkdwn(text, mentions) == "*ann*, *bob* and *Cy &lt;Lee&gt;*; {@3} is no one"


def test_tone_title_and_facts_are_rendered_once() -> None:
    reply = Reply(text="INC-1 · SEV1", title="New incident", tone=Tone.DANGER,
                  fields=(Fact("Assignee", "{@0}"),), mentions=(Mention("slack:T1:U1"),),
                  sections=(Section("**SEV1: someone may be in immediate danger.**"),))
    blocks = to_slack_blocks(reply, workspace="T1")
    assert blocks[0]["text"]["text"] == ":rotating_light: *New incident*"
    assert blocks[1]["text"]["text"] == "INC-1 · SEV1"
    assert blocks[2]["fields"] == [{"type": "mrkdwn", "text": "*Assignee*\n<@U1>"}]
    assert blocks[3]["text"]["text"] == "*SEV1: someone may be in immediate danger.*"
    assert json.dumps(blocks).count("New incident") == 1
    # Notifications read the words first (for SEV1, "CALL 911 NOW" stays the first thing).
    assert fallback_text(reply) == "New incident: INC-1 · SEV1"


@pytest.mark.parametrize(("tone", "emoji"), [
    (Tone.INFO, ""), (Tone.SUCCESS, ":white_check_mark: "), (Tone.WARNING, ":warning: "),
    (Tone.DANGER, ":rotating_light: "), (Tone.DENIED, ":no_entry: ")])
def test_the_tone_is_an_emoji_chosen_by_the_renderer(tone: Tone, emoji: str) -> None:
    blocks = to_slack_blocks(Reply(text="Only managers can do that.", tone=tone))
    assert blocks[0]["text"]["text"] == f"{emoji}Only managers can do that."


def test_repeated_action_ids_are_made_unique() -> None:
    reply = Reply(text="Helpful?", buttons=(Button("Yes", "faq:helpful:a", "yes"),
                                            Button("No", "faq:helpful:a", "no")))
    ids = [e["action_id"] for e in to_slack_blocks(reply)[-1]["elements"]]
    assert ids == ["faq:helpful:a", "faq:helpful:a~1"]


def test_long_text_is_split_into_sections_within_the_limit() -> None:
    text = ("word & more " * 1000)[:11000]
    blocks = to_slack_blocks(Reply(text=text))
    assert len(blocks) > 3
    assert all(len(b["text"]["text"]) <= MAX_SECTION for b in blocks)
    joined = "".join(b["text"]["text"] for b in blocks)
    assert joined.replace("&amp;", "&") == text
    assert all(not b["text"]["text"].endswith(("&", "&a", "&am", "&amp")) for b in blocks)


def test_block_limit_keeps_the_buttons_and_marks_the_cut() -> None:
    sections = tuple(Section(f"part {i}", context="c") for i in range(80))
    blocks = to_slack_blocks(Reply(text="x", sections=sections,
                                   buttons=(Button("Yes", "faq:helpful:a", "yes"),)))
    assert len(blocks) == MAX_BLOCKS
    assert blocks[-1]["type"] == "actions"
    assert "shortened" in blocks[-2]["elements"][0]["text"]


def test_fallback_text_within_40000() -> None:
    assert len(fallback_text(Reply(text="<" * 50_000))) <= 40_000


def form(**kw: Any) -> Form:
    fields = (FormField("summary", "What happened", kind="textarea", max_length=5000),
              FormField("jurisdiction", "Where", kind="select",
                        options=(("KS", "Kansas"), ("CA", "California")), value="KS"),
              FormField("happened_on", "When", kind="date", required=False, hint="day"))
    return Form("incident:report", "Report an election incident now", fields, **kw)


def test_form_becomes_a_modal_within_limits() -> None:
    view = to_slack_modal(form(submit_label="File this incident report"),
                          private_metadata='{"channel": "C1"}')
    assert view["callback_id"] == "incident:report"
    for key in ("title", "submit", "close"):
        assert len(view["title"]["text"]) <= 24 and len(view[key]["text"]) <= 24
    assert [b["block_id"] for b in view["blocks"]] == ["summary", "jurisdiction", "happened_on"]
    assert view["blocks"][0]["element"]["max_length"] == 3000
    assert view["blocks"][1]["element"]["initial_option"]["value"] == "KS"
    assert view["blocks"][2]["optional"] is True
    with pytest.raises(ValueError):
        to_slack_modal(form(), private_metadata="x" * 3001)


def test_form_errors_become_response_action_errors() -> None:
    reply = Reply(text="fix it", form=form(errors={"summary": "Please describe it"}))
    assert to_view_response(reply) == {"response_action": "errors",
                                       "errors": {"summary": "Please describe it"}}
    done = to_view_response(Reply(text="Filed <!channel>"))
    assert done["response_action"] == "update"
    assert "&lt;!channel&gt;" in all_text(done["view"]["blocks"])


def test_signature_check_rejects_every_bad_timestamp() -> None:
    from slack_sdk.signature import SignatureVerifier  # noqa: TID251

    body, now = b"a=b", 1_700_000_000
    good = SignatureVerifier("s3cret").generate_signature(timestamp=str(now), body=body)
    assert verify_signature("s3cret", body, str(now), good, now=now)
    assert not verify_signature("s3cret", body, str(now), good, now=now + 301)
    assert not verify_signature("s3cret", body, str(now), good, now=now - 301)
    assert not verify_signature("s3cret", body, "abc", good, now=now)
    assert not verify_signature("s3cret", body, "١٧٠٠", good, now=now)
    assert not verify_signature("s3cret", body, None, good, now=now)
    assert not verify_signature("s3cret", b"a=c", str(now), good, now=now)


def test_parse_body_decodes_forms_payloads_and_refuses_junk() -> None:
    assert parse_body("application/x-www-form-urlencoded",
                      "text=hi&command=%2Fask&user_id=U1") == {
        "text": "hi", "command": "/ask", "user_id": "U1"}
    assert parse_body("application/x-www-form-urlencoded",
                      "payload=%7B%22type%22%3A%22block_actions%22%2C%22user%22%3A%7B%22id%22%3A"
                      "%22U1%22%7D%7D") == {"type": "block_actions", "user": {"id": "U1"}}
    for content_type, text in (("application/json", "{"), ("application/json", "[1]"),
                               ("application/x-www-form-urlencoded", "payload=%7Bnope")):
        with pytest.raises(ValueError):
            parse_body(content_type, text)


def test_dedupe_keys() -> None:
    assert dedupe_key(load("message_im"), "v0=abc") == "slack:event:Ev0DIRECT1"
    assert dedupe_key(load("command"), "v0=abc") == "slack:sig:v0=abc"
    trigger = load("command")["trigger_id"]
    assert dedupe_key(load("command"), None) == f"slack:trigger:{trigger}"
    assert dedupe_key({"type": "url_verification"}, None) is None


# -- incidents: shortcut, selects, intro and errors ------------------------------------------

def test_message_shortcut_becomes_the_from_message_action() -> None:
    body = load("message_shortcut")
    message = to_incoming_message(body)
    assert message.action == Action("incident:from_message",
                                    "slack:T0TEST:C0ELECT:1700000009.000100")
    assert message.text == body["message"]["text"] and "<@U0ASKER>" in message.text
    assert message.sender.identity == "slack:T0TEST:U0ASKER" and message.channel == "C0ELECT"
    linked = {**body, "message": {**body["message"], "permalink": "https://x.slack.com/p1"}}
    assert to_incoming_message(linked).action == Action("incident:from_message",
                                                        "https://x.slack.com/p1")
    with pytest.raises(NotForUs):
        to_incoming_message({**body, "callback_id": "something_else"})


def select_form(options: tuple[tuple[str, str], ...], value: str = "") -> Form:
    return Form("f", "F", (FormField("pick", "Pick", "select", required=False, options=options,
                                     value=value),), intro="Read me first")


def test_empty_option_value_travels_as_a_sentinel_and_comes_back_empty() -> None:
    view = to_slack_modal(select_form((("", "-"), ("a", "A"))))
    element = view["blocks"][-1]["element"]
    assert [o["value"] for o in element["options"]] == [EMPTY_OPTION, "a"]
    assert "initial_option" not in element
    for chosen, expected in ((EMPTY_OPTION, ""), ("a", "a"), (None, "")):
        option = None if chosen is None else {"value": chosen}
        state = {"pick": {"pick": {"type": "static_select", "selected_option": option}}}
        assert form_values({"state": {"values": state}}) == {"pick": expected}


def test_more_than_100_options_go_into_groups() -> None:
    options = tuple((f"v{i}", f"Option {i}") for i in range(230))
    element = to_slack_modal(select_form(options, value="v150"))["blocks"][-1]["element"]
    assert "options" not in element
    groups = element["option_groups"]
    assert [len(g["options"]) for g in groups] == [100, 100, 30]
    assert element["initial_option"]["value"] == "v150"


def test_form_intro_is_the_first_block_and_a_repeated_title_is_dropped() -> None:
    form = Form("f", "Report", (FormField("x", "X"),), intro="CALL 911 NOW <b>")
    view = to_slack_modal(form, lead="Report")
    assert [b["type"] for b in view["blocks"]] == ["section", "input"]
    assert view["blocks"][0]["text"]["text"] == "CALL 911 NOW &lt;b&gt;"
    view = to_slack_modal(form, lead="Fix the fields")
    assert [b["type"] for b in view["blocks"]] == ["section", "section", "input"]


def test_invalid_initial_date_is_not_sent() -> None:
    form = Form("f", "F", (FormField("d", "D", "date", value="tomorrow"),))
    assert "initial_date" not in to_slack_modal(form)["blocks"][0]["element"]


def test_errors_for_unknown_fields_land_on_the_first_input() -> None:
    form = Form("f", "F", (FormField("a", "A"), FormField("b", "B")),
                errors={"b": "bad b", "zzz": "bad zzz"})
    assert to_view_response(Reply(text="x", form=form))["errors"] == {"b": "bad b",
                                                                      "a": "bad zzz"}


def test_result_modal_title_is_the_start_of_the_reply() -> None:
    view = to_view_response(Reply(text="CALL 911 NOW if anyone is in danger. Filed INC-1."))
    assert view["view"]["title"]["text"].startswith("CALL 911 NOW")
    assert len(view["view"]["title"]["text"]) <= 24
    assert to_view_response(Reply(text="Filed INC-2026-000001."))["view"]["title"][
        "text"] == "Filed INC-2026-000001."


def test_main_line_leads_when_the_sections_do_not_say_it() -> None:
    reply = Reply(text="TLP:GREEN · Polling hours unchanged",
                  sections=(Section("Polls open 6 to 8."),))
    texts = [b["text"]["text"] for b in to_slack_blocks(reply) if b["type"] == "section"]
    assert texts == ["TLP:GREEN · Polling hours unchanged", "Polls open 6 to 8."]


def test_parse_form_reads_forms_as_the_standard_library_does() -> None:
    import random
    from urllib.parse import parse_qs

    from bot.adapters.slack.app import parse_form

    rng = random.Random(16)
    alphabet = "ab=&+%2 é\x00%zz%41%C3%A9%E9;"
    cases = ["", "a=1&a=2", "a", "a=1&&b=2", "=x", "text=%2Fask+hi%21&user_id=U1"]
    cases += ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))
              for _ in range(3000)]
    for text in cases:
        try:
            expected: object = {k: v[0] for k, v in parse_qs(
                text, keep_blank_values=True, strict_parsing=bool(text)).items()}
        except ValueError:
            expected = ValueError
        try:
            got: object = parse_form(text)
        except ValueError:
            got = ValueError
        assert got == expected, text
