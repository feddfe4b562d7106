"""Bot Framework activities (JSON dicts) -> neutral :class:`IncomingMessage` (pure, no I/O).

No SDK objects here, so captured payloads in ``tests/data/teams_*.json`` drive these functions
directly. The reverse direction (a reply -> an activity with an Adaptive Card) is ``render.py``.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from bot.adapters.teams.cards import ACTION_KEY, FORM_KEY, RESERVED_KEYS, VALUE_KEY
from bot.home import WELCOME_ACTION
from bot.messages import Action, FormSubmission, IncomingMessage, Mention, Sender

MAX_TEXT = 4000
MAX_FIELDS = 40
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


def install_message(activity: Mapping[str, Any]) -> IncomingMessage | None:
    """The bot was added to a conversation: what to answer with.

    In a personal chat, the first-conversation welcome (suggested questions, the installer's
    own commands); in a team or group chat, the help. None when nothing can be routed.
    """
    message = to_incoming_message({**activity, "type": "message", "text": "help"})
    if message is None or not message.is_direct:
        return message
    return replace(message, text="", action=Action(WELCOME_ACTION))
