"""Group-committed question rows and SQLite's durability settings, on real databases."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.db.batch import BatchWriter
from bot.db.engine import Database, upgrade, utcnow
from bot.db.idempotency import claim, first_time
from bot.errors import Replayed
from handlers.faq.models import AskedQuestion
from tests.support import count_transactions

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


async def _claims(url: str) -> None:
    upgrade(url)
    db = Database(url)
    try:
        writer = db.writer(QUESTIONS)
        # The same request key three times at once (one batch) and once more later: one row.
        results = await asyncio.gather(*(writer.add(_row(n), claim("slack:sig:k1"))
                                         for n in range(3)), return_exceptions=True)
        assert sum(isinstance(r, int) for r in results) == 1, results
        assert sum(isinstance(r, Replayed) for r in results) == 2
        with pytest.raises(Replayed):
            await writer.add(_row(9), claim("slack:sig:k1"))
        # A key claimed in the row's transaction is seen by the plain claim, and back.
        assert not await first_time(db, "slack:sig:k1")
        assert await first_time(db, "slack:sig:k2")
        with pytest.raises(Replayed):
            await writer.add(_row(10), claim("slack:sig:k2"))
        # Rows without a claim, in the same batch as a replay, are written all the same.
        mixed = await asyncio.gather(writer.add(_row(11)), writer.add(_row(12), claim("slack:sig:k1")),
                                     writer.add(_row(13), claim("slack:sig:k3")),
                                     return_exceptions=True)
        assert [type(r) for r in mixed] == [int, Replayed, int]
        written = await _count(db)
        assert len(written) == 3 and "question 12" not in written
    finally:
        await db.close()


async def test_a_claimed_row_is_written_once_per_request_key_on_sqlite(tmp_path: Path) -> None:
    await _claims(f"sqlite:///{tmp_path / 'bot.db'}")


@pytest.mark.postgres
async def test_a_claimed_row_is_written_once_per_request_key_on_postgresql(
        postgres_url: str) -> None:
    await _claims(postgres_url)


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


async def test_rows_coming_right_after_a_write_share_the_next_transaction(
        tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    upgrade(url)
    db = Database(url)
    transactions = count_transactions(db)
    try:
        writer = BatchWriter(db, QUESTIONS, pace=3600.0)
        # After a quiet spell (none yet) a row is written at once: no pace to wait for.
        first = await asyncio.wait_for(writer.add(_row(0), claim("slack:sig:p0")), 10)
        assert transactions == [1]
        # Rows queued one after another right after that write wait for the next
        # transaction together; closing the writer (shutdown) writes them without waiting.
        later = [writer.add(_row(n), claim(f"slack:sig:p{n}")) for n in range(1, 4)]
        for _ in range(20):
            await asyncio.sleep(0)  # turns of the loop, not a wait: nothing may be written
        assert transactions == [1] and not any(f.done() for f in later)
        replay = writer.add(_row(9), claim("slack:sig:p1"))
        await asyncio.wait_for(writer.aclose(), 10)
        assert transactions == [1, 1]
        assert len({first, *[f.result() for f in later]}) == 4
        assert isinstance(replay.exception(), Replayed)
        assert len(await _count(db)) == 4
    finally:
        await db.close()


async def test_without_a_pace_each_awaited_row_is_its_own_transaction(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    upgrade(url)
    db = Database(url)
    try:
        writer = BatchWriter(db, QUESTIONS, pace=0.0)
        ids = [await asyncio.wait_for(writer.add(_row(n)), 10) for n in range(3)]
        assert len(set(ids)) == 3 and len(await _count(db)) == 3
    finally:
        await db.close()
