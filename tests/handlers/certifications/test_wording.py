"""Certification wording people read: plain words, one statement per standing, counts right.

Expected strings are worked out by hand: KS took office 2025-01-13 and finished its third
course set on 06 Mar 2027, so the advance renewal is due 31 Dec 2028 (certified + 1 year, end of
year); from Wed 01 Nov 2028 that is 29 + 31 = 60 days, inside the 90-day renewal window. CERA
finished its 12th core course on 01 Jun 2026, so renewal is due 31 Dec 2029 (+3 years, end of
year), inside its 180-day window on 01 Dec 2029.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path

import aiohttp
import pytest

from handlers.certifications.commands import parse_done, unreachable_rows
from handlers.certifications.enums import CertStatus
from handlers.certifications.replies import build_unreachable, standing_line
from handlers.certifications.report import to_csv, to_table
from handlers.certifications.rules import load_programs
from handlers.certifications.service import CertError
from handlers.certifications.status import CompiledProgram, Facts, Standing, evaluate
from tests.handlers.certifications.conftest import CERT, ROLES, Clock, load_demo, make_services
from tests.support import make_settings, running_bot

PROGRAMS = {code: CompiledProgram(p) for code, p in load_programs().items()}
KS_FACTS = Facts(took_office=date(2025, 1, 13), role="county_clerk")
KS_ALL = [(date(2025, 4, 10), "KS-Y1-PLAN", 3.0), (date(2025, 4, 10), "KS-Y1-REDIST", 3.0),
          (date(2025, 4, 11), "KS-Y1-VSYS", 3.0), (date(2026, 3, 2), "KS-Y2-POLLW", 3.0),
          (date(2026, 3, 2), "KS-Y2-VOTING", 3.0), (date(2026, 3, 3), "KS-Y2-CANVASS", 3.0),
          (date(2027, 3, 5), "KS-Y3-ADMIN", 3.0), (date(2027, 3, 5), "KS-Y3-OUTREACH", 3.0),
          (date(2027, 3, 6), "KS-Y3-TECH", 3.0)]


def test_a_renewal_due_is_one_statement_with_the_requirement_in_words() -> None:
    s = evaluate(PROGRAMS["KS-CLERK"], KS_FACTS, tuple(KS_ALL), date(2028, 11, 1))
    assert standing_line(s, date(2028, 11, 1)) == (
        "**KS-CLERK**: renewal due; next deadline Sun 31 Dec 2028 (in 60 days): Annual advance "
        "renewal course; certified on Sat 06 Mar 2027; still needed: 1 course left: KS-ADV")


def test_a_passed_deadline_is_said_once_with_how_long_ago() -> None:
    s = evaluate(PROGRAMS["KS-CLERK"], KS_FACTS, tuple(KS_ALL), date(2029, 1, 3))
    line = standing_line(s, date(2029, 1, 3))
    assert line.startswith("**KS-CLERK**: lapsed since Sun 31 Dec 2028 (3 days ago): Annual advance "
                           "renewal course; certified on Sat 06 Mar 2027")
    assert "next deadline" not in line and "advance_renewal" not in line
    overdue = evaluate(PROGRAMS["KS-CLERK"], KS_FACTS, (), date(2027, 1, 1))
    assert standing_line(overdue, date(2027, 1, 1)).startswith(
        "**KS-CLERK**: overdue since Thu 31 Dec 2026 (yesterday): Year One courses;")


def test_day_counts_are_singular_and_plural() -> None:
    standing = Standing("KS-CLERK", CertStatus.IN_PROGRESS, date(2026, 12, 31), "year_one")
    assert standing_line(standing, date(2026, 12, 30)) == \
        "**KS-CLERK**: in progress; next deadline Thu 31 Dec 2026 (tomorrow): year one"
    assert "(in 2 days)" in standing_line(standing, date(2026, 12, 29))
    assert "(today)" in standing_line(standing, date(2026, 12, 31))
    certified = Standing("KS-CLERK", CertStatus.CERTIFIED, certified_on=date(2027, 3, 6))
    assert standing_line(certified, date(2027, 4, 1)) == \
        "**KS-CLERK**: certified since Sat 06 Mar 2027"
    assert build_unreachable([("Kim Ortiz", "KS", "x")]).text.startswith("1 official the bot")
    assert build_unreachable([("A", "KS", "x"), ("B", "KS", "y")]).text.startswith("2 officials")


def test_courses_left_are_counted_in_plain_words() -> None:
    cera, facts = PROGRAMS["CERA"], Facts(role="county_clerk")
    two = ((date(2015, 6, 1), "CERA-C01", 12.0), (date(2016, 6, 1), "CERA-C02", 12.0))
    assert evaluate(cera, facts, two, date(2020, 1, 1)).missing == (
        "2 of 12 courses done, 10 courses left: CERA-C03, CERA-C04, CERA-C05, CERA-C06, "
        "CERA-C07, CERA-C08, ...",)
    cores = tuple((date(2015 + i, 6, 1), f"CERA-C{i + 1:02d}", 12.0) for i in range(12))
    renewal = evaluate(cera, facts, cores, date(2029, 12, 1))
    assert renewal.status == CertStatus.RENEWAL_DUE
    assert renewal.missing == ("1 course left: CERA-REN", "2 sessions of CERA-EVENT")
    assert not any("listed courses" in m for m in renewal.missing)


def test_done_accepts_today_and_yesterday_in_the_given_local_day(tmp_path: Path) -> None:
    app = make_settings(tmp_path, roles=ROLES, certification=CERT).app
    today = date(2026, 3, 1)
    assert parse_done(["ks-y1-plan", "yesterday"], app, today) == \
        ("KS-Y1-PLAN", date(2026, 2, 28), 3.0)
    assert parse_done(["KS-Y1-PLAN", "Today", "2"], app, today) == \
        ("KS-Y1-PLAN", date(2026, 3, 1), 2.0)
    assert parse_done(["KS-Y1-PLAN", "2026-02-27"], app, today)[1] == date(2026, 2, 27)
    with pytest.raises(CertError, match="today or yesterday"):
        parse_done(["KS-Y1-PLAN", "tomorrow"], app, today)


async def _say(session: aiohttp.ClientSession, url: str, user: str, text: str) -> dict:
    async with session.post(f"{url}/webchat/messages", json={"user": user, "text": text}) as resp:
        assert resp.status == 200
        return (await resp.json())["replies"][0]


async def test_chat_yesterday_is_the_officials_zone_and_supervisors_see_unreachable(
        tmp_path: Path) -> None:
    settings = make_settings(tmp_path, roles=ROLES, certification=CERT)
    async with running_bot(settings) as bot, aiohttp.ClientSession() as http:
        # 05:00 UTC on 17 Dec is 23:00 on 16 Dec in Chicago (Pat's zone): yesterday is 15 Dec.
        bot.services.clock = Clock(datetime(2026, 12, 17, 5, tzinfo=UTC))
        await load_demo(bot.services)
        done = await _say(http, bot.url, "pat", "cert done KS-Y1-VSYS yesterday")
        assert done["text"].startswith("Recorded: KS-Y1-VSYS on Tue 15 Dec 2026 (3 h)")
        mine = " ".join(s["text"] for s in (await _say(http, bot.url, "pat", "cert"))["sections"])
        assert "Year One courses" in mine and "year_one" not in mine
        refused = await _say(http, bot.url, "pat", "cert unreachable")
        assert refused["text"] == ("Only certification supervisors and state staff can list "
                                   "the officials the bot cannot reach.")
        allowed = await _say(http, bot.url, "ks-super", "cert unreachable")
        assert allowed["text"].startswith("1 official the bot cannot reach")
        assert allowed["sections"][0]["text"].startswith("Kim Ortiz (KS)")
        help_text = " ".join(s["text"] for s in (await _say(
            http, bot.url, "ks-super", "cert help"))["sections"])
        assert "unreachable` officials with a deadline" in help_text
        assert "in the jurisdictions you supervise" in help_text


async def test_unreachable_rows_keep_to_the_supervisors_jurisdictions(tmp_path: Path) -> None:
    services = await make_services(tmp_path, clock=Clock(datetime(2026, 12, 17, 14, tzinfo=UTC)))
    try:
        await load_demo(services)
        now = services.clock()
        assert [r[0] for r in await unreachable_rows(services, now, {"KS"})] == ["Kim Ortiz"]
        assert await unreachable_rows(services, now, {"CT"}) == []
    finally:
        await services.db.close()


def test_the_cli_table_says_roles_and_columns_in_words_and_csv_keeps_codes() -> None:
    rows: list[dict[str, object]] = [{"jurisdiction": "KS", "role": "county_clerk",
                                      "certified": 1, "due_soon": 2, "in_progress": 0,
                                      "overdue": 0, "lapsed": 0, "exempt": 0}]
    table = to_table(rows)
    assert re.split(r" {2,}", table.splitlines()[0])[:4] == [
        "Jurisdiction", "Role", "Certified", "Due soon"]
    assert "County clerk" in table and "county_clerk" not in table and "_" not in table
    assert to_csv(rows).splitlines()[1] == "KS,county_clerk,1,2,0,0,0,0"
