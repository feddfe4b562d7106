"""Microsoft Teams adapter: ``POST /api/messages`` on the Microsoft 365 Agents SDK's CloudAdapter.

Order of work for each request: parse (4xx on bad input), authenticate (401 on any bad token),
admit (403 + audit: not msteams, a tenant not admitted, a serviceUrl outside ``teams.cloud``),
drop retries by activity id, then run the turn. Card invokes must be answered within 5 s, so a
slow invoke is answered "working on it" and finishes in the background.

With MICROSOFT_APP_ID set, every request must carry a valid Bot Framework token. Without it the
endpoint runs anonymously only in demo mode (``serve --demo``: loopback only, proxied requests
refused; for local tests and the Bot Framework Emulator); outside demo mode it answers 503 and
never runs a turn. ``/healthz`` reports Teams as "disabled" without an app id either way, because
no real Teams tenant can reach a bot without one.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import uuid
from typing import Any

from aiohttp import web
from microsoft_agents.activity import Activity, InvokeResponse
from microsoft_agents.hosting.aiohttp import CloudAdapter
from microsoft_agents.hosting.core import TurnContext
from pydantic import ValidationError

from bot.adapters import http_input
from bot.adapters.teams import auth as teams_auth
from bot.adapters.teams.admission import Admission
from bot.adapters.teams.bot import MESSAGE_RESPONSE, ElectionBot
from bot.adapters.teams.clouds import ServiceUrlPolicy
from bot.adapters.teams.connector import TeamsClientFactory
from bot.adapters.teams.proactive import TeamsTransport
from bot.db.engine import Database
from bot.db.idempotency import first_time
from bot.router import Router

log = logging.getLogger(__name__)
INVOKE_DEADLINE = 4.0  # Teams gives an invoke 5 s; keep a margin for the network.
ALREADY_DONE = {"statusCode": 200, "type": MESSAGE_RESPONSE, "value": "Already done."}
STILL_WORKING = {"statusCode": 200, "type": MESSAGE_RESPONSE,
                 "value": "Working on it; the answer will appear in this chat."}
NOT_CONFIGURED = "Teams is not configured (set MICROSOFT_APP_ID)"


FREE_TEXT = ("text", "value", "summary")  # what a person typed or filled in on a card
PLATFORM_ERRORS = ("aiohttp", "microsoft_agents")


class BadActivity(ValueError):
    """The request body is not a Bot Framework activity we can process."""


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


def parse_activity(body: bytes) -> tuple[dict[str, Any], Activity]:
    """Bytes -> (the raw JSON, the SDK Activity), or BadActivity naming what is wrong.

    Parsed within :mod:`bot.adapters.http_input`'s limits (this runs before authentication): what a
    person typed (``text``, card ``value``) is cleaned of NULs and lone surrogates, any other
    field carrying them is refused.
    """
    try:
        raw = http_input.loads(body, free_text=FREE_TEXT, what="activity")
    except http_input.InputError as exc:
        raise BadActivity(str(exc)) from None
    if not isinstance(raw, dict):
        raise BadActivity("body must be a JSON object (a Bot Framework activity)")
    if not isinstance(raw.get("type"), str) or not raw["type"]:
        raise BadActivity("activity has no type")
    service_url = raw.get("serviceUrl")
    if not isinstance(service_url, str) or not service_url.startswith(("https://", "http://")):
        raise BadActivity("activity has no http(s) serviceUrl")
    if raw["type"] == "invoke" and (not isinstance(raw.get("name"), str) or not raw["name"]):
        raise BadActivity("invoke activity has no name")
    for name, value in _ids(raw):
        # Bot Framework ids are ASCII; other characters end up in URLs and headers of the
        # reply, where the HTTP client cannot encode them (a failed turn, not a 4xx).
        if value is not None and not (isinstance(value, str) and value.isascii()
                                      and value.isprintable()):
            raise BadActivity(f"{name} must be printable ASCII")
    try:
        activity = Activity.model_validate(raw)
    except (ValidationError, TypeError, ValueError, AttributeError, KeyError):
        raise BadActivity("activity does not match the Bot Framework schema") from None
    if activity.conversation is None or not activity.conversation.id:
        raise BadActivity("activity has no conversation id")
    if activity.recipient is None or not activity.recipient.id:
        raise BadActivity("activity has no recipient id")
    return raw, activity


def _ids(raw: dict[str, Any]) -> list[tuple[str, Any]]:
    def part(key: str) -> dict[str, Any]:
        value = raw.get(key)
        return value if isinstance(value, dict) else {}
    tenant = part("channelData").get("tenant")
    return [("id", raw.get("id")), ("replyToId", raw.get("replyToId")),
            ("channelId", raw.get("channelId")),
            ("conversation.id", part("conversation").get("id")),
            ("conversation.tenantId", part("conversation").get("tenantId")),
            ("conversation.conversationType", part("conversation").get("conversationType")),
            ("from.id", part("from").get("id")), ("recipient.id", part("recipient").get("id")),
            ("channelData.tenant.id", tenant.get("id") if isinstance(tenant, dict) else None)]


def dedupe_key(activity: Activity) -> str:
    """``teams:activity:<id>@<conversation hash>``.

    Teams channel message ids are timestamps, unique only within a conversation, so the
    conversation is part of the key; hashed to keep the key short.
    """
    conversation = hashlib.sha256(str(activity.conversation.id).encode()).hexdigest()[:16]
    return f"teams:activity:{str(activity.id)[:150]}@{conversation}"


def _invoke_json(result: InvokeResponse | None) -> web.Response:
    if result is None:
        return web.Response(status=200)
    if not result.status:
        return web.Response(status=200)  # not an invoke: nothing to answer in the body
    return web.json_response(result.body, status=int(result.status))


class TeamsEndpoint:
    """The aiohttp handler for /api/messages."""

    def __init__(self, adapter: CloudAdapter, bot: ElectionBot, db: Database, *,
                 auth_required: bool) -> None:
        """Keep the adapter, the bot and whether tokens are required (app id set)."""
        self.adapter = adapter
        self.bot = bot
        self.db = db
        self.auth_required = auth_required
        settings = bot.router.services.settings
        self.auth_config = teams_auth.auth_configuration(settings)
        self.admission = Admission.from_settings(settings)
        self.pending: set[asyncio.Task[Any]] = set()

    async def handle(self, request: web.Request) -> web.Response:
        """Parse, authenticate, dedupe, run the turn."""
        if request.content_type != "application/json":
            return _error(415, "send the activity as application/json")
        try:
            raw, activity = parse_activity(await request.read())
        except BadActivity as exc:
            return _error(400, str(exc))
        try:
            auth = await teams_auth.authenticate(
                self.auth_config, str(raw["serviceUrl"]),
                request.headers.get("Authorization", ""), required=self.auth_required)
        except teams_auth.Unauthorized:
            return _error(401, "unauthorized")
        except teams_auth.AuthUnavailable:
            return _error(503, "cannot verify Bot Framework tokens right now; retry later")
        refused = await self.admission.check(self.db, raw)
        if refused is not None:  # no turn, no stored reference, nothing sent to serviceUrl
            return _error(403, refused.message)
        is_invoke = activity.type == "invoke"
        if activity.id and not await first_time(self.db, dedupe_key(activity)):
            # A retry (Teams retries invokes) or a replay: acknowledge, act once.
            return web.json_response(ALREADY_DONE) if is_invoke else web.Response(status=200)
        task = asyncio.create_task(
            self.adapter.process_activity(auth, activity, self.bot.logic_for(raw)))
        if not is_invoke:
            return _invoke_json(await task)
        try:
            return _invoke_json(await asyncio.wait_for(asyncio.shield(task), INVOKE_DEADLINE))
        except TimeoutError:
            # Keep a reference so the task is not garbage-collected; the reply is sent by the
            # turn itself when the work finishes.
            self.pending.add(task)
            task.add_done_callback(self.pending.discard)
            return web.json_response(STILL_WORKING)

    async def drain(self, _app: web.Application) -> None:
        """On shutdown: let background invokes finish before the database closes."""
        if self.pending:
            await asyncio.wait(self.pending, timeout=10)


async def _on_turn_error(context: TurnContext, error: Exception) -> None:
    # Handler errors are already turned into apologies by the router; what reaches here is
    # a failed send or an SDK problem. Log it (never the activity body) and answer normally.
    correlation_id = uuid.uuid4().hex[:12]
    # A send the connector refused or answered with garbage is the platform's doing: its type
    # says enough (and its message may quote the reply). Anything else is ours: full traceback.
    platform = type(error).__module__.split(".")[0] in PLATFORM_ERRORS
    log.error("Teams turn failed: %s", type(error).__name__,
              exc_info=None if platform else error, extra={"correlation_id": correlation_id})


def service_url_policy(settings: Any) -> ServiceUrlPolicy:
    """The configured cloud's Bot Connector hosts; loopback too in demo mode only."""
    return ServiceUrlPolicy(teams_auth.cloud_of(settings), loopback=bool(settings.demo))


def build_clients(router: Router) -> TeamsClientFactory:
    """Connector clients with this process's credentials, fenced to the configured cloud."""
    settings = router.services.settings
    return TeamsClientFactory(teams_auth.build_token_source(settings), service_url_policy(settings))


def build_adapter(clients: TeamsClientFactory) -> CloudAdapter:
    """The SDK's CloudAdapter on our connector clients."""
    adapter = CloudAdapter(channel_service_client_factory=clients)
    adapter.on_turn_error = _on_turn_error
    return adapter


async def _not_configured(_request: web.Request) -> web.Response:
    return _error(503, NOT_CONFIGURED)


def setup(app: web.Application, router: Router) -> bool:
    """Mount /api/messages; return True when a Microsoft app id is configured."""
    settings = router.services.settings
    clients = build_clients(router)
    adapter = build_adapter(clients)
    app_id = settings.env.MICROSOFT_APP_ID
    endpoint = TeamsEndpoint(adapter, ElectionBot(router), router.services.db,
                             auth_required=app_id is not None)
    # Proactive sends (incident notifications, alerts) go through the outbox.
    transport = TeamsTransport(clients, router.services.db)
    router.services.outbox.register("teams", transport)
    app.on_cleanup.append(transport.close)
    if app_id is None and not settings.demo:
        # Anonymous activities choose their sender and where replies go: demo mode only.
        app.router.add_post("/api/messages", _not_configured)
        return False
    app.router.add_post("/api/messages", endpoint.handle)
    # on_shutdown runs before any cleanup context, so the database is still open.
    app.on_shutdown.append(endpoint.drain)
    return settings.teams_enabled
