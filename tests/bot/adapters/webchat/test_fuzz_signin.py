"""Seeded fuzzing of the web chat's sign-in routes on a production-mode server: no 5xx.

/webchat/session, /webchat/signin, /webchat/signout, /webchat/oidc/<name>/login|callback and
the signed-in /webchat/messages and /webchat/inbox get odd cookies, CSRF tokens, Origin /
Sec-Fetch-Site / X-Forwarded-For headers, query strings and bodies (a server behind a trusted
proxy, as deploy/ runs it, with a local account with TOTP and an OpenID Connect provider).
Every answer must be below 500 with no traceback in its body or the log, and afterwards a
person still signs in both ways and chats. FUZZ_SEED / FUZZ_SIGNIN_REQUESTS replay or resize a
run; the figures are printed (``pytest -s``).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import random
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp
import pyotp
import pytest

from bot.adapters.webchat.accounts import add_account
from tests.bot.adapters.test_fuzz import (
    HUGE,
    LoggedTracebacks,
    Request,
    Results,
    _send,
    body_noise,
    dumps,
    mutate,
)
from tests.bot.adapters.webchat.test_webchat_auth import PASSWORD, Web
from tests.bot.adapters.webchat.test_webchat_auth_oidc import SECRET_VAR, _follow
from tests.fakes.oidc_provider import FakeOidcProvider
from tests.support import RunningBot, make_settings, running_bot

SEED = int(os.environ.get("FUZZ_SEED", "20261103"))
REQUESTS = int(os.environ.get("FUZZ_SIGNIN_REQUESTS", "2000"))
BUDGET = 60.0  # seconds for the whole run, servers started included
JSON = "application/json"
ODD_STRINGS = ["", " ", "x" * 101, "x" * 5000, "\u00e9", "%ff", "%00", "\x00", "\ud800",
               "a;b", "a,b", '"q"', "\u0663\u0663", "../../etc", "=", "\t", "ann\r\nX: y"]
ADDRESSES = ["203.0.113.7", "198.51.100.1, 203.0.113.7", "garbage", "", "::1", "fe80::1%eth0",
             "2001:db8::1", "127.0.0.1", "10.0.0.1, 127.0.0.1", "1.2.3.4:80", "[2001:db8::2]",
             ", , ,", "1" * 300, "203.0.113.7, garbage", "\u0663.1.1.1", "unknown"]
ORIGINS = [None, "null", "http://evil.example", "https://bot.example.gov", "", "http://127.0.0.1",
           "\u00e9://x", "http://[::1"]
SITES = [None, "same-origin", "cross-site", "same-site", "none", ""]


def _quote(value: str) -> str:
    return quote(value.encode("utf-8", "surrogatepass"), safe="%")


class Generator:
    """Seeded requests for the sign-in routes of one server."""

    def __init__(self, rng: random.Random, url: str, *, csrf: str, session: str, signed_csrf: str,
                 secure: bool) -> None:
        self.rng, self.url = rng, url
        self.csrf, self.session, self.signed_csrf = csrf, session, signed_csrf
        self.prefix = "__Host-" if secure else ""

    def _cookie(self) -> dict[str, str]:
        rng = self.rng
        parts = []
        if rng.random() < 0.5:
            parts.append(f"{self.prefix}electionbot_csrf={rng.choice([self.csrf, *ODD_STRINGS[:6]])}")
        if rng.random() < 0.4:
            parts.append(f"{self.prefix}electionbot_session="
                         f"{rng.choice([self.session, self.session[:-1], 'x' * 99, *ODD_STRINGS[:5]])}")
        if rng.random() < 0.3:
            parts.append(f"{rng.choice(['', '__Host-'])}electionbot_oidc={rng.choice(ODD_STRINGS[:8])}")
        if rng.random() < 0.1:
            parts.append(rng.choice(["=;=;", "a=\"b", "\u00e9=\u00e9", ";;;", "x" * 5000]))
        return {"Cookie": "; ".join(parts)} if parts else {}

    def _headers(self) -> dict[str, str]:
        rng = self.rng
        headers = self._cookie()
        if rng.random() < 0.7:
            headers["X-CSRF-Token"] = rng.choice([self.csrf, self.signed_csrf, self.signed_csrf,
                                                  *ODD_STRINGS[:5]])
        for name, choices in (("Origin", ORIGINS), ("Sec-Fetch-Site", SITES)):
            value = rng.choice(choices)
            if value is not None:
                headers[name] = value
        if rng.random() < 0.6:
            headers["X-Forwarded-For"] = rng.choice(ADDRESSES)
        for name, value in list(headers.items()):  # what an HTTP client can send at all
            value = "".join(c for c in value if c == "\t" or ord(c) >= 32)
            headers[name] = value.encode("utf-8", "surrogatepass").decode("latin-1")
        return headers

    def next(self, _index: int) -> Request:
        route = self.rng.choices(["session", "signin", "signout", "oidc", "messages", "inbox"],
                                 weights=[15, 35, 10, 25, 10, 5])[0]
        return getattr(self, f"_{route}")()

    def _post(self, path: str, payload: Any, what: str) -> Request:
        headers = {"Content-Type": JSON, **self._headers()}
        body = dumps(payload, self.rng)
        if self.rng.random() < 0.35:
            body, noise, kind = body_noise(body, self.rng)
            headers.update(noise)
            what += f"+{kind}"
        return Request("POST", self.url + path, body, headers, what)

    def _session(self) -> Request:
        query = "" if self.rng.random() < 0.7 else "?" + _quote(self.rng.choice(ODD_STRINGS))
        return Request("GET", f"{self.url}/webchat/session{query}", None, self._headers(),
                       "session")

    def _signin(self) -> Request:
        payload: Any = {"user": self.rng.choice(["ann", "ANN", " ann ", "bob", "\u212aate"]),
                        "password": self.rng.choice([PASSWORD, "wrong wrong wrong"]),
                        "code": self.rng.choice(["", "123456", "\u0661" * 6])}
        if self.rng.random() < 0.7:
            payload = mutate(payload, self.rng)
        return self._post("/webchat/signin", payload, "signin")

    def _signout(self) -> Request:
        return self._post("/webchat/signout", self.rng.choice([{}, None, [], HUGE]), "signout")

    def _oidc(self) -> Request:
        rng = self.rng
        name = rng.choice(["okta", "okta", "nope", "OKTA", "%ff", "local", "x" * 300])
        step = rng.choice(["login", "callback", "callback", "callback"])
        params = [f"{key}={_quote(rng.choice(ODD_STRINGS + ['abc', 'x' * 3000]))}"
                  for key in rng.sample(["state", "code", "error", "iss", "session_state"],
                                        rng.randint(0, 4))]
        url = f"{self.url}/webchat/oidc/{_quote(name)}/{step}"
        if params:
            url += "?" + "&".join(params)
        return Request("GET", url, None, self._headers(), f"oidc {step}")

    def _messages(self) -> Request:
        payload = self.rng.choice([{"text": "help"}, {"text": "incident"},
                                   {"action": {"id": "faq:helpful~1", "value": "1:no"}},
                                   {"form": {"id": "x", "values": {}}}])
        if self.rng.random() < 0.6:
            payload = mutate(payload, self.rng)
        return self._post("/webchat/messages", payload, "messages")

    def _inbox(self) -> Request:
        after = self.rng.choice(["0", "1", "\u0663", "-1", "9" * 40, ""])
        return Request("GET", f"{self.url}/webchat/inbox?after={_quote(after)}", None,
                       self._headers(), "inbox")


@pytest.fixture
async def idp() -> AsyncIterator[FakeOidcProvider]:
    async with FakeOidcProvider() as provider:
        yield provider


@pytest.fixture
async def bot(tmp_path: Path, idp: FakeOidcProvider) -> AsyncIterator[RunningBot]:
    webchat = {"trusted_proxies": ["127.0.0.1"],
               "oidc": [{"name": "okta", "issuer": idp.issuer, "client_id": idp.client_id}]}
    settings = make_settings(tmp_path, env={SECRET_VAR: idp.client_secret}, demo=False,
                             webchat=webchat)
    async with running_bot(settings) as running:
        yield running


async def _signed_in(bot: RunningBot, secret: str) -> Web:
    web = Web(bot.url)
    status, body = await web.sign_in("ann", PASSWORD, pyotp.TOTP(secret).now())
    assert status == 200, body
    return web


async def test_the_sign_in_routes_get_no_5xx(bot: RunningBot, idp: FakeOidcProvider) -> None:
    started = time.monotonic()
    secret = await add_account(bot.services.db, name="ann", password=PASSWORD, totp=True)
    assert secret is not None
    handler = LoggedTracebacks()
    logging.getLogger().addHandler(handler)
    try:
        async with await _signed_in(bot, secret) as web:
            anonymous = await Web(bot.url).__aenter__()
            try:
                pre = await anonymous.session()
            finally:
                await anonymous.http.close()
            token = next(c.value for c in web.http.cookie_jar if c.key.endswith("_session"))
            rng = random.Random(SEED)
            generator = Generator(rng, bot.url, csrf=pre["csrf"], session=token,
                                  signed_csrf=web.csrf, secure=False)
            requests = [generator.next(i) for i in range(REQUESTS)]
            results = Results()
            gate = asyncio.Semaphore(8)
            async with aiohttp.ClientSession(
                    connector=aiohttp.TCPConnector(limit=8), skip_auto_headers=("Content-Type",),
                    cookie_jar=aiohttp.DummyCookieJar()) as http:
                async def one(index: int, request: Request) -> None:
                    async with gate:
                        await _send(http, request, results, index)
                await asyncio.gather(*(one(i, r) for i, r in enumerate(requests)))
        await _still_signing_in(bot, idp)
    finally:
        logging.getLogger().removeHandler(handler)
    elapsed = time.monotonic() - started
    print(f"\nsign-in fuzz seed={SEED} requests={REQUESTS} "
          f"statuses={dict(sorted(results.statuses.items()))} seconds={elapsed:.1f}")
    assert results.failures == [], f"FUZZ_SEED={SEED}: {len(results.failures)} failures:\n" + \
        "\n".join(results.failures[:20])
    assert handler.records == [], f"FUZZ_SEED={SEED}: tracebacks logged: {handler.records[:10]}"
    assert sum(results.statuses.values()) == REQUESTS
    assert elapsed < BUDGET, f"FUZZ_SEED={SEED}: took {elapsed:.1f} s"


async def _still_signing_in(bot: RunningBot, idp: FakeOidcProvider) -> None:
    """After the fuzz, the provider's sign-in works and a signed-in person chats."""
    async with Web(bot.url) as web:
        await web.session()
        done = await _follow(web, f"{bot.url}/webchat/oidc/okta/login")
        assert done.status == 303, await done.text()
        me = await web.session()
        assert me["signed_in"] and me["identity"] == f"web:okta:{idp.subject}"
        status, body = await web.post({"text": "help"})
        assert status == 200 and json.dumps(body)
