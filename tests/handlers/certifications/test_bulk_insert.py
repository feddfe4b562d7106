"""The plain multi-row insert (bot.db.bulk) stores what SQLAlchemy's insert stores, and conflicts."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from bot.db.bulk import insert_rows
from handlers.certifications.scheduler import SENT
from tests.handlers.certifications.conftest import make_services

STAMP = datetime(2026, 12, 17, 17, 0, 0, 123, tzinfo=UTC)


def _row(key: str) -> dict[str, object]:
    return {"deadline_key": key, "recipient": "webchat:local:pat", "step": -7,
            "day": date(2026, 12, 17), "outbox_key": "cert:webchat:local:pat:2026-12-17",
            "created_at": STAMP}


async def _same_as_sqlalchemy(tmp_path: Path, url: str | None) -> None:
    services = await make_services(tmp_path, url)
    db = services.db
    try:
        await db.transaction(lambda conn: conn.execute(sa.insert(SENT), [_row("a")]))
        await db.transaction(lambda conn: insert_rows(conn, SENT, [_row("b"), _row("c")]))
        async with db.engine.connect() as conn:
            raw = (await conn.execute(sa.text(
                "SELECT recipient, step, day, outbox_key, created_at FROM cert_reminder_sent "
                "ORDER BY id"))).all()
            typed = (await conn.execute(sa.select(SENT.c.day, SENT.c.created_at))).all()
        assert raw[0] == raw[1] == raw[2]  # stored alike, to the text on SQLite
        assert set(typed) == {(date(2026, 12, 17), STAMP)}
        with pytest.raises(IntegrityError):  # the unique constraint still refuses a repeat
            await db.transaction(lambda conn: insert_rows(conn, SENT, [_row("d"), _row("b")]))
        async with db.engine.connect() as conn:
            count = (await conn.execute(sa.text("SELECT count(*) FROM cert_reminder_sent")))
            assert count.scalar() == 3  # the refused batch left nothing
    finally:
        await db.close()


async def test_plain_insert_stores_what_sqlalchemy_stores_on_sqlite(tmp_path: Path) -> None:
    await _same_as_sqlalchemy(tmp_path, None)


@pytest.mark.postgres
async def test_plain_insert_stores_what_sqlalchemy_stores_on_postgresql(
        tmp_path: Path, postgres_url: str) -> None:
    await _same_as_sqlalchemy(tmp_path, postgres_url)
