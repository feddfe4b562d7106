"""Proactive Teams sends for the outbox: a stored conversation reference -> the Bot Connector.

Teams cannot message anyone out of the blue: the bot needs the conversation reference saved
when the person last talked to it or installed the app (personal chat), or when it was last
@mentioned in a channel (``bot.adapters.teams_bot.reference_row``). The transport looks that
reference up, renders the neutral reply as an Adaptive Card activity and posts it with
``POST /v3/conversations/{id}/activities`` to the reference's serviceUrl, using the bot's own
credentials (anonymous when no app id is configured, as in local tests).

One attempt per call: the outbox owns retries and dead letters. 429 / 412 / 502 / 504 (and
other server errors or network failures) are :class:`RetryableSendError`, with Teams'
Retry-After when it gave one; 403 (blocked, uninstalled, ``MessageWritesBlocked``), 404 and
other client errors are :class:`PermanentSendError` and go straight to the dead-letter state.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import aiohttp
from botbuilder.core import TurnContext
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import Activity, ErrorResponseException
from botbuilder.schema import ConversationReference as SdkReference
from sqlmodel import col, select

from bot.adapters.teams_render import split_conversation, to_activity
from bot.adapters.teams_send import RETRYABLE, reason_of, retry_after_of, status_of
from bot.db import Database
from bot.messages import Destination, Reply
from bot.models import ConversationReference
from bot.outbox import PermanentSendError, RetryableSendError

log = logging.getLogger(__name__)
NO_REFERENCE = "no conversation reference: the user has not installed the app"
NO_CHANNEL_REFERENCE = ("no conversation reference: the bot has not been added to (or "
                        "mentioned in) that Teams conversation")
MAX_REF = 300  # OutboxMessage.message_ref column


async def find_reference(db: Database, destination: Destination) -> dict[str, Any] | None:
    """The newest stored reference for a Teams destination, as the SDK's JSON; None if absent.

    ``@user`` destinations use that person's personal-chat reference (tenant + aadObjectId);
    channel destinations use the reference stored for that conversation in that tenant.
    """
    query = select(ConversationReference).where(
        ConversationReference.platform == "teams",
        ConversationReference.workspace == destination.workspace)
    if destination.user_id:
        query = query.where(ConversationReference.user_id == destination.user_id)
    else:
        channel, _thread = split_conversation(destination.channel)
        query = query.where(ConversationReference.channel == channel)
    query = query.order_by(col(ConversationReference.updated_at).desc()).limit(1)
    async with db.session() as session:
        row = (await session.exec(query)).first()
    if row is None:
        return None
    reference: dict[str, Any] = json.loads(row.reference)
    return reference


def proactive_activity(reply: Reply, reference: dict[str, Any], *,
                       to_person: bool) -> Activity:
    """Render ``reply`` and address it to the referenced conversation (a new post, no reply-to).

    A channel post is addressed to the channel, not to whoever spoke there last.
    """
    activity: Activity = Activity().deserialize(to_activity(reply))
    sdk_reference = SdkReference().deserialize(reference)
    TurnContext.apply_conversation_reference(activity, sdk_reference, is_incoming=False)
    activity.reply_to_id = None
    if not to_person:
        activity.recipient = None
    return activity


def classify(exc: Exception) -> PermanentSendError | RetryableSendError:
    """Map a Bot Connector error response to the outbox's retry decision."""
    status = status_of(exc)
    if status in RETRYABLE or status >= 500 or status in (0, 408):
        return RetryableSendError(f"Teams answered {status or 'no status'}", retry_after_of(exc))
    if status == 403:
        return PermanentSendError(f"403 {reason_of(exc)}: the bot is blocked or was removed "
                                  "from this conversation")
    if status == 404:
        return PermanentSendError("404 conversation not found: it was deleted or the bot "
                                  "was removed")
    return PermanentSendError(f"Teams refused the message: {status}")


class TeamsTransport:
    """The outbox's sender for ``teams:`` destinations."""

    def __init__(self, adapter: CloudAdapter, db: Database, app_id: str | None) -> None:
        """Send with ``adapter``'s Bot Framework credentials for ``app_id`` (None: anonymous)."""
        self.adapter = adapter
        self.db = db
        self.app_id = app_id or ""

    async def send(self, destination: Destination, reply: Reply, *, key: str) -> str:
        """Post ``reply`` to the destination's stored conversation; return ``conversation|id``."""
        reference = await find_reference(self.db, destination)
        if reference is None:
            raise PermanentSendError(NO_REFERENCE if destination.user_id
                                     else NO_CHANNEL_REFERENCE)
        activity = proactive_activity(reply, reference, to_person=bool(destination.user_id))
        conversation_id = str(activity.conversation.id)
        try:
            result = await self._post(str(reference.get("serviceUrl", "")), conversation_id,
                                      activity)
        except ErrorResponseException as exc:
            raise classify(exc) from None
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            # The post may or may not have landed; the outbox retries with backoff.
            raise RetryableSendError(f"network error: {type(exc).__name__}") from None
        log.info("Teams proactive send delivered", extra={"outbox_key": key})
        return f"{conversation_id}|{getattr(result, 'id', '') or ''}"[:MAX_REF]

    async def _post(self, service_url: str, conversation_id: str, activity: Activity) -> Any:
        if not service_url.startswith(("https://", "http://")):
            raise PermanentSendError("the stored conversation reference has no serviceUrl")
        claims = self.adapter.create_claims_identity(self.app_id)
        factory = self.adapter.bot_framework_authentication.create_connector_factory(claims)
        client = await factory.create(service_url, None)
        async with client:
            return await client.conversations.send_to_conversation(conversation_id, activity)
