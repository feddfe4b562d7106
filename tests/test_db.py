"""Persistence on a real SQLite file and on the local PostgreSQL: migrations and idempotency."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory

from bot.db.engine import Database, alembic_config, upgrade
from bot.db.idempotency import first_time, save_reference
from bot.db.models import ConversationReference


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
