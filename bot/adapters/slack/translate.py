"""Slack payloads -> neutral :class:`IncomingMessage` (pure functions, no I/O).

Workspace identity: ``Sender.workspace`` is the Slack ``team_id`` (falling back to the
``enterprise_id`` only when a payload carries no team), so app.yaml roles read
``slack:<team_id>:<user_id>``. In Slack Connect shared channels it is the *user's own* team
(``user_team``, ``user.team_id``), not the workspace whose installation received the request.
Display names are carried for wording only, never for authorization.
"""

from __future__ import annotations

import re
from typing import Any

from bot.adapters.slack.render import EMPTY_OPTION, field_name
from bot.messages import Action, FormSubmission, IncomingMessage, Mention, Sender

# The renderer makes repeated action_ids unique within a message by appending ``~<n>``
# (Slack rejects duplicate action_ids in one block); strip it to get the core's id back.
ACTION_SUFFIX = re.compile(r"~\d+$")
MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|([^>]*))?>")
MAX_TEXT = 4000
REPORT_SHORTCUT = "report_incident"  # callback_id of the "Report as incident" shortcut
FROM_MESSAGE = "incident:from_message"


class NotForUs(ValueError):
    """A payload the bot deliberately ignores (its own messages, edits, joins, ...)."""


def _sender(team: str | None, enterprise: str | None, user: str, name: str = "") -> Sender:
    # Who did it is what every answer, permission and reply address rests on: a payload
    # without a user id (Slack always sends one) is not acted on at all.
    if not user.strip():
        raise NotForUs("payload without a user id")
    workspace = team or enterprise or "unknown"
    return Sender("slack", workspace, user, display_name=name)


def from_slash_command(body: dict[str, Any]) -> IncomingMessage:
    """Translate a slash command (form fields as a dict) into a message with ``command``."""
    sender = _sender(body.get("team_id"), body.get("enterprise_id"), str(body.get("user_id", "")),
                     str(body.get("user_name", "")))
    text, mentions = parse_mentions(str(body.get("text", ""))[:MAX_TEXT], sender.workspace)
    return IncomingMessage(
        sender=sender,
        text=text,
        mentions=mentions,
        channel=str(body.get("channel_id", "")),
        command=str(body.get("command", "")).lower() or None,
        is_direct=body.get("channel_name") == "directmessage",
    )


def parse_mentions(text: str, workspace: str) -> tuple[str, tuple[Mention, ...]]:
    """Slack's ``<@U123|name>`` -> ``@name`` in the text plus the identity, in order.

    A name with spaces (or none) is written as the user id, so a command's ``@...`` stays one
    word; the core then finds the person in ``IncomingMessage.mentions``, never in markup.
    """
    mentions: list[Mention] = []

    def one(match: re.Match[str]) -> str:
        user, name = match.group(1), (match.group(2) or "").strip()
        label = name if name and not any(c.isspace() for c in name) else user
        mentions.append(Mention(f"slack:{workspace}:{user}", label))
        return f"@{label}"
    return MENTION.sub(one, text), tuple(mentions)


def strip_mention(text: str, bot_user_id: str | None) -> str:
    """Remove the bot's own ``<@BOTID>`` mention (or, unknown id, a leading mention)."""
    if bot_user_id:
        text = re.sub(rf"<@{re.escape(bot_user_id)}(?:\|[^>]*)?>", " ", text)
    else:
        text = re.sub(rf"^\s*{MENTION.pattern}", " ", text)
    return " ".join(text.split())


def is_ignored_event(event: dict[str, Any], bot_user_id: str | None = None) -> bool:
    """Bot posts, our own messages and message edits/joins/deletes are not questions."""
    if event.get("bot_id") or event.get("subtype") or event.get("bot_profile"):
        return True
    return bool(bot_user_id and event.get("user") == bot_user_id)


def from_event(body: dict[str, Any], bot_user_id: str | None = None) -> IncomingMessage:
    """Translate an ``app_mention`` or IM ``message`` event; NotForUs for anything else."""
    event = body.get("event") or {}
    kind = event.get("type")
    if kind not in ("app_mention", "message") or is_ignored_event(event, bot_user_id):
        raise NotForUs(f"event {kind!r} is not a question")
    if kind == "message" and event.get("channel_type") != "im":
        raise NotForUs("channel messages reach us only as app_mention")
    if not event.get("user"):
        raise NotForUs("event without a user")
    bot = bot_user_id or _authorized_bot(body)
    text = str(event.get("text", ""))
    if kind == "app_mention":
        text = strip_mention(text, bot)
    # Slack Connect: a user of another workspace is that workspace's user (``user_team``; an
    # org id there says only the org, so the event's team is used instead).
    user_team = str(event.get("user_team") or "")
    team = (user_team if user_team.startswith("T") else None) or event.get("team") \
        or body.get("team_id")
    sender = _sender(team, body.get("enterprise_id"), str(event["user"]))
    text, mentions = parse_mentions(text[:MAX_TEXT], sender.workspace)
    return IncomingMessage(
        sender=sender,
        text=text,
        mentions=mentions,
        channel=str(event.get("channel", "")),
        # Mentions are answered in a thread: the existing one, else one started on the mention.
        thread=(event.get("thread_ts") or event.get("ts")) if kind == "app_mention"
        else event.get("thread_ts"),
        is_direct=kind == "message",
    )


def _authorized_bot(body: dict[str, Any]) -> str | None:
    for auth in body.get("authorizations") or []:
        if auth.get("is_bot") and auth.get("user_id"):
            return str(auth["user_id"])
    return None


def _interaction_sender(body: dict[str, Any]) -> Sender:
    user = body.get("user") or {}
    # The clicking user's own team first: in a Slack Connect channel it can differ.
    team = user.get("team_id") or (body.get("team") or {}).get("id")
    enterprise = (body.get("enterprise") or {}).get("id") if body.get("enterprise") else None
    return _sender(team, enterprise, str(user.get("id", "")),
                   str(user.get("username") or user.get("name") or ""))


def from_block_actions(body: dict[str, Any]) -> IncomingMessage:
    """Translate a button click (the first action of a ``block_actions`` payload)."""
    actions = body.get("actions") or []
    if not actions:
        raise NotForUs("block_actions without an action")
    first = actions[0]
    value = first.get("value")
    if value is None and isinstance(first.get("selected_option"), dict):
        value = first["selected_option"].get("value")
    action_id = ACTION_SUFFIX.sub("", str(first.get("action_id", "")))
    container = body.get("container") or {}
    channel = (body.get("channel") or {}).get("id") or container.get("channel_id") or ""
    return IncomingMessage(
        sender=_interaction_sender(body),
        channel=str(channel),
        thread=container.get("thread_ts"),
        action=Action(action_id, str(value or "")),
        is_direct=str(channel).startswith("D"),
    )


def _state_value(element: dict[str, Any]) -> str:
    kind = element.get("type")
    if kind == "static_select":
        value = str((element.get("selected_option") or {}).get("value") or "")
        return "" if value == EMPTY_OPTION else value
    if kind == "multi_static_select":
        chosen = [str(o.get("value") or "") for o in element.get("selected_options") or []
                  if isinstance(o, dict)]
        return ",".join(v for v in chosen if v and v != EMPTY_OPTION)
    if kind == "datepicker":
        return str(element.get("selected_date") or "")
    return str(element.get("value") or "")


def form_values(view: dict[str, Any]) -> dict[str, str]:
    """``view.state.values`` flattened to field name -> value (block_id is the field name)."""
    values: dict[str, str] = {}
    state = (view.get("state") or {}).get("values") or {}
    for block_id, elements in state.items():
        for element in (elements or {}).values():
            values[field_name(str(block_id))] = _state_value(element or {})[:MAX_TEXT]
    return values


def from_view_submission(body: dict[str, Any]) -> IncomingMessage:
    """Translate a modal submission into a :class:`FormSubmission` (callback_id = form_id)."""
    view = body.get("view") or {}
    return IncomingMessage(
        sender=_interaction_sender(body),
        form=FormSubmission(str(view.get("callback_id", "")), form_values(view)),
        is_direct=True,
    )


def from_view_action(body: dict[str, Any]) -> IncomingMessage:
    """A choice made inside a modal (``dispatch_action``): the form so far, to be redrawn.

    ``changed`` names the field chosen; the handler answers with the form for that choice.
    """
    view = body.get("view") or {}
    actions = body.get("actions") or []
    if not actions or not isinstance(view, dict):
        raise NotForUs("block_actions in a view without an action")
    changed = field_name(str(actions[0].get("block_id") or actions[0].get("action_id") or ""))
    return IncomingMessage(
        sender=_interaction_sender(body),
        form=FormSubmission(str(view.get("callback_id", "")), form_values(view),
                            changed=changed[:100]),
        is_direct=True,
    )


def message_link(body: dict[str, Any]) -> str:
    """The shortcut's message: its permalink when Slack sent one, else team, channel and ts."""
    message = body.get("message") or {}
    if message.get("permalink"):
        return str(message["permalink"])
    team = (body.get("team") or {}).get("id") or "unknown"
    channel = (body.get("channel") or {}).get("id") or ""
    ts = message.get("ts") or body.get("message_ts") or ""
    return f"slack:{team}:{channel}:{ts}"


def from_message_shortcut(body: dict[str, Any]) -> IncomingMessage:
    """Translate "Report as incident" on a message into the incident handler's action."""
    if body.get("callback_id") != REPORT_SHORTCUT:
        raise NotForUs(f"message shortcut {body.get('callback_id')!r} is not ours")
    message = body.get("message") or {}
    channel = str((body.get("channel") or {}).get("id") or "")
    return IncomingMessage(
        sender=_interaction_sender(body),
        text=str(message.get("text") or "")[:MAX_TEXT],
        channel=channel,
        action=Action(FROM_MESSAGE, message_link(body)),
        is_direct=channel.startswith("D"),
    )


def to_incoming_message(body: dict[str, Any], bot_user_id: str | None = None) -> IncomingMessage:
    """Any supported Slack payload -> neutral message; :class:`NotForUs` for the rest."""
    if "command" in body and "response_url" in body:
        return from_slash_command(body)
    kind = body.get("type")
    if kind == "event_callback":
        return from_event(body, bot_user_id)
    if kind == "block_actions":
        return from_block_actions(body)
    if kind == "view_submission":
        return from_view_submission(body)
    if kind == "message_action":
        return from_message_shortcut(body)
    raise NotForUs(f"unsupported payload type {kind!r}")


def from_person_event(body: dict[str, Any]) -> IncomingMessage:
    """``app_home_opened`` / ``assistant_thread_started``: who, and their DM (channel, thread).

    NotForUs without a user. The message carries no text: the caller asks for a home or a
    welcome on that person's behalf.
    """
    event = body.get("event") or {}
    found = event.get("assistant_thread")
    thread: dict[str, Any] = found if isinstance(found, dict) else {}
    user = str(event.get("user") or thread.get("user_id") or "")
    sender = _sender(body.get("team_id") or event.get("team"), body.get("enterprise_id"), user)
    return IncomingMessage(sender=sender, is_direct=True,
                           channel=str(event.get("channel") or thread.get("channel_id") or ""),
                           thread=thread.get("thread_ts") or None)
