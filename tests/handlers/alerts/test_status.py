"""The status view answers "who still needs a nudge": one column per answer, need help apart.

Hand-computed: an alert to five members, of whom one received, one actioned, one said not
applicable, one needs help and one said nothing, shows 1/1/1/1/1; the one needing help is named
with whom to call, the silent one is listed as not acknowledged, and "Need help" is no
acknowledgement. The CLI (``electionbot alerts status``) says the same.
"""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from app.cli.main import app as cli
from app.services import build_services
from bot.config.settings import Settings
from bot.db.engine import Database, utcnow
from bot.messages import Fact, Tone
from handlers.alerts import delivery, service, status
from handlers.alerts.forms import validate
from handlers.alerts.models import Alert, AlertRecipient
from handlers.alerts.service import Actor
from tests.handlers.alerts.conftest import alert_settings, compose_values
from tests.support import migrated

MEMBERS = [("U0", "Ann", "Allen County"), ("U1", "Ben", "Barton County"),
           ("U2", "Cy", "Cheyenne County"), ("U3", "Dee", "Dodge City Clerk"),
           ("U4", "Eli", "Ellis County")]
ANSWERS = {"U0": "received", "U1": "actioned", "U2": "not_applicable", "U3": "need_help"}


def _settings(tmp_path: Path) -> Settings:
    return alert_settings(tmp_path, help_destinations=["slack:T1:CSTATE"], groups=[
        {"name": "five", "tier": "T1", "members": [
            {"destination": f"slack:T1:@{user}", "organisation": org, "name": name,
             "jurisdiction": "KS"} for user, name, org in MEMBERS]}])


async def _sent(settings: Settings) -> tuple[Database, Alert]:
    """The alert sent to the five, every copy delivered (as the outbox worker would mark)."""
    migrated(settings.env.DATABASE_URL)
    db, now = build_services(settings).db, utcnow()
    actor = Actor("webchat:local:bc1", settings.app)
    clean, errors = validate(compose_values(tiers="", groups="five"), settings.app, now,
                             child=False, known_groups={"five"})
    assert clean is not None, errors
    alert, _ = await service.create_draft(db=db, app=settings.app, actor=actor, clean=clean,
                                          reply_to="webchat:local:@bc1", now=now)
    await service.send(db=db, app=settings.app, actor=actor, public_id=alert.public_id, now=now)
    async with db.session() as session:
        await session.execute(sa.text(
            "UPDATE outbox_message SET status = 'sent' WHERE key LIKE 'alert:%'"))
        await session.commit()
    return db, alert


async def _answer(db: Database, settings: Settings, alert: Alert, user: str, kind: str) -> None:
    """One member's click, with the help request state staff get for "Need help"."""
    _ack, _created, recipient = await service.acknowledge(
        db=db, public_id=alert.public_id, person=f"slack:T1:{user}", channel="", kind=kind,
        now=utcnow())
    if kind == "need_help":
        await _ask_help(db, settings, alert, user, recipient)


async def _ask_help(db: Database, settings: Settings, alert: Alert, user: str,
                    recipient: AlertRecipient) -> None:
    async with db.session() as session:
        delivery.enqueue_help(session, alert, settings.app, person=f"slack:T1:{user}",
                              recipient=recipient)
        await session.commit()


async def _five_answered(settings: Settings) -> Alert:
    """The alert, answered as in :data:`ANSWERS` (the fifth member says nothing)."""
    db, alert = await _sent(settings)
    for user, kind in ANSWERS.items():
        await _answer(db, settings, alert, user, kind)
    await db.close()
    return alert


async def test_five_members_one_in_each_column(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    alert = await _five_answered(settings)
    db = Database(settings.env.DATABASE_URL)
    reply = await delivery.status_reply(db=db, alert=alert)
    await db.close()
    assert reply.fields == (Fact("Received", "1"), Fact("Actioned", "1"),
                            Fact("Not applicable", "1"), Fact("Need help", "1"),
                            Fact("Not yet", "1"))
    assert reply.tone is Tone.WARNING  # someone needs help: the view is highlighted
    texts = [s.text for s in reply.sections]
    assert texts[0] == "**Need help: call them** (1): Dee (Dodge City Clerk, T1)"
    assert texts[5] == "Not acknowledged yet (1): Eli (Ellis County, T1)"
    assert "expires " in reply.sections[5].context  # the times, under who to nudge
    row = ("5/5 delivered, 0 failed; received 1, actioned 1, not applicable 1, need help 1, "
           "not yet 1")
    assert f"T1: {row}" in texts[1] and f"Slack: {row}" in texts[2] and f"KS: {row}" in texts[4]
    # One line per organisation, the ones needing attention first, each in a word or two.
    assert texts[3].split("\n") == [
        "By organisation (5; 2 needing attention)",
        "Dodge City Clerk (Slack): NEED HELP", "Ellis County (Slack): waiting",
        "Allen County (Slack): received", "Barton County (Slack): actioned",
        "Cheyenne County (Slack): not applicable"]


async def test_a_view_tallied_in_a_worker_thread_reads_the_same(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = _settings(tmp_path)
    alert = await _five_answered(settings)
    db = Database(settings.env.DATABASE_URL)
    here = await delivery.status_reply(db=db, alert=alert)
    threads: list[str] = []
    view = status._view

    def watched(*args: object) -> object:
        threads.append(threading.current_thread().name)
        return view(*args)  # type: ignore[arg-type]
    monkeypatch.setattr(status, "THREAD_ROWS", 1)  # five members: as thousands would be
    monkeypatch.setattr(status, "_view", watched)
    there = await delivery.status_reply(db=db, alert=alert)
    await db.close()
    assert there == here and threads and threads[0] != threading.main_thread().name


def test_the_cli_shows_the_same_columns(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = _settings(tmp_path)
    alert = asyncio.run(_five_answered(settings))
    monkeypatch.setenv("ELECTIONBOT_CONFIG", str(settings.config_path))
    monkeypatch.setenv("DATABASE_URL", settings.env.DATABASE_URL)
    shown = CliRunner().invoke(cli, ["alerts", "status", alert.public_id])
    assert shown.exit_code == 0, shown.output
    assert ("Received: 1 | Actioned: 1 | Not applicable: 1 | Need help: 1 | Not yet: 1"
            in shown.output)
    assert "Need help: call them (1): Dee (Dodge City Clerk, T1)" in shown.output
    assert "Not acknowledged yet (1): Eli (Ellis County, T1)" in shown.output
    assert "**" not in shown.output


async def test_help_asked_after_an_answer_moves_the_member_to_need_help(
        tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    db, alert = await _sent(settings)
    for user in ("U0", "U1", "U2", "U3", "U4"):
        await _answer(db, settings, alert, user, "received")
    everyone = await delivery.status_reply(db=db, alert=alert)
    assert everyone.fields[0] == Fact("Received", "5") and everyone.tone is Tone.INFO
    assert everyone.sections[-1].text == \
        "Not acknowledged yet: none, everyone has acknowledged."
    # Ben clicks "Need help" after "Received": his answer stays, state staff are told.
    _ack, created, recipient = await service.acknowledge(
        db=db, public_id=alert.public_id, person="slack:T1:U1", channel="", kind="need_help",
        now=utcnow())
    assert not created
    await _ask_help(db, settings, alert, "U1", recipient)
    reply = await delivery.status_reply(db=db, alert=alert)
    await db.close()
    assert [f.value for f in reply.fields] == ["4", "0", "0", "1", "0"]
    assert reply.sections[0].text == "**Need help: call them** (1): Ben (Barton County, T1)"
    assert reply.sections[-1].text == \
        "Not acknowledged yet: only those who need help (above); everyone else has."


def test_a_channel_shows_its_most_telling_answer() -> None:
    assert delivery.answer_of(set()) == "not_yet"
    assert delivery.answer_of({"received", "actioned"}) == "actioned"
    assert delivery.answer_of({"received", "not_applicable"}) == "not_applicable"
    assert delivery.answer_of({"actioned", "need_help"}) == "need_help"


def test_an_alert_expiry_is_in_the_office_zone_with_its_year() -> None:
    """20:00 UTC on Tue 03 Nov 2026 is 15:00 EST in New York (UTC-5 after 01 Nov)."""
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    from handlers.alerts.models import Alert
    from handlers.alerts.replies import build_acknowledged_line, build_alert_message

    alert = Alert(public_id="AL-1", alert_type="advisory", severity="minor", tlp="CLEAR",
                  headline="h", body="b", expires_at=datetime(2026, 11, 3, 20, 0, tzinfo=UTC))
    office = ZoneInfo("America/New_York")
    reply = build_alert_message(alert, zone=office)
    assert "expires Tue 03 Nov 2026 15:00 EST" in reply.sections[-1].context
    line = build_acknowledged_line("received", datetime(2026, 11, 3, 20, 0, tzinfo=UTC),
                                   zone=office)
    assert line == "Acknowledged: Received, Tue 03 Nov 2026 15:00 EST."


def test_status_says_when_it_went_out_and_expires_in_the_readers_zone() -> None:
    """Sent 14:00 UTC on Tue 03 Nov 2026, after DST ended (01 Nov): 08:00 CST; expires 02:00 UTC
    on the 4th = 20:00 CST on the 3rd. Read at 16:30 UTC: 2 hours ago, in 9 hours (9.5)."""
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    from handlers.alerts.status_replies import build_status

    alert = Alert(public_id="AL9", alert_type="advisory", severity="moderate", headline="H",
                  body="B", tlp="GREEN", status="sent", created_by="x", reply_to="x",
                  sent_at=datetime(2026, 11, 3, 14, tzinfo=UTC),
                  expires_at=datetime(2026, 11, 4, 2, tzinfo=UTC))
    reply = build_status(alert, {}, {}, {}, need_help=(), not_yet=(),
                         zone=ZoneInfo("America/Chicago"),
                         now=datetime(2026, 11, 3, 16, 30, tzinfo=UTC))
    assert reply.sections[-1].context == ("Sent Tue 03 Nov 2026 08:00 CST (2 hours ago) · "
                                          "expires Tue 03 Nov 2026 20:00 CST (in 9 hours)")


def test_thousands_of_organisations_read_in_one_screen() -> None:
    """3,000 organisations, 40 needing attention: only those are listed, worst first."""
    from handlers.alerts.status_replies import ORG_LINES, OrgTally, build_organisations

    orgs: dict[str, OrgTally] = {}
    for n in range(3000):
        tally = orgs[f"Org {n:04d}"] = OrgTally()
        tally.add("Slack", "received")
    orgs["Org 2999"].add("e-mail", "waiting")   # one of two members silent
    orgs["Org 0500"] = OrgTally()
    orgs["Org 0500"].add("e-mail", "", excluded="tlp_amber_domain")
    orgs["Org 1500"] = OrgTally()
    orgs["Org 1500"].add("Teams", "failed")
    orgs["Org 2500"] = OrgTally()
    orgs["Org 2500"].add("e-mail", "need_help")
    for n in range(36):  # and 36 more waiting
        orgs[f"Org {n:04d}"] = OrgTally()
        orgs[f"Org {n:04d}"].add("e-mail", "waiting")
    lines = build_organisations(orgs, "AMBER").text.split("\n")
    assert lines[0] == "By organisation (3000; 40 needing attention)"
    assert len(lines) == 1 + ORG_LINES + 1
    assert lines[1:5] == ["Org 2500 (e-mail): NEED HELP", "Org 1500 (Teams): failed",
                          "Org 0500 (e-mail): not sent, TLP:AMBER outside listed domains",
                          "Org 0000 (e-mail): waiting"]
    assert "Org 2999 (Slack 1, e-mail 1): waiting 1, received 1" not in lines  # the last waiting: counted
    assert lines[-1] == "and 2975 more: 15 needing attention, 2960 with every member answered"
