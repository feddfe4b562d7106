"""Neutral :class:`Reply` -> an e-mail's subject, plain-text part and HTML part (pure, no I/O).

Both parts say the same things in the same order: the handling marking with what it asks of the
reader (TLP 2.0) and any exercise / test marking, the repeat or update notice, the title and
main line, facts, list items, sections, the reply's links as large buttons (the one thing a
reader acts on in e-mail: acknowledgement links), and the official footer. Chat buttons cannot be
pressed in e-mail and are left out (a note says so). Forms are never sent by e-mail.

The HTML is one column without tables or images, dark text on white (contrast above 7:1), the
marking in the TLP colours on black, ``lang`` set, one ``h1``. Every text is escaped where it is
written (:mod:`bot.adapters.email.markup`); the subject is one line of plain text, so nothing
typed can add a header.
"""

from __future__ import annotations

import html
import unicodedata
from dataclasses import dataclass

from bot.adapters.email import wording
from bot.adapters.email.markup import (
    html_paragraph,
    paragraphs,
    safe_url,
    to_html,
    to_text,
)
from bot.messages import REPEAT_LINE, Fact, Link, Mention, Reply, Section, lead, plain

MAX_SUBJECT = 160
#: The TLP 2.0 colours, each on black.
TLP_COLOURS = {"TLP:CLEAR": "#FFFFFF", "TLP:GREEN": "#33FF00", "TLP:AMBER": "#FFC000",
               "TLP:AMBER+STRICT": "#FFC000", "TLP:RED": "#FF2B2B"}
BODY_STYLE = ("margin:0;padding:0;background:#ffffff;color:#1a1a1a;"
              "font-family:Arial,Helvetica,sans-serif;font-size:16px;line-height:1.5")
BUTTON_STYLE = ("display:inline-block;margin:4px 8px 4px 0;padding:10px 18px;background:#0b4f8a;"
                "color:#ffffff;font-weight:bold;text-decoration:none;border-radius:4px")
NOTICE_STYLE = "margin:0 0 12px;padding:8px 12px;border-left:4px solid #8a5a00;background:#fff4e0"
SMALL_STYLE = "color:#4a4a4a;font-size:14px"


@dataclass(frozen=True, slots=True)
class Office:
    """Who sends, for the footer: the office's name and whom to ask (already one line each)."""

    name: str
    contact: str = ""


@dataclass(frozen=True, slots=True)
class Rendered:
    """An e-mail's three texts."""

    subject: str
    text: str
    html: str


def one_line(text: str, limit: int = MAX_SUBJECT) -> str:
    """``text`` as one header-safe line, at most ``limit`` characters.

    Whitespace runs (CR and LF included) become one space; control and format characters
    (bidirectional overrides included) are dropped.
    """
    flat = " ".join(text.split())
    flat = "".join(ch for ch in flat if unicodedata.category(ch) not in ("Cc", "Cf", "Cs"))
    return flat if len(flat) <= limit else flat[:limit - 1].rstrip() + "…"


def tlp_label(marking: str) -> str | None:
    """The TLP 2.0 label in a marking (``TLP:AMBER+STRICT``), if any."""
    found = wording.TLP_LABEL.search(marking.upper())
    return wording.TLP_ALIASES.get(found.group(0), found.group(0)) if found else None


def exercise_line(reply: Reply) -> str | None:
    """The exercise / test notice when the marking or the title is marked so.

    Marked: it starts with the word EXERCISE or TEST, or carries the repeated marker
    ("EXERCISE - EXERCISE", as alerts write it, a reminder's prefix before it). A capitalised
    word elsewhere ("EXERCISE CAUTION") is no marking: a real alert must never read as a drill.
    """
    for source in (reply.marking, plain(reply.title)):
        first = source.strip().split(" ", 1)[0].strip(":-|").upper() if source.strip() else ""
        for word, line in wording.EXERCISE_WORDS.items():
            if first == word or f"{word} - {word}" in source:
                return line
    return None


def notices(reply: Reply, *, updated: bool) -> list[tuple[str, str | None]]:
    """The lines shown before anything else, each with its TLP colour (None: a plain notice)."""
    out: list[tuple[str, str | None]] = []
    marking = one_line(reply.marking, 80)
    label = tlp_label(marking)
    if marking:
        meaning = wording.TLP_MEANINGS.get(label or "", "")
        out.append((f"{marking}: {meaning}" if meaning else marking,
                    TLP_COLOURS.get(label or "", "#FFFFFF")))
    exercise = exercise_line(reply)
    if exercise:
        out.append((exercise, None))
    if reply.repeat:
        out.append((REPEAT_LINE, None))
    if updated:
        out.append((wording.UPDATED_LINE, None))
    return out


def subject(reply: Reply, *, updated: bool = False) -> str:
    """The marking, then the title and the main line's first line (each once), one line."""
    main = plain(lead(reply, reply.sections), reply.mentions).strip().split("\n", 1)[0]
    title = plain(reply.title, reply.mentions).strip()
    line = ": ".join(part for part in (title, main) if part) or plain(reply.text).strip()
    line = (wording.UPDATED_PREFIX if updated else "") + line
    marking = one_line(reply.marking, 80)
    if marking:  # shown first, and not a second time inside the title
        line = line.replace(f"{marking} | ", "", 1).replace(marking, "", 1).strip(" |:")
        line = f"[{marking}] {line}"
    return one_line(line)


def render(reply: Reply, office: Office, *, updated: bool = False) -> Rendered:
    """The subject, plain text and HTML of ``reply`` as ``office`` sends it."""
    return Rendered(subject(reply, updated=updated), _text(reply, office, updated=updated),
                    _html(reply, office, updated=updated))


def footer_lines(office: Office) -> list[str]:
    """Who sent it, whom to ask, and why there is no unsubscribe link (plain lines).

    The reply's own footer (why this reader gets it; CommonMark) comes before them.
    """
    lines = [wording.sent_by(office.name)]
    if office.contact:
        lines.append(wording.questions(office.contact))
    lines.append(wording.operational(office.name))
    return lines


def _links(reply: Reply) -> list[Link]:
    return [link for link in reply.links if safe_url(link.url)]


def _has_buttons(reply: Reply) -> bool:
    return bool(reply.buttons) or any(s.buttons for s in reply.sections)


# -- plain text -------------------------------------------------------------------------------


def _text(reply: Reply, office: Office, *, updated: bool) -> str:
    m = reply.mentions
    out = [line for line, _colour in notices(reply, updated=updated)]
    if out:
        out.append("")
    if reply.title.strip():
        title = to_text(reply.title, m)
        out += [title, "=" * min(len(title), 60), ""]
    main = lead(reply, reply.sections)
    out += _text_part(main, reply.fields, reply.items, m)
    for section in reply.sections:
        out += _text_part(section.text, section.fields, section.items, m)
        if section.context.strip():
            out += [to_text(section.context, m), ""]
    for link in _links(reply):
        out += [f"{one_line(plain(link.label), 80)}: {link.url}"]
    if _links(reply):
        out.append("")
    if _has_buttons(reply) and not _links(reply):
        out += [wording.BUTTONS_NOTE, ""]
    out.append("-- ")
    out += [to_text(p, m) for p in paragraphs(reply.footer)]
    out += footer_lines(office)
    return "\n".join(out).rstrip() + "\n"


def _text_part(text: str, facts: tuple[Fact, ...], items: tuple[str, ...],
               m: tuple[Mention, ...]) -> list[str]:
    out = []
    for paragraph in paragraphs(text):
        out += [to_text(paragraph, m), ""]
    if facts:
        out += [f"{to_text(f.label, m)}: {to_text(f.value, m)}" for f in facts] + [""]
    if items:
        out += [f"- {to_text(item, m)}" for item in items] + [""]
    return out


# -- HTML -------------------------------------------------------------------------------------


def _html(reply: Reply, office: Office, *, updated: bool) -> str:
    m = reply.mentions
    parts = []
    for line, colour in notices(reply, updated=updated):
        if colour is not None:
            parts.append(f'<p style="margin:0 0 12px;padding:8px 12px;background:#000000;'
                         f'color:{colour};font-weight:bold">{html.escape(line)}</p>')
        else:
            parts.append(f'<p style="{NOTICE_STYLE}"><strong>{html.escape(line)}</strong></p>')
    if reply.title.strip():
        parts.append(f'<h1 style="font-size:22px;line-height:1.3;margin:16px 0 8px">'
                     f"{to_html(reply.title, m)}</h1>")
    parts += _html_part(lead(reply, reply.sections), reply.fields, reply.items, m)
    for section in reply.sections:
        parts += _html_section(section, m)
    links = _links(reply)
    if links:
        parts.append('<p style="margin:16px 0">' + "".join(
            f'<a href="{html.escape(link.url, quote=True)}" style="{BUTTON_STYLE}">'
            f"{html.escape(one_line(plain(link.label), 80))}</a>" for link in links) + "</p>")
    if _has_buttons(reply) and not links:
        parts.append(f'<p style="{SMALL_STYLE}">{html.escape(wording.BUTTONS_NOTE)}</p>')
    footer = [html_paragraph(p, m) for p in paragraphs(reply.footer)]
    footer += [html.escape(line) for line in footer_lines(office)]
    parts.append('<hr style="border:0;border-top:1px solid #cccccc;margin:24px 0 12px">')
    parts.append(f'<footer style="{SMALL_STYLE}">' + "".join(
        f'<p style="margin:0 0 6px">{line}</p>' for line in footer) + "</footer>")
    title = html.escape(subject(reply, updated=updated))
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            f"<title>{title}</title>\n</head>\n<body style=\"{BODY_STYLE}\">\n"
            "<main style=\"max-width:640px;margin:0 auto;padding:16px\">\n"
            + "\n".join(parts) + "\n</main>\n</body>\n</html>\n")


def _html_part(text: str, facts: tuple[Fact, ...], items: tuple[str, ...],
               m: tuple[Mention, ...]) -> list[str]:
    out = [f'<p style="margin:0 0 12px">{html_paragraph(p, m)}</p>' for p in paragraphs(text)]
    if facts:
        out.append('<p style="margin:0 0 12px">' + "<br>\n".join(
            f"<strong>{to_html(f.label, m)}:</strong> {to_html(f.value, m)}" for f in facts)
            + "</p>")
    if items:
        out.append('<ul style="margin:0 0 12px;padding-left:24px">' + "".join(
            f"<li>{to_html(item, m)}</li>" for item in items) + "</ul>")
    return out


def _html_section(section: Section, m: tuple[Mention, ...]) -> list[str]:
    out = _html_part(section.text, section.fields, section.items, m)
    if section.context.strip():
        out.append(f'<p style="margin:0 0 12px;{SMALL_STYLE}">{to_html(section.context, m)}</p>')
    return out
