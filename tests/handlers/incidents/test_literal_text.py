"""What a reporter typed reaches every platform's notification as the characters typed.

An incident description is shown to managers and on-call: typed markup must never become a
disguised link, a ping of whoever the notification mentions, bold, or a Slack broadcast.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.adapters.slack.render import to_slack_message
from bot.adapters.teams.render import to_activity
from bot.adapters.webchat.endpoint import render as webchat_json
from bot.messages import Mention, Reply, fill_mentions, literal, plain
from handlers.incidents.models import Incident
from handlers.incidents.replies import build_notification

ATTACK = "[Click](https://evil.example) {@0} **x** <!channel> <@U1> _y_"
CHAT_JS = Path(__file__).parents[3] / "bot/adapters/webchat/static/chat.js"


def incident(description: str = ATTACK, site: str = "Town Hall") -> Incident:
    """An assigned incident, so the notification has a mention ``{@0}`` could steal."""
    return Incident(category="equipment_systems", jurisdiction="CT", site=site,
                    occurred_at=datetime(2026, 11, 3, 16, 15, tzinfo=UTC), severity="SEV2",
                    description=description, human_id="INC-2026-000001", idempotency_key="k",
                    reporter="slack:T0TEST:UREP", assignee="slack:T0TEST:UMGR")


def notification() -> Reply:
    changed = ("slack:T0TEST:UBOSS", datetime(2026, 11, 3, 17, 0, tzinfo=UTC),
               ZoneInfo("America/New_York"))
    return build_notification(incident(), reason="status", changed=changed)


def test_literal_escapes_markup_and_plain_gives_the_typed_text_back() -> None:
    escaped = literal(ATTACK + " a\\b")
    assert "[" not in escaped.replace("\\[", "") and "{@" not in escaped.replace("\\{@", "")
    assert plain(escaped) == ATTACK + " a\\b"
    mentions = (Mention("slack:T0TEST:UMGR", "Maria"),)
    filled = fill_mentions(escaped + " {@0} \\\\{@0}", mentions, lambda m: "@" + m.name)
    assert filled.count("@Maria") == 2  # the handler's two, never the typed "\{@0}"
    assert plain(filled, mentions).startswith(ATTACK)


def test_slack_notification_shows_the_typed_text_with_no_link_ping_or_bold() -> None:
    message = to_slack_message(notification(), workspace="T0TEST")
    blocks = json.dumps(message["blocks"])
    shown = blocks + message["text"]
    assert "<https://evil" not in shown and "|Click>" not in shown
    assert "<!channel>" not in shown and "<@U1>" not in shown
    assert "*x*" not in shown and "_y_" not in shown
    # The handler's own mentions still ping: the assignee and whoever changed it.
    assert blocks.count("<@UMGR>") == 1 and blocks.count("<@UBOSS>") == 1
    assert "&lt;!channel&gt;" in blocks and "Click" in blocks and "evil.example" in blocks
    assert "{@0}" in blocks  # shown as typed, not filled


def test_teams_notification_shows_the_typed_text_with_no_link_mention_or_bold() -> None:
    activity = to_activity(notification())
    cards = json.dumps(activity, ensure_ascii=False)
    assert not re.search(r"\[[^\]]*\]\(", cards)  # no markdown link anywhere
    assert "**x**" not in cards and "_y_" not in cards
    assert "{@0}" in cards  # the typed placeholder as text, not the assignee's name
    assert "**a Slack user**" in cards and "UMGR" not in cards  # named, never a raw id


def _read_with_chat_js(text: str, mentions: list[dict[str, str]]) -> list[Any]:
    """Run the page's own markdown reader (chat.js) under node on ``text``."""
    source = CHAT_JS.read_text()
    reader = source[source.index("const INLINE"):source.index("function mdBlock")]
    script = (
        "class N { constructor(t) { this.tag = t; this.kids = []; }"
        " appendChild(k) { this.kids.push(k); } }\n"
        "global.document = {createElement: (t) => new N(t),"
        " createTextNode: (t) => ({text: t})};\n"
        + reader + "\nconst root = new N('div');\n"
        "const input = JSON.parse(require('fs').readFileSync(0, 'utf8'));\n"
        "inline(root, input.text, input.mentions);\n"
        "console.log(JSON.stringify(root.kids));\n")
    done = subprocess.run(["node", "-e", script], input=json.dumps(
        {"text": text, "mentions": mentions}), capture_output=True, text=True, timeout=30,
        check=True)
    kids: list[Any] = json.loads(done.stdout)
    return kids


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_web_chat_reader_shows_the_typed_text_with_no_disguised_link_mention_or_bold() -> None:
    data = webchat_json(notification())
    [section] = data["sections"]
    kids = _read_with_chat_js(section["text"], data["mentions"])
    text = "".join(k.get("text") or k.get("textContent", "") for k in kids)
    assert text.startswith(ATTACK)
    elements = [k for k in kids if "tag" in k]
    assert not [k for k in elements if k["tag"] in ("strong", "em")]
    # A bare URL may link to itself (as Slack and Teams do); no label ever hides a target.
    assert all(k["textContent"] == "https://evil.example" for k in elements if k["tag"] == "a")
    mentions = [k["textContent"] for k in elements if k["tag"] == "span"]
    assert mentions == ["@UBOSS"]  # the handler's mention only


def test_terminal_text_has_no_backslashes() -> None:
    reply = notification()
    assert plain(reply.sections[0].text, reply.mentions).startswith(ATTACK + "\n")


def test_a_typed_site_and_details_stay_text_in_the_summary_line() -> None:
    reply = build_notification(incident(site="**Main** [hall](https://evil.example)"),
                               reason="new")
    message = to_slack_message(reply, workspace="T0TEST")
    assert "<https://evil" not in json.dumps(message) and "*Main*" not in json.dumps(message)


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_web_chat_reader_links_email_addresses_and_bare_web_addresses() -> None:
    kids = _read_with_chat_js("Write to VoteSure@sos.ca.gov or see catrustedinformation.sos.ca.gov"
                              "/faq. Not links: e.g. U.S. law, v1.2, evil.example, @someone.", [])
    links = [(k["textContent"], k["href"]) for k in kids if k.get("tag") == "a"]
    assert links == [("VoteSure@sos.ca.gov", "mailto:VoteSure@sos.ca.gov"),
                     ("catrustedinformation.sos.ca.gov/faq",
                      "https://catrustedinformation.sos.ca.gov/faq")]
    text = "".join(k.get("text") or k.get("textContent", "") for k in kids)
    assert text.endswith("/faq. Not links: e.g. U.S. law, v1.2, evil.example, @someone.")


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_web_chat_reader_reads_long_address_like_runs_whole() -> None:
    # pasted runs that look almost like addresses are read in one pass and lose no character
    for text, links in (("a." * 20000 + "gov", 1), ("a@" * 20000, 0), ("x-" * 20000 + "x.gov", 1),
                        (("x" * 60 + "@") * 300 + "b", 0)):
        kids = _read_with_chat_js(text, [])
        shown = "".join(k.get("text") or k.get("textContent", "") for k in kids)
        assert shown == text and sum(k.get("tag") == "a" for k in kids) == links
