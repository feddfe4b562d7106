"""Outbox sends to Slack: channel posts and direct messages, with Slack's errors classified.

Channel destinations (``slack:T1:C1``) go to chat.postMessage; user destinations
(``slack:T1:@U1``) first need the DM channel, opened once with conversations.open and then
remembered in the ``conversation_reference`` table (Tier 3 method: about 50 a minute).

The Web API client here has *no* retry handlers: a 429 becomes :class:`RetryableSendError`
with Slack's Retry-After, so the outbox waits without holding its lease, and a post is never
repeated by a server-error handler (a timed-out post may have landed). Every post carries
message metadata ``electionbot_outbox`` with the delivery key, so a later resend can check
(:meth:`SlackTransport.already_sent`) where the history scope and Slack's budget allow.

Every client of one transport shares one aiohttp session (a keep-alive connection pool, made on
first use and closed by :meth:`SlackTransport.aclose`): a broadcast does not open a connection
per post. Opened DM channels are written to the database in batches (one short transaction for
all those opened within ``SAVE_EVERY``, each send waiting for it), not one commit per person.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any

import aiohttp
import sqlalchemy as sa
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.engine import Connection

from bot.adapters.slack.render import to_slack_message
from bot.db.engine import Database, utcnow
from bot.db.models import ConversationReference
from bot.messages import Destination, Reply
from bot.outbox.transport import (
    CannotTell,
    Checkable,
    Editable,
    PermanentSendError,
    Preparing,
    PreparingMany,
    RetryableSendError,
    Transport,
)

log = logging.getLogger(__name__)
METADATA_EVENT = "electionbot_outbox"
TIMEOUT = 10  # seconds per Web API call
RENDERED = 64  # rendered replies kept (a broadcast's posts share one)
# Checking whether an uncertain post landed (``already_sent``): conversations.history, which
# since 2025 allows distributed apps outside the Marketplace 1 call a minute per workspace and
# 15 messages a call (Tier 3 for internal apps: they may pass a larger ``history_per_minute``).
HISTORY_PAGE = 15
HISTORY_PER_MINUTE = 1.0
CLOCK_SKEW = 5.0  # seconds: history read from a little before the message was queued
HISTORY_SCOPES = {  # channel id prefix -> scopes that allow reading its history (either)
    "D": frozenset({"im:history"}),
    "G": frozenset({"groups:history", "mpim:history"}),
    "C": frozenset({"channels:history", "groups:history"}),  # private channels are C… too
}
ALL_HISTORY = frozenset().union(*HISTORY_SCOPES.values())
POOL = 64  # keep-alive connections per transport (all workspaces)
LOOKUP_CHUNK = 500  # DM channel keys per query of prepare_many
SAVE_EVERY = 0.1  # seconds: DM channels opened this close together are stored together
# Errors that no retry will fix: the outbox dead-letters the message with the reason.
PERMANENT = frozenset({
    "channel_not_found", "not_in_channel", "is_archived", "account_inactive", "invalid_auth",
    "user_not_found", "cannot_dm_bot", "not_authed", "token_revoked", "token_expired",
    "missing_scope", "no_permission", "restricted_action", "team_access_not_granted",
    "user_disabled", "users_not_found", "invalid_blocks", "msg_too_long", "no_text",
    "invalid_metadata_format", "invalid_metadata_schema", "ekm_access_denied",
})


def build_send_client(api_url: str, token: str | None, timeout: int = TIMEOUT,
                      session: aiohttp.ClientSession | None = None) -> AsyncWebClient:
    """A client for outbox sends: no retry handlers at all (the outbox schedules retries).

    With ``session`` its calls reuse that session's connections (the transport passes its own).
    """
    return AsyncWebClient(token=token, base_url=api_url, timeout=timeout,
                          retry_handlers=[], session=session)


def dm_key(workspace: str, user_id: str) -> str:
    """The conversation_reference key of a user's DM channel with the bot."""
    return f"slack:{workspace}:dm:{user_id}"


def _header(response: Any, name: str) -> str | None:
    """One header of a Web API answer (slack_sdk keeps them as given; lists for repeats)."""
    headers = getattr(response, "headers", None) or {}
    value = next((v for k, v in headers.items() if k.lower() == name), None)
    if isinstance(value, list):
        value = value[0] if value else None
    return None if value is None else str(value)


class HistoryBudget:
    """conversations.history calls allowed per workspace: a token bucket that never waits.

    It holds about ten seconds' worth of calls, at least one: at 1 a minute, one call and then
    none for a minute.
    """

    def __init__(self, per_minute: float, clock: Callable[[], float] = time.monotonic) -> None:
        """Allow ``per_minute`` calls a minute per workspace."""
        self.rate = per_minute / 60.0
        self.burst = max(1.0, per_minute / 6.0)
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # workspace -> (tokens, at)

    def take(self, workspace: str) -> bool:
        """Spend one call for ``workspace`` if one is available now."""
        now = self.clock()
        tokens, at = self._buckets.get(workspace, (self.burst, now))
        tokens = min(self.burst, tokens + max(0.0, now - at) * self.rate)
        if tokens < 1.0:
            self._buckets[workspace] = (tokens, now)
            return False
        self._buckets[workspace] = (tokens - 1.0, now)
        return True

    def pause(self, workspace: str, seconds: float) -> None:
        """Slack said to wait (429 Retry-After): no call for ``workspace`` before then."""
        self._buckets[workspace] = (1.0 - seconds * self.rate, self.clock())


def _retry_after(response: Any) -> float | None:
    value = _header(response, "retry-after")
    try:
        return max(0.0, float(value)) if value is not None else None
    except (TypeError, ValueError):
        return None


def classify(exc: SlackApiError) -> Exception:
    """Turn a Web API failure into the outbox's permanent or retryable error."""
    response = exc.response
    status = int(getattr(response, "status_code", 0) or 0)
    error = str((response.get("error") if response is not None else None) or f"http {status}")
    if status == 429 or error == "ratelimited":
        return RetryableSendError("ratelimited", retry_after=_retry_after(response) or 1.0)
    if error in PERMANENT:
        return PermanentSendError(error)
    # 5xx, internal_error, fatal_error, service_unavailable and anything unknown: try later.
    return RetryableSendError(error)


# workspace -> its bot token; raises PermanentSendError when the app is not installed there.
TokenResolver = Callable[[str], Awaitable[str]]


class SlackTransport(Transport, Checkable, Preparing, PreparingMany, Editable):
    """The outbox's Slack transport (see the module docstring)."""

    def __init__(self, client: AsyncWebClient, db: Database,
                 tokens: TokenResolver | None = None, *,
                 history_per_minute: float = HISTORY_PER_MINUTE) -> None:
        """Send with ``client``; remember DM channels in ``db``.

        With ``tokens`` (many workspaces) each call uses the destination workspace's bot token
        and ``client`` only lends its base URL and timeout. ``history_per_minute`` is the
        per-workspace budget for checking uncertain posts (see :meth:`already_sent`).
        """
        self.client = client
        self.history_budget = HistoryBudget(history_per_minute)
        self.scopes: dict[str, frozenset[str]] = {}  # workspace -> granted bot scopes
        self.db = db
        self.tokens = tokens
        self._clients: dict[str, AsyncWebClient] = {}
        self._dm_cache: dict[str, str] = {}
        self._dm_unstored: set[str] = set()  # looked up with a batch and not stored: open them
        self._dm_locks: dict[str, asyncio.Lock] = {}
        self._session: aiohttp.ClientSession | None = None
        self._unsaved: dict[str, ConversationReference] = {}
        self._saver: asyncio.Task[None] | None = None
        # (id of a reply, workspace) -> (that reply, its chat.postMessage arguments): the rows
        # of a broadcast share one reply, rendered once per workspace instead of once per post.
        self._rendered: dict[tuple[int, str], tuple[Reply, dict[str, Any]]] = {}

    def _shared(self) -> aiohttp.ClientSession:
        """The transport's connection pool (made in the running loop on first use)."""
        if self._session is None or self._session.closed:
            # slack_sdk leaves a caller's session's own timeout in charge: set the client's.
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=POOL, keepalive_timeout=30),
                timeout=aiohttp.ClientTimeout(total=self.client.timeout))
            for client in (self.client, *self._clients.values()):
                if client.session is None or client.session.closed:  # not the caller's own
                    client.session = self._session
        return self._session

    def connections(self) -> aiohttp.ClientSession:
        """The transport's keep-alive pool, for other posts to Slack (response_url answers)."""
        return self._shared()

    async def aclose(self) -> None:
        """Write the DM channels not yet stored and close the connection pool (on shutdown)."""
        if self._saver is not None:
            self._saver.cancel()
            await asyncio.gather(self._saver, return_exceptions=True)
            self._saver = None
        await self._save_references()
        if self._session is not None:
            for client in (self.client, *self._clients.values()):
                if client.session is self._session:
                    client.session = None
            await self._session.close()
            self._session = None

    async def send(self, destination: Destination, reply: Reply, *, key: str) -> str:
        """Post ``reply``; return ``channel:ts``. Raises Permanent/RetryableSendError."""
        try:
            client = await self.client_for(destination.workspace)
            channel = destination.channel
            if destination.user_id:
                channel = await self.dm_channel(destination.workspace, destination.user_id)
            response = await client.chat_postMessage(
                channel=channel, **self._message(reply, destination.workspace),
                metadata={"event_type": METADATA_EVENT, "event_payload": {"key": key}})
            self.note_scopes(destination.workspace, response)
        except SlackApiError as exc:
            raise classify(exc) from None
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise RetryableSendError(f"network: {type(exc).__name__}") from None
        return f"{response.get('channel') or channel}:{response.get('ts') or ''}"

    def _message(self, reply: Reply, workspace: str) -> dict[str, Any]:
        """``to_slack_message(reply)`` for ``workspace``, rendered once per reply object.

        The entry holds the reply itself, so its id cannot be reused while it is kept; the
        arguments are only read (slack_sdk builds its own lists from them).
        """
        found = self._rendered.get((id(reply), workspace))
        if found is not None and found[0] is reply:
            return found[1]
        message = to_slack_message(reply, workspace=workspace)
        if len(self._rendered) >= RENDERED:
            self._rendered.clear()
        self._rendered[(id(reply), workspace)] = (reply, message)
        return message

    async def already_sent(self, destination: Destination, key: str, *,
                           since: datetime | None = None) -> str | None:
        """``channel:ts`` of our message carrying ``key`` in its metadata; None if surely absent.

        The outbox asks this before resending a post whose outcome is unknown (a timeout or a
        lost lease). It reads the conversation's history only when that is allowed and cheap:
        the workspace granted the history scope for that kind of conversation (read from the
        ``x-oauth-scopes`` header Slack sends with every answer) and its history budget has
        room (1 call a minute per workspace: Slack's 2025 limit for distributed apps outside
        the Marketplace, 15 messages a call). Otherwise, or when the one page read does not
        reach back to ``since``, it raises :class:`CannotTell` and the outbox resends once,
        marked as a possible repeat.
        """
        workspace = destination.workspace
        try:
            client = await self.client_for(workspace)
            channel = destination.channel
            if destination.user_id:
                channel = await self.dm_channel(workspace, destination.user_id)
            granted = await self.granted_scopes(workspace, client)
        except (SlackApiError, RetryableSendError, PermanentSendError, TimeoutError,
                aiohttp.ClientError) as exc:
            raise CannotTell(f"cannot look: {type(exc).__name__}") from None
        if not granted & HISTORY_SCOPES.get(channel[:1], frozenset()):
            raise CannotTell("the history scope for this conversation is not granted")
        if not self.history_budget.take(workspace):
            raise CannotTell("conversations.history budget spent for now")
        oldest = f"{since.timestamp() - CLOCK_SKEW:.6f}" if since is not None else None
        try:
            response = await client.conversations_history(
                channel=channel, limit=HISTORY_PAGE, include_all_metadata=True, oldest=oldest,
                inclusive=True)
        except SlackApiError as exc:
            self._history_failed(workspace, exc)
            raise CannotTell("conversations.history failed") from None
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise CannotTell(f"network: {type(exc).__name__}") from None
        for message in response.get("messages") or []:
            metadata = message.get("metadata") or {}
            if (metadata.get("event_type") == METADATA_EVENT
                    and (metadata.get("event_payload") or {}).get("key") == key):
                return f"{channel}:{message.get('ts', '')}"
        if response.get("has_more") or since is None:
            raise CannotTell("one page of history does not reach back to the first attempt")
        return None

    async def granted_scopes(self, workspace: str, client: AsyncWebClient) -> frozenset[str]:
        """The bot scopes ``workspace`` granted (from an answer's header; auth.test if none)."""
        if workspace not in self.scopes:
            self.note_scopes(workspace, await client.auth_test())
            self.scopes.setdefault(workspace, frozenset())  # not listed: assume none
        return self.scopes.get(workspace, frozenset())

    def note_scopes(self, workspace: str, response: Any) -> None:
        """Remember the granted scopes Slack lists in ``x-oauth-scopes`` (when it does)."""
        value = _header(response, "x-oauth-scopes")
        if value is not None:
            self.scopes[workspace] = frozenset(s.strip() for s in value.split(",") if s.strip())

    def _history_failed(self, workspace: str, exc: SlackApiError) -> None:
        """Learn from a refused history call: rate limited (wait), or the scope is gone."""
        error = str((exc.response.get("error") if exc.response is not None else None) or "")
        if error == "ratelimited" or getattr(exc.response, "status_code", 0) == 429:
            self.history_budget.pause(workspace, _retry_after(exc.response) or 60.0)
        elif error == "missing_scope":
            self.scopes[workspace] = self.scopes.get(workspace, frozenset()) - ALL_HISTORY
        log.info("slack delivery check refused", extra={"error": error[:40]})

    async def prepare(self, destination: Destination) -> None:
        """Open (or recall) a DM channel ahead of the send's pacing slot."""
        if destination.user_id:
            try:
                await self.dm_channel(destination.workspace, destination.user_id)
            except SlackApiError as exc:
                raise classify(exc) from None

    async def prepare_many(self, destinations: Sequence[Destination]) -> None:
        """Recall the stored DM channels of a claimed batch in one query (not open them)."""
        keys = sorted({dm_key(d.workspace, d.user_id) for d in destinations if d.user_id}
                      - self._dm_cache.keys())
        if not keys:
            return
        table = ConversationReference.__table__  # type: ignore[attr-defined]
        async with self.db.engine.connect() as conn:
            for start in range(0, len(keys), LOOKUP_CHUNK):
                rows = (await conn.execute(sa.select(table.c.key, table.c.channel).where(
                    table.c.key.in_(keys[start:start + LOOKUP_CHUNK])))).all()
                self._dm_cache.update((key, channel) for key, channel in rows if channel)
        if len(self._dm_unstored) > 10_000:
            self._dm_unstored.clear()
        self._dm_unstored.update(key for key in keys if key not in self._dm_cache)

    async def update(self, destination: Destination, message_ref: str, reply: Reply) -> None:
        """Replace the message ``message_ref`` (``channel:ts``) with ``reply`` (chat.update)."""
        channel, _, ts = message_ref.rpartition(":")
        try:
            client = await self.client_for(destination.workspace)
            await client.chat_update(channel=channel, ts=ts,
                                     **to_slack_message(reply, workspace=destination.workspace))
        except SlackApiError as exc:
            raise classify(exc) from None
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise RetryableSendError(f"network: {type(exc).__name__}") from None

    async def client_for(self, workspace: str) -> AsyncWebClient:
        """The client holding ``workspace``'s bot token (the one client with a single token)."""
        session = self._shared()
        if self.tokens is None:
            return self.client
        token = await self.tokens(workspace)
        if token not in self._clients:
            if len(self._clients) > 1000:  # rotated tokens pile up; start over
                self._clients.clear()
            self._clients[token] = build_send_client(self.client.base_url, token,
                                                     self.client.timeout, session)
        return self._clients[token]

    async def dm_channel(self, workspace: str, user_id: str) -> str:
        """The DM channel with ``user_id``: memory, then the database, then conversations.open."""
        key = dm_key(workspace, user_id)
        if key in self._dm_cache:
            return self._dm_cache[key]
        lock = self._dm_locks.setdefault(key, asyncio.Lock())
        async with lock:  # two sends to the same person open the DM once
            if key not in self._dm_cache:
                self._dm_cache[key] = await self._stored_or_opened(key, workspace, user_id)
        return self._dm_cache[key]

    async def _stored_or_opened(self, key: str, workspace: str, user_id: str) -> str:
        pending = self._unsaved.get(key)
        if pending is not None and pending.channel:
            return pending.channel
        if key in self._dm_unstored:  # its batch's look-up just found none
            self._dm_unstored.discard(key)
        else:
            async with self.db.session() as session:
                stored = await session.get(ConversationReference, key)
            if stored is not None and stored.channel:
                return stored.channel
        client = await self.client_for(workspace)
        response = await client.conversations_open(users=user_id)
        channel = str((response.get("channel") or {}).get("id") or "")
        if not channel:
            raise RetryableSendError("conversations.open returned no channel")
        await self._store(ConversationReference(
            key=key, platform="slack", workspace=workspace, user_id=user_id, channel=channel,
            reference=json.dumps({"channel": channel, "user": user_id})))
        log.info("slack dm opened", extra={"workspace": workspace})
        return channel

    async def _store(self, row: ConversationReference) -> None:
        """Write ``row`` with the others opened within ``SAVE_EVERY`` (one transaction)."""
        self._unsaved[row.key] = row
        if self._saver is None or self._saver.done():
            self._saver = asyncio.create_task(self._save_soon())
        await asyncio.shield(self._saver)

    async def _save_soon(self) -> None:
        await asyncio.sleep(SAVE_EVERY)
        await self._save_references()

    async def _save_references(self) -> None:
        """Store the DM channels opened since the last write, in one transaction."""
        rows, self._unsaved = list(self._unsaved.values()), {}
        if not rows:
            return
        table = ConversationReference.__table__  # type: ignore[attr-defined]
        now = utcnow()
        values = [{"key": r.key, "platform": r.platform, "workspace": r.workspace,
                   "user_id": r.user_id, "channel": r.channel, "reference": r.reference,
                   "updated_at": now} for r in rows]

        def write(conn: Connection) -> None:
            conn.execute(sa.delete(table).where(table.c.key.in_([v["key"] for v in values])))
            conn.execute(sa.insert(table), values)
        try:
            await self.db.transaction(write)
        except Exception:  # only a cache of conversations.open: the next send opens again
            log.exception("slack dm channels not stored")
