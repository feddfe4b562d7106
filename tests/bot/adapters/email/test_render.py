"""Reply -> e-mail: both parts, the subject, markings, footer, threading headers, escaping."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from html.parser import HTMLParser

import pytest

from bot.adapters.email import wording
from bot.adapters.email.message import Composed, Mailer, compose, message_id
from bot.adapters.email.render import Office, one_line, render, subject
from bot.messages import (
    REPEAT_LINE,
    Button,
    Fact,
    Link,
    Mention,
    Reply,
    Section,
    Tone,
    literal,
)

OFFICE = Office("Connecticut Elections Division", "the help desk, help@ct.example.gov, 860-555-0100")
MAILER = Mailer(address="alerts@ct.example.gov", name="CT Elections", office=OFFICE,
                reply_to="help@ct.example.gov")
NOW = datetime(2026, 11, 3, 14, 5, tzinfo=UTC)
HOSTILE = '<script>alert("x")</script> [click](javascript:alert(1)) **bold** {@0} <b>hi</b>'


def parse(message: Composed) -> EmailMessage:
    """What a mail client reads: the bytes on the wire, parsed by the standard library."""
    assert all(len(line) <= 998 for line in message.data.split(b"\r\n"))
    bare = message.data.replace(b"\r\n", b"")
    assert b"\n" not in bare and b"\r" not in bare  # CRLF only: no SMTP smuggling
    message.data.decode("ascii")  # 7-bit: every relay takes it
    parsed = message_from_bytes(message.data, policy=policy.default)
    assert not parsed.defects, parsed.defects
    assert isinstance(parsed, EmailMessage)
    return parsed


def parts(message: EmailMessage) -> tuple[str, str]:
    text = message.get_body(("plain",))
    page = message.get_body(("html",))
    assert text is not None and page is not None
    # Line ends as a mail client shows them (the wire has CRLF).
    return (str(text.get_content()).replace("\r\n", "\n"),
            str(page.get_content()).replace("\r\n", "\n"))


class Tags(HTMLParser):
    """Every start tag and attribute of a page, and its text."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def tags(page: str) -> Tags:
    parser = Tags()
    parser.feed(page)
    return parser


def alert_reply(**extra: object) -> Reply:
    return Reply(**{
        "text": "TLP:AMBER | SEVERE | WARNING: Bomb threat at Ward 3",
        "title": "TLP:AMBER | SEVERE | WARNING: Bomb threat at Ward 3",
        "tone": Tone.DANGER, "marking": "TLP:AMBER",
        "sections": (Section("Evacuate and call **911** first."),
                     Section("", context="Alert A-12 · please acknowledge within 15 minutes")),
        "fields": (Fact("Where", "Ward 3, Hartford"),),
        "items": ("Keep voters away", "Tell the moderator"),
        "links": (Link("Received", "https://bot.example.gov/ack/abc?k=received&s=1"),
                  Link("Need help", "https://bot.example.gov/ack/abc?k=need_help")),
        "buttons": (Button("Received", "alert:ack:received", "A-12"),),
        "footer": "You receive this as a member of the Hartford network (T1).",
        **extra})


def test_both_parts_say_everything_in_order_marking_first() -> None:
    message = parse(compose(alert_reply(), to="jane@example.org", key="alert:A-12:1",
                            mailer=MAILER, now=NOW))
    text, page = parts(message)
    meaning = wording.TLP_MEANINGS["TLP:AMBER"]
    assert text.splitlines()[0] == f"TLP:AMBER: {meaning}"
    shown = " ".join("".join(tags(page.split("<main", 1)[1].split(">", 1)[1]).text).split())
    assert shown.startswith(f"TLP:AMBER: {meaning}")
    assert shown.index("Evacuate") < shown.index("Received") < shown.index("Sent by")
    for needle in ("Evacuate and call 911 first.", "Where: Ward 3, Hartford", "- Keep voters away",
                   "Alert A-12 · please acknowledge within 15 minutes",
                   "Received: https://bot.example.gov/ack/abc?k=received&s=1",
                   "You receive this as a member of the Hartford network (T1).",
                   "Sent by Connecticut Elections Division.",
                   "Questions: the help desk, help@ct.example.gov, 860-555-0100.",
                   wording.operational("Connecticut Elections Division")):
        assert needle in text, needle
    assert text.index("Evacuate") < text.index("Received:") < text.index("Sent by")
    assert "<strong>911</strong>" in page
    assert "unsubscribe" not in (text + page).lower().replace("no unsubscribe link", "")
    # The chat button is dropped (links carry the answers), no note needed then.
    assert wording.BUTTONS_NOTE not in text


def test_links_are_buttons_and_the_only_anchors_besides_text_links() -> None:
    page = parts(parse(compose(alert_reply(), to="j@example.org", key="k", mailer=MAILER,
                               now=NOW)))[1]
    anchors = [attrs for tag, attrs in tags(page).tags if tag == "a"]
    assert [a["href"] for a in anchors] == ["https://bot.example.gov/ack/abc?k=received&s=1",
                                            "https://bot.example.gov/ack/abc?k=need_help"]
    assert all("background:#0b4f8a" in (a["style"] or "") for a in anchors)
    assert not [tag for tag, _ in tags(page).tags if tag in ("img", "table", "script")]
    assert re.search(r'<html lang="en">', page)
    assert len([tag for tag, _ in tags(page).tags if tag == "h1"]) == 1


def test_subject_is_marking_then_title_once() -> None:
    assert subject(alert_reply()) == "[TLP:AMBER] SEVERE | WARNING: Bomb threat at Ward 3"
    plain_reply = Reply(text="Your certification is due on 1 March.", title="Certification")
    assert subject(plain_reply) == "Certification: Your certification is due on 1 March."
    assert subject(Reply(text="Just a line")) == "Just a line"
    assert subject(plain_reply, updated=True).startswith("Updated: Certification")


@pytest.mark.parametrize("bad", ["Line one\r\nBcc: victim@example.org", "a\nb", "a\rb",
                                 "x\u2028y", "x\x00y\x0bz", "rtl\u202eevil"])
def test_no_header_injection_from_titles(bad: str) -> None:
    reply = Reply(text=literal(bad), title=literal(bad), marking="TLP:GREEN\r\nX-Evil: 1")
    message = parse(compose(reply, to="j@example.org", key="k", mailer=MAILER, now=NOW))
    assert message["Bcc"] is None and message["X-Evil"] is None
    assert "\n" not in str(message["Subject"]) and "\r" not in str(message["Subject"])
    assert "\u202e" not in str(message["Subject"])
    assert message.get_all("To") == ["j@example.org"]


def test_hostile_text_stays_text_in_both_parts() -> None:
    reply = Reply(text=literal(HOSTILE), title=literal("<img src=x onerror=alert(1)>"),
                  fields=(Fact(literal("<i>label</i>"), literal(HOSTILE)),),
                  items=(literal(HOSTILE),),
                  sections=(Section(literal(HOSTILE), context=literal(HOSTILE)),),
                  mentions=(Mention("slack:T1:U1", "Ann <b>"),),
                  footer=literal("<a href='https://evil.example'>x</a>"))
    text, page = parts(parse(compose(reply, to="j@example.org", key="k", mailer=MAILER,
                                     now=NOW)))
    found = tags(page)
    assert {tag for tag, _ in found.tags} <= {"html", "head", "meta", "title", "body", "main",
                                              "p", "h1", "br", "strong", "em", "ul", "li",
                                              "hr", "footer", "code", "a"}
    # A typed address is linked as itself (as in the web chat), never behind other words.
    anchors = [attrs["href"] for tag, attrs in found.tags if tag == "a"]
    assert anchors == ["https://evil.example"]
    assert '<a href="https://evil.example" style="color:#0b4f8a;text-decoration:underline">' \
           "https://evil.example</a>" in page
    assert "<script>" not in page and "onerror" not in "".join(
        str(attrs) for _, attrs in found.tags)
    assert "&lt;script&gt;" in page
    # The typed characters read as typed: no bold, no link, no mention.
    assert HOSTILE in text
    assert HOSTILE in "".join(found.text)
    assert "<strong>bold</strong>" not in page


def test_vetted_markup_becomes_html_but_only_http_links() -> None:
    reply = Reply(text="See [the guide](https://sos.example.gov/guide) and **this**, _now_, "
                       "`code`, https://example.org/a?b=1&c=2. Not [this](javascript:alert(1)) "
                       "nor [that](data:text/html,x) nor [mail](mailto:a@b.org). {@0} called.",
                  mentions=(Mention("slack:T1:U1", "Ann Lee"),))
    text, page = parts(parse(compose(reply, to="j@example.org", key="k", mailer=MAILER,
                                     now=NOW)))
    hrefs = [a["href"] for tag, a in tags(page).tags if tag == "a"]
    assert hrefs == ["https://sos.example.gov/guide", "https://example.org/a?b=1&c=2"]
    assert "<strong>this</strong>" in page and "<em>now</em>" in page
    assert "<code>code</code>" in page and "<strong>@Ann Lee</strong>" in page
    assert "the guide (https://sos.example.gov/guide)" in text
    assert "[this](javascript:alert(1))" in text and "@Ann Lee called." in text
    assert "**" not in text


@pytest.mark.parametrize(("marking", "label"), [
    ("TLP:CLEAR", "TLP:CLEAR"), ("TLP:GREEN", "TLP:GREEN"), ("TLP:AMBER", "TLP:AMBER"),
    ("TLP:AMBER+STRICT", "TLP:AMBER+STRICT"), ("tlp:red", "TLP:RED")])
def test_every_tlp_label_is_explained_first(marking: str, label: str) -> None:
    text, page = parts(parse(compose(Reply(text="x", marking=marking), to="j@example.org",
                                     key="k", mailer=MAILER, now=NOW)))
    first = text.splitlines()[0]
    assert first.endswith(wording.TLP_MEANINGS[label])
    assert "background:#000000" in page.split(wording.TLP_MEANINGS[label])[0]


def test_exercise_and_test_markings_and_no_false_alarm() -> None:
    exercise = Reply(text="x", title="EXERCISE - EXERCISE - EXERCISE | TLP:GREEN | MINOR | X",
                     marking="TLP:GREEN")
    lines = parts(parse(compose(exercise, to="j@example.org", key="k", mailer=MAILER,
                                now=NOW)))[0].splitlines()
    assert lines[0].startswith("TLP:GREEN") and lines[1] == wording.EXERCISE_LINE
    test = parts(parse(compose(Reply(text="x", marking="TEST"), to="j@example.org",
                               key="k", mailer=MAILER, now=NOW)))[0]
    assert wording.TEST_LINE in test
    for title in ("TLP:GREEN | Logic and accuracy TEST results",
                  "TLP:RED | SEVERE | WARNING: EXERCISE CAUTION near Ward 3"):
        real = parts(parse(compose(Reply(text="x", title=title), to="j@example.org", key="k",
                                   mailer=MAILER, now=NOW)))[0]
        assert wording.TEST_LINE not in real and wording.EXERCISE_LINE not in real
    reminder = Reply(text="x", title="Reminder: EXERCISE - EXERCISE - EXERCISE | TLP:CLEAR | X")
    assert wording.EXERCISE_LINE in parts(parse(compose(
        reminder, to="j@example.org", key="k", mailer=MAILER, now=NOW)))[0]


def test_repeat_and_buttons_only_notes() -> None:
    reply = Reply(text="Reminder", repeat=True, buttons=(Button("Done", "cert:done", "1"),))
    text = parts(parse(compose(reply, to="j@example.org", key="k", mailer=MAILER, now=NOW)))[0]
    assert text.splitlines()[0] == REPEAT_LINE
    assert wording.BUTTONS_NOTE in text


def test_headers_identity_threading_and_no_tracking() -> None:
    reply = Reply(text="All clear", follows="alert:A-12:deliver:7")
    message = parse(compose(reply, to="Jane@Example.org", key="alert:A-13:deliver:7",
                            mailer=MAILER, now=NOW))
    assert message["Message-ID"] == message_id("alert:A-13:deliver:7", "ct.example.gov")
    assert re.fullmatch(r"<[0-9a-f]{32}@ct\.example\.gov>", message["Message-ID"])
    parent = message_id("alert:A-12:deliver:7", "ct.example.gov")
    assert message["In-Reply-To"] == parent and message["References"] == parent
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["From"] == "CT Elections <alerts@ct.example.gov>"
    assert message["Reply-To"] == "help@ct.example.gov"
    assert message["Date"] == "Tue, 03 Nov 2026 14:05:00 +0000"
    assert message["List-Unsubscribe"] is None
    first = parse(compose(Reply(text="x"), to="j@example.org", key="k", mailer=MAILER, now=NOW))
    assert first["In-Reply-To"] is None and first["References"] is None


def test_an_update_is_a_new_threaded_message_with_a_stable_id() -> None:
    original = message_id("alert:A-12:deliver:7", "ct.example.gov")
    reply = Reply(text="Acknowledged: Received at 10:02", title="Alert A-12")
    one = parse(compose(reply, to="j@example.org", key=original, mailer=MAILER, now=NOW,
                        update_of=original))
    again = parse(compose(reply, to="j@example.org", key=original, mailer=MAILER, now=NOW,
                          update_of=original))
    other = parse(compose(Reply(text="Acknowledged: Actioned", title="Alert A-12"),
                          to="j@example.org", key=original, mailer=MAILER, now=NOW,
                          update_of=original))
    assert one["Message-ID"] == again["Message-ID"] != original
    assert other["Message-ID"] != one["Message-ID"]
    assert one["In-Reply-To"] == original and one["References"] == original
    assert str(one["Subject"]).startswith("Updated: Alert A-12")
    assert wording.UPDATED_LINE in parts(one)[0]


def test_one_line_limits_and_cleans() -> None:
    assert one_line("a\r\n\tb   c") == "a b c"
    assert len(one_line("x" * 500)) == 160
    assert render(Reply(text="x" * 400), OFFICE).subject.endswith("…")


def test_the_wire_form_round_trips_exactly_non_ascii_long_lines_and_all() -> None:
    office = Office("Oficina Electoral de Río Piedras — “Sección 5”", "Ana Núñez")
    mailer = Mailer(address="alertas@ce.example.pr", name='Oficina "CEE" \\ Río', office=office)
    long_line = "Información " + "x" * 3000 + " fin"
    body = (f"{long_line}\n.\n.leading dot\n=_eb_ boundary look-alike =?utf-8?b?eA==?=\n"
            "tab\tand trailing space \nemoji 🗳️ and CR\rinside")
    reply = Reply(text=literal(body), title=literal("Votación: horario extendido ¡hoy!"),
                  marking="TLP:GREEN")
    composed = compose(reply, to="ana@example.org", key="k", mailer=mailer, now=NOW)
    message = parse(composed)
    rendered = render(reply, office)
    text, page = parts(message)
    assert text == rendered.text.replace("\r", "\n")
    assert page == rendered.html.replace("\r", "\n")
    assert message["Subject"] == rendered.subject
    assert rendered.subject.startswith("[TLP:GREEN] Votación: horario extendido ¡hoy!: Info")
    assert message["From"].addresses[0].display_name == 'Oficina "CEE" \\ Río'
    assert message["From"].addresses[0].addr_spec == "alertas@ce.example.pr"
    assert message["Message-ID"] == composed.message_id
    assert long_line in text and "emoji 🗳️" in text


def test_header_values_are_one_line_or_refused() -> None:
    from bot.adapters.email.mime import header_text, multipart

    for bad in ("a\r\nBcc: x@y.org", "a\nb", "a\rb", "a\0b"):
        with pytest.raises(ValueError):
            header_text(bad)
    with pytest.raises(ValueError):
        multipart([], "x", "y", boundary="plain")
    assert header_text("ñ" * 40).count("\r\n ") == 1  # two encoded words, folded
