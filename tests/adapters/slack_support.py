"""Helpers for Slack HTTP tests: signed requests against the production server."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
import sqlalchemy as sa
from slack_sdk.signature import SignatureVerifier  # noqa: TID251 (signing like Slack does)

from tests.fakes.slack_api import FakeSlackApi
from tests.support import RunningBot, make_settings, running_bot

DATA = Path(__file__).resolve().parent.parent / "data"
SECRET = "test-signing-secret"
TOKEN = "xoxb-test-0000-token"
FORM = "application/x-www-form-urlencoded"


def load(name: str) -> dict[str, Any]:
    return json.loads((DATA / f"slack_{name}.json").read_text(encoding="utf-8"))


def signed_headers(raw: bytes, content_type: str, *, timestamp: str | None = None,
                   secret: str = SECRET) -> dict[str, str]:
    ts = timestamp if timestamp is not None else str(int(time.time()))
    try:
        signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=raw)
    except UnicodeDecodeError:  # slack_sdk signs text only; sign raw bytes the same way
        base = b"v0:" + ts.encode() + b":" + raw
        signature = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    assert signature is not None
    return {"Content-Type": content_type, "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": signature}


def command_body(fake: FakeSlackApi, text: str, name: str = "r1", **over: str) -> bytes:
    fields = {**load("command"), "text": text, "response_url": fake.response_url(name),
              "trigger_id": f"trig-{name}", **over}
    return urlencode(fields).encode()


def interaction_body(payload: dict[str, Any]) -> bytes:
    return urlencode({"payload": json.dumps(payload)}).encode()


@dataclass
class SlackBot:
    """A running bot wired to a fake Slack, with helpers to send signed requests."""

    bot: RunningBot
    fake: FakeSlackApi
    http: aiohttp.ClientSession

    @property
    def events_url(self) -> str:
        return f"{self.bot.url}/slack/events"

    async def post(self, raw: bytes, headers: dict[str, str]) -> tuple[int, str]:
        async with self.http.post(self.events_url, data=raw, headers=headers) as resp:
            return resp.status, await resp.text()

    async def signed(self, raw: bytes, content_type: str = FORM,
                     extra: dict[str, str] | None = None) -> tuple[int, str]:
        return await self.post(raw, {**signed_headers(raw, content_type), **(extra or {})})

    async def event(self, payload: dict[str, Any],
                    extra: dict[str, str] | None = None) -> tuple[int, str]:
        return await self.signed(json.dumps(payload).encode(), "application/json", extra)

    async def processed_keys(self) -> list[str]:
        async with self.bot.services.db.engine.connect() as conn:
            rows = await conn.execute(sa.text("SELECT key FROM processed_request"))
            return [r[0] for r in rows]


@asynccontextmanager
async def slack_bot(tmp: Path, *, background: bool = False, config: dict[str, Any] | None = None,
                    **env: str) -> AsyncIterator[SlackBot]:
    """A bot on a fake Slack; ``background`` runs the outbox worker, ``config`` overrides
    app.yaml top-level keys (``incidents=``, ``roles=``, ...)."""
    async with FakeSlackApi() as fake:
        environ = {"SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": SECRET,
                   "SLACK_API_URL": fake.api_url, **env}
        settings = make_settings(tmp, environ, **(config or {}))
        async with running_bot(settings, background=background) as bot, \
                aiohttp.ClientSession() as http:
            yield SlackBot(bot, fake, http)
