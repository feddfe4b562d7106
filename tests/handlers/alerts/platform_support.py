"""One bot on a fake Slack and a fake Bot Connector, with helpers to drive alerts on both.

Slack requests are signed like Slack signs them (tests/bot/adapters/slack/slack_support.py); Teams
activities are posted with their serviceUrl at the fake connector and no app id (no auth).
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import sqlalchemy as sa

from tests.bot.adapters.slack.slack_support import (
    FORM,
    SECRET,
    TOKEN,
    buttons_of,
    click,
    command_body,
    interaction_body,
    signed_headers,
    view_submission,
)
from tests.fakes.bot_connector import Call, FakeBotConnector, load_activity, post_activity
from tests.fakes.slack_api import Call as SlackCall
from tests.fakes.slack_api import FakeSlackApi
from tests.support import RunningBot, make_settings, running_bot

TEAM = "T0TEST"
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
DANA = "6f1c2e3d-4b5a-6978-8a9b-0c1d2e3f4a5b"  # the Teams user of teams_personal_message.json
DANA_CHAT = "a:1xYzPersonalConversationId0123456789abcdefghijklmnopqrstuv"
SAM = "0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9"  # a Teams user who is on no alert
SAM_CHAT = "a:1SamPersonalConversationId0123456789abcdefghijklmnopqrstuvw"
CLERKS = "C0CLERKS"  # a Slack channel member of T1
TIMEOUT = 30.0  # generous: a loaded 2-core machine runs four of these at once

ROLES = {"broadcaster": [f"slack:{TEAM}:UBC1", f"slack:{TEAM}:UBC2"],
         "state_staff": [f"slack:{TEAM}:UBOSS"]}
ALERTS: dict[str, Any] = {
    "groups": [
        {"name": "clerks", "tier": "T1", "members": [
            {"destination": f"slack:{TEAM}:{CLERKS}", "organisation": "Hartford Registrars",
             "jurisdiction": "CT", "name": "CT clerks channel"},
            {"destination": f"slack:{TEAM}:@UCLERK", "organisation": "Wichita Clerk",
             "jurisdiction": "KS", "name": "KS clerk"},
            {"destination": f"teams:{TENANT}:@{DANA}", "organisation": "Topeka Office",
             "jurisdiction": "KS", "name": "Dana"}]},
        {"name": "partners", "tier": "T3", "members": [
            {"destination": f"slack:{TEAM}:@ULEAGUE", "organisation": "League of Voters",
             "jurisdiction": "CT", "name": "League"}]},
    ],
    "templates": {"rumor_control": {"headline": "Polling hours are unchanged",
                                    "body": "Polls are open 6-8. Source: SOTS."}},
    "help_destinations": [f"slack:{TEAM}:@UBOSS"],
}


async def rows(bot: RunningBot, sql: str) -> list[Any]:
    """Rows of a read-only SQL query against the bot's database."""
    async with bot.services.db.engine.connect() as conn:
        return list(await conn.execute(sa.text(sql)))


async def until(check: Callable[[], Awaitable[Any]], what: str,
                timeout: float = TIMEOUT) -> Any:
    """Poll ``check`` until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while True:
        result = await check()
        if result:
            return result
        assert time.monotonic() < deadline, f"not in time: {what}"
        await asyncio.sleep(0.05)


@dataclass
class Platforms:
    """The running bot, both fakes, and helpers acting as Slack and Teams users."""

    bot: RunningBot
    slack: FakeSlackApi
    teams: FakeBotConnector
    http: aiohttp.ClientSession

    # -- Slack ---------------------------------------------------------------------------
    async def _signed(self, raw: bytes) -> tuple[int, str]:
        async with self.http.post(f"{self.bot.url}/slack/events", data=raw,
                                  headers=signed_headers(raw, FORM)) as resp:
            return resp.status, await resp.text()

    async def _respond(self, raw: bytes) -> dict[str, Any]:
        before = len(self.slack.calls_to("response"))
        status, _ = await self._signed(raw)
        assert status == 200
        calls = await self.slack.wait_for("response", before + 1, timeout=TIMEOUT)
        params: dict[str, Any] = calls[-1].params
        return params

    async def command(self, user: str, text: str) -> dict[str, Any]:
        """``/alert TEXT`` by ``user``; what came back on the response_url."""
        name = uuid.uuid4().hex[:10]
        return await self._respond(command_body(self.slack, text, name=name, command="/alert",
                                                user_id=user))

    async def open_modal(self, user: str, text: str = "") -> dict[str, Any]:
        """``/alert [TEXT]`` that opens the composer; the modal sent to views.open."""
        name = uuid.uuid4().hex[:10]
        before = len(self.slack.calls_to("views.open"))
        raw = command_body(self.slack, text, name=name, command="/alert", user_id=user)
        assert (await self._signed(raw))[0] == 200
        call = (await self.slack.wait_for("views.open", before + 1, timeout=TIMEOUT))[-1]
        assert call.params["trigger_id"] == f"trig-{name}"
        view: dict[str, Any] = call.params["view"]
        return view

    async def submit(self, user: str, view: dict[str, Any],
                     values: dict[str, str]) -> dict[str, Any]:
        """Submit the modal (a fresh view id each time); the view_submission ack body."""
        payload = view_submission(view, values, user=user,
                                  view_id=f"V{uuid.uuid4().hex[:10].upper()}")
        status, body = await self._signed(interaction_body(payload))
        assert status == 200
        return json.loads(body) if body else {}

    async def press(self, button: dict[str, Any], *, user: str, channel: str) -> dict[str, Any]:
        """``user`` clicks ``button`` on a message in ``channel``; the response_url answer."""
        payload = click(self.slack, button, user=user, channel=channel,
                        name=uuid.uuid4().hex[:10])
        return await self._respond(interaction_body(payload))

    async def slack_posts(self, channel: str, count: int) -> list[SlackCall]:
        """Wait for ``count`` chat.postMessage calls to ``channel``."""
        return await self.slack.wait_for("chat.postMessage", count, timeout=TIMEOUT,
                                         channel=channel)

    async def slack_buttons(self, channel: str, count: int) -> dict[str, dict[str, Any]]:
        """The buttons of the ``count``-th message posted to ``channel``."""
        post = (await self.slack_posts(channel, count))[count - 1]
        return buttons_of(post.params["blocks"])

    # -- Teams ---------------------------------------------------------------------------
    def personal(self, who: str = DANA, **changes: Any) -> dict[str, Any]:
        """A message activity in ``who``'s personal chat (``text=None``: a card click)."""
        activity = load_activity("personal_message", self.teams.url + "/", **changes)
        if who != DANA:
            activity["from"] = {"id": f"29:{who}", "name": "Sam Partner", "aadObjectId": who}
            activity["conversation"] = {**activity["conversation"], "id": SAM_CHAT}
        return {k: v for k, v in activity.items() if v is not None}

    async def teams_post(self, activity: dict[str, Any]) -> Call:
        """Post an activity; the bot's reply to it."""
        assert (await post_activity(self.bot.url, activity))[0] == 200

        async def reply() -> Call | None:
            return next((c for c in self.teams.sends() if c.reply_to_id == activity["id"]),
                        None)
        found: Call = await until(reply, f"a Teams reply to {activity['id']}")
        return found

    async def teams_click(self, data: dict[str, Any], who: str = DANA) -> Call:
        """Action.Submit on a card: a message activity whose value is the button's data."""
        return await self.teams_post(self.personal(who, text=None, value=data))

    async def count(self, sql: str) -> int:
        """The single number a ``SELECT COUNT(*)`` returns."""
        [(number,)] = await rows(self.bot, sql)
        return int(number)


def card_buttons(call: Call) -> dict[str, dict[str, Any]]:
    """The Action.Submit data of a Teams card's buttons, by title."""
    [attachment] = call.body["attachments"]
    return {a["title"]: a["data"] for a in attachment["content"].get("actions", [])}


@asynccontextmanager
async def platforms(tmp: Path) -> AsyncIterator[Platforms]:
    """A bot with the network above, the outbox worker running, on both fake platforms."""
    with FakeBotConnector() as connector:
        async with FakeSlackApi() as fake:
            env = {"SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": SECRET,
                   "SLACK_API_URL": fake.api_url}
            settings = make_settings(tmp, env, roles=ROLES, alerts=ALERTS)
            async with running_bot(settings, background=True) as bot, \
                    aiohttp.ClientSession() as http:
                yield Platforms(bot, fake, connector, http)

                async def settled() -> bool:
                    # Stop only between sends: a worker cancelled mid-write can hang the close.
                    return not await rows(bot, "SELECT id FROM outbox_message "
                                               "WHERE status = 'sending'")

                await until(settled, "the outbox to settle")
