"""Helpers for Slack HTTP tests: signed requests against the production server."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
import sqlalchemy as sa
from slack_sdk.signature import SignatureVerifier  # noqa: TID251 (signing like Slack does)

from bot.adapters.slack.render import field_name
from tests.fakes.slack_api import FakeSlackApi
from tests.support import ROOT, RunningBot, make_settings, running_bot

DATA = ROOT / "tests" / "data"
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


async def query(sb: SlackBot, sql: str) -> list[Any]:
    """Rows of a read-only SQL query against the bot's database."""
    async with sb.bot.services.db.engine.connect() as conn:
        return list(await conn.execute(sa.text(sql)))


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 10.0) -> None:
    """Poll ``check`` (usually the database) until it holds."""
    deadline = time.monotonic() + timeout
    while not await check():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


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


# -- modals: fill a rendered view the way Slack reports its state ------------------------------

def _options(element: dict[str, Any]) -> list[dict[str, Any]]:
    groups = element.get("option_groups") or []
    return list(element.get("options") or []) + [o for g in groups for o in g["options"]]


def _state(element: dict[str, Any], value: str | None) -> dict[str, Any]:
    kind = element["type"]
    if kind == "multi_static_select":
        if value is None:
            return {"type": kind, "selected_options": element.get("initial_options") or []}
        chosen = [o for o in _options(element) if o["value"] in value.split(",")]
        assert len(chosen) == len([v for v in value.split(",") if v]), value
        return {"type": kind, "selected_options": chosen}
    if kind == "static_select":
        if value is None:
            return {"type": kind, "selected_option": element.get("initial_option")}
        chosen = next((o for o in _options(element) if o["value"] == value), None)
        assert value == "" or chosen is not None, f"{value!r} is not an option of the modal"
        return {"type": kind, "selected_option": chosen}
    if kind == "datepicker":
        return {"type": kind, "selected_date": element.get("initial_date") if value is None
                else (value or None)}
    return {"type": kind, "value": element.get("initial_value") if value is None
            else (value or None)}


def modal_state(view: dict[str, Any], values: dict[str, str]) -> dict[str, Any]:
    """``view.state.values`` for a rendered modal: ``values`` typed, everything else as shown."""
    state: dict[str, Any] = {}
    for block in view["blocks"]:
        if block["type"] == "input":
            element = block["element"]
            state[block["block_id"]] = {element["action_id"]: _state(
                element, values.get(field_name(block["block_id"])))}
    unknown = set(values) - {field_name(b) for b in state}
    assert not unknown, f"no such inputs in the modal: {unknown}"
    return state


def view_submission(view: dict[str, Any], values: dict[str, str], *, user: str = "U0ASKER",
                    view_id: str = "V0MODAL") -> dict[str, Any]:
    """A view_submission payload for ``view`` filled with ``values`` by ``user``."""
    base = load("view_submission")
    return {**base, "user": {**base["user"], "id": user},
            "view": {**base["view"], "id": view_id, "callback_id": view["callback_id"],
                     "private_metadata": view.get("private_metadata", ""),
                     "state": {"values": modal_state(view, values)}}}


def view_action(view: dict[str, Any], name: str, value: str, *, user: str = "U0ASKER",
                view_id: str = "V0MODAL") -> dict[str, Any]:
    """A block_actions payload from inside a modal: ``user`` chose ``value`` in field ``name``
    (an input with ``dispatch_action``), the rest of the modal as shown."""
    base = load("block_actions")
    state = modal_state(view, {name: value})
    [block] = [b for b in view["blocks"] if b.get("block_id") and field_name(b["block_id"]) == name]
    chosen = state[block["block_id"]][block["element"]["action_id"]]
    action = {"type": block["element"]["type"], "block_id": block["block_id"],
              "action_id": block["element"]["action_id"], "action_ts": "1700000000.1",
              "selected_option": chosen.get("selected_option")}
    return {"type": "block_actions", "user": {**base["user"], "id": user},
            "api_app_id": base.get("api_app_id", "A0TEST"), "team": base.get("team"),
            "container": {"type": "view", "view_id": view_id}, "trigger_id": "trig-view",
            "view": {"id": view_id, "hash": "1700000000.abc", "type": "modal",
                     "callback_id": view["callback_id"],
                     "private_metadata": view.get("private_metadata", ""),
                     "state": {"values": state}}, "actions": [action]}


def click(fake: FakeSlackApi, button: dict[str, Any], *, user: str, channel: str,
          name: str) -> dict[str, Any]:
    """A block_actions payload: ``user`` clicks ``button`` on a message in ``channel``."""
    base = load("block_actions")
    action = {**base["actions"][0], "action_id": button["action_id"], "value": button["value"]}
    return {**base, "user": {**base["user"], "id": user}, "channel": {"id": channel},
            "container": {**base["container"], "channel_id": channel},
            "response_url": fake.response_url(name), "trigger_id": f"trig-{name}",
            "actions": [action]}


def buttons_of(blocks: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The buttons of a message, by label."""
    return {e["text"]["text"]: e for b in blocks if b["type"] == "actions"
            for e in b["elements"]}
