"""Exactly once per (deadline, recipient, step): restarts, two schedulers, downtime, constraint."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from bot.services import Services
from handlers.certifications import scheduler
from handlers.certifications.models import ReminderSent
from handlers.certifications.scheduler import run_once
from tests.handlers.certifications.conftest import Clock, load_demo, make_services


async def _counts(services: Services) -> tuple[int, int, int]:
    async with services.db.engine.connect() as conn:
        sent = (await conn.execute(sa.text("SELECT count(*) FROM cert_reminder_sent"))).scalar()
        distinct = (await conn.execute(sa.text(
            "SELECT count(*) FROM (SELECT DISTINCT deadline_key, recipient, step "
            "FROM cert_reminder_sent) d"))).scalar()
        outbox = (await conn.execute(sa.text(
            "SELECT count(*) FROM outbox_message WHERE key LIKE 'cert:%'"))).scalar()
    return int(sent or 0), int(distinct or 0), int(outbox or 0)


async def _two_schedulers(tmp_path: Path, url: str | None) -> None:
    clock = Clock(datetime(2027, 1, 7, 17, tzinfo=UTC))  # +7: officials and the supervisor
    first = await make_services(tmp_path / "a", url, clock)
    await load_demo(first)
    second = await make_services(tmp_path / "b", url or first.settings.env.DATABASE_URL, clock)
    try:
        results = await asyncio.gather(*(run_once(s) for s in (first, second, first, second)))
        sent, distinct, outbox = await _counts(first)
        assert sent == distinct > 0
        # pat and lee get one digest each, the supervisor one for pat, lee and kim
        assert outbox == sum(r.sent for r in results) == 3
        restarted = await make_services(tmp_path / "c", first.settings.env.DATABASE_URL, clock)
        assert (await run_once(restarted)).sent == 0
        await restarted.db.close()
        assert await _counts(first) == (sent, distinct, outbox)
    finally:
        await first.db.close()
        await second.db.close()


async def test_two_concurrent_schedulers_and_a_restart_on_sqlite(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "c").mkdir()
    await _two_schedulers(tmp_path, None)


async def test_one_digest_per_batch_under_two_schedulers(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Batches of one (one transaction per digest): still exactly once, none left out."""
    monkeypatch.setattr(scheduler, "BATCH_SQLITE", 1)
    for sub in "abc":
        (tmp_path / sub).mkdir()
    await _two_schedulers(tmp_path, None)


@pytest.mark.postgres
async def test_two_concurrent_schedulers_and_a_restart_on_postgresql(
        tmp_path: Path, postgres_url: str) -> None:
    for sub in "abc":
        (tmp_path / sub).mkdir()
    await _two_schedulers(tmp_path, postgres_url)


async def test_the_database_refuses_a_second_row_for_the_same_step(tmp_path: Path) -> None:
    services = await make_services(tmp_path)
    row = dict(deadline_key="1:KS-CLERK:year_one:2026-12-31", recipient="webchat:local:pat",
               step=-30, day=date(2026, 12, 1), outbox_key="x")
    async with services.db.session() as session:
        session.add(ReminderSent(**row))
        await session.commit()
    with pytest.raises(IntegrityError):
        async with services.db.session() as session:
            session.add(ReminderSent(**{**row, "day": date(2026, 12, 2), "outbox_key": "y"}))
            await session.commit()
    await services.db.close()


async def test_after_downtime_only_the_latest_step_is_sent(tmp_path: Path) -> None:
    clock = Clock(datetime(2026, 12, 18, 16, tzinfo=UTC))  # after -90, -60, -30 and -14
    services = await make_services(tmp_path, clock=clock)
    await load_demo(services)
    result = await run_once(services)
    async with services.db.engine.connect() as conn:
        steps = (await conn.execute(sa.text(
            "SELECT recipient, step FROM cert_reminder_sent ORDER BY recipient"))).all()
    assert steps == [("webchat:local:lee", -14), ("webchat:local:pat", -14)]
    assert result.sent == 2 and result.unreachable == 1  # kim has no chat identity
    await services.db.close()


async def test_crash_before_commit_leaves_nothing_and_the_retry_sends_once(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    clock = Clock(datetime(2026, 12, 18, 16, tzinfo=UTC))
    services = await make_services(tmp_path, clock=clock)
    await load_demo(services)
    import handlers.certifications.scheduler as scheduler

    def boom(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("crash mid-run")

    with monkeypatch.context() as patch:
        patch.setattr(scheduler, "insert_prepared", boom)
        with pytest.raises(RuntimeError):
            await run_once(services)
    assert await _counts(services) == (0, 0, 0)
    assert (await run_once(services)).sent == 2
    assert (await run_once(services)).sent == 0
    assert (await _counts(services))[2] == 2
    await services.db.close()
