"""Adaptive Card building blocks for Teams replies (pure: dicts in, dicts out, no I/O).

Cards target Adaptive Cards 1.4, which every current Teams client renders (1.5 is not yet on
all mobile clients). Buttons and forms use ``Action.Submit``: Teams then sends a message
activity whose ``value`` is the action's ``data`` merged with the card's input values.
"""

from __future__ import annotations

import re
from typing import Any

from bot.messages import (
    Button,
    Fact,
    Form,
    FormField,
    Link,
    Mention,
    Reply,
    Section,
    Tone,
    fill_mentions,
    literal,
    shield,
    unshield,
)

CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
CARD_VERSION = "1.4"
#: Keys our Action.Submit data uses; input ids must never collide with them.
ACTION_KEY, VALUE_KEY, FORM_KEY = "action_id", "value", "form_id"
RESERVED_KEYS = frozenset({ACTION_KEY, VALUE_KEY, FORM_KEY, "msteams"})
_STYLES = {"primary": "positive", "danger": "destructive"}
#: The renderer's choice per tone: the container style around the title, the title's colour.
TONE_STYLE = {Tone.INFO: ("default", "Default"), Tone.SUCCESS: ("good", "Good"),
              Tone.WARNING: ("warning", "Warning"), Tone.DANGER: ("attention", "Attention"),
              Tone.DENIED: ("attention", "Attention")}
# TextBlocks render CommonMark's bold, italics, lists and links, but not inline code.
_CODE = re.compile(r"`([^`\n]+)`")


#: Escaped (typed) characters that Teams could read as markup, shown as look-alikes. Teams
#: documents no backslash escapes for TextBlock markdown and its clients parse it differently
#: (desktop, web, iOS, Android), so an escape Teams might drop could turn a typed "[a](u)"
#: into a link or "**x**" into bold; a look-alike can never be markup on any client.
LOOK_ALIKES = {"*": "\u2217", "_": "\uff3f", "~": "\u223c", "`": "\u02cb",
               "[": "\uff3b", "]": "\uff3d", "<": "\u2039", ">": "\u203a", "#": "\uff03",
               "\\": "\uff3c"}


def literal_char(char: str) -> str:
    """One escaped (typed) character as Teams text that reads as it, never as markup."""
    return LOOK_ALIKES.get(char, char)


def literal_text(text: str) -> str:
    """Text that must read as typed (a person's name): no formatting, no link."""
    return "".join(literal_char(ch) for ch in text)


def teams_markdown(text: str, mentions: tuple[Mention, ...] = ()) -> str:
    """The core's CommonMark as TextBlock markdown: code spans as plain words, mentions named.

    Backslash-escaped characters (what a person typed) are never markup: see LOOK_ALIKES.
    """
    out = fill_mentions(_CODE.sub(r"\1", shield(text)), mentions,
                        lambda m: f"**{literal_text(m.label)}**")
    return unshield(out, literal_char)


def text_block(text: str, mentions: tuple[Mention, ...] = (), **extra: Any) -> dict[str, Any]:
    """Build a wrapping TextBlock (unwrapped blocks cut long answers off at one line)."""
    return {"type": "TextBlock", "text": teams_markdown(text, mentions), "wrap": True, **extra}


def fact_set(facts: tuple[Fact, ...], mentions: tuple[Mention, ...] = ()) -> dict[str, Any]:
    """Label / value rows as a FactSet."""
    return {"type": "FactSet", "facts": [
        {"title": f.label, "value": teams_markdown(f.value, mentions)} for f in facts]}


def part_blocks(text: str, facts: tuple[Fact, ...], items: tuple[str, ...],
                mentions: tuple[Mention, ...] = ()) -> list[dict[str, Any]]:
    """A text, its facts and a bulleted list."""
    blocks = [text_block(text, mentions)] if text.strip() else []
    if facts:
        blocks.append(fact_set(facts, mentions))
    if items:
        blocks.append(text_block("\n".join(f"- {item}" for item in items), mentions))
    return blocks


def section_blocks(section: Section, mentions: tuple[Mention, ...] = ()) -> list[dict[str, Any]]:
    """Render one section: its text, facts and list, and an optional subtle context line."""
    blocks = part_blocks(section.text, section.fields, section.items, mentions)
    if section.context:
        blocks.append(text_block(section.context, mentions, isSubtle=True, size="Small",
                                 spacing="Small"))
    if section.buttons:  # this section's own actions, right below it
        blocks.append({"type": "ActionSet",
                       "actions": [button_action(button) for button in section.buttons]})
    return blocks


def heading_blocks(reply: Reply, lead: str) -> list[dict[str, Any]]:
    """The title (once) and the main line in a container styled by the reply's tone."""
    style, colour = TONE_STYLE[reply.tone]
    items: list[dict[str, Any]] = []
    if reply.title:
        items.append(text_block(reply.title, reply.mentions, weight="Bolder", size="Medium",
                                color=colour))
    items += part_blocks(lead, reply.fields, reply.items, reply.mentions)
    if not items:
        return []
    if style == "default":
        return items
    return [{"type": "Container", "style": style, "bleed": True, "items": items}]


def link_actions(links: tuple[Link, ...]) -> list[dict[str, Any]]:
    """Links as Action.OpenUrl buttons (http(s) and mailto only)."""
    return [{"type": "Action.OpenUrl", "title": link.label, "url": link.url} for link in links
            if link.url.startswith(("https://", "http://", "mailto:"))]


def button_action(button: Button) -> dict[str, Any]:
    """Render a button as Action.Submit carrying our action id and opaque value."""
    action: dict[str, Any] = {
        "type": "Action.Submit",
        "title": button.label,
        "data": {ACTION_KEY: button.action_id, VALUE_KEY: button.value},
        # A button next to a form must not be blocked by the form's required inputs.
        "associatedInputs": "none",
    }
    if button.style in _STYLES:
        action["style"] = _STYLES[button.style]
    return action


def field_input(field: FormField, error: str | None) -> dict[str, Any]:
    """Render one form field as an Input.* element with label, required flag and error message."""
    base: dict[str, Any] = {
        "id": field.name,
        "label": field.label,
        "isRequired": field.required,
        "errorMessage": error or f"{field.label} is required.",
    }
    if field.value:
        base["value"] = field.value
    if field.kind in ("select", "multiselect"):
        choices = [{"title": label, "value": value} for value, label in field.options]
        choice_set = {"type": "Input.ChoiceSet", **base, "style": "compact", "choices": choices}
        if field.kind == "multiselect":  # Teams sends the chosen values comma separated
            choice_set["isMultiSelect"] = True
        return choice_set
    if field.kind == "date":
        return {"type": "Input.Date", **base}
    text_input: dict[str, Any] = {"type": "Input.Text", **base, "maxLength": field.max_length,
                                  "isMultiline": field.kind == "textarea"}
    if field.hint:
        text_input["placeholder"] = field.hint
    return text_input


def form_blocks(form: Form) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Build the form's body elements (title, inputs, server-side errors) and its submit action."""
    body: list[dict[str, Any]] = [text_block(form.title, weight="Bolder", size="Medium")]
    for field in form.fields:
        if field.name in RESERVED_KEYS:
            raise ValueError(f"form field name {field.name!r} is reserved by the Teams adapter")
        error = form.errors.get(field.name)
        body.append(field_input(field, error))
        if field.hint and field.kind != "text":
            body.append(text_block(field.hint, isSubtle=True, size="Small", spacing="None"))
        if error:
            # Server-side validation errors (e.g. a date in the past) are shown under the input;
            # errorMessage alone only appears for client-side checks.
            # Errors are plain text (they may quote what was typed): shown as the characters.
            body.append(text_block(literal(error), color="Attention", size="Small",
                                   spacing="None"))
    submit = {"type": "Action.Submit", "title": form.submit_label, "data": {FORM_KEY: form.form_id},
              "associatedInputs": "auto", "style": "positive"}
    return body, submit


def build_card(reply: Reply, sections: tuple[Section, ...], lead: str,
               fallback: str) -> dict[str, Any]:
    """Build an Adaptive Card for ``reply`` with ``sections`` (possibly shortened).

    In order: the form's banner (danger-toned) and intro, the title and ``lead`` in the tone's
    style, facts, list, the sections, the form, then links and buttons. A form whose fields
    depend on a choice (``refresh``) is sent in steps: its submit sends the choice, and the
    answer is the card for it (Adaptive Cards 1.4 cannot redraw on a change by themselves).
    """
    form = reply.form
    body: list[dict[str, Any]] = []
    if form is not None and form.banner:
        # The form's danger line ("call 911 first") is the very first thing on the card.
        body.append({"type": "Container", "style": "attention", "bleed": True, "items": [
            text_block(form.banner, weight="Bolder", color="Attention")]})
    if form is not None and form.intro:
        # The form's warning (e.g. "CALL 911 NOW ...") comes before anything else on the card.
        body.append(text_block(form.intro, weight="Bolder", color="Attention"))
    body += heading_blocks(reply, lead)
    for section in sections:
        body.extend(section_blocks(section, reply.mentions))
    actions = link_actions(reply.links) + [button_action(button) for button in reply.buttons]
    if form is not None:
        form_body, submit = form_blocks(form)
        if form.title.strip() in (reply.title.strip(), lead.strip()):
            form_body = form_body[1:]  # the title is already on the card
        body.extend(form_body)
        actions.insert(0, submit)
    card: dict[str, Any] = {
        "type": "AdaptiveCard",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": CARD_VERSION,
        "body": body,
        "fallbackText": fallback,
        "msteams": {"width": "Full"},
    }
    if actions:
        card["actions"] = actions
    return card
