"""Helpers for multi-workspace Slack tests: an OAuth-configured bot and the install dance."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import aiohttp
from cryptography.fernet import Fernet

from tests.bot.adapters.slack.slack_support import SECRET, SlackBot
from tests.fakes.slack_api import FakeSlackApi
from tests.support import make_settings, running_bot

CLIENT_ID = "1111.2222"
CLIENT_SECRET = "test-client-secret"
COOKIE = "slack-app-oauth-state"
ADMITTED = ("T0AAA", "T0BBB", "T0ROT", "T0EVIL")


@asynccontextmanager
async def oauth_bot(tmp: Path, *, background: bool = False,
                    workspaces: tuple[str, ...] = ADMITTED, **env: str) -> AsyncIterator[SlackBot]:
    """A bot installed through OAuth (no SLACK_BOT_TOKEN unless given) on a fake Slack.

    ``workspaces`` is app.yaml ``slack.workspaces`` (the teams the office admits).
    """
    async with FakeSlackApi() as fake:
        environ = {"SLACK_CLIENT_ID": CLIENT_ID, "SLACK_CLIENT_SECRET": CLIENT_SECRET,
                   "SLACK_SIGNING_SECRET": SECRET, "SLACK_API_URL": fake.api_url,
                   "ELECTIONBOT_TOKEN_KEY": Fernet.generate_key().decode(), **env}
        settings = make_settings(tmp, environ, slack={"workspaces": list(workspaces)})
        async with running_bot(settings, background=background) as bot, \
                aiohttp.ClientSession() as http:
            yield SlackBot(bot, fake, http)


async def start_install(sb: SlackBot) -> tuple[str, str]:
    """GET /slack/install like a browser: (Slack's authorize URL, the state)."""
    async with sb.http.get(f"{sb.bot.url}/slack/install", allow_redirects=False) as resp:
        assert resp.status == 302, await resp.text()
        location = resp.headers["Location"]
        cookie = resp.headers["Set-Cookie"]
    state = parse_qs(urlparse(location).query)["state"][0]
    assert cookie.startswith(f"{COOKIE}={state};") and "HttpOnly" in cookie and "Secure" in cookie
    return location, state


async def finish_install(sb: SlackBot, state: str, code: str,
                         cookie: str | None = None) -> tuple[int, str]:
    """Slack sends the installer back: GET /slack/oauth_redirect with the browser's cookie."""
    headers = {"Cookie": f"{COOKIE}={cookie if cookie is not None else state}"}
    async with sb.http.get(f"{sb.bot.url}/slack/oauth_redirect", headers=headers,
                           params={"code": code, "state": state}, allow_redirects=False) as resp:
        return resp.status, await resp.text()


async def install(sb: SlackBot, team_id: str, token: str, **details: Any) -> None:
    """Install the app into ``team_id`` (the fake answers its code with ``token``)."""
    sb.fake.add_workspace(team_id, token=token, code=f"code-{team_id}", **details)
    _, state = await start_install(sb)
    status, body = await finish_install(sb, state, f"code-{team_id}")
    assert status == 200, body


def mention(team_id: str, bot_user: str, *, text: str = "what is the pause method",
            event_id: str, user: str = "U0ASKER", **event: Any) -> dict[str, Any]:
    """An app_mention delivered to the installation in ``team_id``."""
    return {"token": "x", "team_id": team_id, "api_app_id": "A0FAKEAPP", "type": "event_callback",
            "event_id": event_id, "event_time": 1700000000,
            "authorizations": [{"enterprise_id": None, "team_id": team_id, "user_id": bot_user,
                                "is_bot": True, "is_enterprise_install": False}],
            "event": {"type": "app_mention", "user": user, "text": f"<@{bot_user}> {text}",
                      "ts": "1700000001.000100", "channel": f"C{team_id}", "team": team_id,
                      "event_ts": "1700000001.000100", **event}}


def lifecycle(team_id: str, kind: str, event_id: str, **event: Any) -> dict[str, Any]:
    """A ``tokens_revoked`` / ``app_uninstalled`` event for ``team_id``."""
    return {"token": "x", "team_id": team_id, "api_app_id": "A0FAKEAPP",
            "type": "event_callback", "event_id": event_id, "event_time": 1700000000,
            "event": {"type": kind, **event}}
