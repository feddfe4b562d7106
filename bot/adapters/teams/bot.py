"""The Agents SDK ActivityHandler: Teams activities in, router replies out."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import Any

from microsoft_agents.activity import Activity, ChannelAccount, InvokeResponse
from microsoft_agents.hosting.core import ActivityHandler, TurnContext

from bot.adapters.teams.render import to_activity
from bot.adapters.teams.send import send_with_retry
from bot.adapters.teams.translate import (
    CARD_INVOKE,
    install_message,
    split_conversation,
    tenant_of,
    to_incoming_message,
)
from bot.db.idempotency import save_reference
from bot.db.models import ConversationReference
from bot.messages import IncomingMessage, Reply
from bot.outbox.transport import PermanentSendError
from bot.router import Router

log = logging.getLogger(__name__)
MESSAGE_RESPONSE = "application/vnd.microsoft.activity.message"
RAW_ACTIVITY = "electionbot.raw_activity"
NOT_SUPPORTED = "This action is not supported by this bot."


def raw_activity(turn_context: TurnContext) -> dict[str, Any]:
    """Return the activity JSON as received.

    Translation works on the received JSON, exactly as Teams sent it, not on the SDK's model.
    """
    raw = turn_context.turn_state.get(RAW_ACTIVITY)
    return raw if isinstance(raw, dict) else _dump(turn_context.activity)


def _dump(model: Any) -> dict[str, Any]:
    dumped: dict[str, Any] = model.model_dump(by_alias=True, exclude_none=True, mode="json")
    return dumped


def reference_key(tenant: str, conversation: str, user: str | None) -> str:
    """``teams:<tenant>:<conversation>[:<user>]``, hashed when it would not fit the column."""
    key = f"teams:{tenant}:{conversation}" + (f":{user}" if user else "")
    if len(key) <= 300:
        return key
    return f"teams:{tenant[:60]}:sha256:{hashlib.sha256(key.encode()).hexdigest()}"


def reference_row(activity: Activity) -> ConversationReference:
    """Build the row that lets background work reach this conversation later."""
    raw = _dump(activity)
    conversation = raw.get("conversation") or {}
    channel, _thread = split_conversation(str(conversation.get("id", "")))
    personal = conversation.get("conversationType", "personal") == "personal"
    who = raw.get("from") or {}
    # In a personal chat the conversation belongs to one person, so the row is theirs; in a
    # channel or group chat the row is the conversation's, whoever spoke last.
    user = (who.get("aadObjectId") or who.get("id")) if personal else None
    tenant = tenant_of(raw)
    reference = _dump(activity.get_conversation_reference())
    if personal is False:
        # Proactive posts go to the channel itself, not to the thread this activity was in.
        reference["conversation"] = {**reference.get("conversation", {}), "id": channel}
    if tenant != "unknown":
        # Kept with Teams' spelling, whichever SDK wrote the reference.
        reference["conversation"] = {**reference.get("conversation", {}), "tenantId": tenant}
    return ConversationReference(
        key=reference_key(tenant, channel, user), platform="teams", workspace=tenant[:200],
        user_id=user[:200] if user else None, channel=channel[:400],
        reference=json.dumps(reference, ensure_ascii=False))


def _is_removal(activity: Activity) -> bool:
    if activity.type == "installationUpdate":
        return str(activity.action or "").startswith("remove")
    removed = activity.members_removed or []
    return any(m.id == activity.recipient.id for m in removed if activity.recipient)


async def _new_posts(_context: TurnContext, activities: list[Activity],
                     send: Callable[[], Awaitable[Any]]) -> Any:
    for activity in activities:
        activity.reply_to_id = None  # type: ignore[assignment]
    return await send()


class ElectionBot(ActivityHandler):  # type: ignore[misc]
    """Routes Teams messages and card actions through the neutral router."""

    def __init__(self, router: Router) -> None:
        """Keep the router (and through it the database)."""
        self.router = router

    def logic_for(self, raw: dict[str, Any]) -> Callable[[TurnContext], Awaitable[None]]:
        """Return the turn callback for one request, carrying its raw JSON into the turn."""

        async def logic(turn_context: TurnContext) -> None:
            turn_context.turn_state[RAW_ACTIVITY] = raw
            await self.on_turn(turn_context)

        return logic

    async def on_turn(self, turn_context: TurnContext) -> None:  # type: ignore[override]
        """Store the conversation reference on every inbound activity, then dispatch by type."""
        activity = turn_context.activity
        if activity.type != "typing" and activity.conversation and not _is_removal(activity):
            await save_reference(self.router.services.db, reference_row(activity))
        if activity.type not in ("message", "invoke"):
            # An install or membership event is no message to reply to: post to the chat.
            turn_context.on_send_activities(_new_posts)
        await super().on_turn(turn_context)

    async def on_message_activity(self, turn_context: TurnContext) -> None:  # type: ignore[override]
        """Personal chat, channel @mention, or an Action.Submit click / form."""
        message = to_incoming_message(raw_activity(turn_context))
        if message is None:
            return
        await self._answer(turn_context, message)

    async def on_members_added_activity(self, members_added: list[ChannelAccount],
                                        turn_context: TurnContext) -> None:  # type: ignore[override]
        """Say hello when the bot itself is installed: a welcome in personal chat, else help."""
        recipient = turn_context.activity.recipient
        bot_id = recipient.id if recipient else None
        if bot_id is None or not any(member.id == bot_id for member in members_added):
            return
        message = install_message(raw_activity(turn_context))
        if message is not None:
            await self._answer(turn_context, message)

    async def on_invoke_activity(self, turn_context: TurnContext) -> InvokeResponse | None:  # type: ignore[override]
        """Universal Action (Action.Execute) clicks; any other invoke is told "not supported".

        The SDK's default answers 501 for every invoke it does not know (message extensions,
        task modules, sign-in); Teams shows that as a failure. A 200 invoke response with a
        short message is the documented way to decline.
        """
        if turn_context.activity.name != CARD_INVOKE:
            return InvokeResponse(status=int(HTTPStatus.OK), body={
                "statusCode": 200, "type": MESSAGE_RESPONSE, "value": NOT_SUPPORTED})
        message = to_incoming_message(raw_activity(turn_context))
        if message is None:
            return InvokeResponse(status=int(HTTPStatus.BAD_REQUEST), body={
                "statusCode": 400, "type": "application/vnd.microsoft.error",
                "value": {"code": "BadRequest", "message": "unknown card action"}})
        reply = await self._answer(turn_context, message)
        return InvokeResponse(status=int(HTTPStatus.OK), body={
            "statusCode": 200, "type": MESSAGE_RESPONSE, "value": reply.text[:500]})

    async def _answer(self, turn_context: TurnContext, message: IncomingMessage) -> Reply:
        reply = await self.router.dispatch(message)
        outgoing = Activity.model_validate(to_activity(reply))
        try:
            await send_with_retry(turn_context, outgoing)
        except PermanentSendError as exc:
            # Blocked or uninstalled: nothing to retry; the reference stays for the record.
            log.warning("Teams refused the reply permanently: %s", exc)
        return reply
