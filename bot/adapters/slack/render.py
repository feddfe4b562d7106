"""Neutral :class:`Reply` -> Slack Block Kit messages and modals (pure functions, no I/O).

Every piece of text from the core may contain what a user typed, so ``&``, ``<`` and ``>`` are
escaped in all mrkdwn and fallback text; the renderer adds no links or mentions of its own, so
nothing is exempt. ``plain_text`` objects are never parsed for mentions or links by Slack, so they
are only trimmed to their limits.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from bot.messages import REPEAT_LINE, Button, Form, FormField, Reply, said_by

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
EMPTY_OPTION = "__none__"  # stands for the empty value "" (Slack wants non-empty values)
TRUNCATED = "… (message shortened)"

Block = dict[str, Any]


def escape(text: str) -> str:
    """Slack's three control characters, so typed ``<!channel>`` or ``<@U1>`` pings nobody."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


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
    return [{"type": "section", "text": {"type": "mrkdwn", "text": chunk}}
            for chunk in _chunks(escape(text), MAX_SECTION)]


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


def _action_blocks(buttons: tuple[Button, ...]) -> list[Block]:
    ids = unique_action_ids(buttons)
    elements = [_button(b, i) for b, i in zip(buttons, ids, strict=True)]
    return [{"type": "actions", "elements": elements[i:i + MAX_BUTTONS_PER_ACTIONS]}
            for i in range(0, len(elements), MAX_BUTTONS_PER_ACTIONS)]


def to_slack_blocks(reply: Reply) -> list[Block]:
    """Sections (with context lines) then buttons, at most 50 blocks, 3000 chars per section."""
    body: list[Block] = []
    sections = reply.sections or ()
    if reply.repeat:  # first, so it is read before anything that may be a second copy
        body.append({"type": "context", "elements": [
            {"type": "mrkdwn", "text": f"*{escape(REPEAT_LINE)}*"}]})
    if not said_by(reply.text, sections):
        # The main line leads unless the sections already say all of it (Slack shows only
        # the blocks, so a line kept only in ``text`` would reach notifications, not the eye).
        body.extend(_mrkdwn_sections(reply.text))
    for section in sections:
        body.extend(_mrkdwn_sections(section.text))
        if section.context:
            body.append({"type": "context", "elements": [
                {"type": "mrkdwn", "text": _cut(escape(section.context), MAX_CONTEXT)}]})
    actions = _action_blocks(reply.buttons) if reply.buttons else []
    room = MAX_BLOCKS - len(actions)
    if len(body) > room:
        # Keep the buttons (they are how people answer) and say the text was cut.
        body = body[: room - 1] + [{"type": "context", "elements": [
            {"type": "mrkdwn", "text": TRUNCATED}]}]
    return (body + actions)[:MAX_BLOCKS]


def fallback_text(reply: Reply) -> str:
    """Return the notification / screen-reader text, escaped, within 40,000 characters."""
    text = f"{REPEAT_LINE}\n{reply.text}" if reply.repeat else reply.text
    return _cut(escape(text), MAX_TEXT)


def to_slack_message(reply: Reply) -> dict[str, Any]:
    """Arguments for chat.postMessage / response_url: text, blocks, no unfurling."""
    return {"text": fallback_text(reply), "blocks": to_slack_blocks(reply),
            "unfurl_links": False, "unfurl_media": False}


def _option(value: str, label: str) -> Block:
    # Slack option values must be non-empty: "no choice" travels as a sentinel.
    return {"text": _plain(label, MAX_OPTION_TEXT), "value": (value or EMPTY_OPTION)[:150]}


def _select(field: FormField) -> Block:
    """A static_select; more than 100 options go into groups of 100 (Slack's limits)."""
    options = [_option(value, label) for value, label in field.options]
    element: Block = {"type": "static_select", "action_id": field.name,
                      "placeholder": _plain("Choose…", 150)}
    if len(options) <= MAX_OPTIONS:
        element["options"] = options
    else:
        chunks = [options[i:i + MAX_OPTIONS]
                  for i in range(0, min(len(options), MAX_OPTIONS * MAX_OPTIONS), MAX_OPTIONS)]
        element["option_groups"] = [
            {"label": _plain(f"{i * MAX_OPTIONS + 1}–{i * MAX_OPTIONS + len(chunk)}", 75),
             "options": chunk} for i, chunk in enumerate(chunks)]
        options = [o for chunk in chunks for o in chunk]
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
    if field.kind == "select":
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


def _input(field: FormField) -> Block:
    block: Block = {"type": "input", "block_id": field.name, "optional": not field.required,
                    "label": _plain(field.label, 2000), "element": _element(field)}
    if field.hint:
        block["hint"] = _plain(field.hint, 2000)
    return block


def to_slack_modal(form: Form, *, private_metadata: str = "", lead: str = "") -> dict[str, Any]:
    """Render a form as a modal view; callback_id is the form id so submissions route back.

    ``form.intro`` (safety and public-records warnings) is always the first block, then
    ``lead`` (the reply's text) unless it only repeats the title, then one input per field.
    """
    if len(private_metadata) > MAX_METADATA:
        raise ValueError(f"private_metadata is {len(private_metadata)} chars; Slack allows 3000")
    inputs = [_input(f) for f in form.fields][:MAX_MODAL_BLOCKS]
    text = [t for t in (form.intro, lead) if t.strip() and t.strip() != form.title]
    head = [block for t in text for block in _mrkdwn_sections(t)]
    return {
        "type": "modal",
        "callback_id": form.form_id[:255],
        "title": _plain(form.title, MAX_MODAL_TEXT),
        "submit": _plain(form.submit_label, MAX_MODAL_TEXT),
        "close": _plain("Cancel", MAX_MODAL_TEXT),
        "private_metadata": private_metadata,
        # The inputs always fit; the text above them gives way if the modal is full.
        "blocks": head[: MAX_MODAL_BLOCKS - len(inputs)] + inputs,
    }


def view_errors(form: Form) -> dict[str, str]:
    """Errors keyed by input block id; an error for a field not in the form goes on the first."""
    names = [f.name for f in form.fields]
    errors: dict[str, str] = {}
    for name, message in form.errors.items():
        target = name if name in names or not names else names[0]
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
    blocks = to_slack_blocks(Reply(text=reply.text, sections=reply.sections))
    return {"type": "modal", "title": _plain(title or _title(reply.text), MAX_MODAL_TEXT),
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
