"""Pure translation between Bot Framework activities (JSON dicts) and the neutral types.

No I/O and no SDK objects here, so captured payloads in ``tests/data/teams_*.json`` can drive
these functions directly.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping
from typing import Any

from bot.adapters.teams.cards import (
    ACTION_KEY,
    CARD_CONTENT_TYPE,
    FORM_KEY,
    RESERVED_KEYS,
    VALUE_KEY,
    build_card,
    teams_markdown,
)
from bot.messages import (
    REPEAT_LINE,
    Action,
    FormSubmission,
    IncomingMessage,
    Mention,
    Reply,
    Section,
    Sender,
    Tone,
    said_by,
)

#: Teams rejects activities over about 28 KB; leave room for the envelope the SDK adds
#: (from, recipient, conversation, serviceUrl, replyToId).
MAX_ACTIVITY_BYTES = 26 * 1024
MAX_TEXT = 4000
MAX_FIELDS = 40
SHORTENED = "(This reply was shortened to fit in a Teams message.)"
CARD_INVOKE = "adaptiveCard/action"


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def tenant_of(activity: Mapping[str, Any]) -> str:
    """Return the Azure AD tenant: channelData.tenant.id, else conversation.tenantId."""
    tenant = _str(_dict(_dict(activity.get("channelData")).get("tenant")).get("id"))
    return tenant or _str(_dict(activity.get("conversation")).get("tenantId")) or "unknown"


def sender_of(activity: Mapping[str, Any]) -> Sender:
    """Return the sender: tenant + AAD object id (stable across chats), else the channel id."""
    who = _dict(activity.get("from"))
    user = _str(who.get("aadObjectId")) or _str(who.get("id")) or "unknown"
    return Sender("teams", tenant_of(activity), user, display_name=_str(who.get("name")))


def split_conversation(conversation_id: str) -> tuple[str, str | None]:
    """Channel threads arrive as ``19:...@thread.tacv2;messageid=123``: (channel, thread)."""
    channel, sep, thread = conversation_id.partition(";messageid=")
    return channel, (thread or None) if sep else None


def other_mentions(activity: Mapping[str, Any], text: str) -> tuple[str, tuple[Mention, ...]]:
    """People other than this bot named with ``<at>Name</at>``: ``@Name`` in text + identities.

    The identity is the tenant and the person's AAD object id when Teams gives one (as for
    senders), else the channel account id.
    """
    bot_id = _str(_dict(activity.get("recipient")).get("id"))
    tenant = tenant_of(activity)
    mentions: list[Mention] = []
    entities = activity.get("entities")
    for entity in entities if isinstance(entities, list) else []:
        entity = _dict(entity)
        who = _dict(entity.get("mentioned"))
        user = _str(who.get("aadObjectId")) or _str(who.get("id"))
        if _str(entity.get("type")).lower() != "mention" or not user or who.get("id") == bot_id:
            continue
        name = _str(who.get("name")) or user
        mention_text = _str(entity.get("text"))
        if mention_text and mention_text in text:
            text = text.replace(mention_text, f"@{name}", 1)
        mentions.append(Mention(f"teams:{tenant}:{user}", name))
    return text, tuple(mentions)


def strip_bot_mention(activity: Mapping[str, Any]) -> str:
    """Return the text without the ``<at>Bot</at>`` mention of this bot (other mentions are kept).

    Equivalent to ``TurnContext.remove_recipient_mention`` on a dict; that helper feeds the
    bot's display name into ``re.sub`` unescaped, so a name like ``Vote (CT)`` would break it.
    """
    text = _str(activity.get("text"))
    bot_id = _str(_dict(activity.get("recipient")).get("id"))
    entities = activity.get("entities")
    for entity in entities if isinstance(entities, list) else []:
        entity = _dict(entity)
        if _str(entity.get("type")).lower() != "mention":
            continue
        if _str(_dict(entity.get("mentioned")).get("id")) != bot_id:
            continue
        mention_text = _str(entity.get("text"))
        if mention_text:
            text = text.replace(mention_text, " ")
    return " ".join(html.unescape(text).split())


def submitted_data(activity: Mapping[str, Any]) -> dict[str, Any] | None:
    """Return a card's data: Action.Submit ``value`` or Action.Execute ``value.action.data``."""
    value = activity.get("value")
    if not isinstance(value, dict):
        return None
    if activity.get("type") == "invoke":
        action = _dict(value.get("action"))
        return _dict(action.get("data"))
    return value


def _from_card(data: dict[str, Any], base: dict[str, Any]) -> IncomingMessage | None:
    action_id = data.get(ACTION_KEY)
    if isinstance(action_id, str) and action_id:
        value = data.get(VALUE_KEY)
        return IncomingMessage(**base, action=Action(action_id[:200], str(value or "")[:2000]))
    form_id = data.get(FORM_KEY)
    if isinstance(form_id, str) and form_id:
        values = {str(k)[:100]: str(v)[:MAX_TEXT] for k, v in data.items()
                  if k not in RESERVED_KEYS and isinstance(v, str | int | float | bool)}
        return IncomingMessage(**base, form=FormSubmission(form_id[:200],
                                                           dict(list(values.items())[:MAX_FIELDS])))
    return None


def to_incoming_message(activity: Mapping[str, Any]) -> IncomingMessage | None:
    """Translate a message or card action; None when there is nothing to route."""
    kind = activity.get("type")
    if kind == "invoke" and activity.get("name") != CARD_INVOKE:
        return None
    if kind not in ("message", "invoke"):
        return None
    if activity.get("channelId", "msteams") != "msteams":
        return None  # identities from other channels are never teams: identities
    conversation = _dict(activity.get("conversation"))
    channel, thread = split_conversation(_str(conversation.get("id")))
    base: dict[str, Any] = {
        "sender": sender_of(activity),
        "channel": channel,
        "thread": thread,
        "is_direct": conversation.get("conversationType", "personal") == "personal",
        "locale": _str(activity.get("locale")) or None,
    }
    data = submitted_data(activity)
    if data is not None:
        return _from_card(data, base)
    if kind == "invoke":
        return None
    text, mentions = other_mentions(activity, strip_bot_mention(activity))
    text = text[:MAX_TEXT]
    return IncomingMessage(**base, text=text, mentions=mentions) if text else None


def _escape(text: str) -> str:
    # The activity's text is rendered as markdown/HTML by Teams; what users typed and we echo
    # must not become markup. Adaptive Card TextBlocks render no HTML, so they are left alone.
    return html.escape(text, quote=False)


def _size(activity: Mapping[str, Any]) -> int:
    return len(json.dumps(activity, ensure_ascii=False).encode("utf-8"))


#: Tones a plain line cannot show: such replies become a card in the tone's colour.
_STRONG = frozenset({Tone.WARNING, Tone.DANGER, Tone.DENIED})


def _styled(reply: Reply) -> bool:
    """Whether the reply leads with a heading or a colour (then the card holds it all)."""
    return bool(reply.title) or reply.tone != Tone.INFO


def _has_card(reply: Reply, sections: tuple[Section, ...]) -> bool:
    """Whether the reply needs more than a line of markdown text."""
    return bool(sections or reply.buttons or reply.form is not None or reply.title
                or reply.fields or reply.items or reply.links or reply.tone in _STRONG)


def _lead(reply: Reply, sections: tuple[Section, ...]) -> str:
    """The main line, unless the title, the form's title or the sections already say it."""
    said = {reply.title.strip(), reply.form.title.strip() if reply.form else ""}
    if reply.text.strip() in said or said_by(reply.text, sections):
        return ""
    return reply.text


def _build(reply: Reply, sections: tuple[Section, ...]) -> dict[str, Any]:
    activity: dict[str, Any] = {"type": "message", "textFormat": "markdown"}
    if not _has_card(reply, sections):
        activity["text"] = _escape(teams_markdown(reply.text, reply.mentions))
        return _marked(reply, activity)
    lead = _lead(reply, sections)
    if lead and not _styled(reply):
        # A plain main line reads above the card; a titled or coloured one is on the card.
        activity["text"] = _escape(teams_markdown(lead, reply.mentions))
        lead = ""
    fallback = "\n\n".join(t for t in (reply.title, reply.text, *(s.text for s in sections))
                            if t)[:MAX_TEXT]
    card = build_card(reply, sections, lead, fallback)
    activity["attachments"] = [{"contentType": CARD_CONTENT_TYPE, "content": card}]
    # The summary is what notifications and the chat list show for a card.
    summary = reply.text if not reply.title or reply.title in reply.text \
        else f"{reply.title}: {reply.text}"
    activity["summary"] = teams_markdown(summary, reply.mentions)[:200]
    return _marked(reply, activity)


def _marked(reply: Reply, activity: dict[str, Any]) -> dict[str, Any]:
    """A possible repeat says so on its first line (the text above any card) and summary."""
    if reply.repeat:
        activity["text"] = "\n\n".join(
            t for t in (f"**{_escape(REPEAT_LINE)}**", activity.get("text")) if t)
        if "summary" in activity:
            activity["summary"] = f"{REPEAT_LINE}: {activity['summary']}"[:200]
    return activity


def to_activity(reply: Reply) -> dict[str, Any]:
    """Render a neutral reply as a message activity: markdown text, plus a card when it has more.

    A reply with only a main line is markdown text. Anything more (facts, sections, a form,
    buttons, a title, a warning tone) goes on one Adaptive Card that says each thing once: a
    plain main line stays above the card, a titled or toned one opens the card in the tone's
    colour. The card's fallback text and the activity's summary carry the main line for clients
    and notifications without cards. Teams has no ephemeral messages, so ``reply.ephemeral`` is
    not rendered.
    """
    sections = reply.sections
    activity = _build(reply, sections)
    while _size(activity) > MAX_ACTIVITY_BYTES and sections:
        # Drop trailing sections first: the first ones carry the answer, later ones detail.
        sections = sections[:-1]
        activity = _build(reply, (*sections, Section(SHORTENED)))
        if not sections:
            break
    if _size(activity) <= MAX_ACTIVITY_BYTES:
        return activity
    # Still too big (a huge form or text): send the text alone, cut to fit.
    budget = MAX_ACTIVITY_BYTES // 6  # worst case 5 bytes a character: '&' -> '&amp;'
    return _marked(reply, {"type": "message", "textFormat": "markdown",
                           "text": _escape(reply.text[:budget]) + "\n\n" + SHORTENED})
