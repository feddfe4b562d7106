"""Signed-in web chat identities hold roles: incidents and the two-person alert rule end to end."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.adapters.webchat.accounts import add_account
from bot.config.settings import ConfigError
from tests.bot.adapters.webchat.test_webchat_auth import PASSWORD, Web
from tests.handlers.alerts.conftest import ALERTS, compose_values
from tests.handlers.incidents.conftest import report_values
from tests.support import make_settings, running_bot

INCIDENTS = {"on_call": ["web:local:@oncall"], "managers": {"CT": ["web:local:ct-mgr"]},
             "routing": [{"severities": ["SEV1"], "notify": ["web:local:@boss"]}]}
ROLES = {"state_staff": ["web:local:boss"],
         "broadcaster": ["web:local:bc1", "web:local:bc2"]}


async def _people(bot, *names: str) -> dict[str, Web]:
    webs = {}
    for name in names:
        await add_account(bot.services.db, name=name, password=PASSWORD, totp=False)
        webs[name] = Web(bot.url)
        assert (await webs[name].sign_in(name))[0] == 200
    return webs


async def _wait_inbox(web: Web, n: int) -> list[dict]:
    for _ in range(200):
        status, body = await web.inbox()
        assert status == 200
        if len(body["messages"]) >= n:
            return [m["reply"] for m in body["messages"]]
        await asyncio.sleep(0.05)
    raise AssertionError(f"expected {n} inbox message(s)")


def test_roles_and_destinations_accept_web_identities(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, roles=ROLES, incidents=INCIDENTS, demo=False)
    assert settings.app.has_role("web:local:boss", "state_staff")
    assert not settings.app.has_role("webchat:local:boss", "state_staff")
    with pytest.raises(ConfigError, match="platform"):
        make_settings(tmp_path, roles={"state_staff": ["webx:local:boss"]})


async def test_a_signed_in_state_staff_member_files_and_manages_an_incident(
        tmp_path: Path) -> None:
    settings = make_settings(tmp_path, roles=ROLES, incidents=INCIDENTS, demo=False)
    async with running_bot(settings, background=True) as bot:
        people = await _people(bot, "boss", "oncall", "eve")
        boss, oncall, eve = people["boss"], people["oncall"], people["eve"]
        try:
            form = (await boss.say("incident"))["form"]
            values = report_values(danger="yes", category="physical_safety", subcategory="",
                                   when_date="2026-11-01")
            done = await boss.submit(form["form_id"], values)
            assert done["text"].startswith("CALL 911 NOW")
            human_id = done["text"].split()[-1].rstrip(".")
            notice = (await _wait_inbox(oncall, 1))[0]  # on-call is paged in their inbox
            assert human_id in notice["text"] and "SEV1" in notice["text"]
            assert any(human_id in m["text"] for m in await _wait_inbox(boss, 1))
            # A signed-in person without a role sees nothing, even naming a role holder.
            status, body = await eve.post({"user": "boss", "text": f"incident show {human_id}"},
                                          **eve.headers())
            assert body["replies"][0]["tone"] == "denied"
            shown = await boss.say(f"incident show {human_id}")
            assert shown["tone"] != "denied" and human_id in str(shown)
            moved = await boss.say(f"incident status {human_id} in_progress")
            assert moved["tone"] != "denied", moved
            assigned = await boss.say(f"incident assign {human_id} @oncall")
            assert assigned["tone"] != "denied", assigned
            async with bot.services.db.engine.connect() as conn:
                assignee = (await conn.execute(sa.text(
                    "SELECT assignee FROM incident WHERE human_id = :h"), {"h": human_id})).scalar()
            assert assignee == "web:local:oncall"  # @name means a signed-in web identity
            _, empty = await eve.inbox(user="oncall")
            assert empty["messages"] == []
        finally:
            for web in people.values():
                await web.__aexit__()


async def test_the_two_person_rule_needs_two_signed_in_people(tmp_path: Path) -> None:
    alerts = {**ALERTS, "groups": [{"name": "clerks", "tier": "T1", "members": [
        {"destination": "web:local:@clerk", "organisation": "Wichita Clerk",
         "jurisdiction": "KS", "name": "KS clerk"}]}],
        "help_destinations": ["web:local:@boss"]}
    settings = make_settings(tmp_path, roles=ROLES, alerts=alerts, demo=False)
    async with running_bot(settings, background=True) as bot:
        people = await _people(bot, "bc1", "bc2", "eve", "clerk")
        bc1, bc2, eve = people["bc1"], people["bc2"], people["eve"]
        try:
            denied = await eve.say("alert")  # composing needs the broadcaster role
            assert denied["tone"] == "denied"
            opened = await bc1.say("alert")
            preview = await bc1.submit(opened["form"]["form_id"],
                                       compose_values(severity="severe"))
            value = preview["buttons"][0]["value"]
            asked = await bc1.click("alert:send", value)
            assert "Approval requested from 1 other broadcaster" in asked["text"]
            request = (await _wait_inbox(bc2, 1))[0]
            approve = next(b for b in request["buttons"] if b["action_id"] == "alert:approve")
            # The composer cannot approve, not even by claiming to be the other broadcaster.
            status, own = await bc1.post({"user": "bc2", "action": {
                "id": "alert:approve", "value": approve["value"]}}, **bc1.headers())
            assert "second broadcaster" in own["replies"][0]["text"]
            stranger = await eve.click("alert:approve", approve["value"])
            assert stranger["tone"] == "denied"
            approved = await bc2.click("alert:approve", approve["value"])
            assert "is going out" in approved["text"], approved
            delivered = await _wait_inbox(people["clerk"], 1)
            assert "Polling hours" in delivered[0]["text"]
        finally:
            for web in people.values():
                await web.__aexit__()
