"""Pure translation: captured Teams activities -> neutral messages, replies -> Adaptive Cards."""

from __future__ import annotations

import json
import struct
import zipfile
import zlib
from pathlib import Path
from typing import Any

import pytest

from bot.adapters.teams import render
from bot.adapters.teams.render import MAX_ACTIVITY_BYTES, SHORTENED, to_activity
from bot.adapters.teams.translate import to_incoming_message
from bot.config.settings import ConfigError
from bot.messages import (
    Action,
    Button,
    Fact,
    Form,
    FormField,
    FormSubmission,
    Mention,
    Reply,
    Section,
    Tone,
)
from tests.support import ROOT, make_settings

DATA = ROOT / "tests" / "data"
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"


def load(name: str) -> dict[str, Any]:
    return json.loads((DATA / f"teams_{name}.json").read_text(encoding="utf-8"))


def card_of(activity: dict[str, Any]) -> dict[str, Any]:
    [attachment] = activity["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    return attachment["content"]


def test_personal_message() -> None:
    message = to_incoming_message(load("personal_message"))
    assert message is not None
    assert message.text == "what is the pause method"
    assert message.sender.identity == f"teams:{TENANT}:6f1c2e3d-4b5a-6978-8a9b-0c1d2e3f4a5b"
    assert message.sender.display_name == "Dana Clerk"
    assert message.is_direct and message.locale == "en-US"
    assert message.action is None and message.form is None


def test_channel_mention_is_stripped_and_thread_split() -> None:
    message = to_incoming_message(load("channel_mention"))
    assert message is not None
    assert message.text == "what is the pause method"
    assert not message.is_direct
    assert message.channel == "19:3e9f1c0b2a4d4c6e8f0a1b2c3d4e5f60@thread.tacv2"
    assert message.thread == "1709392200000"


def test_mention_of_someone_else_is_kept() -> None:
    activity = load("channel_mention")
    activity["text"] = "<at>Electionbot</at> ask <at>Pat</at> (or me)"
    activity["entities"].append({"type": "mention", "text": "<at>Pat</at>",
                                 "mentioned": {"id": "29:pat", "name": "Pat"}})
    message = to_incoming_message(activity)
    assert message is not None and message.text == "ask @Pat (or me)"
    assert message.mentions == (Mention(f"teams:{TENANT}:29:pat", "Pat"),)


def test_bot_name_with_regex_characters() -> None:
    activity = load("channel_mention")
    activity["text"] = "<at>Vote (CT)*</at> help"
    activity["entities"][0]["text"] = "<at>Vote (CT)*</at>"
    message = to_incoming_message(activity)
    assert message is not None and message.text == "help"


def test_action_submit_value_becomes_action() -> None:
    message = to_incoming_message(load("card_submit"))
    assert message is not None
    assert message.action == Action("faq:helpful:ca-sample-pause", "yes")


def test_invoke_card_action_becomes_action() -> None:
    message = to_incoming_message(load("invoke_card_action"))
    assert message is not None
    assert message.action == Action("faq:helpful:ca-sample-pause", "yes")


def test_form_submit_becomes_form_submission() -> None:
    message = to_incoming_message(load("form_submit"))
    assert message is not None
    assert message.form == FormSubmission("incident:new", {
        "summary": "Poll book offline", "severity": "high", "occurred_on": "2026-03-02"})


@pytest.mark.parametrize("change", [
    {"type": "conversationUpdate"}, {"type": "typing"},
    {"type": "invoke", "name": "task/fetch"}, {"text": "", "value": None},
    {"text": "<at>Electionbot</at>"},
])
def test_nothing_to_route(change: dict[str, Any]) -> None:
    assert to_incoming_message({**load("channel_mention"), **change}) is None


def test_install_update_is_not_a_message() -> None:
    assert to_incoming_message(load("conversation_update_install")) is None


def test_plain_reply_is_text_only_and_escaped() -> None:
    activity = to_activity(Reply(text="You typed <b>hi</b> & **this**"))
    assert activity == {"type": "message", "textFormat": "markdown",
                        "text": "You typed &lt;b&gt;hi&lt;/b&gt; &amp; **this**"}


def test_reply_with_sections_and_buttons() -> None:
    reply = Reply(text="The PAUSE method", sections=(Section("**Pay** attention", context="CA"),),
                  buttons=(Button("Yes", "faq:helpful:x", "yes", style="primary"),
                           Button("No", "faq:helpful:x", "no")))
    activity = to_activity(reply)
    assert activity["text"] == "The PAUSE method"
    card = card_of(activity)
    assert card["version"] in ("1.4", "1.5")
    assert card["body"][0] == {"type": "TextBlock", "text": "**Pay** attention", "wrap": True}
    assert card["body"][1]["isSubtle"] is True and card["body"][1]["text"] == "CA"
    yes, no = card["actions"]
    assert yes["type"] == "Action.Submit" and yes["style"] == "positive"
    assert yes["data"] == {"action_id": "faq:helpful:x", "value": "yes"}
    assert no["data"]["value"] == "no" and "style" not in no
    assert "PAUSE" in card["fallbackText"]


def test_main_line_is_not_repeated_above_a_card_that_says_it() -> None:
    answer = Reply(text="In Kansas, clerks renew every year.\n\nSource: KSOS",
                   sections=(Section("In Kansas, clerks renew every year."),
                             Section("Details here", context="Source: KSOS")))
    activity = to_activity(answer)
    assert "text" not in activity  # Teams would show it twice: above the card and in it
    assert activity["summary"].startswith("In Kansas, clerks renew every year.")
    assert "In Kansas, clerks renew" in card_of(activity)["fallbackText"]
    partly = Reply(text="Alert AL-1 is going out.\n\nIt needs approval.",
                   sections=(Section("It needs approval."),))
    assert to_activity(partly)["text"].startswith("Alert AL-1 is going out.")


def test_form_renders_inputs_with_limits_and_errors() -> None:
    form = Form("incident:new", "Report an incident", fields=(
        FormField("summary", "Summary", max_length=200, hint="One line"),
        FormField("details", "Details", kind="textarea", required=False),
        FormField("severity", "Severity", kind="select",
                  options=(("low", "Low"), ("high", "High"))),
        FormField("occurred_on", "Date", kind="date"),
    ), errors={"occurred_on": "The date cannot be in the future."})
    card = card_of(to_activity(Reply(text="New incident", form=form)))
    inputs = {e["id"]: e for e in card["body"] if e["type"].startswith("Input.")}
    assert inputs["summary"]["type"] == "Input.Text" and inputs["summary"]["maxLength"] == 200
    assert inputs["summary"]["isRequired"] is True
    assert inputs["summary"]["placeholder"] == "One line"
    assert inputs["details"]["isMultiline"] is True and inputs["details"]["isRequired"] is False
    assert inputs["severity"]["type"] == "Input.ChoiceSet"
    assert inputs["severity"]["choices"] == [{"title": "Low", "value": "low"},
                                             {"title": "High", "value": "high"}]
    assert inputs["occurred_on"]["type"] == "Input.Date"
    assert inputs["occurred_on"]["errorMessage"] == "The date cannot be in the future."
    shown = [e["text"] for e in card["body"] if e.get("color") == "Attention"]
    assert shown == ["The date cannot be in the future."]
    submit = card["actions"][0]
    assert submit["data"] == {"form_id": "incident:new"} and submit["title"] == "Submit"


def test_huge_reply_is_shortened_under_the_limit() -> None:
    sections = tuple(Section("x" * 3000) for _ in range(20))
    activity = to_activity(Reply(text="Long answer", sections=sections))
    size = len(json.dumps(activity, ensure_ascii=False).encode())
    assert size <= MAX_ACTIVITY_BYTES < 28 * 1024
    assert card_of(activity)["body"][-1]["text"] == SHORTENED


def test_a_digest_of_thousands_of_sections_keeps_the_most_that_fit_in_few_builds(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # A supervisor's escalation digest at 100,000 officials: one build per dropped section
    # would be minutes of CPU; bisection is a dozen builds, and the card is still nearly full.
    builds = []
    real = render._build

    def counted(reply: Reply, sections: tuple[Section, ...]) -> dict:
        builds.append(len(sections))
        return real(reply, sections)

    monkeypatch.setattr(render, "_build", counted)
    sections = tuple(Section(f"Escalation: Official {i} (CT) is overdue on **basic** course 3.",
                             context="You receive this as their certification supervisor.")
                     for i in range(20_000))
    activity = to_activity(Reply(text="Certification reminder", title="Certification reminder",
                                 sections=sections))
    size = len(json.dumps(activity, ensure_ascii=False).encode())
    body = card_of(activity)["body"]
    assert body[-1]["text"] == SHORTENED
    assert size <= MAX_ACTIVITY_BYTES
    assert size > MAX_ACTIVITY_BYTES - 400  # one more section would not have fitted
    assert "Official 0 " in json.dumps(body) and "Official 19999 " not in json.dumps(body)
    assert len(builds) <= 20 and max(builds) < 1_000


def test_huge_text_falls_back_to_short_text() -> None:
    activity = to_activity(Reply(text="&" * 100_000))
    assert len(json.dumps(activity).encode()) <= MAX_ACTIVITY_BYTES
    assert activity["text"].endswith(SHORTENED) and "attachments" not in activity


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    length, kind = struct.unpack(">I4s", data[8:16])
    assert kind == b"IHDR"
    body = data[16:16 + length]
    assert struct.unpack(">I", data[16 + length:20 + length])[0] == zlib.crc32(kind + body)
    return struct.unpack(">II", body[:8])


OFFICE = {"name": "Test Office", "state": "CT", "privacy_url": "https://vote.example.gov/privacy",
          "terms_url": "https://vote.example.gov/terms"}
APP_ID = "00000000-0000-0000-0000-0000000b0771"
TENANTS = {"tenants": ["72f988bf-86f1-41af-91ab-2d7cd011db47"]}


def test_teams_package(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, env={"MICROSOFT_APP_ID": APP_ID}, office=OFFICE,
                             webchat={"public_url": "https://bot.example.gov"},
                             teams=TENANTS, commands={"ask": "/vote-ask", "incident": "/incident",
                                       "alert": "/alert", "cert": "/cert"})
    from bot.adapters.teams.manifest import write_teams_package

    out = write_teams_package(settings, tmp_path / "pkg" / "teams.zip")
    with zipfile.ZipFile(out) as package:
        assert sorted(package.namelist()) == ["color.png", "manifest.json", "outline.png"]
        manifest = json.loads(package.read("manifest.json"))
        assert _png_size(package.read("color.png")) == (192, 192)
        assert _png_size(package.read("outline.png")) == (32, 32)
    assert float(manifest["manifestVersion"]) >= 1.16
    [bot] = manifest["bots"]
    assert bot["botId"] == manifest["id"] == APP_ID
    assert bot["scopes"] == ["personal", "team", "groupChat"]
    titles = [c["title"] for c in bot["commandLists"][0]["commands"]]
    assert titles == ["vote-ask", "incident", "alert", "cert", "help"]
    assert manifest["developer"]["privacyUrl"] == "https://vote.example.gov/privacy"
    assert manifest["developer"]["termsOfUseUrl"] == "https://vote.example.gov/terms"
    assert manifest["validDomains"] == ["bot.example.gov"]  # the bot's host, not linked pages


def test_teams_package_without_a_public_url_lists_no_domain(tmp_path: Path) -> None:
    from bot.adapters.teams.manifest import build_manifest

    settings = make_settings(tmp_path, env={"MICROSOFT_APP_ID": APP_ID}, office=OFFICE,
                             teams=TENANTS)
    assert build_manifest(settings)["validDomains"] == []


def test_teams_package_needs_app_id(tmp_path: Path) -> None:
    from bot.adapters.teams.manifest import write_teams_package

    with pytest.raises(ConfigError, match="MICROSOFT_APP_ID"):
        write_teams_package(make_settings(tmp_path, office=OFFICE), tmp_path / "teams.zip")
    assert not (tmp_path / "teams.zip").exists()


@pytest.mark.parametrize("missing", ["privacy_url", "terms_url"])
def test_teams_package_needs_the_offices_privacy_and_terms_pages(tmp_path: Path,
                                                                 missing: str) -> None:
    from bot.adapters.teams.manifest import write_teams_package

    office = {k: v for k, v in OFFICE.items() if k != missing}
    settings = make_settings(tmp_path, env={"MICROSOFT_APP_ID": APP_ID}, office=office,
                             teams=TENANTS)
    with pytest.raises(ConfigError, match=f"office.{missing}") as raised:
        write_teams_package(settings, tmp_path / "teams.zip")
    assert "MICROSOFT_APP_ID" not in str(raised.value)
    assert not (tmp_path / "teams.zip").exists()


@pytest.mark.parametrize("url", ["http://vote.example.gov/privacy", "https://", "privacy.html"])
def test_privacy_and_terms_urls_must_be_https(tmp_path: Path, url: str) -> None:
    with pytest.raises(ConfigError, match="privacy_url"):
        make_settings(tmp_path, office={**OFFICE, "privacy_url": url})


def test_form_intro_is_the_first_block_of_the_card() -> None:
    form = Form("incident:report:x", "Report", fields=(FormField("site", "Where"),),
                intro="CALL 911 NOW if anyone is in danger.")
    reply = Reply(text="Report", sections=(Section("before the form"),), form=form)
    first, second = card_of(to_activity(reply))["body"][:2]
    assert first == {"type": "TextBlock", "text": "CALL 911 NOW if anyone is in danger.",
                     "wrap": True, "weight": "Bolder", "color": "Attention"}
    assert second["text"] == "before the form"


def test_a_toned_reply_is_one_card_with_its_title_once_in_the_tones_colour() -> None:
    reply = Reply(text="INC-2026-000001 · SEV1 · Polling place", title="New incident",
                  tone=Tone.DANGER, fields=(Fact("Assignee", "{@0}"),),
                  mentions=(Mention("teams:t1:aad-1", "Pat Lee"),),
                  sections=(Section("**SEV1: someone may be in immediate danger.**"),))
    activity = to_activity(reply)
    assert "text" not in activity  # nothing above the card: the card says it once
    [container, *rest] = card_of(activity)["body"]
    assert container["style"] == "attention"
    title, lead, facts = container["items"]
    assert title["text"] == "New incident" and title["color"] == "Attention"
    assert lead["text"] == "INC-2026-000001 · SEV1 · Polling place"
    assert facts == {"type": "FactSet", "facts": [{"title": "Assignee", "value": "**Pat Lee**"}]}
    assert rest[0]["text"] == "**SEV1: someone may be in immediate danger.**"
    assert activity["summary"] == "New incident: INC-2026-000001 · SEV1 · Polling place"
    assert json.dumps(activity).count("New incident") == 3  # title, fallback, summary


def test_a_denial_is_a_card_in_the_attention_colour() -> None:
    activity = to_activity(Reply(text="Only managers can change INC-1.", tone=Tone.DENIED))
    [container] = card_of(activity)["body"]
    assert container["style"] == "attention"
    assert container["items"][0]["text"] == "Only managers can change INC-1."


@pytest.mark.parametrize(("markdown", "shown"), [
    ("Use `/incident list`", "Use /incident list"),
    ("**bold** _it_ [site](https://vote.example)", "**bold** _it_ [site](https://vote.example)"),
])
def test_card_text_keeps_the_markdown_teams_renders(markdown: str, shown: str) -> None:
    card = card_of(to_activity(Reply(text="x", sections=(Section(markdown),))))
    assert card["body"][0]["text"] == shown


def test_the_form_title_is_not_repeated_by_the_main_line() -> None:
    form = Form("cert:done:k", "Report a completed course", fields=(FormField("hours", "Hours"),))
    activity = to_activity(Reply(text="Report a completed course", form=form))
    assert "text" not in activity
    assert json.dumps(card_of(activity)["body"]).count("Report a completed course") == 1
