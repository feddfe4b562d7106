"""Certification end to end on the fake Slack and Teams platforms, production server.

The roster and completions come in through the ``electionbot`` CLI; people talk to the bot
through signed Slack requests and Bot Framework activities; reminders leave through the outbox
worker running in the background and are observed at the fake platforms.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from bot.adapters.teams.proactive import NO_REFERENCE
from bot.services import Services
from handlers.certifications.scheduler import run_once
from tests.bot.adapters.slack.slack_support import SlackBot, buttons_of, click, command_body, interaction_body
from tests.fakes.bot_connector import FakeBotConnector, load_activity, post_activity
from tests.handlers.certifications.platform_support import (
    CERT,
    DANA,
    GHOST,
    PERSONAL,
    TENANT,
    FlowingClock,
    blocks_text,
    cert_settings,
    cert_slack_bot,
    electionbot,
    import_demo,
)
from tests.support import running_bot


async def answer(sb: SlackBot, raw: bytes) -> dict[str, Any]:
    """Send a signed request; return the bot's next post to a response_url.

    Requests are made one at a time, so the n-th response_url post answers the n-th request.
    """
    seen = len(sb.fake.calls_to("response"))
    assert (await sb.signed(raw))[0] == 200
    return (await sb.fake.wait_for("response", seen + 1))[seen].params


async def slash(sb: SlackBot, text: str, *, user: str, name: str) -> dict[str, Any]:
    """A signed ``/cert`` slash command typed by ``user``."""
    return await answer(sb, command_body(sb.fake, text, name=name, command="/cert",
                                         user_id=user))


async def press(sb: SlackBot, message: dict[str, Any], label: str, *, user: str,
                name: str) -> dict[str, Any]:
    """``user`` clicks the button labelled ``label`` on a DM the bot posted (block_actions)."""
    button = buttons_of(message["blocks"])[label]
    payload = click(sb.fake, button, user=user, channel=message["channel"], name=name)
    return await answer(sb, interaction_body(payload))


async def wait_until(check: Callable[[], Awaitable[Any]], timeout: float = 10.0) -> Any:
    """Poll ``check`` until it is truthy (a condition, not a fixed sleep)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := await check():
            return result
        await asyncio.sleep(0.01)
    raise AssertionError(f"condition not met within {timeout} s")


async def dms(sb: SlackBot, user: str, count: int) -> list[dict[str, Any]]:
    """Wait for ``count`` DMs to ``user``; the DM channel came from conversations.open."""
    await sb.fake.wait_for("conversations.open", 1, users=user)
    return [c.params for c in await sb.fake.wait_for("chat.postMessage", count,
                                                      channel=f"D{user}")]


async def test_slack_status_self_report_and_verifier_click(tmp_path: Path) -> None:
    clock = FlowingClock(datetime(2026, 12, 17, 16, tzinfo=UTC))
    async with cert_slack_bot(tmp_path, clock) as sb:
        mine = await slash(sb, "", user="U0ASKER", name="status")
        text = blocks_text(mine)
        assert mine["response_type"] == "ephemeral"
        assert "Pat Johnson" in text and "KS-CLERK" in text and "31 Dec 2026" in text
        assert "KS-Y1-VSYS" in text and "KS-Y1-PLAN (Thu 10 Apr 2025)" in text

        done = await slash(sb, "done KS-Y1-VSYS 2026-12-10", user="U0ASKER", name="done")
        assert "pending verification" in done["text"]
        [ask] = await dms(sb, "USUPER", 1)  # the KS supervisor verifies
        assert "Pat Johnson reports KS-Y1-VSYS" in ask["text"]
        denied = await press(sb, ask, "Verify", user="U0ASKER", name="self")
        assert "Only certification supervisors" in denied["text"]
        ok = await press(sb, ask, "Verify", user="USUPER", name="verify")
        assert "is verified" in ok["text"]
        again = await press(sb, ask, "Verify", user="USUPER", name="again")
        assert "already decided" in again["text"]

        after = blocks_text(await slash(sb, "", user="U0ASKER", name="after"))
        assert "KS-Y1-VSYS (Thu 10 Dec 2026)" in after and "still needed: KS-Y1-REDIST" in after
        nosy = await slash(sb, "jurisdiction KS", user="U0ASKER", name="nosy")
        assert "Only certification supervisors" in nosy["text"]
        overview = blocks_text(await slash(sb, "jurisdiction KS", user="USUPER", name="sup"))
        assert all(n in overview for n in ("Pat Johnson", "Lee Wallace", "Kim Ortiz"))


# KS year-one deadline 2026-12-31 (Thu): the ladder on business days, the 2026-11-03 election's
# quiet window (10-27..11-05), holidays 12-25 and 01-01, then weekly overdue steps.
LADDER = ["2026-10-02", "2026-11-06", "2026-12-01", "2026-12-17", "2026-12-24", "2026-12-30",
          "2026-12-31", "2027-01-04", "2027-01-07", "2027-01-14", "2027-01-21", "2027-01-28",
          "2027-02-04", "2027-02-11", "2027-02-18", "2027-02-25"]
# Pat snoozes the -1 reminder on 12-30 for 7 days: step 0 and +1 are held until 01-06, when the
# latest due step (+1) arrives; +7 onwards are escalations, which a snooze does not hold.
PAT = [d for d in LADDER if d not in ("2026-12-31", "2027-01-04")]
PAT.insert(PAT.index("2027-01-07"), "2027-01-06")
TICKS_UTC = (4, 13, 14, 15, 16, 17)  # 22:00/23:00 the evening before, and 07:00..12:00 local


async def settle(services: Services) -> None:
    """Wait until the background outbox worker has finished every due send."""
    async def idle() -> bool:
        async with services.db.engine.connect() as conn:
            busy = (await conn.execute(sa.text(
                "SELECT count(*) FROM outbox_message WHERE status IN ('pending', 'sending')"
            ))).scalar()
        return busy == 0
    await wait_until(idle)


@pytest.mark.slow
@pytest.mark.timeout(600)  # a simulated year, ticked six times a day
async def test_a_year_of_slack_reminders_once_each_at_nine_local(tmp_path: Path) -> None:
    clock = FlowingClock(datetime(2026, 3, 1, 4, tzinfo=UTC))
    async with cert_slack_bot(tmp_path, clock) as sb:
        services = sb.bot.services
        arrived: list[tuple[datetime, dict[str, Any]]] = []
        day = date(2026, 3, 2)
        while day < date(2027, 3, 2):
            for hour in TICKS_UTC:
                clock.set(datetime(day.year, day.month, day.day, hour, tzinfo=UTC))
                seen = len(sb.fake.calls_to("chat.postMessage"))
                result = await run_once(services)
                if result.sent or result.staff_digests:
                    await settle(services)
                for call in sb.fake.calls_to("chat.postMessage")[seen:]:
                    arrived.append((clock(), call.params))
                    local = clock().astimezone(ZoneInfo("America/Chicago")).date()
                    if call.params["channel"] == "DU0ASKER" and local == date(2026, 12, 30):
                        snoozed = await press(sb, call.params, "Snooze 7 days", user="U0ASKER",
                                              name="snooze")
                        assert "until Wed 06 Jan 2027" in snoozed["text"]
            day += timedelta(days=1)

        def to(channel: str, zone: str) -> list[datetime]:
            return [t.astimezone(ZoneInfo(zone)) for t, p in arrived if p["channel"] == channel]

        pat, lee = to("DU0ASKER", "America/Chicago"), to("DU0LEE", "America/Denver")
        assert [t.date().isoformat() for t in pat] == PAT
        assert [t.date().isoformat() for t in lee] == LADDER
        assert {(t.hour, t.minute) for t in pat + lee} == {(9, 0)}
        assert {t.astimezone(UTC).hour for t in pat} == {14, 15}  # CDT, then CST
        assert {t.astimezone(UTC).hour for t in lee} == {15, 16}  # MDT, then MST
        assert {p["channel"] for _, p in arrived} <= {"DU0ASKER", "DU0LEE", "DUSUPER", "DUBOSS"}
        assert len(sb.fake.calls_to("conversations.open", users="U0ASKER")) == 1

        supervisor = [(t, blocks_text(p)) for t, p in arrived if p["channel"] == "DUSUPER"]
        first_t, first = supervisor[0]
        assert first_t.astimezone(ZoneInfo("America/Chicago")).replace(tzinfo=None) \
            .isoformat(timespec="minutes") == "2027-01-07T09:00"
        assert "Escalation: Pat Johnson" in first and "Escalation: Kim Ortiz" in first
        lee_first = next(t for t, x in supervisor if "Lee Wallace" in x)
        assert lee_first.astimezone(ZoneInfo("America/Denver")).date() == date(2027, 1, 8)
        assert len({t.date() for t, _ in supervisor}) == len(supervisor)  # one digest a day
        async with services.db.engine.connect() as conn:
            rows = (await conn.execute(sa.text(
                "SELECT deadline_key, recipient, step FROM cert_reminder_sent"))).all()
        assert max(Counter(rows).values()) == 1
        assert sum(r[1] == "slack:T0TEST:USUPER" for r in rows) >= 5 * 8  # 5 people, 8 steps

        # State staff hear once per business day, at 09:00 office time, who cannot be reached.
        office = ZoneInfo("America/New_York")
        digests = [(t.astimezone(office), blocks_text(p)) for t, p in arrived
                   if p["channel"] == "DUBOSS"]
        business = [d for d in (date(2026, 3, 2) + timedelta(days=i) for i in range(365))
                    if d.weekday() < 5 and d.isoformat() not in CERT["holidays"]]
        assert [t.date() for t, _ in digests] == business
        assert {(t.hour, t.minute) for t, _ in digests} == {(9, 0)}
        assert "Kim Ortiz (KS): no chat identity" in digests[0][1]
        assert "Gus Ghost (KS)" in digests[0][1] and "Pat Johnson" not in digests[-1][1]

        last_to_lee = [p for _, p in arrived if p["channel"] == "DU0LEE"][-1]
        notme = await press(sb, last_to_lee, "Not me / role changed", user="U0LEE", name="notme")
        assert "state election staff" in notme["text"]
        await settle(services)
        staff = [blocks_text(c.params) for c in sb.fake.calls_to("chat.postMessage",
                                                                 channel="DUBOSS")]
        assert any("Roster check needed: Lee Wallace" in x for x in staff)

        chart = tmp_path / "compliance.png"
        code, out = await electionbot(services.settings, "cert", "report", "--format", "csv",
                                      "--chart", str(chart))
        assert code == 0 and "KS,county_clerk" in out
        assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


async def test_teams_reminder_goes_proactively_from_the_background_scheduler(
        tmp_path: Path) -> None:
    clock = FlowingClock(datetime(2026, 12, 17, 13, tzinfo=UTC))  # 07:00 in Chicago
    with FakeBotConnector() as fake:
        settings = cert_settings(tmp_path, scheduler_interval_seconds=0.05)
        async with running_bot(settings, background=True) as bot:
            bot.services.clock = clock
            await import_demo(settings, tmp_path)
            # Dana talks to the bot first: that stores her personal-chat conversation reference.
            hello = load_activity("personal_message", fake.url + "/", text="cert")
            assert (await post_activity(bot.url, hello))[0] == 200
            [status] = await fake.wait_for_sends_to(PERSONAL, 1)
            assert status.reply_to_id == hello["id"] and "KS-CLERK" in str(status.body)

            clock.set(datetime(2026, 12, 17, 15, tzinfo=UTC))  # 09:00 CST: the -14 step is due
            reminder = (await fake.wait_for_sends_to(PERSONAL, 2))[1]
            assert reminder.reply_to_id is None  # a new proactive message, not a reply
            assert reminder.body["recipient"]["aadObjectId"] == DANA
            card = reminder.body["attachments"][0]["content"]
            assert "due in 14 days" in str(card)
            snooze = next(a for a in card["actions"] if a["title"] == "Snooze 7 days")
            press_ = load_activity("personal_message", fake.url + "/", value=snooze["data"])
            press_.pop("text")
            assert (await post_activity(bot.url, press_))[0] == 200
            answer = next(c for c in await fake.wait_for_sends_to(PERSONAL, 3)
                          if c.reply_to_id == press_["id"])
            assert "Snoozed" in answer.body["text"]

            async def gus_dead() -> Any:
                async with bot.services.db.engine.connect() as conn:
                    return (await conn.execute(sa.text(
                        "SELECT last_error FROM outbox_message WHERE status = 'dead' "
                        "AND destination = :d"), {"d": f"teams:{TENANT}:@{GHOST}"})).scalar()
            assert await wait_until(gus_dead) == NO_REFERENCE
            # More passes at the same hour send nothing more: one reminder for Dana.
            assert (await run_once(bot.services)).sent == 0
            await settle(bot.services)
            assert len([c for c in fake.sends_to(PERSONAL) if c.reply_to_id is None]) == 1
