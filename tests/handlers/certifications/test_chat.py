"""End to end through the web chat HTTP path: /cert, reports, verifier and reminder buttons."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import sqlalchemy as sa

from handlers.certifications.scheduler import run_once
from tests.handlers.certifications.conftest import CERT, ROLES, Clock, load_demo
from tests.support import make_settings, running_bot


async def _say(session: aiohttp.ClientSession, url: str, user: str, **payload: object) -> dict:
    async with session.post(f"{url}/webchat/messages", json={"user": user, **payload}) as resp:
        assert resp.status == 200
        return (await resp.json())["replies"][0]


async def _inbox(session: aiohttp.ClientSession, url: str, user: str) -> list[dict]:
    async with session.get(f"{url}/webchat/inbox", params={"user": user, "after": "0"}) as resp:
        return (await resp.json())["messages"]


async def test_status_report_verify_and_reminder_buttons(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, roles=ROLES, certification=CERT)
    async with running_bot(settings) as bot, aiohttp.ClientSession() as http:
        clock = Clock(datetime(2026, 12, 17, 16, tzinfo=UTC))
        bot.services.clock = clock
        await load_demo(bot.services)
        mine = await _say(http, bot.url, "pat", text="cert")
        body = " ".join(s["text"] for s in mine["sections"])
        assert "KS-CLERK" in body and "31 Dec 2026" in body and "KS-Y1-VSYS" in body
        reported = await _say(http, bot.url, "pat", text="cert done KS-Y1-VSYS 2026-12-10")
        assert "pending verification" in reported["text"]
        await bot.services.outbox.run_once()
        ask = (await _inbox(http, bot.url, "ks-super"))[-1]["reply"]
        verify = next(b for b in ask["buttons"] if b["action_id"] == "cert:verify")
        denied = await _say(http, bot.url, "pat", action={"id": verify["action_id"],
                                                          "value": verify["value"]})
        assert "Only certification supervisors" in denied["text"]
        ok = await _say(http, bot.url, "ks-super", action={"id": verify["action_id"],
                                                           "value": verify["value"]})
        assert "verified" in ok["text"]
        # The verified course counts: only KS-Y1-REDIST remains for year one.
        after = await _say(http, bot.url, "pat", text="cert")
        assert "KS-Y1-REDIST" in " ".join(s["text"] for s in after["sections"])
        await run_once(bot.services)
        await bot.services.outbox.run_once()
        reminder = (await _inbox(http, bot.url, "lee"))[-1]["reply"]
        assert reminder["text"] == "Certification reminder"
        snooze = next(b for b in reminder["buttons"] if b["action_id"] == "cert:snooze")
        stolen = await _say(http, bot.url, "pat", action={"id": "cert:snooze",
                                                          "value": snooze["value"]})
        assert "Only certification supervisors" in stolen["text"]
        snoozed = await _say(http, bot.url, "lee", action={"id": "cert:snooze",
                                                           "value": snooze["value"]})
        assert "Snoozed" in snoozed["text"]
        notme = await _say(http, bot.url, "lee", action={"id": "cert:notme",
                                                         "value": snooze["value"]})
        assert "state election staff" in notme["text"]
        await bot.services.outbox.run_once()
        assert any("Roster check needed" in m["reply"]["text"]
                   for m in await _inbox(http, bot.url, "boss"))
        form = await _say(http, bot.url, "lee", action={"id": "cert:complete",
                                                        "value": snooze["value"]})
        assert form["form"]["form_id"] == f"cert:done:{snooze['value']}"
        done = await _say(http, bot.url, "lee", form={"id": form["form"]["form_id"], "values": {
            "course": "KS-Y1-PLAN", "completed_on": "2026-12-01", "hours": ""}})
        assert "pending verification" in done["text"]
        nosy = await _say(http, bot.url, "pat", text="cert @lee")
        assert "Only certification supervisors" in nosy["text"]
        sup = await _say(http, bot.url, "ks-super", text="cert jurisdiction KS")
        assert len(sup["sections"]) == 3
        unreachable = await _say(http, bot.url, "boss", text="cert unreachable")
        assert "Kim Ortiz" in unreachable["sections"][0]["text"]
        async with bot.services.db.engine.connect() as conn:
            denials = (await conn.execute(sa.text(
                "SELECT count(*) FROM audit_entry WHERE allowed = false AND action LIKE 'cert%'"
            ))).scalar()
        assert denials == 3


async def test_a_question_about_ones_own_certification_shows_ones_status(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, roles=ROLES, certification=CERT)
    async with running_bot(settings) as bot, aiohttp.ClientSession() as http:
        bot.services.clock = Clock(datetime(2026, 12, 17, 16, tzinfo=UTC))
        await load_demo(bot.services)
        asked = await _say(http, bot.url, "pat", text="am i up to date on my certification")
        body = " ".join(s["text"] for s in asked["sections"])
        assert "KS-CLERK" in body and "KS-Y1-VSYS" in body  # pat's own standing, no refusal
        assert "Only certification supervisors" not in asked["text"]
        # ... in Spanish too
        spanish = await _say(http, bot.url, "pat", text="¿cómo va mi certificación?")
        assert "KS-Y1-VSYS" in " ".join(s["text"] for s in spanish["sections"])
        # How to renew is a question for the knowledge base, not one's standing.
        how = await _say(http, bot.url, "pat", text="how do i renew my certification")
        assert "KS-Y1-VSYS" not in " ".join(s["text"] for s in how.get("sections", []))
        assert "certification roster" not in how["text"]
        como = await _say(http, bot.url, "pat", text="¿cómo renuevo mi certificación?")
        assert "KS-Y1-VSYS" not in " ".join(s["text"] for s in como.get("sections", []))
        # A rule that applies to everyone, asked in the first person, is one too.
        rule = await _say(http, bot.url, "pat", text="do i have to keep taking classes after im "
                                                     "certified in kansas or am i done")
        assert "KS-Y1-VSYS" not in " ".join(s["text"] for s in rule.get("sections", []))
        assert "certification roster" not in rule["text"]
        # Written as a command, a word after it is still a person to look up (refused here).
        nosy = await _say(http, bot.url, "pat", text="cert lee")
        assert "Only certification supervisors" in nosy["text"]
