"""Alert test fixtures: a small coalition network, two broadcasters, helpers to drive the bot."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp

from bot.config.settings import Settings
from tests.support import make_settings

ROLES = {"broadcaster": ["webchat:local:bc1", "webchat:local:bc2"],
         "state_staff": ["webchat:local:boss"]}
ALERTS: dict[str, Any] = {
    "groups": [
        {"name": "staff", "tier": "T0", "members": [
            {"destination": "webchat:local:@boss", "organisation": "State Office",
             "jurisdiction": "CT", "name": "Boss"}]},
        {"name": "clerks", "tier": "T1", "members": [
            {"destination": "webchat:local:@clerk-ct", "organisation": "Hartford Registrars",
             "jurisdiction": "CT", "name": "CT clerk", "backup": "webchat:local:@deputy-ct"},
            {"destination": "webchat:local:@clerk-ks", "organisation": "Wichita Clerk",
             "jurisdiction": "KS", "name": "KS clerk"}]},
        {"name": "partners", "tier": "T3", "members": [
            {"destination": "webchat:local:@league", "organisation": "League of Voters",
             "jurisdiction": "CT", "name": "League"}]},
    ],
    "templates": {"rumor_control": {"headline": "Polling hours are unchanged",
                                    "body": "Polls are open 6-8. Source: SOTS."}},
    "help_destinations": ["webchat:local:@boss"],
}


def alert_settings(tmp_path: Path, env: dict[str, str] | None = None, **extra: Any) -> Settings:
    """Settings with the network above."""
    return make_settings(tmp_path, env=env, roles=ROLES, alerts={**ALERTS, **extra})


def compose_values(**overrides: str) -> dict[str, str]:
    """A valid composer submission to T1 in KS (no approval needed)."""
    values = {"alert_type": "rumor_control", "severity": "moderate",
              "headline": "Polling hours are unchanged", "body": "Polls open 6 to 8. Source: SOTS.",
              "instructions": "Share the public text.", "public_text": "Polls open 6-8.",
              "public_text_translated": "Las urnas abren de 6 a 8.", "groups": "",
              "tiers": "T1", "jurisdictions": "KS", "tlp": "GREEN", "ack_required": "yes",
              "ack_window": "", "expires_hours": "24", "exercise": "no"}
    values.update(overrides)
    return values


class Chat:
    """Talks to the running bot's web chat endpoint as different people."""

    def __init__(self, session: aiohttp.ClientSession, url: str) -> None:
        self.session, self.url = session, url

    async def post(self, user: str, **payload: Any) -> dict[str, Any]:
        async with self.session.post(f"{self.url}/webchat/messages",
                                     json={"user": user, **payload}) as resp:
            assert resp.status == 200, await resp.text()
            return (await resp.json())["replies"][0]

    async def say(self, user: str, text: str) -> dict[str, Any]:
        return await self.post(user, text=text)

    async def submit(self, user: str, form_id: str, values: dict[str, str]) -> dict[str, Any]:
        return await self.post(user, form={"id": form_id, "values": values})

    async def click(self, user: str, action: str, value: str) -> dict[str, Any]:
        return await self.post(user, action={"id": action, "value": value})

    async def inbox(self, user: str) -> list[dict[str, Any]]:
        async with self.session.get(f"{self.url}/webchat/inbox",
                                    params={"user": user, "after": "0"}) as resp:
            return [m["reply"] for m in (await resp.json())["messages"]]
