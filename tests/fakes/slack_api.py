"""A fake Slack Web API on 127.0.0.1 (random port) that records calls and can misbehave.

Usage::

    async with FakeSlackApi() as fake:
        env = {"SLACK_API_URL": fake.api_url, ...}
        fake.fail("chat.postMessage", status=429, retry_after=1)        # next call only
        fake.fail("chat.postMessage", error="channel_not_found", times=3)
        fake.rate_limit_per_channel = 1.0                                  # msgs/s, else 429
        fake.delays["auth.test"] = 5.0                                     # a slow Slack
        await fake.wait_for("chat.postMessage")
        fake.calls_to("chat.postMessage")[0].params["channel"]

Also serves ``/response/<id>`` (the response_url) and a Socket Mode websocket at ``/socket``.

Many workspaces: ``fake.add_workspace("T1", token="xoxb-1", code="c1")`` makes oauth.v2.access
answer code ``c1`` (once) with a Slack-shaped bot install of T1, and auth.test answer for token
``xoxb-1`` with T1's ids; other tokens keep the single-workspace answer.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import WSMsgType, web

from tests.fakes.slack_workspaces import Workspace, WorkspacesMixin


@dataclass
class Call:
    """One request the bot made: Web API method (or ``response_url``) and its arguments."""

    method: str
    params: dict[str, Any]
    headers: dict[str, str]
    at: float = field(default_factory=time.monotonic)


@dataclass
class Failure:
    """A programmed misbehaviour for the next ``times`` calls of one method."""

    times: int
    status: int = 200
    error: str | None = None
    retry_after: int | None = None
    channel: str | None = None  # only calls to this channel misbehave


class FakeSlackApi(WorkspacesMixin):
    """The fake server; see the module docstring."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.failures: dict[str, list[Failure]] = defaultdict(list)
        self.rate_limit_per_channel: float | None = None
        self.delays: dict[str, float] = {}  # method -> seconds, to play a slow Slack
        self.answer_delays: dict[str, float] = {}  # method -> seconds after it took effect
        self.scopes: str | None = None  # granted bot scopes, sent as X-OAuth-Scopes
        self.socket_envelopes: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.socket_acks: list[dict[str, Any]] = []
        self.rate_limit_burst = 2
        self._buckets: dict[str, tuple[float, float]] = {}
        self.history: dict[str, list[dict[str, Any]]] = defaultdict(list)  # channel -> newest first
        # users.info: user id -> what Slack says of them (real_name, profile.display_name, tz)
        self.users: dict[str, dict[str, Any]] = {}
        self._ts = itertools.count(1)
        self.workspaces: dict[str, Workspace] = {}  # by bot token
        self.install_codes: dict[str, Workspace] = {}  # oauth.v2.access codes, single use
        self._tokens = itertools.count(1)
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self.url = ""

    @property
    def api_url(self) -> str:
        """The value for SLACK_API_URL (trailing slash, as slack_sdk expects)."""
        return f"{self.url}/api/"

    def response_url(self, name: str = "1") -> str:
        """A response_url that records what is posted to it."""
        return f"{self.url}/response/{name}"

    async def __aenter__(self) -> FakeSlackApi:
        app = web.Application(client_max_size=4 * 1024 * 1024)
        app.router.add_post("/api/{method}", self._api)
        app.router.add_get("/api/{method}", self._api)  # conversations.history and friends
        app.router.add_post("/response/{name}", self._response)
        app.router.add_get("/socket", self._socket)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._runner is not None
        await self._runner.cleanup()

    # -- programming and inspecting --------------------------------------------------------

    def fail(self, method: str, *, status: int = 200, error: str | None = None,
             retry_after: int | None = None, times: int = 1, channel: str | None = None) -> None:
        """Answer the next ``times`` calls of ``method`` (to ``channel`` if given) with 429 /
        5xx / an ``ok: false``."""
        if status == 429 and retry_after is None:
            retry_after = 1
        self.failures[method].append(Failure(times, status, error, retry_after, channel))

    def calls_to(self, method: str, **params: Any) -> list[Call]:
        """Recorded calls of one method (``response`` for response_url posts), optionally only
        those whose params include ``params`` (e.g. ``channel="C1"``)."""
        return [c for c in self.calls if c.method == method
                and all(c.params.get(k) == v for k, v in params.items())]

    async def wait_for(self, method: str, count: int = 1, timeout: float = 10.0,
                       **params: Any) -> list[Call]:
        """Wait until ``method`` was called at least ``count`` times (matching ``params``)."""
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(
                lambda: len(self.calls_to(method, **params)) >= count), timeout)
        return self.calls_to(method, **params)

    async def _record(self, call: Call) -> None:
        async with self._changed:
            self.calls.append(call)
            self._changed.notify_all()

    # -- HTTP --------------------------------------------------------------------------------

    async def _params(self, request: web.Request) -> dict[str, Any]:
        raw = await request.text()
        if request.content_type == "application/json":
            return json.loads(raw or "{}")
        params: dict[str, Any] = dict(parse_qsl(raw, keep_blank_values=True))
        params.update(request.query)
        return params

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = await self._params(request)
        await self._record(Call(method, params, dict(request.headers)))
        if self.delays.get(method):
            await asyncio.sleep(self.delays[method])
        failure = self._take_failure(method, str(params.get("channel", "")))
        if failure is not None:
            return self._failure_response(failure)
        if method == "chat.postMessage" and self._rate_limited(str(params.get("channel", ""))):
            return web.json_response({"ok": False, "error": "ratelimited"}, status=429,
                                     headers={"Retry-After": "1"})
        answer = self._workspace_answer(method, params, request.headers) or \
            self._answer(method, params)
        if not answer.get("ok", True):
            return web.json_response(answer)
        if method == "chat.postMessage":
            self.history[answer["channel"]].insert(0, {
                "type": "message", "ts": answer["ts"], "text": params.get("text", ""),
                "metadata": params.get("metadata")})
        if self.answer_delays.get(method):  # landed; the answer is late (a crash can fall here)
            await asyncio.sleep(self.answer_delays[method])
        headers = {"X-OAuth-Scopes": self.scopes} if self.scopes is not None else None
        return web.json_response(answer, headers=headers)

    def _take_failure(self, method: str, channel: str) -> Failure | None:
        queue = self.failures.get(method) or []
        failure = next((f for f in queue if f.channel in (None, channel)), None)
        if failure is None:
            return None
        failure.times -= 1
        if failure.times <= 0:
            queue.remove(failure)
        return failure

    @staticmethod
    def _failure_response(failure: Failure) -> web.Response:
        headers = {"Retry-After": str(failure.retry_after)} if failure.retry_after else {}
        error = failure.error or ("ratelimited" if failure.status == 429 else "internal_error")
        return web.json_response({"ok": False, "error": error}, status=failure.status,
                                 headers=headers)

    def _rate_limited(self, channel: str) -> bool:
        # Slack allows "about 1 per second per channel, with short bursts": a token bucket
        # holding ``rate_limit_burst`` posts, refilled at ``rate_limit_per_channel``.
        if self.rate_limit_per_channel is None:
            return False
        now = time.monotonic()
        tokens, last = self._buckets.get(channel, (float(self.rate_limit_burst), now))
        tokens = min(float(self.rate_limit_burst), tokens + (now - last) * self.rate_limit_per_channel)
        if tokens < 1.0:
            self._buckets[channel] = (tokens, now)
            return True
        self._buckets[channel] = (tokens - 1.0, now)
        return False

    def _answer(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        channel = str(params.get("channel", "C0FAKE"))
        ts = f"1700000000.{next(self._ts):06d}"
        user = str(params.get("user") or params.get("users") or "U0FAKE")
        answers: dict[str, dict[str, Any]] = {
            "auth.test": {"url": "https://fake.slack.com/", "team": "Fake", "user": "electionbot",
                          "team_id": "T0TEST", "user_id": "UBOT", "bot_id": "B0BOT"},
            "chat.postMessage": {"channel": channel, "ts": ts,
                                 "message": {"text": params.get("text", ""), "ts": ts}},
            "chat.postEphemeral": {"message_ts": ts},
            "chat.update": {"channel": channel, "ts": params.get("ts", ts)},
            "conversations.open": {"channel": {"id": f"D{user}"}},
            "conversations.history": {"messages": self.history.get(channel, [])[
                : int(params.get("limit") or 100)], "has_more": False},
            "users.lookupByEmail": {"user": {"id": "U0BYMAIL", "team_id": "T0TEST",
                                             "profile": {"email": params.get("email")}}},
            "users.info": {"user": {"id": user, "team_id": "T0TEST", "name": "someone",
                                    "deleted": False, "is_bot": False,
                                    **self.users.get(user, {})}},
            "views.open": {"view": {"id": "V0FAKE", **_view(params)}},
            "views.update": {"view": {"id": params.get("view_id", "V0FAKE"), **_view(params)}},
            "views.push": {"view": {"id": "V0PUSHED", **_view(params)}},
            "views.publish": {"view": {"id": "V0HOME", **_view(params)}},
            "apps.connections.open": {"url": self.url.replace("http", "ws", 1) + "/socket"},
        }
        return {"ok": True, **answers.get(method, {})}

    async def _response(self, request: web.Request) -> web.Response:
        params = await self._params(request)
        await self._record(Call("response", params, dict(request.headers)))
        return web.Response(text="ok")

    # -- Socket Mode ---------------------------------------------------------------------------

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        """Say hello, then push queued envelopes and record the bot's acks."""
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_json({"type": "hello", "num_connections": 1})
        sender = asyncio.create_task(self._push(ws))
        try:
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    self.socket_acks.append(json.loads(msg.data))
                    await self._record(Call("socket.ack", json.loads(msg.data), {}))
        finally:
            sender.cancel()
        return ws

    async def _push(self, ws: web.WebSocketResponse) -> None:
        while True:
            envelope = await self.socket_envelopes.get()
            await ws.send_json(envelope)


def _view(params: dict[str, Any]) -> dict[str, Any]:
    view = params.get("view") or {}
    return json.loads(view) if isinstance(view, str) else dict(view)
