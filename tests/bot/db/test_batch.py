"""Group-committed question rows and SQLite's durability settings, on real databases."""

from __future__ import annotations

import asyncio
import re
import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.db.engine import Database, upgrade, utcnow
from handlers.faq.models import AskedQuestion

QUESTIONS = AskedQuestion.__table__  # type: ignore[attr-defined]


def _row(n: int) -> dict[str, object]:
    return {"asked_at": utcnow(), "platform": "slack", "jurisdiction": None,
            "question": f"question {n}", "language": "en", "outcome": "answered",
            "article_id": None, "confidence": 0.5}


async def _count(db: Database) -> list[str]:
    async with db.engine.connect() as conn:
        return list((await conn.execute(sa.text(
            "SELECT question FROM faq_question ORDER BY id"))).scalars())


async def _exercise(url: str) -> None:
    upgrade(url)
    db = Database(url)
    try:
        writer = db.writer(QUESTIONS)
        assert db.writer(QUESTIONS) is writer  # one per table
        ids = await asyncio.gather(*(writer.add(_row(n)) for n in range(60)))
        assert len(set(ids)) == 60
        assert sorted(await _count(db)) == sorted(f"question {n}" for n in range(60))
        # Queued and never awaited: a clean shutdown still writes them.
        pending = [writer.add(_row(100 + n)) for n in range(5)]
    finally:
        await db.close()
    assert all(f.done() and not f.exception() for f in pending)
    reopened = Database(url)
    try:
        assert len(await _count(reopened)) == 65
    finally:
        await reopened.close()


async def test_question_rows_are_group_committed_and_drained_on_sqlite(tmp_path: Path) -> None:
    await _exercise(f"sqlite:///{tmp_path / 'bot.db'}")


@pytest.mark.postgres
async def test_question_rows_are_group_committed_and_drained_on_postgresql(
        postgres_url: str) -> None:
    await _exercise(postgres_url)


async def test_a_failed_batch_reaches_every_caller(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    db = Database(url)  # not migrated: the table does not exist
    try:
        results = await asyncio.gather(*(db.writer(QUESTIONS).add(_row(n)) for n in range(3)),
                                       return_exceptions=True)
        assert all(isinstance(r, sa.exc.OperationalError) for r in results)
    finally:
        await db.close()


async def test_sqlite_files_use_wal_with_normal_sync_on_both_engines(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    upgrade(url)
    db = Database(url)
    try:
        async with db.engine.connect() as conn:
            mode = (await conn.execute(sa.text("PRAGMA journal_mode"))).scalar()
            sync = (await conn.execute(sa.text("PRAGMA synchronous"))).scalar()
        threaded = await db.transaction(lambda c: (
            c.execute(sa.text("PRAGMA journal_mode")).scalar(),
            c.execute(sa.text("PRAGMA synchronous")).scalar()))
    finally:
        await db.close()
    assert (mode, sync) == ("wal", 1)  # 1 = NORMAL
    assert threaded == ("wal", 1)
    with sqlite3.connect(tmp_path / "bot.db") as plain:  # the mode is kept in the file
        assert plain.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


async def test_small_writes_wait_off_the_loop_while_another_connection_holds_the_lock(
        tmp_path: Path) -> None:
    """The loop's own attempt never waits: a held write lock sends the batch to a thread."""
    from bot.db.idempotency import first_time

    url = f"sqlite:///{tmp_path / 'bot.db'}"
    upgrade(url)
    db = Database(url)
    holder = sqlite3.connect(tmp_path / "bot.db", timeout=0, isolation_level=None)
    try:
        assert await first_time(db, "before")  # on the loop: nobody holds the lock
        holder.execute("BEGIN IMMEDIATE")  # another process writing
        claim = asyncio.ensure_future(first_time(db, "during"))
        ticks = 0
        while ticks < 20:  # the loop keeps running while the claim waits for the lock
            await asyncio.sleep(0.01)
            ticks += 1
        assert not claim.done()
        holder.execute("COMMIT")
        assert await asyncio.wait_for(claim, 10)
        assert not await first_time(db, "during")
    finally:
        holder.close()
        await db.close()


async def test_small_writes_on_the_loop_leave_checkpoints_to_a_thread(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.db import engine as engine_module
    from bot.db.idempotency import first_time

    monkeypatch.setattr(engine_module, "CHECKPOINT_EVERY", 5)
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    upgrade(url)
    db = Database(url)
    checkpoints: list[str] = []
    real = db._checkpoint

    async def counted() -> None:
        checkpoints.append(asyncio.current_task().get_name())  # type: ignore[union-attr]
        await real()

    monkeypatch.setattr(db, "_checkpoint", counted)
    try:
        for n in range(12):
            assert await first_time(db, f"key {n}")
        assert db._inline is not None
        with db._inline.connect() as conn:  # the loop's connection never checkpoints itself
            assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 0
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 0
    finally:
        await db.close()
    assert len(checkpoints) == 2  # after commits 5 and 10
    with sqlite3.connect(tmp_path / "bot.db") as plain:
        assert plain.execute("SELECT count(*) FROM processed_request").fetchone()[0] == 12


async def _one_bad_row_fails_alone(url: str) -> None:
    upgrade(url)
    db = Database(url)
    try:
        bad = {**_row(1), "outcome": None}  # NOT NULL
        results = await asyncio.gather(db.writer(QUESTIONS).add(_row(0)),
                                       db.writer(QUESTIONS).add(bad),
                                       db.writer(QUESTIONS).add(_row(2)),
                                       return_exceptions=True)
        assert isinstance(results[1], sa.exc.IntegrityError)  # the driver's, as SQLAlchemy's
        assert all(isinstance(r, int) for r in (results[0], results[2]))
        assert sorted(await _count(db)) == ["question 0", "question 2"]
        async with db.engine.connect() as conn:  # read back through SQLAlchemy: same instant
            stored = (await conn.execute(sa.select(QUESTIONS.c.asked_at).where(
                QUESTIONS.c.id == results[0]))).scalar_one()
        assert stored.tzinfo is not None and abs((utcnow() - stored).total_seconds()) < 60
    finally:
        await db.close()


async def test_one_bad_row_fails_alone_and_rows_read_back_on_sqlite(tmp_path: Path) -> None:
    await _one_bad_row_fails_alone(f"sqlite:///{tmp_path / 'bot.db'}")
    with sqlite3.connect(tmp_path / "bot.db") as plain:  # stored as SQLAlchemy stores it
        [(text,)] = plain.execute("SELECT asked_at FROM faq_question WHERE question = "
                                  "'question 0'").fetchall()
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}", text)


@pytest.mark.postgres
async def test_one_bad_row_fails_alone_on_postgresql(postgres_url: str) -> None:
    await _one_bad_row_fails_alone(postgres_url)
