"""A fake Bot Connector (the service behind an activity's serviceUrl) on 127.0.0.1, port 0.

It records every send, answers Bot-Framework-shaped JSON, can fail the next N calls (429 with
Retry-After, 412, 502, 403 MessageWritesBlocked, ...), can enforce Teams' 7 sends per second
per conversation, and also serves an OpenID configuration + JWKS with a test RSA key so signed
tokens can be verified offline.

It runs on its own thread and event loop: the SDK fetches the signing keys with a
blocking ``requests`` call, which must never wait on the test's own loop.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import threading
import time
import uuid
from collections import defaultdict, deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import jwt
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa

ISSUER = "https://api.botframework.com"
KEY_ID = "fake-connector-key"
_KEYS: list[rsa.RSAPrivateKey] = []


def test_key() -> rsa.RSAPrivateKey:
    """One RSA key per test process (generating one costs a noticeable fraction of a second)."""
    if not _KEYS:
        _KEYS.append(rsa.generate_private_key(public_exponent=65537, key_size=2048))
    return _KEYS[0]


@dataclass
class Call:
    """One request the bot made to the connector."""

    method: str
    path: str
    conversation_id: str
    reply_to_id: str | None
    headers: dict[str, str]
    body: dict[str, Any]
    status: int

    @property
    def shown(self) -> str:
        """What a Teams user reads: the activity's text, then every text of its cards."""
        parts = [self.body.get("text") or ""]

        def walk(node: Any) -> None:
            if isinstance(node, dict):
                if node.get("type") in ("TextBlock", "TextRun") and node.get("text"):
                    parts.append(str(node["text"]))
                if node.get("type") == "FactSet":
                    parts.extend(f"{f.get('title')}: {f.get('value')}" for f in node["facts"])
                for value in node.values():
                    walk(value)
            elif isinstance(node, list):
                for value in node:
                    walk(value)
        for attachment in self.body.get("attachments") or []:
            walk(attachment.get("content"))
        return "\n".join(p for p in parts if p)


@dataclass
class _Failure:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)
    conversation: str | None = None  # None: whichever conversation is posted to next

    def applies_to(self, conversation_id: str) -> bool:
        return self.conversation is None or self.conversation == conversation_id


def _b64(number: int) -> str:
    raw = number.to_bytes((number.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


class FakeBotConnector:
    """Start with ``with FakeBotConnector() as fake:``; point serviceUrl at ``fake.url``."""

    def __init__(self, *, per_conversation_per_second: int | None = None) -> None:
        self.calls: list[Call] = []
        self.per_second = per_conversation_per_second
        self.answer_delay = 0.0  # seconds between taking a send and answering (a slow answer)
        self._failures: deque[_Failure] = deque()
        self._recent: dict[str, deque[float]] = defaultdict(deque)
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self.key = test_key()
        self.url = ""
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None

    # -- control -------------------------------------------------------------------------
    def fail_next(self, count: int, status: int, *, retry_after: float | None = None,
                  sub_code: str | None = None, conversation: str | None = None) -> None:
        """Answer the next ``count`` sends with ``status`` (e.g. 429, 412, 502, 403).

        With ``conversation``, only sends to that conversation id fail (others go through).
        """
        code = sub_code or {429: "TooManyRequests", 412: "PreconditionFailed",
                            502: "BadGateway", 403: "Forbidden"}.get(status, "Error")
        body = {"error": {"code": code, "message": f"fake {status}"}}
        if sub_code == "MessageWritesBlocked":
            body = {"error": {"code": "ConversationBlockedByUser",
                              "message": "User blocked the conversation with the bot.",
                              "innerHttpError": {"statusCode": 403,
                                                 "subCode": "MessageWritesBlocked"}}}
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        with self._lock:
            self._failures.extend(_Failure(status, body, headers, conversation)
                                  for _ in range(count))

    def sends(self) -> list[Call]:
        """Successful activity posts (replies and sends), oldest first."""
        with self._lock:
            return [c for c in self.calls if c.method == "POST" and "/activities" in c.path
                    and c.status < 300]

    async def wait_for_sends(self, count: int, timeout: float = 5.0) -> list[Call]:
        """Poll until at least ``count`` successful sends arrived; fail after ``timeout``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            sends = self.sends()
            if len(sends) >= count:
                return sends
            await asyncio.sleep(0.01)
        raise AssertionError(f"expected {count} sends, got {len(self.sends())}: {self.calls}")

    def token(self, *, app_id: str, service_url: str, issuer: str = ISSUER,
              audience: str | None = None, expires_in: int = 3600,
              key: rsa.RSAPrivateKey | None = None, **claims: Any) -> str:
        """A Bot Framework channel token signed with the test key (or another ``key``)."""
        now = int(time.time())
        payload = {"iss": issuer, "aud": audience if audience is not None else app_id,
                   "serviceurl": service_url, "nbf": now - 60, "iat": now - 60,
                   "exp": now + expires_in, **claims}
        return jwt.encode(payload, key or self.key, algorithm="RS256",
                          headers={"kid": KEY_ID})

    # -- HTTP ------------------------------------------------------------------------------
    def _record(self, request: web.Request, body: dict[str, Any], status: int) -> None:
        info = request.match_info
        with self._lock:
            self.calls.append(Call(request.method, request.path,
                                   info.get("conversation_id", ""), info.get("reply_to_id"),
                                   dict(request.headers), body, status))

    def _throttled(self, conversation_id: str) -> bool:
        if self.per_second is None:
            return False
        now = time.monotonic()
        recent = self._recent[conversation_id]
        while recent and now - recent[0] >= 1.0:
            recent.popleft()
        if len(recent) >= self.per_second:
            return True
        recent.append(now)
        return False

    def _take_failure(self, conversation_id: str) -> _Failure | None:
        for failure in self._failures:
            if failure.applies_to(conversation_id):
                self._failures.remove(failure)
                return failure
        return None

    def sends_to(self, conversation_id: str) -> list[Call]:
        """Successful posts to one conversation (new posts and replies), oldest first."""
        return [c for c in self.sends() if c.conversation_id == conversation_id]

    async def wait_for_sends_to(self, conversation_id: str, count: int,
                                timeout: float = 10.0) -> list[Call]:
        """Poll until ``count`` successful posts reached ``conversation_id``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            sends = self.sends_to(conversation_id)
            if len(sends) >= count:
                return sends
            await asyncio.sleep(0.01)
        raise AssertionError(f"expected {count} sends to {conversation_id}, got "
                             f"{len(self.sends_to(conversation_id))}: {self.calls}")

    async def _activity(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except json.JSONDecodeError:
            body = {}
        conversation_id = request.match_info["conversation_id"]
        with self._lock:
            failure = self._take_failure(conversation_id)
            if failure is None and self._throttled(conversation_id):
                failure = _Failure(429, {"error": {"code": "TooManyRequests"}},
                                   {"Retry-After": "1"})
        status = failure.status if failure else 200
        self._record(request, body, status)
        if failure:
            return web.json_response(failure.body, status=failure.status,
                                     headers=failure.headers)
        activity_id = request.match_info.get("activity_id") or f"activity-{next(self._ids)}"
        if self.answer_delay:  # the send has landed; its answer is late (a crash can fall here)
            await asyncio.sleep(self.answer_delay)
        return web.json_response({"id": activity_id})

    async def _create_conversation(self, request: web.Request) -> web.Response:
        body = await request.json()
        self._record(request, body, 200)
        number = next(self._ids)
        return web.json_response({"id": f"a:fake-conversation-{number}",
                                  "activityId": f"activity-{number}", "serviceUrl": self.url})

    async def _openid(self, _request: web.Request) -> web.Response:
        return web.json_response({"issuer": ISSUER, "jwks_uri": f"{self.url}/keys",
                                  "id_token_signing_alg_values_supported": ["RS256"]})

    async def _keys(self, _request: web.Request) -> web.Response:
        numbers = self.key.public_key().public_numbers()
        return web.json_response({"keys": [{
            "kty": "RSA", "use": "sig", "kid": KEY_ID, "n": _b64(numbers.n), "e": _b64(numbers.e),
            # Bot Framework's real keys endorse every channel of the registration.
            "endorsements": ["msteams", "emulator", "webchat", "directline"]}]})

    def _app(self) -> web.Application:
        app = web.Application()
        base = "/v3/conversations/{conversation_id}/activities"
        app.router.add_post(base, self._activity)
        app.router.add_post(base + "/{reply_to_id}", self._activity)
        app.router.add_put(base + "/{activity_id}", self._activity)
        app.router.add_post("/v3/conversations", self._create_conversation)
        app.router.add_get("/.well-known/openid-configuration", self._openid)
        app.router.add_get("/keys", self._keys)
        return app

    # -- lifecycle -------------------------------------------------------------------------
    def __enter__(self) -> FakeBotConnector:
        ready = threading.Event()

        def serve() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            self._runner = web.AppRunner(self._app(), access_log=None)
            loop.run_until_complete(self._runner.setup())
            site = web.TCPSite(self._runner, "127.0.0.1", 0)
            loop.run_until_complete(site.start())
            port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
            self.url = f"http://127.0.0.1:{port}"
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self._runner.cleanup())
            loop.close()

        self._thread = threading.Thread(target=serve, name="fake-bot-connector", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("fake Bot Connector did not start")
        return self

    def __exit__(self, *_exc: object) -> None:
        assert self._loop is not None and self._thread is not None
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)


# -- the channel side: what the Bot Framework service would send to the bot ----------------
DATA = Path(__file__).resolve().parent.parent / "data"


def load_activity(name: str, service_url: str, **changes: Any) -> dict[str, Any]:
    """A captured ``tests/data/teams_<name>.json`` activity, re-addressed to ``service_url``.

    Each call gets a fresh activity id unless ``id`` is given, so tests do not dedupe each
    other's activities.
    """
    activity = json.loads((DATA / f"teams_{name}.json").read_text(encoding="utf-8"))
    activity.update({"serviceUrl": service_url, "id": f"{activity['id']}-{uuid.uuid4().hex[:8]}"})
    activity.update(changes)
    return activity


async def post_activity(bot_url: str, activity: dict[str, Any] | bytes, *,
                        token: str | None = None, content_type: str = "application/json",
                        ) -> tuple[int, Any]:
    """POST to the bot's /api/messages; returns (status, parsed JSON body or text)."""
    headers = {"Content-Type": content_type}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    data = activity if isinstance(activity, bytes) else json.dumps(activity).encode()
    async with aiohttp.ClientSession() as session, session.post(
            f"{bot_url}/api/messages", data=data, headers=headers) as response:
        text = await response.text()
        try:
            return response.status, json.loads(text) if text else None
        except json.JSONDecodeError:
            return response.status, text


def offline_bot_framework(monkeypatch: Any, connector: FakeBotConnector, *, token: str) -> None:
    """Check Bot Framework tokens against the fake's keys and present ``token`` outbound.

    The Agents SDK picks the signing keys by the token's issuer (``api.botframework.com`` ->
    login.botframework.com); that one entry is pointed at the fake. Nothing asks Entra.
    """
    from microsoft_agents.hosting.core.authorization import _entra_issuers  # noqa: TID251

    from bot.adapters.teams import auth as teams_auth

    monkeypatch.setitem(_entra_issuers.BOTFRAMEWORK_JWKS_URIS, ISSUER, f"{connector.url}/keys")
    monkeypatch.setattr(teams_auth, "build_token_source",
                        lambda _settings: teams_auth.FixedTokenSource(token))
