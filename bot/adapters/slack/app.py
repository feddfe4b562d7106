"""Slack adapter: a slack-bolt ``AsyncApp`` behind ``POST /slack/events``, plus Socket Mode.

Every HTTP request is checked here before Bolt sees it (size, signature, content type, body
shape), because Bolt turns a non-numeric timestamp or a malformed body into a 500 and logs the
body of a bad request. Only then does Bolt route it to :mod:`bot.adapters.slack.listeners`.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import hmac
import json
import logging
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any
from urllib.parse import unquote, urlencode

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.logger import get_bolt_app_logger
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters import http_input
from bot.adapters.slack.home import ClientFor
from bot.adapters.slack.listeners import Connections, SlackListeners
from bot.adapters.slack.oauth import add_routes, build_workspaces, oauth_options
from bot.adapters.slack.profiles import slack_lookup
from bot.adapters.slack.send import SlackTransport, build_send_client
from bot.adapters.slack.translate import to_incoming_message
from bot.adapters.slack.workspaces import Workspaces, refuse_workspace, workspace_id
from bot.config.settings import Settings
from bot.db.engine import Database
from bot.router import Router

__all__ = ["build_bolt_app", "setup", "to_incoming_message", "verify_signature"]

log = logging.getLogger(__name__)
MAX_BODY = 1024 * 1024
WINDOW = 300  # seconds, past and future (Slack's replay window)
MAX_TIMESTAMP_DIGITS = 12  # Unix seconds; a longer value cannot be inside the window
# What a person typed or Slack quotes of it: NULs and lone surrogates are cleaned there (the
# report is kept); anywhere else they make the request a 400.
FREE_TEXT = ("text", "value", "values", "message", "previous_message", "blocks", "attachments",
             "title", "initial_value")
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
BOLT: web.AppKey[AsyncApp] = web.AppKey("slack_bolt", AsyncApp)
APP_TOKEN: web.AppKey[str] = web.AppKey("slack_app_token", str)
HOME_WAIT = 2.0  # seconds a request from an unlisted workspace waits for auth.test
NOT_ADMITTED = ("This Slack workspace is not connected to the election office's assistant "
                "(not installed, or not approved by the office). Ask your election office.")


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


def verify_signature(secret: str, body: bytes, timestamp: str | None, signature: str | None,
                     now: float | None = None) -> bool:
    """Slack's v0 HMAC check; any missing, non-numeric or out-of-window value is a failure."""
    # ASCII digits of a sane length before int(): a 400-digit value overflows the float
    # arithmetic below, and str.isdigit alone accepts superscripts.
    if (not timestamp or not signature or not timestamp.isascii() or not timestamp.isdigit()
            or len(timestamp) > MAX_TIMESTAMP_DIGITS):
        return False
    if abs((time.time() if now is None else now) - int(timestamp)) > WINDOW:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """Slack's v0 signature of ``body`` at ``timestamp``."""
    base = b"v0:" + timestamp.encode() + b":" + body
    # hmac.digest is OpenSSL's one-shot HMAC: the same bytes without an HMAC object per call.
    return "v0=" + hmac.digest(secret.encode(), base, "sha256").hex()


def parse_body(content_type: str, text: str,
               cleaned: list[str] | None = None) -> dict[str, Any]:
    """Parse the body into a dict (interaction payloads decoded); ValueError when malformed.

    JSON (the body or a form's ``payload=``) is parsed within :mod:`bot.adapters.http_input`'s limits;
    free text is cleaned of NULs and lone surrogates (their paths appended to ``cleaned``).
    """
    if content_type == JSON:
        data = http_input.loads(text, free_text=FREE_TEXT, cleaned=cleaned)
    else:
        data = http_input.sanitize(parse_form(text), free_text=FREE_TEXT, cleaned=cleaned)
        if "payload" in data:
            data = http_input.loads(data["payload"], free_text=FREE_TEXT, what="payload",
                                    cleaned=cleaned)
    if not isinstance(data, dict):
        raise ValueError("body is not an object")
    check_shape(data)
    return data


def parse_form(text: str) -> dict[str, str]:
    """A form body, first value of each name; ValueError for a field without ``=``.

    The same as ``parse_qs(text, keep_blank_values=True, strict_parsing=True)`` (an empty
    body is ``{}``), written out because every slash command is a form: the standard
    library's layers of generic parsing were a visible share of a command's CPU.
    """
    data: dict[str, str] = {}
    if not text:
        return data
    for field in text.split("&"):
        name, sep, value = field.partition("=")
        if not sep:
            raise ValueError("bad form field")
        name = unquote(name.replace("+", " "))
        if name not in data:
            data[name] = unquote(value.replace("+", " "))
    return data


def reencode(content_type: str, data: dict[str, Any], text: str) -> str:
    """The body Bolt gets after free text was cleaned (same shape as Slack sent)."""
    if content_type == JSON:
        return json.dumps(data)
    if "payload=" in text:
        return urlencode({"payload": json.dumps(data)})
    return urlencode(data)


OBJECT_KEYS = ("event", "view", "user", "team", "channel", "container", "message", "enterprise")
LIST_KEYS = ("actions", "authorizations", "response_urls")
ID_KEYS = ("user", "team", "channel", "enterprise")  # Bolt accepts a string or an object
NESTED_KEYS = ("event", "message", "previous_message", "item", "assistant_thread")


MATCHED_KEYS = ("type", "callback_id", "action_id", "block_id", "command")


def _strings(where: str, data: dict[str, Any]) -> None:
    for key in MATCHED_KEYS:  # Bolt matches these with regular expressions
        if data.get(key) is not None and not isinstance(data[key], str):
            raise ValueError(f"{where}{key} must be a string")


def check_shape(data: dict[str, Any]) -> None:
    """Refuse fields of the wrong JSON type: Bolt's middleware would fail on them with a 500.

    Mirrors what ``slack_bolt.request.payload_utils`` and the built-in matchers index without
    checking, so every signed payload Bolt cannot handle is a 400 here (or a 404 from Bolt
    when it is well-formed but nobody listens), never a 500.
    """
    _strings("", data)
    for key in OBJECT_KEYS:
        if data.get(key) is not None and not isinstance(data[key], dict):
            raise ValueError(f"{key} must be an object")
    for key in LIST_KEYS:
        value = data.get(key)
        if value is not None and not (isinstance(value, list)
                                      and all(isinstance(v, dict) for v in value)):
            raise ValueError(f"{key} must be a list of objects")
    state = (data.get("view") or {}).get("state")
    values = state.get("values") if isinstance(state, dict) else state
    if values is not None and not (isinstance(values, dict) and all(
            isinstance(v, dict) and all(isinstance(e, dict) for e in v.values())
            for v in values.values())):
        raise ValueError("view.state.values must map block ids to objects")
    _ids("", data)
    _workspace_ids(data)
    _check_by_type(data)


SLACK_ID = re.compile(r"[A-Za-z0-9_-]{1,40}")


def _workspace_ids(data: dict[str, Any]) -> None:
    """Team and enterprise ids decide admission and go into the audit log: Slack-shaped only."""
    found = [("team_id", data.get("team_id")), ("enterprise_id", data.get("enterprise_id"))]
    for key in ("team", "enterprise"):
        if isinstance(data.get(key), dict):
            found.append((f"{key}.id", data[key].get("id")))
    if isinstance(data.get("user"), dict):
        found.append(("user.team_id", data["user"].get("team_id")))
    for name, value in found:
        if value is None or (value == "" and "enterprise" in name):
            continue
        if not isinstance(value, str) or not SLACK_ID.fullmatch(value):
            raise ValueError(f"{name} must be a Slack id")


def _ids(where: str, data: dict[str, Any]) -> None:
    """Where Bolt extracts ids (its ``request.internals``), the shapes it can read."""
    for key in ID_KEYS:
        if data.get(key) is not None and not isinstance(data[key], str | dict):
            raise ValueError(f"{where}{key} must be a string or an object")
    for key in NESTED_KEYS:
        inner = data.get(key)
        if inner is not None:
            if not isinstance(inner, dict):
                raise ValueError(f"{where}{key} must be an object")
            _ids(f"{where}{key}.", inner)  # as deep as the JSON (at most 64 levels)
    for authorization in data.get("authorizations") or []:
        if isinstance(authorization, dict):
            _ids(f"{where}authorizations[].", authorization)


INTERACTIONS = ("block_actions", "view_submission", "view_closed", "shortcut", "message_action",
                "block_suggestion", "interactive_message", "dialog_submission")


def _check_by_type(data: dict[str, Any]) -> None:
    kind = data.get("type")
    if kind in INTERACTIONS:
        # Replies and confirmations go to this user: Slack always names them, and a row
        # queued for "slack:T…:" (no user) could never be delivered.
        user = data.get("user")
        if not isinstance(user, dict) or not isinstance(user.get("id"), str) or not user["id"]:
            raise ValueError("user must be an object with an id")
    if "command" in data and not (isinstance(data.get("user_id"), str) and data["user_id"]):
        raise ValueError("a command needs a user_id")
    if kind == "event_callback":
        event = data.get("event")
        if not isinstance(event, dict) or not isinstance(event.get("type"), str):
            raise ValueError("event must be an object with a type")
        _strings("event.", event)
        for key in ("workflow_step", "message", "previous_message"):
            if event.get(key) is not None and not isinstance(event[key], dict):
                raise ValueError(f"event.{key} must be an object")
    if kind in ("block_actions", "interactive_message") and "actions" in data:
        actions = data["actions"]
        if not actions:  # Bolt reads actions[0]
            raise ValueError("actions must not be empty")
        for action in actions:
            _strings("actions[].", action)
        if kind == "block_actions" and not all(isinstance(a.get("action_id"), str)
                                               for a in actions):
            raise ValueError("every action needs an action_id")
    if kind in ("view_submission", "view_closed"):
        view = data.get("view")
        if not isinstance(view, dict) or not isinstance(view.get("type"), str):
            raise ValueError("view must be an object with a type")
        _strings("view.", view)
        if view["type"] == "workflow_step" and not isinstance(data.get("workflow_step"), dict):
            raise ValueError("workflow_step must be an object")
    if kind == "workflow_step_edit" and not isinstance(data.get("workflow_step"), dict):
        raise ValueError("workflow_step must be an object")


class BotIdentity:
    """The bot token, plus the bot's ids learned by one auth.test in the background.

    Bolt's single-token authorization awaits auth.test inside the first request, before the
    ack; a slow or unreachable Slack API would then break the 3 s deadline. Here the ids fill
    in when known (self-messages are also filtered by bot_id / subtype, mentions via the
    event's ``authorizations``), so no ack ever waits on the Web API.
    """

    def __init__(self, client: AsyncWebClient, admitted: frozenset[str] | None = None,
                 db: Database | None = None) -> None:
        """Keep the client whose token authorizes every request.

        With ``admitted`` (app.yaml ``slack.workspaces``), requests from any other workspace
        than those and the token's own are refused (and audited in ``db``).
        """
        self.client = client
        self.admitted = admitted
        self.db = db
        self.user_id: str | None = None
        self.bot_id: str | None = None
        self.team_id: str | None = None
        self._learning: asyncio.Future[None] | None = None

    async def _admits(self, enterprise_id: str | None, team_id: str | None) -> bool:
        enterprise_id, team_id = workspace_id(enterprise_id), workspace_id(team_id)
        if self.admitted is None or (team_id and team_id in self.admitted) or (
                enterprise_id and enterprise_id in self.admitted):
            return True
        if self.team_id is None and self._learning is not None:
            # Only a workspace not on the list waits for the token's own team (once).
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(self._learning), HOME_WAIT)
        return self.team_id is not None and self.team_id == team_id

    async def authorize(self, enterprise_id: str | None, team_id: str | None,
                        user_id: str | None) -> AuthorizeResult | None:
        """Bolt's ``authorize`` hook: answer at once, learn the ids once in the background.

        None (Bolt then answers with its user-facing refusal) for a workspace not admitted.
        """
        if self._learning is None:
            self._learning = asyncio.ensure_future(self._learn())
        if not await self._admits(enterprise_id, team_id):
            if self.db is not None:
                await refuse_workspace(self.db, enterprise_id, team_id)
            return None
        return AuthorizeResult(enterprise_id=enterprise_id, team_id=team_id, user_id=user_id,
                               bot_token=self.client.token, bot_user_id=self.user_id,
                               bot_id=self.bot_id)

    def as_authorize(self) -> Callable[..., Awaitable[AuthorizeResult | None]]:
        """Wrap ``authorize`` in a plain function (Bolt fills arguments by name)."""

        async def authorize(enterprise_id: str | None, team_id: str | None,
                            user_id: str | None) -> AuthorizeResult | None:
            return await self.authorize(enterprise_id, team_id, user_id)

        return authorize

    async def _learn(self) -> None:
        try:
            response = await self.client.auth_test()
            self.user_id, self.bot_id = response.get("user_id"), response.get("bot_id")
            self.team_id = response.get("team_id")
        except Exception as exc:
            log.warning("slack auth.test failed", extra={"error": type(exc).__name__})
            self._learning = None  # try again on a later request


class _App(AsyncApp):
    """Bolt's ``AsyncApp``, with a cheaper Web API client per request.

    Bolt gives every request its own client (authorization then sets that request's token on
    it), built with ``AsyncWebClient(...)`` from the app's client; that constructor reads the
    proxy environment variables again and rebuilds the user agent, a visible share of a slash
    command's CPU. A shallow copy of the app's client is the same client (the same settings,
    session and headers dict, which Bolt shares too), with this request's own token, team and
    retry-handler list, so setting a token never touches the app's client.
    """

    def _init_context(self, req: AsyncBoltRequest) -> None:
        """What Bolt's own does (logger, token, client, listener runner), with the copy."""
        req.context["logger"] = get_bolt_app_logger(app_name=self.name,
                                                    base_logger=self._base_logger)
        req.context["token"] = self._token
        client = copy.copy(self._async_client)
        client.token = self._token.strip() if self._token is not None else None
        team_id = req.context.team_id
        client.default_params = {"team_id": team_id} if team_id else {}
        handlers = self._async_client.retry_handlers
        client.retry_handlers = handlers.copy() if handlers is not None else None
        req.context["client"] = client
        req.context["listener_runner"] = self.listener_runner


def web_client(settings: Settings, token: str | None = None) -> AsyncWebClient:
    """Build a Web API client at SLACK_API_URL that retries only 429s, after Retry-After."""
    # No server-error or connection-error retries: a retried chat.postMessage whose first
    # attempt landed would post twice.
    return AsyncWebClient(token=token, base_url=settings.env.SLACK_API_URL,
                          retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=2)])


def build_bolt_app(settings: Settings, router: Router | None = None,
                   workspaces: Workspaces | None = None,
                   client_for: ClientFor | None = None,
                   connections: Connections | None = None) -> AsyncApp:
    """Build the Bolt app: Web API at SLACK_API_URL, 429-only retries, signatures checked.

    With ``workspaces`` (SLACK_CLIENT_ID set) requests are authorized by their workspace's
    installation, SLACK_BOT_TOKEN answering for a workspace without one when it is set.
    ``connections`` (the outbox transport's pool) carries the response_url answers.
    """
    env = settings.env
    single = env.SLACK_BOT_TOKEN.get_secret_value() if env.SLACK_BOT_TOKEN else None
    # Alone, the single token checks admission itself; as the OAuth fallback, the
    # installation authorize has checked it already.
    admitted = frozenset(settings.app.slack.workspaces) if workspaces is None else None
    db = router.services.db if router is not None else None
    identity = (BotIdentity(web_client(settings, single), admitted, db).as_authorize()
                if single else None)
    # Bolt logs request bodies of bad signatures at INFO; keep it at WARNING.
    logging.getLogger("slack_bolt").setLevel(logging.WARNING)
    secret = env.SLACK_SIGNING_SECRET
    auth: dict[str, Any] = ({"authorize": identity} if workspaces is None
                            else oauth_options(settings, workspaces, identity))
    bolt = _App(
        # Token-less: every request gets the token from ``authorize`` (Bolt warns otherwise).
        client=web_client(settings),
        signing_secret=secret.get_secret_value() if secret else None,
        # The HTTP endpoint (_make_handler) verifies every signature before Bolt is called
        # (and answers 503 without a secret); Socket Mode has none. Checking again in Bolt's
        # middleware would only hash every body twice.
        request_verification_enabled=False,
        process_before_response=False,
        logger=logging.getLogger("slack_bolt.app"),
        user_facing_authorize_error_message=NOT_ADMITTED,
        **auth,
    )
    if workspaces is not None:
        # Before our listeners: tokens_revoked / app_uninstalled delete the installation.
        bolt.enable_token_revocation_listeners()
    if router is not None:
        SlackListeners(router, client_for, connections).register(bolt)
    return bolt


async def _read(request: web.Request) -> bytes | web.Response:
    if request.content_length is not None and request.content_length > MAX_BODY:
        return _error(413, "body too large (at most 1 MB)")
    try:
        return await request.read()
    except web.HTTPRequestEntityTooLarge:
        return _error(413, "body too large (at most 1 MB)")


def _make_handler(bolt: AsyncApp, secret: str | None) -> Any:
    async def events(request: web.Request) -> web.StreamResponse:
        raw = await _read(request)
        if isinstance(raw, web.Response):
            return raw
        if secret is None:
            return _error(503, "Slack runs in Socket Mode here; HTTP events are not accepted")
        headers = request.headers
        if not verify_signature(secret, raw, headers.get("X-Slack-Request-Timestamp"),
                                headers.get("X-Slack-Signature")):
            return _error(401, "invalid request signature")
        if request.content_type not in (FORM, JSON):
            return _error(415, f"send {FORM} or {JSON}")
        cleaned: list[str] = []
        try:
            text = raw.decode("utf-8")
            body = parse_body(request.content_type, text, cleaned)
        except http_input.InputError as exc:
            return _error(400, f"malformed body: {exc}")
        except (UnicodeDecodeError, ValueError):
            return _error(400, "malformed body")
        bolt_headers: dict[str, str | Sequence[str]] = {k.lower(): v for k, v in headers.items()}
        if cleaned:
            # Free text lost a NUL or a lone surrogate: Bolt gets the cleaned body, signed
            # again with the same timestamp (the original signature was verified above).
            text = reencode(request.content_type, body, text)
            bolt_headers["x-slack-signature"] = sign(
                secret, headers["X-Slack-Request-Timestamp"], text.encode())
        bolt_request = parsed_request(text, body, request.query_string, bolt_headers)
        response = await bolt.async_dispatch(bolt_request)
        if response.status == 404 and body.get("type") == "event_callback":
            # An event nobody listens to: answer 2xx so Slack neither retries nor disables us.
            return web.Response(status=200)
        if response.status == 200 and not response.body and response.headers.keys() <= _PLAIN:
            return web.Response(content_type="text/plain")  # the plain ack (most requests)
        return await to_aiohttp_response(response)

    return events


_PLAIN = {"content-type"}


def parsed_request(text: str, body: dict[str, Any], query: str,
                   headers: dict[str, str | Sequence[str]]) -> AsyncBoltRequest:
    """Bolt's request for a body already parsed and checked here: Bolt does not parse it again.

    Bolt's own parse would be a second one per request, and a wrong one for a form whose text
    merely contains the word "payload" (it takes any such body for an interaction and finds
    nothing: ``/ask what is a payload`` became ``{}``, refused as from an unknown workspace). Built
    as Socket Mode builds it (the dict taken as it is), then marked an HTTP request again
    with its raw body, which is what Bolt checks in HTTP mode.
    """
    built = AsyncBoltRequest(body=body, query=query, headers=headers, mode="socket_mode")
    built.mode = "http"
    built.raw_body = text
    return built


async def _disabled(_request: web.Request) -> web.Response:
    return _error(503, "Slack is not configured on this server: set SLACK_BOT_TOKEN (or "
                       "SLACK_CLIENT_ID for many workspaces) and SLACK_SIGNING_SECRET (see README)")


def setup(app: web.Application, router: Router) -> bool:
    """Mount /slack/events, the install routes (and Socket Mode) and the outbox transport."""
    settings = router.services.settings
    if not settings.slack_enabled:
        app.router.add_post("/slack/events", _disabled)
        return False
    db, single = router.services.db, settings.env.SLACK_BOT_TOKEN
    workspaces = (build_workspaces(settings, db, web_client(settings))
                  if settings.slack_oauth_enabled else None)
    client = build_send_client(settings.env.SLACK_API_URL,
                               single.get_secret_value() if single else None)
    transport = SlackTransport(client, db, tokens=workspaces.bot_token if workspaces else None)
    bolt = build_bolt_app(settings, router, workspaces, transport.client_for,
                          transport.connections)
    app[BOLT] = bolt
    router.services.outbox.register("slack", transport)
    router.services.people.register("slack", slack_lookup(transport.client_for))

    async def close_transport(_app: web.Application) -> None:
        await router.services.homes.aclose()  # no republish after this
        await transport.aclose()  # after the outbox (cleanup contexts run first)
    app.on_cleanup.append(close_transport)
    if workspaces is not None:
        add_routes(app, bolt)
    secret = settings.env.SLACK_SIGNING_SECRET
    app.router.add_post("/slack/events",
                        _make_handler(bolt, secret.get_secret_value() if secret else None))
    if settings.env.SLACK_APP_TOKEN is not None:
        app[APP_TOKEN] = settings.env.SLACK_APP_TOKEN.get_secret_value()
        app.cleanup_ctx.append(_socket_mode)
    return True


async def _connect(handler: AsyncSocketModeHandler, first_delay: float = 1.0) -> None:
    """Keep trying to open the Socket Mode connection (capped backoff); the SDK reconnects after."""
    delay = first_delay
    while True:
        try:
            await handler.connect_async()
            return
        except Exception as exc:
            # Token problems and outages are logged by kind only: messages may echo the token.
            log.error("slack socket mode connect failed", extra={"error": type(exc).__name__})
        await asyncio.sleep(delay)
        delay = min(delay * 2, 60.0)


async def _socket_mode(app: web.Application) -> AsyncIterator[None]:
    """Connect Socket Mode in the background with the server and close it on shutdown."""
    # Built here, inside the running loop: the client opens an aiohttp session on creation.
    handler = AsyncSocketModeHandler(app[BOLT], app_token=app[APP_TOKEN])
    task = asyncio.create_task(_connect(handler))
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    with contextlib.suppress(Exception):
        await handler.close_async()
