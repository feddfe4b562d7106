"""A pass that changed nothing stops early, and every kind of change brings the whole pass back.

The demo roster (see conftest): Pat (Chicago) and Lee (Denver) with chat, Kim (Chicago) with
neither chat nor e-mail; their first-year deadline is Thu 31 Dec 2026: step -14 on Thu 17 Dec,
-7 on Thu 24 Dec (Fri 25 is a holiday), +7 (an escalation to the KS supervisor) on Thu 7 Jan.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.messages import Destination, Reply
from bot.services import Services
from handlers.certifications.scheduler import run_once
from tests.handlers.certifications.conftest import Clock, load_demo, make_services


async def _sql(services: Services, sql: str) -> None:
    async with services.db.engine.begin() as conn:
        await conn.execute(sa.text(sql))


async def _scalar(services: Services, sql: str) -> int:
    async with services.db.engine.connect() as conn:
        return int((await conn.execute(sa.text(sql))).scalar() or 0)


async def _steps(services: Services) -> list[tuple[str, int]]:
    async with services.db.engine.connect() as conn:
        return [tuple(r) for r in (await conn.execute(sa.text(  # type: ignore[misc]
            "SELECT recipient, step FROM cert_reminder_sent ORDER BY recipient, step"))).all()]


async def _settled(tmp_path: Path, when: datetime,
                   url: str | None = None) -> tuple[Services, Clock]:
    """Services whose first pass at ``when`` sent, and whose second found nothing new."""
    clock = Clock(when)
    services = await make_services(tmp_path, url, clock=clock)
    await load_demo(services)
    first = await run_once(services)
    assert first.sent > 0 and not first.unchanged
    again = await run_once(services)
    assert again.unchanged and again.sent == 0
    return services, clock


async def test_a_second_pass_with_nothing_new_stops_early_and_sends_the_same(
        tmp_path: Path) -> None:
    services, clock = await _settled(tmp_path, datetime(2026, 12, 18, 16, tzinfo=UTC))
    outbox = await _scalar(services, "SELECT count(*) FROM outbox_message")
    assert (await run_once(services)).unchanged
    # a restarted scheduler works the whole pass out again: it finds nothing to send either
    (tmp_path / "again").mkdir()
    restarted = await make_services(tmp_path / "again", services.settings.env.DATABASE_URL,
                                    clock)
    full = await run_once(restarted)
    assert not full.unchanged and full.sent == 0 and full.due > 0
    assert await _scalar(services, "SELECT count(*) FROM outbox_message") == outbox
    await restarted.db.close()
    await services.db.close()


async def test_a_new_local_day_brings_the_next_step(tmp_path: Path) -> None:
    services, clock = await _settled(tmp_path, datetime(2026, 12, 18, 16, tzinfo=UTC))
    assert await _steps(services) == [("webchat:local:lee", -14), ("webchat:local:pat", -14)]
    clock.now = datetime(2026, 12, 24, 16, tzinfo=UTC)  # 10:00 Chicago, 09:00 Denver
    moved = await run_once(services)
    assert not moved.unchanged and moved.sent == 2
    assert ("webchat:local:pat", -7) in await _steps(services)
    assert (await run_once(services)).unchanged
    await services.db.close()


async def test_a_zone_reaching_its_send_hour_is_a_change(tmp_path: Path) -> None:
    """09:00 in Chicago is 08:00 in Denver: Lee's reminder waits for Denver's nine o'clock."""
    services, clock = await _settled(tmp_path, datetime(2026, 12, 24, 15, tzinfo=UTC))
    assert await _steps(services) == [("webchat:local:pat", -7)]
    clock.now = datetime(2026, 12, 24, 15, 59, tzinfo=UTC)
    assert (await run_once(services)).unchanged
    clock.now = datetime(2026, 12, 24, 16, tzinfo=UTC)
    denver = await run_once(services)
    assert not denver.unchanged and denver.sent == 1
    assert ("webchat:local:lee", -7) in await _steps(services)
    await services.db.close()


async def test_a_deadline_passing_starts_the_escalation(tmp_path: Path) -> None:
    services, clock = await _settled(tmp_path, datetime(2027, 1, 6, 17, tzinfo=UTC))  # +6
    assert not any(r == "webchat:local:ks-super" for r, _ in await _steps(services))
    clock.now = datetime(2027, 1, 7, 17, tzinfo=UTC)  # +7: escalated
    escalated = await run_once(services)
    assert not escalated.unchanged
    assert ("webchat:local:ks-super", 7) in await _steps(services)
    await services.db.close()


@pytest.mark.parametrize("change", [
    # a new official due today (plain SQL: the database's triggers see every writer)
    "INSERT INTO cert_official (id, external_id, name, email, identity, jurisdiction, "
    "time_zone, flagged, updated_at) VALUES (9, 'ks-new', 'New Clerk', '', "
    "'webchat:local:new', 'KS', 'America/Chicago', '', '2026-12-01 00:00:00')",
    "UPDATE cert_official SET identity = 'webchat:local:kim' WHERE external_id = 'ks-kim'",
    "DELETE FROM cert_completion",
    "UPDATE cert_assignment SET took_office = '2025-01-14'",
    "INSERT INTO cert_waiver (official_id, program, reason, granted_by) "
    "VALUES (1, 'KS-CLERK', 'test', 'test')",
    "INSERT INTO cert_snooze (deadline_key, until) VALUES ('1:KS-CLERK:x:2026-12-31', "
    "'2027-01-01')",
    "DELETE FROM cert_reminder_sent WHERE recipient = 'webchat:local:pat'",
    "DELETE FROM cert_digest",
    # the outbox gave up on Pat's reminder: chat is down for Pat
    "UPDATE outbox_message SET status = 'dead' WHERE key LIKE 'cert:%pat%'",
])
async def test_a_change_to_the_ledger_or_the_sends_brings_a_whole_pass(
        tmp_path: Path, change: str) -> None:
    services, _ = await _settled(tmp_path, datetime(2026, 12, 18, 16, tzinfo=UTC))
    await _sql(services, change)
    assert not (await run_once(services)).unchanged
    await services.db.close()


@pytest.mark.postgres
@pytest.mark.parametrize("change", [
    "UPDATE cert_official SET identity = 'webchat:local:kim' WHERE external_id = 'ks-kim'",
    "DELETE FROM cert_completion",
    "INSERT INTO cert_snooze (deadline_key, until) VALUES ('1:KS-CLERK:x:2026-12-31', "
    "'2027-01-01')",
    "TRUNCATE cert_digest",
])
async def test_the_triggers_work_on_postgresql(tmp_path: Path, postgres_url: str,
                                               change: str) -> None:
    """Statement triggers there: the pass's own inserts leave the counter, changes bump it."""
    services, _ = await _settled(tmp_path, datetime(2026, 12, 18, 16, tzinfo=UTC),
                                 postgres_url)
    await _sql(services, change)
    assert not (await run_once(services)).unchanged
    assert (await run_once(services)).unchanged
    await services.db.close()


@pytest.mark.postgres
async def test_writers_do_not_wait_for_each_other_on_the_counter(
        tmp_path: Path, postgres_url: str) -> None:
    """Each connection bumps its own row: an open ledger write holds no lock another needs.

    (One shared row would make the second writer wait, and two writers taking it and their
    rows in opposite orders would deadlock.)
    """
    services = await make_services(tmp_path, postgres_url)
    await load_demo(services)
    before = await _scalar(services, "SELECT sum(n) FROM cert_revision")
    async with services.db.engine.connect() as first, services.db.engine.connect() as second:
        await first.execute(sa.text("UPDATE cert_official SET flagged = 'a' "
                                    "WHERE external_id = 'ks-pat'"))
        await second.execute(sa.text("SET LOCAL lock_timeout = '2s'"))
        await second.execute(sa.text("UPDATE cert_official SET flagged = 'b' "
                                     "WHERE external_id = 'ks-lee'"))
        await second.commit()
        await first.commit()
    assert await _scalar(services, "SELECT sum(n) FROM cert_revision") == before + 2
    await services.db.close()


async def test_the_changes_are_acted_on(tmp_path: Path) -> None:
    """Kim given a chat identity, and a new official: both reminded in the next pass."""
    services, _ = await _settled(tmp_path, datetime(2026, 12, 18, 16, tzinfo=UTC))
    await _sql(services, "UPDATE cert_official SET identity = 'webchat:local:kim' "
                         "WHERE external_id = 'ks-kim'")
    await _sql(services, "INSERT INTO cert_official (id, external_id, name, email, identity, "
                         "jurisdiction, time_zone, flagged, updated_at) VALUES (9, 'ks-new', "
                         "'New Clerk', '', 'webchat:local:new', 'KS', 'America/Chicago', '', "
                         "'2026-12-01 00:00:00')")
    await _sql(services, "INSERT INTO cert_assignment (official_id, program, role, term_type, "
                         "took_office, from_deputy, acting) VALUES (9, 'KS-CLERK', "
                         "'county_clerk', 'four_year', '2025-02-03', 0, 0)")
    result = await run_once(services)
    assert result.sent == 2
    recipients = {r for r, _ in await _steps(services)}
    assert {"webchat:local:kim", "webchat:local:new"} <= recipients
    await services.db.close()


async def test_only_the_pass_inputs_bump_the_revision(tmp_path: Path) -> None:
    """The pass's own inserts (reminders sent, digests, outbox) leave the counter alone."""
    services = await make_services(tmp_path, clock=Clock(datetime(2026, 12, 18, 16, tzinfo=UTC)))
    revision = "SELECT sum(n) FROM cert_revision"
    before = await _scalar(services, revision)
    await load_demo(services)
    loaded = await _scalar(services, revision)
    assert loaded > before
    await run_once(services)
    assert await _scalar(services, "SELECT count(*) FROM cert_reminder_sent") > 0
    assert await _scalar(services, revision) == loaded
    await services.db.close()


class _Telling:
    """A platform that can say whom it cannot message (as Teams can): those in ``never``."""

    def __init__(self, never: set[str] | None = None) -> None:
        self.never = never or set()

    async def send(self, destination: Destination, reply: Reply, *, key: str) -> str:
        return "ok"

    async def unreachable(self, destinations: Sequence[Destination]) -> dict[Destination, str]:
        return {d: "never opened" for d in destinations if d.user_id in self.never}


async def test_a_step_that_waited_on_a_platform_answer_is_asked_again(tmp_path: Path) -> None:
    """Chat cannot reach Pat and Pat's e-mail digest of the day is out: the step waits.

    Whether it goes today depends on the platform's answer, which no database change shows:
    that pass is not remembered, and once Pat opens the bot the next pass sends it by chat.
    """
    clock = Clock(datetime(2026, 12, 18, 16, tzinfo=UTC))
    services = await make_services(tmp_path, clock=clock)
    await load_demo(services)
    await _sql(services, "UPDATE cert_official SET email = 'pat@example.gov' "
                         "WHERE external_id = 'ks-pat'")
    await _sql(services, "INSERT INTO cert_digest (recipient, day) "
                         "VALUES ('email:pat@example.gov', '2026-12-18')")
    platform = _Telling({"pat"})
    services.outbox.register("webchat", platform)  # type: ignore[arg-type]
    await run_once(services)
    assert all(r != "webchat:local:pat" for r, _ in await _steps(services))
    platform.never.clear()  # Pat opened the bot
    opened = await run_once(services)
    assert not opened.unchanged and opened.sent == 1
    assert ("webchat:local:pat", -14) in await _steps(services)
    await services.db.close()


async def test_a_platform_that_tells_keeps_the_staff_digest_asking(tmp_path: Path) -> None:
    """No staff digest yet, and a platform's answer may change it: every pass is a whole pass."""
    clock = Clock(datetime(2026, 12, 18, 16, tzinfo=UTC))
    services = await make_services(tmp_path, clock=clock)
    await load_demo(services)
    await _sql(services, "UPDATE cert_official SET email = 'kim@example.gov' "
                         "WHERE external_id = 'ks-kim'")  # everyone reachable: no digest
    services.outbox.register("webchat", _Telling())  # type: ignore[arg-type]
    assert (await run_once(services)).staff_digests == 0
    assert not (await run_once(services)).unchanged
    await services.db.close()
