"""Officials without a reachable chat identity get their reminder by e-mail, once, at 09:00 local.

The e-mail transport here is a recorder registered as platform "email" (the SMTP transport is
its own adapter); the scheduler, the outbox worker, the database and the clock are the real
ones, with the clock set by the test.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from bot.messages import Destination, Reply
from bot.outbox.transport import PermanentSendError
from bot.services import Services
from handlers.certifications import service
from handlers.certifications.commands import unreachable_rows
from handlers.certifications.importer import parse_roster
from handlers.certifications.ledger import programs_for
from handlers.certifications.scheduler import run_once
from tests.handlers.certifications.conftest import Clock, Recorder, make_services

# Year-one deadline Thu 31 Dec 2026: its 14-day step is sent on Thu 17 Dec 2026.
ROSTER = """external_id,name,identity,email,jurisdiction,time_zone,program,role,term_type,took_office
ks-ann,Ann Mayer,,ann@example.org,KS,America/Chicago,KS-CLERK,county_clerk,four_year,2025-02-03
ks-bo,Bo Tran,,Bo.Tran@Example.ORG,KS,America/Denver,KS-CLERK,county_clerk,four_year,2025-02-03
ks-cy,Cy Park,webchat:local:cy,cy@example.org,KS,America/Chicago,KS-CLERK,county_clerk,four_year,2025-02-03
ks-kim,Kim Ortiz,,,KS,America/Chicago,KS-CLERK,county_clerk,four_year,2025-02-03
"""
ANN, BO, CY_MAIL = "email:ann@example.org", "email:Bo.Tran@example.org", "email:cy@example.org"
CY_CHAT = "webchat:local:@cy"
DAY = date(2026, 12, 17)


async def _load(services: Services) -> None:
    app = services.settings.app
    rows, errors = parse_roster(ROSTER, app, programs_for(app))
    assert not errors
    await service.import_roster(db=services.db, rows=rows)


async def _hours(services: Services, clock: Clock, start: datetime, hours: int) -> None:
    """Every hour from ``start``: two scheduler passes, then the outbox worker."""
    for n in range(hours):
        clock.now = start + timedelta(hours=n)
        await run_once(services)
        await run_once(services)
        await services.outbox.run_once()


def _to(recorder: Recorder, destination: str) -> list[tuple[datetime, Reply]]:
    return [(t, r) for t, d, r in recorder.sent if d == destination]


async def test_email_only_officials_get_one_email_at_nine_local_even_after_a_restart(
        tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    # Imported at midnight in Denver (01:00 in Chicago): nothing may go before 09:00 local.
    start = datetime(2026, 12, 17, 7, tzinfo=UTC)
    clock = Clock(start)
    services = await make_services(tmp_path / "a", clock=clock)
    mail, chat = Recorder(clock), Recorder(clock)
    services.outbox.register("email", mail)
    services.outbox.register("webchat", chat)
    await _load(services)
    await _hours(services, clock, start, 24)

    ann, bo = _to(mail, ANN), _to(mail, BO)
    assert len(ann) == 1 and len(bo) == 1
    assert ann[0][0].astimezone(ZoneInfo("America/Chicago")) == datetime(
        2026, 12, 17, 9, tzinfo=ZoneInfo("America/Chicago"))
    assert bo[0][0].astimezone(ZoneInfo("America/Denver")) == datetime(
        2026, 12, 17, 9, tzinfo=ZoneInfo("America/Denver"))
    assert [t.hour for t, _ in ann + bo] == [15, 16]  # two zones: two different UTC hours
    # Cy has a working chat identity: chat only, never the address too. Kim: nothing.
    assert len(_to(chat, CY_CHAT)) == 1 and _to(mail, CY_MAIL) == []
    assert {d for _, d, _ in mail.sent} == {ANN, BO}

    reply = ann[0][1]
    assert reply.title == "Certification reminder" and reply.buttons == ()
    text = " ".join(s.text for s in reply.sections)
    assert "**Kansas County Clerk Certification** " in text
    assert "due in 14 days, on Thu 31 Dec 2026" in text
    assert "send its certificate to Kansas Elections Division (800-262-VOTE (8683))" in text
    assert reply.footer == (
        "You receive this because you are on the Kansas County Clerk Certification roster for "
        "Kansas, kept by Test Office. Reminders stop once the requirement is met. Questions, a "
        "course already completed, or not you or your role changed: contact Kansas Elections "
        "Division (800-262-VOTE (8683)).")
    assert _to(chat, CY_CHAT)[0][1].footer == ""  # chat keeps its buttons and no footer
    assert _to(chat, CY_CHAT)[0][1].buttons

    # State staff hear about Kim only: Ann and Bo are reached by e-mail.
    [(_, digest)] = _to(chat, "webchat:local:@boss")
    assert [s.text for s in digest.sections] == [
        "Kim Ortiz (KS): no chat identity or e-mail address on the roster"]
    assert "cannot be reached by chat or e-mail" in digest.text

    # A restart (a new process on the same database) sends nothing again that day or the next.
    restarted = await make_services(tmp_path / "b", services.settings.env.DATABASE_URL, clock)
    again = Recorder(clock)
    restarted.outbox.register("email", again)
    restarted.outbox.register("webchat", again)
    await _hours(restarted, clock, datetime(2026, 12, 17, 14, tzinfo=UTC), 30)
    assert [d for _, d, _ in again.sent] == ["webchat:local:@boss"]  # only 18 Dec's staff note
    async with services.db.engine.connect() as conn:
        rows = (await conn.execute(sa.text(
            "SELECT recipient, step, outbox_key FROM cert_reminder_sent "
            "WHERE recipient LIKE 'email:%' ORDER BY recipient"))).all()
    assert [tuple(r) for r in rows] == [
        (BO, -14, f"cert:{BO}:2026-12-17"), (ANN, -14, f"cert:{ANN}:2026-12-17")]
    await restarted.db.close()
    await services.db.close()


@dataclass
class Unopened:
    """A chat platform that says ahead of time whom it cannot message (as Teams does)."""

    clock: Clock
    cannot: set[str]
    sent: list[tuple[datetime, str, Reply]] = field(default_factory=list)

    async def send(self, destination: Destination, reply: Reply, *, key: str) -> str:
        self.sent.append((self.clock(), str(destination), reply))
        return "ok"

    async def unreachable(self, destinations: Sequence[Destination]) -> dict[Destination, str]:
        return {d: "never opened the bot" for d in destinations if d.user_id in self.cannot}


async def test_an_official_chat_cannot_reach_gets_the_email_instead(tmp_path: Path) -> None:
    clock = Clock()
    services = await make_services(tmp_path, clock=clock)
    mail, chat = Recorder(clock), Unopened(clock, {"cy"})
    services.outbox.register("email", mail)
    services.outbox.register("webchat", chat)  # type: ignore[arg-type]
    await _load(services)
    await _hours(services, clock, datetime(2026, 12, 17, 12, tzinfo=UTC), 8)
    assert len(_to(mail, CY_MAIL)) == 1
    assert not [d for _, d, _ in chat.sent if d == CY_CHAT]
    assert _to(mail, CY_MAIL)[0][0].hour == 15  # 09:00 in Chicago, like everyone else
    # Once Cy opens the bot, chat is used again, and the step that arrived is not repeated.
    chat.cannot.clear()
    await _hours(services, clock, datetime(2026, 12, 17, 20, tzinfo=UTC), 2)
    assert not [d for _, d, _ in chat.sent if d == CY_CHAT]
    await _hours(services, clock, datetime(2026, 12, 24, 14, tzinfo=UTC), 3)  # the 7-day step
    assert [t.hour for t, d, _ in chat.sent if d == CY_CHAT] == [15]
    assert len(_to(mail, CY_MAIL)) == 1
    await services.db.close()


@dataclass
class Failing:
    """A transport that refuses every send for good (records the attempts)."""

    attempts: list[str] = field(default_factory=list)

    async def send(self, destination: Destination, reply: Reply, *, key: str) -> str:
        self.attempts.append(str(destination))
        raise PermanentSendError("550 mailbox unavailable" if destination.address
                                 else "user_not_found")


def _cy_chat_dies(chat: Recorder, dead_chat: Failing) -> None:
    """From now on, chat sends to Cy die for good (dead_chat records them); others arrive."""
    async def cy_fails(destination: Destination, reply: Reply, *, key: str) -> str:
        if str(destination) == CY_CHAT:
            return await dead_chat.send(destination, reply, key=key)
        return await Recorder.send(chat, destination, reply, key=key)
    chat.send = cy_fails  # type: ignore[method-assign]


async def test_a_dead_chat_reminder_is_sent_once_by_email_then_the_digest_names_failures(
        tmp_path: Path) -> None:
    clock = Clock()
    services = await make_services(tmp_path, clock=clock)
    mail, chat = Recorder(clock), Recorder(clock)
    dead_chat = Failing()
    services.outbox.register("email", mail)
    services.outbox.register("webchat", chat)
    await _load(services)

    _cy_chat_dies(chat, dead_chat)

    await _hours(services, clock, datetime(2026, 12, 17, 15, tzinfo=UTC), 4)
    assert dead_chat.attempts == [CY_CHAT]  # the chat digest died at 09:00 ...
    assert [t.hour for t, _ in _to(mail, CY_MAIL)] == [16]  # ... the next pass e-mailed it
    assert [r[0] for r in await unreachable_rows(services, clock())] == ["Kim Ortiz"]

    # Now the relay refuses Cy's address as well: both channels are down, and staff are told.
    dead_mail = Failing()
    services.outbox.register("email", dead_mail)
    await _hours(services, clock, datetime(2026, 12, 24, 15, tzinfo=UTC), 3)
    # The 7-day step goes by e-mail (chat is down) and dies; with both channels down, chat is
    # tried once more for that step (it may work again), and then nothing is repeated.
    assert sorted(dead_mail.attempts) == sorted([ANN, BO, CY_MAIL])
    assert dead_chat.attempts == [CY_CHAT, CY_CHAT]
    rows = sorted(await unreachable_rows(services, clock()))
    assert ("Cy Park", "KS", "chat messages could not be delivered; e-mail could not be "
            "delivered") in rows
    assert ("Ann Mayer", "KS", "no chat identity on the roster; e-mail could not be "
            "delivered") in rows
    assert ("Kim Ortiz", "KS", "no chat identity or e-mail address on the roster") in rows
    await services.db.close()


async def test_a_channel_that_delivers_again_is_no_longer_down(tmp_path: Path) -> None:
    clock = Clock()
    services = await make_services(tmp_path, clock=clock)
    chat = Recorder(clock)
    failing = Failing()
    services.outbox.register("webchat", chat)
    services.outbox.register("email", failing)
    await _load(services)
    await _hours(services, clock, datetime(2026, 12, 17, 15, tzinfo=UTC), 3)
    assert failing.attempts.count(ANN) == 1
    assert "Ann Mayer" in [r[0] for r in await unreachable_rows(services, clock())]
    mail = Recorder(clock)
    services.outbox.register("email", mail)
    await _hours(services, clock, datetime(2026, 12, 24, 15, tzinfo=UTC), 2)  # the 7-day step
    assert len(_to(mail, ANN)) == 1
    assert "Ann Mayer" not in [r[0] for r in await unreachable_rows(services, clock())]
    await services.db.close()


async def test_a_step_chat_delivered_is_not_repeated_by_email_when_chat_later_fails(
        tmp_path: Path) -> None:
    clock = Clock()
    services = await make_services(tmp_path, clock=clock)
    mail, chat = Recorder(clock), Recorder(clock)
    dead_chat = Failing()
    services.outbox.register("email", mail)
    services.outbox.register("webchat", chat)
    await _load(services)
    await _hours(services, clock, datetime(2026, 12, 17, 15, tzinfo=UTC), 3)
    assert len([d for _, d, _ in chat.sent if d == CY_CHAT]) == 1  # the 14-day step arrived

    _cy_chat_dies(chat, dead_chat)
    await _hours(services, clock, datetime(2026, 12, 24, 15, tzinfo=UTC), 4)
    assert dead_chat.attempts == [CY_CHAT]  # the 7-day step died on chat ...
    async with services.db.engine.connect() as conn:
        steps = (await conn.execute(sa.text(
            "SELECT step FROM cert_reminder_sent WHERE recipient = :r ORDER BY step"),
            {"r": CY_MAIL})).scalars().all()
    assert list(steps) == [-7]  # ... and only it went by e-mail: the 14-day step had arrived
    await services.db.close()
