"""Neutral :class:`Reply` -> Slack Block Kit messages and modals (pure functions, no I/O).

Every piece of text from the core may contain what a user typed, so ``&``, ``<`` and ``>`` are
escaped in all mrkdwn and fallback text; the renderer adds no links or mentions of its own, so
nothing is exempt. ``plain_text`` objects are never parsed for mentions or links by Slack, so they
are only trimmed to their limits.
"""

from __future__ import annotations

from typing import Any

from bot.messages import Button, Form, FormField, Reply

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
    if not sections:
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
    return _cut(escape(reply.text), MAX_TEXT)


def to_slack_message(reply: Reply) -> dict[str, Any]:
    """Arguments for chat.postMessage / response_url: text, blocks, no unfurling."""
    return {"text": fallback_text(reply), "blocks": to_slack_blocks(reply),
            "unfurl_links": False, "unfurl_media": False}


def _element(field: FormField) -> Block:
    if field.kind == "select":
        options = [{"text": _plain(label, 75), "value": value[:150]}
                   for value, label in field.options[:MAX_OPTIONS]]
        element: Block = {"type": "static_select", "action_id": field.name, "options": options}
        initial = next((o for o in options if o["value"] == field.value), None)
        if initial is not None:
            element["initial_option"] = initial
        return element
    if field.kind == "date":
        element = {"type": "datepicker", "action_id": field.name}
        if field.value:
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


def to_slack_modal(form: Form, *, private_metadata: str = "", intro: str = "") -> dict[str, Any]:
    """Render a form as a modal view; callback_id is the form id so submissions route back."""
    if len(private_metadata) > MAX_METADATA:
        raise ValueError(f"private_metadata is {len(private_metadata)} chars; Slack allows 3000")
    blocks = _mrkdwn_sections(intro) if intro else []
    blocks += [_input(f) for f in form.fields]
    return {
        "type": "modal",
        "callback_id": form.form_id[:255],
        "title": _plain(form.title, MAX_MODAL_TEXT),
        "submit": _plain(form.submit_label, MAX_MODAL_TEXT),
        "close": _plain("Cancel", MAX_MODAL_TEXT),
        "private_metadata": private_metadata,
        "blocks": blocks[:MAX_MODAL_BLOCKS],
    }


def to_result_modal(reply: Reply, title: str = "Done") -> dict[str, Any]:
    """Render the modal shown after a successful submission (``response_action: update``)."""
    blocks = to_slack_blocks(Reply(text=reply.text, sections=reply.sections))
    return {"type": "modal", "title": _plain(title, MAX_MODAL_TEXT),
            "close": _plain("Close", MAX_MODAL_TEXT), "blocks": blocks}


def to_view_response(reply: Reply, metadata: str = "") -> dict[str, Any]:
    """Build the view_submission ack body: field errors, a follow-up form, or the result."""
    form = reply.form
    if form is not None and form.errors:
        return {"response_action": "errors",
                "errors": {name: _cut(msg, 2000) for name, msg in form.errors.items()}}
    if form is not None:
        return {"response_action": "update",
                "view": to_slack_modal(form, private_metadata=metadata, intro=reply.text)}
    return {"response_action": "update", "view": to_result_modal(reply)}
