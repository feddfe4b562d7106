"""Proactive Teams sends for the outbox: a stored conversation reference -> the Bot Connector.

Teams cannot message anyone out of the blue: the bot needs the conversation reference saved
when the person last talked to it or installed the app (personal chat), or when it was last
@mentioned in a channel (``bot.adapters.teams.bot.reference_row``). The transport looks that
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
import time
from collections.abc import Sequence
from typing import Any

import aiohttp
from microsoft_agents.activity import Activity
from microsoft_agents.activity import ConversationReference as SdkReference
from microsoft_agents.hosting.core.connector.client import ConnectorClient
from sqlmodel import col, select

from bot.adapters.teams.connector import ServiceUrlRefused, TeamsClientFactory
from bot.adapters.teams.render import to_activity
from bot.adapters.teams.send import (
    RETRYABLE,
    body_of,
    error_code,
    reason_of,
    retry_after_of,
    status_of,
)
from bot.adapters.teams.translate import split_conversation
from bot.db.engine import Database
from bot.db.models import ConversationReference
from bot.messages import Destination, Reply
from bot.outbox.transport import (
    Editable,
    PermanentSendError,
    Preparing,
    PreparingMany,
    Reachable,
    RetryableSendError,
    Transport,
)

log = logging.getLogger(__name__)
NO_REFERENCE = "no conversation reference: the user has not installed the app"
NO_CHANNEL_REFERENCE = ("no conversation reference: the bot has not been added to (or "
                        "mentioned in) that Teams conversation")
NO_TENANT = "; Teams tenant {tenant} is unknown here: the app was never installed (or used) in it"
MAX_REF = 300  # OutboxMessage.message_ref column
NEVER_OPENED = "has not opened the bot in Teams (no conversation reference)"
#: User ids per ``IN (...)`` of :meth:`TeamsTransport.unreachable`: well under SQLite's 32766
#: bound parameters and PostgreSQL's 65535, and short enough for the query planner.
LOOKUP_CHUNK = 500
PREPARED = 10_000  # references looked up ahead and not yet used, at most
#: Seconds a reference looked up ahead stays usable: a send put back for a later slot, or one
#: that failed before sending, must not use a reference the bot may have replaced since.
PREPARED_FOR = 60.0


async def missing_reason(db: Database, destination: Destination) -> str:
    """Why a destination has no reference; says so when its whole tenant is unknown."""
    query = select(ConversationReference.key).where(
        ConversationReference.platform == "teams",
        ConversationReference.workspace == destination.workspace).limit(1)
    reason = NO_REFERENCE if destination.user_id else NO_CHANNEL_REFERENCE
    async with db.session() as session:
        if (await session.exec(query)).first() is None:
            return reason + NO_TENANT.format(tenant=destination.workspace[:80])
    return reason


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


async def find_references(db: Database, destinations: Sequence[Destination]
                          ) -> dict[Destination, dict[str, Any]]:
    """:func:`find_reference` for many Teams destinations in a few queries (the found ones)."""
    people = {(d.workspace, d.user_id) for d in destinations if d.user_id}
    channels = {(d.workspace, split_conversation(d.channel)[0])
                for d in destinations if not d.user_id}
    workspaces = {d.workspace for d in destinations}
    ref = ConversationReference
    newest: dict[tuple[str, str, str | None], tuple[Any, str]] = {}
    async with db.session() as session:
        for kind, wanted, column in (("user", people, ref.user_id),
                                     ("channel", channels, ref.channel)):
            names = sorted({name for _ws, name in wanted if name})
            for start in range(0, len(names), LOOKUP_CHUNK):
                rows = (await session.exec(select(
                    ref.workspace, column, ref.updated_at, ref.reference).where(
                    ref.platform == "teams", col(ref.workspace).in_(workspaces),
                    col(column).in_(names[start:start + LOOKUP_CHUNK])))).all()
                for workspace, name, updated_at, reference in rows:
                    seen = newest.get((kind, workspace, name))
                    if (workspace, name) in wanted and (seen is None or updated_at > seen[0]):
                        newest[(kind, workspace, name)] = (updated_at, reference)
    found = {}
    for d in destinations:
        key = (("user", d.workspace, d.user_id) if d.user_id else
               ("channel", d.workspace, split_conversation(d.channel)[0]))
        if key in newest:
            found[d] = json.loads(newest[key][1])
    return found


def proactive_activity(reply: Reply, reference: dict[str, Any], *,
                       to_person: bool, tenant: str | None = None) -> Activity:
    """Render ``reply`` and address it to the referenced conversation (a new post, no reply-to).

    A channel post is addressed to the channel, not to whoever spoke there last. The tenant
    (the destination's, else the reference's) goes in ``channelData.tenant`` as Teams expects.
    """
    activity = Activity.model_validate(to_activity(reply))
    activity.apply_conversation_reference(SdkReference.model_validate(reference),
                                          is_incoming=False)
    activity.reply_to_id = None  # type: ignore[assignment]
    if not to_person:
        activity.recipient = None
    tenant = tenant or (reference.get("conversation") or {}).get("tenantId")
    if tenant and activity.conversation is not None:
        activity.conversation.tenant_id = tenant
        channel_data: dict[str, Any] = dict(activity.channel_data or {})  # type: ignore[call-overload]
        activity.channel_data = {**channel_data, "tenant": {"id": tenant}}
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
        code = error_code(body_of(exc))
        return PermanentSendError(f"404 conversation not found{f' ({code})' if code else ''}: "
                                  "it was deleted or the bot was removed")
    return PermanentSendError(f"Teams refused the message: {status}")


class TeamsTransport(Transport, Preparing, PreparingMany, Editable, Reachable):
    """The outbox's sender for ``teams:`` destinations.

    The Bot Connector cannot read a conversation's history, so a send that may have landed
    cannot be checked: the outbox sends it again once, marked as a possible repeat
    (``Reply.repeat``, rendered as the activity's first line), rather than lose it.
    """

    def __init__(self, clients: TeamsClientFactory, db: Database) -> None:
        """Send through ``clients`` (the bot's credentials, the configured cloud only)."""
        self.clients = clients
        self.db = db
        self._prepared: dict[str, tuple[float, dict[str, Any]]] = {}  # when looked up
        self._clients: dict[str, ConnectorClient] = {}

    async def unreachable(self, destinations: Sequence[Destination]) -> dict[Destination, str]:
        """People who never opened the bot (no stored conversation reference).

        Teams allows no proactive message to them; channels are left to their sends. Only the
        rows of the people asked about are read, :data:`LOOKUP_CHUNK` user ids per query (a
        tenant holds a reference for every channel and person that ever used the bot).
        """
        people = [d for d in destinations if d.user_id]
        users = sorted({str(d.user_id) for d in people})
        workspaces = {d.workspace for d in people}
        known: set[tuple[str, str | None]] = set()
        async with self.db.session() as session:
            for start in range(0, len(users), LOOKUP_CHUNK):
                query = select(ConversationReference.workspace,
                               ConversationReference.user_id).where(
                    ConversationReference.platform == "teams",
                    col(ConversationReference.workspace).in_(workspaces),
                    col(ConversationReference.user_id).in_(
                        users[start:start + LOOKUP_CHUNK])).distinct()
                known.update((await session.exec(query)).all())
        return {d: NEVER_OPENED for d in people if (d.workspace, d.user_id) not in known}

    async def prepare(self, destination: Destination) -> None:
        """Look the conversation reference up ahead of the send's pacing slot (used once)."""
        found = self._prepared.get(str(destination))
        if found is not None and time.monotonic() - found[0] < PREPARED_FOR:
            return  # looked up with its batch
        reference = await find_reference(self.db, destination)
        if reference is not None:
            self._prepared[str(destination)] = (time.monotonic(), reference)

    async def prepare_many(self, destinations: Sequence[Destination]) -> None:
        """Look up a claimed batch's references in a few queries (each used once)."""
        found = await find_references(self.db, destinations)
        if len(self._prepared) + len(found) > PREPARED:  # unused ones (sends that never went)
            self._prepared.clear()
        now = time.monotonic()
        self._prepared.update((str(d), (now, reference)) for d, reference in found.items())

    async def send(self, destination: Destination, reply: Reply, *, key: str) -> str:
        """Post ``reply`` to the destination's stored conversation; return ``conversation|id``."""
        ahead = self._prepared.pop(str(destination), None)
        reference = (ahead[1] if ahead is not None and time.monotonic() - ahead[0] < PREPARED_FOR
                     else await find_reference(self.db, destination))
        if reference is None:
            raise PermanentSendError(await missing_reason(self.db, destination))
        activity = proactive_activity(reply, reference, to_person=bool(destination.user_id),
                                      tenant=destination.workspace)
        conversation_id = str(activity.conversation.id)
        try:
            result = await self._post(str(reference.get("serviceUrl", "")), conversation_id,
                                      activity)
        except aiohttp.ClientResponseError as exc:
            raise classify(exc) from None
        except ServiceUrlRefused as exc:
            raise PermanentSendError(f"refused: {exc}") from None
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            # The post may or may not have landed; the outbox retries with backoff.
            raise RetryableSendError(f"network error: {type(exc).__name__}") from None
        log.info("Teams proactive send delivered", extra={"outbox_key": key})
        return f"{conversation_id}|{getattr(result, 'id', '') or ''}"[:MAX_REF]

    async def send_privately(self, destination: Destination, reply: Reply) -> str:
        """A turn's reply meant for one person, to their personal chat (not through the queue).

        It answers a click just made, so it is sent now or not at all: no retry, no dead letter.
        """
        return await self.send(destination, reply, key="teams:private-reply")

    async def update(self, destination: Destination, message_ref: str, reply: Reply) -> None:
        """Replace the activity ``conversation|activityId`` with ``reply`` (PUT activities)."""
        conversation_id, _, activity_id = message_ref.partition("|")
        reference = await find_reference(self.db, destination)
        if reference is None or not activity_id:
            raise PermanentSendError(NO_REFERENCE)
        activity = proactive_activity(reply, reference, to_person=bool(destination.user_id))
        activity.id = activity_id
        service_url = str(reference.get("serviceUrl", ""))
        try:
            client = await self._client(service_url)
            await client.conversations.update_activity(conversation_id, activity_id, activity)
        except aiohttp.ClientResponseError as exc:
            raise classify(exc) from None
        except ServiceUrlRefused as exc:
            raise PermanentSendError(f"refused: {exc}") from None
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise RetryableSendError(f"network error: {type(exc).__name__}") from None

    async def _post(self, service_url: str, conversation_id: str, activity: Activity) -> Any:
        if not service_url:
            raise PermanentSendError("the stored conversation reference has no serviceUrl")
        client = await self._client(service_url)
        return await client.conversations.send_to_conversation(conversation_id, activity)

    async def _client(self, service_url: str) -> ConnectorClient:
        """One connector client per serviceUrl, kept open, with a current token on each call."""
        client = self._clients.get(service_url)
        if client is None:
            client = await self.clients.client(service_url)
            if len(self._clients) >= 100:
                await self.close()
            self._clients[service_url] = client
        else:
            await self.clients.authorize(client)
        return client

    async def close(self, _app: object = None) -> None:
        """Close the kept clients (on shutdown)."""
        clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            await client.close()
