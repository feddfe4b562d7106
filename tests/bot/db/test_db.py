"""Persistence on a real SQLite file and on the local PostgreSQL: migrations and idempotency."""

from __future__ import annotations

import asyncio
import gc
import subprocess
import sys
import weakref
from functools import partial
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory

from bot.db.engine import Database, alembic_config, upgrade
from bot.db.idempotency import first_time, save_reference
from bot.db.models import ConversationReference
from tests.support import wait_until


async def _exercise(url: str) -> None:
    upgrade(url)
    upgrade(url)  # idempotent
    db = Database(url)
    try:
        assert await db.ping()
        assert await first_time(db, "slack:event:Ev1")
        assert not await first_time(db, "slack:event:Ev1")
        results = await asyncio.gather(*(first_time(db, "race") for _ in range(8)))
        assert sorted(results) == [False] * 7 + [True]
        ref = ConversationReference(key="teams:t1:c1", platform="teams", workspace="t1",
                                    user_id="u1", channel="c1", reference='{"a": 1}')
        await save_reference(db, ref)
        await save_reference(db, ConversationReference(
            key="teams:t1:c1", platform="teams", workspace="t1", user_id="u1", channel="c1",
            reference='{"a": 2}'))
        async with db.engine.connect() as conn:
            rows = (await conn.execute(sa.text(
                "SELECT reference FROM conversation_reference"))).all()
            tables = await conn.run_sync(lambda c: sa.inspect(c).get_table_names())
        assert rows == [('{"a": 2}',)]
        assert {"alembic_version", "processed_request", "faq_question"} <= set(tables)
    finally:
        await db.close()


async def test_sqlite_file(tmp_path: Path) -> None:
    await _exercise(f"sqlite:///{tmp_path / 'sub' / 'bot.db'}")
    assert (tmp_path / "sub" / "bot.db").exists()


@pytest.mark.postgres
async def test_postgresql(postgres_url: str) -> None:
    await _exercise(postgres_url)


@pytest.mark.postgres
def test_concurrent_upgrades_on_postgresql(postgres_url: str) -> None:
    code = "import sys; from bot.db.engine import upgrade; upgrade(sys.argv[1])"
    procs = [subprocess.Popen([sys.executable, "-c", code, postgres_url],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    outputs = [p.communicate(timeout=60) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    engine = sa.create_engine(postgres_url)
    with engine.connect() as conn:
        version = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one()
    engine.dispose()
    head = ScriptDirectory.from_config(alembic_config(postgres_url)).get_current_head()
    assert version == head


async def test_unreachable_database_pings_false() -> None:
    db = Database("postgresql+psycopg://nobody@127.0.0.1:1/none")
    try:
        assert not await db.ping()
    finally:
        await db.close()


def test_naive_datetimes_are_refused(tmp_path: Path) -> None:
    from datetime import datetime

    from bot.db.engine import UTCDateTime

    with pytest.raises(ValueError, match="naive"):
        UTCDateTime().process_bind_param(datetime(2026, 1, 1), None)


class Batch(list[int]):
    """A batch of rows a weak reference can watch."""


async def _refused_batch_is_freed_at_once(url: str) -> None:
    """A transaction the database refuses frees its batch by reference counting alone.

    A database error's traceback holds the frames it went through, and SQLAlchemy's error
    handling makes it a reference cycle: without care, every refused batch (two reminder passes
    writing the same digests) lived on until a full garbage collection, which then walked
    them all on the event loop (0.3 s after a pass at 100,000 officials).
    """
    upgrade(url)
    db = Database(url)
    await db.transaction(lambda conn: conn.execute(sa.text(
        "INSERT INTO processed_request (key, seen_at) VALUES ('dup', CURRENT_TIMESTAMP)")))
    rows = Batch([1, 2, 3])
    watch = weakref.ref(rows)

    def write(batch: Batch, conn: sa.Connection) -> None:
        conn.execute(sa.text("INSERT INTO processed_request (key, seen_at) VALUES "
                             "('dup', CURRENT_TIMESTAMP)"))

    collecting = gc.isenabled()
    gc.disable()  # only reference counting may free it
    try:
        with pytest.raises(sa.exc.IntegrityError) as refused:
            await db.transaction(partial(write, rows))
        assert refused.value.__traceback__ is not None  # still says where it came from
        del refused, rows

        async def freed() -> bool:
            return watch() is None

        # The worker thread drops its own reference (the work item) just after the future
        # fails, and the loop runs the failed future's callbacks: wait for both, bounded.
        # The garbage collector stays off meanwhile: only reference counting may free it.
        await wait_until(freed, timeout=5.0)
    finally:
        if collecting:
            gc.enable()
        await db.close()


async def test_a_refused_batch_is_freed_at_once_on_sqlite(tmp_path: Path) -> None:
    await _refused_batch_is_freed_at_once(f"sqlite:///{tmp_path / 'bot.db'}")


@pytest.mark.postgres
async def test_a_refused_batch_is_freed_at_once_on_postgresql(postgres_url: str) -> None:
    await _refused_batch_is_freed_at_once(postgres_url)
