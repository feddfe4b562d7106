"""Incidents end to end through the web chat's HTTP endpoint, with notifications in the inbox."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp

from tests.handlers.incidents.conftest import INCIDENTS, ROLES, report_values
from tests.support import make_settings, running_bot


async def _wait_inbox(http: aiohttp.ClientSession, url: str, user: str, n: int) -> list[dict]:
    for _ in range(100):
        async with http.get(f"{url}/webchat/inbox", params={"user": user, "after": "0"}) as r:
            messages = (await r.json())["messages"]
        if len(messages) >= n:
            return messages
        await asyncio.sleep(0.05)
    raise AssertionError(f"{user} got {len(messages)} message(s), expected {n}")


async def test_file_notify_acknowledge_and_close_from_the_web_chat(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, incidents=INCIDENTS, roles=ROLES)
    async with running_bot(settings, background=True) as bot, aiohttp.ClientSession() as http:
        async def post(payload: dict) -> dict:
            async with http.post(f"{bot.url}/webchat/messages", json=payload) as resp:
                assert resp.status == 200
                return (await resp.json())["replies"][0]

        form = (await post({"user": "ann", "text": "incident"}))["form"]
        assert form["banner"].startswith("If anyone is in immediate danger")
        bad = await post({"user": "ann", "form": {"id": form["form_id"], "values": report_values(
            description="", when_date="2999-01-01")}})
        assert set(bad["form"]["errors"]) == {"description", "when_date"}
        values = report_values(danger="yes", category="physical_safety", subcategory="",
                               when_date="2026-11-01")
        done = await post({"user": "ann", "form": {"id": form["form_id"], "values": values}})
        assert done["text"].startswith("CALL 911 NOW")
        human_id = done["text"].split()[-1].rstrip(".")
        notice = (await _wait_inbox(http, bot.url, "oncall", 1))[0]["reply"]
        assert human_id in notice["text"] and "SEV1" in notice["text"]
        assert [b["action_id"] for b in notice["buttons"]] == [
            "incident:ack", "incident:take", "incident:escalate", "incident:resolve"]
        denied = await post({"user": "eve", "action": {"id": "incident:ack", "value": human_id}})
        assert denied["tone"] == "denied"
        acked = await post({"user": "ct-mgr", "action": {"id": "incident:ack",
                                                         "value": human_id}})
        assert "triaged" in acked["text"]
        closing = await post({"user": "ct-mgr", "text": f"incident close {human_id}"})
        assert closing["form"]["form_id"] == f"incident:close:{human_id}"
        closed = await post({"user": "ct-mgr", "form": {"id": closing["form"]["form_id"], "values": {
            "lessons_learned": "Add a second exit", "law_enforcement_agency": "Hartford PD",
            "law_enforcement_case": "24-0042"}}})
        assert closed["text"].startswith("Closed")
        mine = await post({"user": "ann", "text": "incident list mine"})
        assert "closed" in mine["sections"][0]["text"]
