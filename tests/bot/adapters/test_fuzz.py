"""Seeded fuzzing of every route: thousands of malformed requests, no 5xx, no traceback.

Set FUZZ_SEED to replay a run and FUZZ_REQUESTS to change its size; the seed and a
reproduction of each failing request are in the assertion message. The figures of a run
(requests, answers by status class, seconds) are printed (``pytest -s`` shows them);
FUZZ_DIAG=1 also prints the last frames of each logged traceback.
"""

from __future__ import annotations

import asyncio
import copy
import gzip
import json
import logging
import os
import random
import time
import zlib
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import aiohttp
import pytest

from bot.adapters.teams import auth as teams_auth
from tests.bot.adapters.slack.slack_support import (
    FORM,
    SlackBot,
    eventually,
    load,
    query,
    signed_headers,
    slack_bot,
)
from tests.fakes.bot_connector import FakeBotConnector, load_activity, offline_bot_framework
from tests.handlers.incidents.conftest import INCIDENTS, ROLES, report_values
from tests.support import RunningBot, make_settings, running_bot

SEED = int(os.environ.get("FUZZ_SEED", "20261103"))
REQUESTS = int(os.environ.get("FUZZ_REQUESTS", "3200"))
BUDGET = 40.0  # seconds for the whole run, server start included
APP_ID = "00000000-0000-0000-0000-0000000b0771"
JSON = "application/json"
HUGE = "__HUGE_INT__"
TEXTS = ["help", "what is the pause method", "", " ", "incident", "incident list mine",
         "\u00b2\u0663\uff11", "<!channel> <@U1>", "x" * 5000, "\u202e\u0000", "who should i vote for"]
ODD = [None, 0, -1, 1.5e308, "", [], {}, True, "x" * 3000, "\u00b2", "\ud800", "a\x00b",
       HUGE, [[[[[]]]]], {"type": None}, "\ufeff", -(2 ** 63)]
TYPES = [JSON, FORM, "text/plain", "multipart/form-data; boundary=x", "application/json; "
         "charset=latin-1", "", "application/xml", "application/x-www-form-urlencoded; charset=x"]


@dataclass
class Request:
    """One generated request, described well enough to replay it."""

    method: str
    url: str
    data: bytes | None
    headers: dict[str, str]
    what: str


@dataclass
class Results:
    statuses: Counter[str] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)


class LoggedTracebacks(logging.Handler):
    """Records at ERROR or above that carry a traceback."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info or "Traceback" in record.getMessage():
            self.records.append(f"{record.name}: {record.getMessage()}")
            if os.environ.get("FUZZ_DIAG") and record.exc_info:
                import traceback
                lines = traceback.format_exception(*record.exc_info)
                print("DIAG", "".join(lines[-3:]).replace("\n", " | ")[-400:])


# -- generators --------------------------------------------------------------------------------

def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _paths(value, (*prefix, index))


def mutate(obj: Any, rng: random.Random) -> Any:
    """Replace, delete or add one field somewhere in a JSON value (a deep copy is changed)."""
    obj = json.loads(json.dumps(obj))
    for _ in range(rng.randint(1, 3)):
        paths = [p for p in _paths(obj) if p]
        if not paths:
            return copy.deepcopy(rng.choice(ODD))
        path = rng.choice(paths)
        parent = obj
        for step in path[:-1]:
            parent = parent[step]
        choice = rng.random()
        if choice < 0.2 and isinstance(parent, dict):
            del parent[path[-1]]
        elif choice < 0.3 and isinstance(parent, dict):
            parent[rng.choice(["\ud800", "extra", "type", "\x00"])] = copy.deepcopy(rng.choice(ODD))
        else:
            parent[path[-1]] = copy.deepcopy(rng.choice(ODD))
    return obj


def dumps(obj: Any, rng: random.Random) -> bytes:
    """JSON with the huge-integer placeholder expanded (json.dumps refuses such ints)."""
    text = json.dumps(obj)
    return text.replace(f'"{HUGE}"', "9" * rng.choice([51, 400, 4301, 20000])).encode()


def nested(rng: random.Random) -> bytes:
    depth = rng.choice([65, 100, 1000, 5000, 30000])
    if rng.random() < 0.5:
        return b"[" * depth + b"]" * depth
    return b'{"a":' * depth + b"1" + b"}" * depth


def body_noise(base: bytes, rng: random.Random) -> tuple[bytes, dict[str, str], str]:
    """Byte-level damage to a body: returns (body, extra headers, what)."""
    kind = rng.choice(["random", "truncated", "nested", "gzip", "deflate", "garbage_gzip",
                       "content_type", "nul", "oversized", "invalid_utf8", "empty"])
    if kind == "random":
        return rng.randbytes(rng.randint(0, 2000)), {}, kind
    if kind == "truncated":
        return base[: rng.randint(0, max(len(base) - 1, 0))], {}, kind
    if kind == "nested":
        return nested(rng), {}, kind
    if kind == "gzip":
        return gzip.compress(base), {"Content-Encoding": "gzip"}, kind
    if kind == "deflate":
        return zlib.compress(base), {"Content-Encoding": "deflate"}, kind
    if kind == "garbage_gzip":
        encoding = rng.choice(["gzip", "br", "deflate", "x-nope", "gzip, gzip"])
        return b"\x1f\x8b\x08\x00" + rng.randbytes(64), {"Content-Encoding": encoding}, kind
    if kind == "content_type":
        return base, {"Content-Type": rng.choice(TYPES)}, kind
    if kind == "nul":
        return base.replace(b'"', b'"\x00', 1), {}, kind
    if kind == "oversized" and rng.random() < 0.15:
        return b'{"a": "' + b"x" * (1024 * 1024 + 10) + b'"}', {}, kind
    if kind == "invalid_utf8":
        return base[:10] + b"\xff\xfe\xed\xa0\x80" + base[10:], {}, kind
    return b"", {}, "empty"


def odd_query(rng: random.Random) -> str:
    after = rng.choice(["0", "5", "\u00b2", "\u0663", "\uff11", "-1", "9" * 30, "1" * 5000, "",
                        "1e3", "0x10", " 1", "%ff", "%00"])
    user = rng.choice(["ann", "", "a" * 41, "\u00e9", "%ff", "%00", "<x>", "oncall"])
    parts = [f"user={quote(user, safe='%')}", f"after={quote(after, safe='%')}"]
    if rng.random() < 0.2:
        parts.append(rng.choice(["after=1", "%zz", "&&&", "user", "=x", "a[b]=c"]))
    rng.shuffle(parts)
    return "&".join(rng.sample(parts, rng.randint(0, len(parts))))


class Generator:
    """Seeded request factory for both servers."""

    def __init__(self, rng: random.Random, open_bot: str, auth_bot: str, connector: str,
                 token: Callable[[str], str]) -> None:
        self.rng, self.open_bot, self.auth_bot, self.connector = rng, open_bot, auth_bot, connector
        self.token = token
        self.teams = [load_activity(n, connector + "/") for n in (
            "personal_message", "card_submit", "invoke_card_action", "conversation_update_install",
            "channel_mention", "form_submit")]
        self.slack_json = [load("app_mention"), load("message_im"), {
            "type": "event_callback", "team_id": "T0TEST", "event_id": "Ev1",
            "event": {"type": "workflow_step_execute"}}, {"type": "url_verification",
                                                          "challenge": "c"}]
        self.slack_forms = [load("block_actions"), load("view_submission"),
                            load("message_shortcut"), {"type": "shortcut", "callback_id": "x"},
                            {"type": "workflow_step_edit", "callback_id": "x"}]
        self.webchat = [{"user": "ann", "text": "help"},
                        {"user": "ann", "action": {"id": "faq:helpful~1", "value": "1:no"}},
                        {"user": "ann", "form": {"id": "incident:report:n1",
                                                 "values": report_values()}},
                        {"user": "ann", "text": "what is the pause method", "jurisdiction": "CA"}]

    def next(self, index: int) -> Request:
        rng = self.rng
        route = rng.choices(
            ["get", "webchat", "teams_open", "teams_auth", "slack_signed", "slack_unsigned",
             "other", "ack"], weights=[12, 22, 18, 8, 30, 6, 4, 4])[0]
        return getattr(self, f"_{route}")(index)

    def _finish(self, method: str, url: str, base: bytes, content_type: str, what: str,
                extra: dict[str, str] | None = None) -> Request:
        headers = {"Content-Type": content_type, **(extra or {})}
        if self.rng.random() < 0.35:
            base, noise, kind = body_noise(base, self.rng)
            headers.update(noise)
            what += f"+{kind}"
        return Request(method, url, base, headers, what)

    def _get(self, _index: int) -> Request:
        path = self.rng.choice(["/", "/healthz", "/readyz", "/metrics", "/webchat/chat.js",
                                "/webchat/chat.css", "/webchat/inbox", "/webchat/inbox",
                                "/webchat/inbox", "/webchat/home", "/webchat/home"])
        url = self.open_bot + path
        if path in ("/webchat/inbox", "/webchat/home") or self.rng.random() < 0.1:
            url += "?" + odd_query(self.rng)
        headers = {}
        if self.rng.random() < 0.1:
            headers["Content-Encoding"] = "gzip"
        return Request("GET", url, None, headers, f"GET {path}")

    def _webchat(self, _index: int) -> Request:
        payload = self.rng.choice(self.webchat)
        if self.rng.random() < 0.6:
            payload = mutate(payload, self.rng)
        elif "text" in payload:
            payload = {**payload, "text": self.rng.choice(TEXTS)}
        return self._finish("POST", self.open_bot + "/webchat/messages",
                            dumps(payload, self.rng), JSON, "webchat")

    def _teams(self, bot: str, index: int, token: bool) -> Request:
        activity = dict(self.rng.choice(self.teams))
        activity["id"] = f"fuzz-{index}"
        if self.rng.random() < 0.7:
            activity = mutate(activity, self.rng)
            if isinstance(activity, dict):
                activity["serviceUrl"] = self.connector + "/"  # replies go to the fake only
        extra = {}
        if token:
            extra["Authorization"] = self.rng.choice([
                f"Bearer {self.token(self.connector + '/')}", "Bearer nope", "Basic x", "",
                "Bearer " + "a" * 5000])
        return self._finish("POST", bot + "/api/messages", dumps(activity, self.rng), JSON,
                            "teams", extra)

    def _teams_open(self, index: int) -> Request:
        return self._teams(self.open_bot, index, token=False)

    def _teams_auth(self, index: int) -> Request:
        return self._teams(self.auth_bot, index, token=self.rng.random() < 0.8)

    def _slack_body(self) -> tuple[bytes, str]:
        rng = self.rng
        kind = rng.random()
        if kind < 0.3:
            fields: dict[str, Any] = {**load("command"), "text": rng.choice(TEXTS),
                                      "command": rng.choice(["/ask", "/incident", "/nope", "ask",
                                                             ""])}
            if rng.random() < 0.3:
                fields[rng.choice(list(fields))] = rng.choice(["", "\x00", "\u00b2", "x" * 3000])
            return urlencode(fields).encode(), FORM
        if kind < 0.65:
            payload = mutate(rng.choice(self.slack_forms), rng)
            return b"payload=" + quote(dumps(payload, rng)).encode(), FORM
        event = mutate(rng.choice(self.slack_json), rng)
        return dumps(event, rng), JSON

    def _slack_signed(self, _index: int) -> Request:
        raw, content_type = self._slack_body()
        request = self._finish("POST", self.open_bot + "/slack/events", raw, content_type,
                               "slack signed")
        request.headers = {**signed_headers(request.data or b"", content_type),
                           **{k: v for k, v in request.headers.items() if k != "Content-Type"},
                           "Content-Type": request.headers["Content-Type"]}
        return request

    def _slack_unsigned(self, _index: int) -> Request:
        raw, content_type = self._slack_body()
        timestamp = self.rng.choice(["1" * 400, "\u00b2", "", "-1", str(int(time.time())),
                                     "9" * 19, "1e9"])
        headers = {"X-Slack-Request-Timestamp": timestamp,
                   "X-Slack-Signature": self.rng.choice(["v0=00", "", "v0=" + "f" * 64, "v1=x"])}
        return self._finish("POST", self.open_bot + "/slack/events", raw, content_type,
                            "slack unsigned", headers)

    def _ack(self, _index: int) -> Request:
        """The e-mail acknowledgement page: odd tokens, any method, damaged forms."""
        rng = self.rng
        token = rng.choice(["", "x", "a.b.c", "%ff%fe", "%00", "\u00e9", "A" * 5000,
                            "eyJhbGciOiJIUzI1NiJ9." + "A" * 40 + "." + "B" * 43,
                            "eyJhbGciOiJub25lIn0." + "A" * 40 + ".", "..%2F..", "<x>"])
        url = f"{self.open_bot}/alerts/ack/{quote(token, safe='%.')}"
        method = rng.choice(["GET", "HEAD", "POST", "POST", "PUT"])
        if method != "POST":
            return Request(method, url, None, {}, f"{method} ack")
        form = rng.choice([b"confirm=received", b"confirm=" + b"x" * 5000, b"a=%zz&&=",
                           b"confirm=%00", b""])
        return self._finish("POST", url, form, FORM, "ack")

    def _other(self, _index: int) -> Request:
        method, path = self.rng.choice([("PUT", "/healthz"), ("GET", "/nope"),
                                        ("DELETE", "/webchat/messages"), ("GET", "/api/messages"),
                                        ("POST", "/healthz"), ("GET", "/slack/events"),
                                        ("POST", "/webchat/inbox"), ("GET", "/%ff%00")])
        return Request(method, self.open_bot + path, b"x", {}, f"{method} {path}")


# -- the run -----------------------------------------------------------------------------------

@pytest.fixture
def connector(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeBotConnector]:
    real = teams_auth.build_token_source

    def factory(settings: Any) -> Any:  # the fixed token only for the bot with an app id
        if settings.env.MICROSOFT_APP_ID is None:
            return real(settings)
        return teams_auth.FixedTokenSource("fake-outbound-token")

    with FakeBotConnector() as fake:
        offline_bot_framework(monkeypatch, fake, token="fake-outbound-token")
        monkeypatch.setattr(teams_auth, "build_token_source", factory)
        yield fake


@pytest.fixture
async def auth_bot(tmp_path: Path, connector: FakeBotConnector) -> AsyncIterator[RunningBot]:
    folder = tmp_path / "auth"
    folder.mkdir()
    settings = make_settings(folder, env={"MICROSOFT_APP_ID": APP_ID,
                                          "MICROSOFT_APP_PASSWORD": "not-used-offline"},
                             teams={"tenants": ["72f988bf-86f1-41af-91ab-2d7cd011db47"]})
    async with running_bot(settings) as running:
        yield running


async def _send(http: aiohttp.ClientSession, request: Request, results: Results,
                index: int) -> None:
    try:
        async with http.request(request.method, request.url, data=request.data,
                                headers=request.headers, allow_redirects=False) as resp:
            status, body = resp.status, await resp.text(errors="replace")
    except aiohttp.ClientError as exc:
        # The server closed the connection: only acceptable for what aiohttp itself refuses
        # at the protocol level (it answers 400 first).
        results.statuses["dropped"] += 1
        results.failures.append(f"#{index} {request.what} {request.method} {request.url[:120]}: "
                                f"connection failed ({type(exc).__name__})")
        return
    results.statuses[f"{status // 100}xx"] += 1
    if status >= 500 or "Traceback" in body or 'File "' in body:
        results.failures.append(f"#{index} {request.what} {request.method} {request.url[:120]} "
                                f"headers={request.headers} body={request.data[:300]!r} -> "
                                f"{status} {body[:200]}")


@pytest.mark.slow
async def test_thousands_of_malformed_requests_get_no_5xx(
        tmp_path: Path, connector: FakeBotConnector, auth_bot: RunningBot) -> None:
    started = time.monotonic()
    handler = LoggedTracebacks()
    logging.getLogger().addHandler(handler)
    try:
        async with slack_bot(tmp_path, background=True,
                             config={"incidents": INCIDENTS, "roles": ROLES}) as sb:
            results = await _fuzz(sb, auth_bot, connector)
            await _still_serving_and_delivering(sb)
    finally:
        logging.getLogger().removeHandler(handler)
    elapsed = time.monotonic() - started
    print(f"\nfuzz seed={SEED} requests={REQUESTS} statuses={dict(sorted(results.statuses.items()))} "
          f"seconds={elapsed:.1f}")
    assert results.failures == [], f"FUZZ_SEED={SEED}: {len(results.failures)} failures:\n" + \
        "\n".join(results.failures[:20])
    assert handler.records == [], f"FUZZ_SEED={SEED}: tracebacks logged: {handler.records[:10]}"
    assert sum(results.statuses.values()) == REQUESTS
    assert elapsed < BUDGET, f"FUZZ_SEED={SEED}: took {elapsed:.1f} s"


async def _fuzz(sb: SlackBot, auth_bot: RunningBot, connector: FakeBotConnector) -> Results:
    rng = random.Random(SEED)
    generator = Generator(rng, sb.bot.url, auth_bot.url, connector.url,
                          lambda url: connector.token(app_id=APP_ID, service_url=url))
    requests = [generator.next(i) for i in range(REQUESTS)]
    results = Results()
    gate = asyncio.Semaphore(12)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=12),
                                     skip_auto_headers=("Content-Type",)) as http:
        async def one(index: int, request: Request) -> None:
            async with gate:
                await _send(http, request, results, index)
        await asyncio.gather(*(one(i, r) for i, r in enumerate(requests)))
    return results


async def _still_serving_and_delivering(sb: SlackBot) -> None:
    async with sb.http.get(f"{sb.bot.url}/healthz") as resp:
        assert resp.status == 200
    url = f"{sb.bot.url}/webchat/messages"
    async with sb.http.post(url, json={"user": "ann", "text": "incident"}) as resp:
        form = (await resp.json())["replies"][0]["form"]
    when = time.strftime("%Y-%m-%d", time.gmtime(time.time() - 2 * 86400))
    values = report_values(danger="yes", category="physical_safety", subcategory="",
                           when_date=when, description="After the fuzz: smoke in the gym")
    async with sb.http.post(url, json={"user": "ann", "form": {"id": form["form_id"],
                                                               "values": values}}) as resp:
        assert resp.status == 200
        assert (await resp.json())["replies"][0]["text"].startswith("CALL 911 NOW")

    async def on_call_has_it() -> bool:
        after = 0
        while True:  # the inbox pages 50 at a time; the fuzz may have filed reports too
            async with sb.http.get(f"{sb.bot.url}/webchat/inbox",
                                   params={"user": "oncall", "after": str(after)}) as resp:
                messages = (await resp.json())["messages"]
            if not messages:
                return False
            if any("smoke in the gym" in json.dumps(m) for m in messages):
                return True
            after = messages[-1]["id"]
    await eventually(on_call_has_it, timeout=20)

    async def settled() -> bool:
        return not await query(sb, "SELECT id FROM outbox_message WHERE status = 'sending'")
    await eventually(settled)
