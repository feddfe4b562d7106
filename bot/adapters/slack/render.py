"""Neutral :class:`Reply` -> Slack Block Kit messages and modals (pure functions, no I/O).

Every piece of text from the core may contain what a user typed, so ``&``, ``<`` and ``>`` are
escaped in all mrkdwn and fallback text first; only then does :func:`mrkdwn` turn the core's
CommonMark links and the reply's own mentions into Slack's ``<...>`` syntax, so typed
``<!channel>`` or ``<@U1>`` pings nobody. ``plain_text`` objects are never parsed for mentions
or links by Slack, so they are only trimmed to their limits.

Text a person typed reaches us backslash-escaped (:func:`bot.messages.literal`). Slack's mrkdwn
has no escapes, so each escaped character is shown as itself where Slack gives it no meaning
(after the ``&lt;`` escaping) and as a look-alike where it could format (``*``, ``_``, ``~``,
`````): a typed ``**x**`` or ``_y_`` can then never be bold or italic, nor a typed ``[a](u)``
a link or ``{@0}`` a ping.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import Callable
from datetime import date
from typing import Any

from bot.messages import (
    REPEAT_LINE,
    Button,
    Fact,
    Form,
    FormField,
    Mention,
    Reply,
    Section,
    Tone,
    fill_mentions,
    lead,
    plain,
    shield,
    unshield,
)

MAX_BLOCKS = 50
MAX_MODAL_BLOCKS = 100
MAX_SECTION = 3000
MAX_TEXT = 40_000
MAX_CONTEXT = 2000
MAX_BUTTON_LABEL = 75
MAX_BUTTON_VALUE = 2000
MAX_ACTION_ID = 255
MAX_BUTTONS_PER_ACTIONS = 25
MAX_MODAL_TEXT = 24
MAX_METADATA = 3000
MAX_OPTIONS = 100
MAX_OPTION_TEXT = 75
BLOCK_SUFFIX = "#"  # input block ids: field name, then "#" and a digest of the options
EMPTY_OPTION = "__none__"  # stands for the empty value "" (Slack wants non-empty values)
TRUNCATED = "… (message shortened)"
MAX_FIELDS = 10
MAX_FIELD_TEXT = 2000
#: The renderer's own choice of emoji per tone (none for plain information).
TONE_EMOJI = {Tone.INFO: "", Tone.SUCCESS: ":white_check_mark:", Tone.WARNING: ":warning:",
              Tone.DANGER: ":rotating_light:", Tone.DENIED: ":no_entry:"}
_BOLD = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*")
_LINK = re.compile(r"\[([^\]\n]+)\]\(((?:https?://|mailto:)[^\s()|]+)\)")
#: A CommonMark bullet ("- ", "* ", "+ " opening a line): mrkdwn has no lists, Slack's own
#: bullet is "•".
_BULLET = re.compile(r"^([ \t]*)[-*+][ \t]+(?=\S)", re.M)

Block = dict[str, Any]
Convert = Callable[[str], str]


def escape(text: str) -> str:
    """Slack's three control characters, so typed ``<!channel>`` or ``<@U1>`` pings nobody."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


#: How an escaped character that Slack could read as formatting is shown: a look-alike that
#: Slack never formats (Slack has no escape for these).
LOOK_ALIKES = {"*": "\u2217", "_": "\uff3f", "~": "\u223c", "`": "\u02cb"}


def literal_char(char: str) -> str:
    """One escaped (typed) character as Slack mrkdwn that reads as that character, inertly."""
    return LOOK_ALIKES.get(char) or escape(char)


def literal_text(text: str) -> str:
    """Text that must read as typed in mrkdwn (a person's name): no formatting, no ping."""
    return "".join(literal_char(ch) for ch in text)


def mrkdwn(text: str, mentions: tuple[Mention, ...] = (), workspace: str = "") -> str:
    """CommonMark from the core -> escaped Slack mrkdwn.

    ``**x**`` becomes ``*x*``, ``[label](https://...)`` becomes ``<url|label>`` (other schemes
    stay text), a bullet list's "- " becomes "• ", and ``{@N}`` a ping for a Slack identity of
    ``workspace``, else a bold name.
    Backslash-escaped characters are never any of these (see :func:`literal_char`).
    """
    out = _LINK.sub(lambda m: f"<{m.group(2)}|{m.group(1)}>",
                    _BOLD.sub(r"*\1*", escape(_BULLET.sub(r"\1• ", shield(text)))))
    return unshield(fill_mentions(out, mentions, lambda m: _mention(m, workspace)),
                    literal_char)


def _mention(mention: Mention, workspace: str) -> str:
    platform, _, rest = mention.identity.partition(":")
    team, _, user = rest.partition(":")
    if platform == "slack" and workspace and team == workspace and user:
        return f"<@{user}>"
    return f"*{literal_text(mention.label)}*"


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _chunks(text: str, limit: int) -> list[str]:
    """Split escaped text at line breaks where possible, never beyond ``limit``."""
    out: list[str] = []
    while len(text) > limit:
        cut = text.rfind("\n", 0, limit)
        cut = cut if cut > limit // 2 else limit
        # Never split an escape sequence such as "&amp;" in two.
        amp = text.rfind("&", max(0, cut - 5), cut)
        if amp != -1 and ";" not in text[amp:cut]:
            cut = amp
        out.append(text[:cut])
        text = text[cut:].lstrip("\n")
    if text:
        out.append(text)
    return out


def _plain(text: str, limit: int) -> dict[str, Any]:
    return {"type": "plain_text", "text": _cut(text, limit) or " ", "emoji": True}


def _mrkdwn_sections(text: str) -> list[Block]:
    """Already converted mrkdwn in sections of at most 3000 characters."""
    return [{"type": "section", "text": {"type": "mrkdwn", "text": chunk}}
            for chunk in _chunks(text, MAX_SECTION)]


def _fields_block(facts: tuple[Fact, ...], convert: Convert) -> list[Block]:
    """Facts as a section's two-column fields (label in bold), ten per block."""
    cells = [{"type": "mrkdwn",
              "text": _cut(f"*{literal_text(f.label)}*\n{convert(f.value)}", MAX_FIELD_TEXT)}
             for f in facts]
    return [{"type": "section", "fields": cells[i:i + MAX_FIELDS]}
            for i in range(0, len(cells), MAX_FIELDS)]


def _part_blocks(text: str, facts: tuple[Fact, ...], items: tuple[str, ...],
                 convert: Convert) -> list[Block]:
    """One text, its facts and its list items (bulleted) as blocks."""
    blocks = _mrkdwn_sections(convert(text)) if text.strip() else []
    blocks += _fields_block(facts, convert)
    if items:
        blocks += _mrkdwn_sections("\n".join(f"• {convert(item)}" for item in items))
    return blocks


def _button(button: Button, action_id: str) -> Block:
    element: Block = {"type": "button", "text": _plain(button.label, MAX_BUTTON_LABEL),
                      "action_id": action_id, "value": button.value[:MAX_BUTTON_VALUE]}
    if button.style != "default":
        element["style"] = button.style
    return element


def unique_action_ids(buttons: tuple[Button, ...]) -> list[str]:
    """Return the core's action ids, repeats suffixed ``~<n>`` (Slack wants unique ids)."""
    seen: dict[str, int] = {}
    ids: list[str] = []
    for button in buttons:
        base = button.action_id[: MAX_ACTION_ID - 4]
        count = seen.get(base, 0)
        seen[base] = count + 1
        ids.append(base if count == 0 else f"{base}~{count}")
    return ids


def _action_blocks(buttons: tuple[Button, ...], ids: list[str] | None = None) -> list[Block]:
    ids = unique_action_ids(buttons) if ids is None else ids
    elements = [_button(b, i) for b, i in zip(buttons, ids, strict=True)]
    return [{"type": "actions", "elements": elements[i:i + MAX_BUTTONS_PER_ACTIONS]}
            for i in range(0, len(elements), MAX_BUTTONS_PER_ACTIONS)]


def _heading(reply: Reply, convert: Convert) -> tuple[list[Block], bool]:
    """The title in bold behind the tone's emoji; (blocks, whether the emoji was used)."""
    emoji = TONE_EMOJI[reply.tone]
    if not reply.title:
        return [], False
    mark = f"{emoji} " if emoji else ""
    return _mrkdwn_sections(f"{mark}*{convert(reply.title)}*"), True


def to_slack_blocks(reply: Reply, *, workspace: str = "",
                    max_blocks: int = MAX_BLOCKS) -> list[Block]:
    """Title, text, facts, list, sections (with context lines), links, then buttons.

    At most ``max_blocks`` blocks (50 in a message, 100 in a Home tab), 3000 chars per
    section. ``workspace`` is the Slack team the message goes
    to: mentions of that team's users ping, other people are named.
    """
    def convert(text: str) -> str:
        return mrkdwn(text, reply.mentions, workspace)

    body: list[Block] = []
    sections = reply.sections or ()
    if reply.repeat:  # first, so it is read before anything that may be a second copy
        body.append({"type": "context", "elements": [
            {"type": "mrkdwn", "text": f"*{escape(REPEAT_LINE)}*"}]})
    heading, marked = _heading(reply, convert)
    body += heading
    main = lead(reply, sections)
    if main:
        # The main line leads unless the title or the sections already say it (Slack shows
        # only the blocks, so a line kept only in ``text`` would reach notifications, not the eye).
        emoji = "" if marked or not TONE_EMOJI[reply.tone] else f"{TONE_EMOJI[reply.tone]} "
        body.extend(_mrkdwn_sections(emoji + convert(main)))
    body += _part_blocks("", reply.fields, reply.items, convert)
    # Action ids are unique across the message: sections' buttons first, then the reply's.
    ids = unique_action_ids((*(b for s in sections for b in s.buttons), *reply.buttons))
    for section in sections:
        body += _section_blocks(section, convert)
        if section.buttons:
            body += _action_blocks(section.buttons, ids[:len(section.buttons)])
            ids = ids[len(section.buttons):]
    if reply.links:
        body += _mrkdwn_sections("\n".join(
            convert(f"[{link.label}]({link.url})") for link in reply.links))
    actions = _action_blocks(reply.buttons, ids) if reply.buttons else []
    room = max_blocks - len(actions)
    if len(body) > room:
        # Keep the buttons (they are how people answer) and say the text was cut.
        body = body[: room - 1] + [{"type": "context", "elements": [
            {"type": "mrkdwn", "text": TRUNCATED}]}]
    return (body + actions)[:max_blocks]


def _section_blocks(section: Section, convert: Convert) -> list[Block]:
    """A section's text, facts and items, then its small-print context line."""
    blocks = _part_blocks(section.text, section.fields, section.items, convert)
    if section.context:
        blocks.append({"type": "context", "elements": [
            {"type": "mrkdwn", "text": _cut(convert(section.context), MAX_CONTEXT)}]})
    return blocks


def fallback_text(reply: Reply, *, workspace: str = "") -> str:
    """Return the notification / screen-reader text, escaped, within 40,000 characters."""
    text = reply.text if not reply.title or reply.title in reply.text \
        else f"{reply.title}: {reply.text}"
    text = f"{REPEAT_LINE}\n{text}" if reply.repeat else text
    return _cut(mrkdwn(text, reply.mentions, workspace), MAX_TEXT)


def to_slack_message(reply: Reply, *, workspace: str = "") -> dict[str, Any]:
    """Arguments for chat.postMessage / response_url: text, blocks, no unfurling."""
    return {"text": fallback_text(reply, workspace=workspace),
            "blocks": to_slack_blocks(reply, workspace=workspace),
            "unfurl_links": False, "unfurl_media": False}


def _option(value: str, label: str) -> Block:
    # Slack option values must be non-empty: "no choice" travels as a sentinel.
    return {"text": _plain(label, MAX_OPTION_TEXT), "value": (value or EMPTY_OPTION)[:150]}


def _select(field: FormField) -> Block:
    """A static (or multi) select; over 100 options go into groups of 100 (Slack's limits)."""
    options = [_option(value, label) for value, label in field.options]
    multi = field.kind == "multiselect"
    element: Block = {"type": "multi_static_select" if multi else "static_select",
                      "action_id": field.name, "placeholder": _plain("Choose…", 150)}
    if len(options) <= MAX_OPTIONS:
        element["options"] = options
    else:
        chunks = [options[i:i + MAX_OPTIONS]
                  for i in range(0, min(len(options), MAX_OPTIONS * MAX_OPTIONS), MAX_OPTIONS)]
        element["option_groups"] = [
            {"label": _plain(f"{i * MAX_OPTIONS + 1}–{i * MAX_OPTIONS + len(chunk)}", 75),
             "options": chunk} for i, chunk in enumerate(chunks)]
        options = [o for chunk in chunks for o in chunk]
    if multi:
        chosen = {v.strip() for v in field.value.split(",") if v.strip()}
        initial_options = [o for o in options if o["value"] in chosen]
        if initial_options:
            element["initial_options"] = initial_options
        return element
    # An empty value means "nothing chosen yet": show the placeholder, not the "-" option.
    initial = next((o for o in options if field.value and o["value"] == field.value), None)
    if initial is not None:
        element["initial_option"] = initial
    return element


def _valid_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return len(text) == 10


def _element(field: FormField) -> Block:
    if field.kind in ("select", "multiselect"):
        return _select(field)
    if field.kind == "date":
        element: Block = {"type": "datepicker", "action_id": field.name}
        if _valid_date(field.value):
            element["initial_date"] = field.value
        return element
    element = {"type": "plain_text_input", "action_id": field.name,
               "multiline": field.kind == "textarea",
               "max_length": max(1, min(field.max_length, 3000))}
    if field.value:
        element["initial_value"] = field.value[: element["max_length"]]
    return element


def block_id(field: FormField, redrawn: bool) -> str:
    """A field's input block id: its name, plus a digest of its options in a redrawn form.

    Slack keeps what was chosen in a block across ``views.update`` when the block id stays;
    in a form that is redrawn (it has a ``refresh`` field), a select whose options changed
    (another category's types) gets a new id, so a choice no longer offered is dropped.
    :func:`field_name` reads the name back.
    """
    if not redrawn or field.kind not in ("select", "multiselect"):
        return field.name
    digest = hashlib.sha256(repr(field.options).encode()).hexdigest()[:8]
    return f"{field.name}{BLOCK_SUFFIX}{digest}"


def field_name(block: str) -> str:
    """The field name of an input block id (see :func:`block_id`)."""
    return block.partition(BLOCK_SUFFIX)[0]


def _input(field: FormField, redrawn: bool) -> Block:
    block: Block = {"type": "input", "block_id": block_id(field, redrawn),
                    "optional": not field.required,
                    "label": _plain(field.label, 2000), "element": _element(field)}
    if field.refresh:
        # Choosing a value sends block_actions at once, so the modal is redrawn for it.
        block["dispatch_action"] = True
    if field.hint:
        block["hint"] = _plain(field.hint, 2000)
    return block


def _banner(text: str) -> list[Block]:
    """The form's danger-toned first line (bold, behind the danger emoji)."""
    return _mrkdwn_sections(f"{TONE_EMOJI[Tone.DANGER]} *{mrkdwn(text)}*") if text.strip() \
        else []


def to_slack_modal(form: Form, *, private_metadata: str = "", lead: str = "") -> dict[str, Any]:
    """Render a form as a modal view; callback_id is the form id so submissions route back.

    ``form.banner`` (danger-toned, such as "call 911 first") is always the first block, then
    ``form.intro`` (warnings), ``lead`` (the reply's text) unless it only repeats the title,
    then one input per field.
    """
    if len(private_metadata) > MAX_METADATA:
        raise ValueError(f"private_metadata is {len(private_metadata)} chars; Slack allows 3000")
    redrawn = any(f.refresh for f in form.fields)
    inputs = [_input(f, redrawn) for f in form.fields][:MAX_MODAL_BLOCKS]
    text = [t for t in (form.intro, lead) if t.strip() and t.strip() != form.title]
    head = _banner(form.banner) + [block for t in text for block in _mrkdwn_sections(mrkdwn(t))]
    return {
        "type": "modal",
        "callback_id": form.form_id[:255],
        "title": _plain(form.title, MAX_MODAL_TEXT),
        "submit": _plain(form.submit_label, MAX_MODAL_TEXT),
        "close": _plain(form.cancel_label, MAX_MODAL_TEXT),
        "private_metadata": private_metadata,
        # The inputs always fit; the text above them gives way if the modal is full.
        "blocks": head[: MAX_MODAL_BLOCKS - len(inputs)] + inputs,
    }


def view_errors(form: Form) -> dict[str, str]:
    """Errors keyed by input block id; an error for a field not in the form goes on the first."""
    redrawn = any(f.refresh for f in form.fields)
    ids = {f.name: block_id(f, redrawn) for f in form.fields}
    names = list(ids.values())
    errors: dict[str, str] = {}
    for name, message in form.errors.items():
        target = ids.get(name) or (names[0] if names else name)
        errors[target] = f"{errors[target]} {message}" if target in errors else message
    return {name: _cut(message, 2000) for name, message in errors.items()}


def _title(text: str) -> str:
    """The start of ``text`` as a modal title (24 chars), cut at a word where possible."""
    text = " ".join(text.split()) or "Done"
    if len(text) <= MAX_MODAL_TEXT:
        return text
    cut = text.rfind(" ", 0, MAX_MODAL_TEXT - 1)
    return text[: cut if cut > 8 else MAX_MODAL_TEXT - 1] + "…"


def to_result_modal(reply: Reply, title: str | None = None) -> dict[str, Any]:
    """Render the modal shown after a successful submission (``response_action: update``).

    The title is the start of the reply (e.g. "CALL 911 NOW if anyone…" or "Filed
    INC-2026-000123."), so the most important words are the first thing on screen.
    """
    blocks = to_slack_blocks(dataclasses.replace(reply, buttons=(), form=None, repeat=False))
    return {"type": "modal", "title": _plain(title or _title(plain(reply.text)),
                                             MAX_MODAL_TEXT),
            "close": _plain("Close", MAX_MODAL_TEXT), "blocks": blocks}


def to_view_response(reply: Reply, metadata: str = "") -> dict[str, Any]:
    """Build the view_submission ack body: field errors, a follow-up form, or the result."""
    form = reply.form
    if form is not None and form.errors:
        return {"response_action": "errors", "errors": view_errors(form)}
    if form is not None:
        return {"response_action": "update",
                "view": to_slack_modal(form, private_metadata=metadata, lead=reply.text)}
    return {"response_action": "update", "view": to_result_modal(reply)}


MAX_HOME_BLOCKS = 100


def to_slack_home(reply: Reply, *, workspace: str = "") -> dict[str, Any]:
    """Render a reply as an App Home tab view (``views.publish``): up to 100 blocks."""
    blocks = to_slack_blocks(dataclasses.replace(reply, repeat=False), workspace=workspace,
                             max_blocks=MAX_HOME_BLOCKS)
    return {"type": "home", "blocks": blocks}
