"""Exactly one effect per intent: remember request keys in the database."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import partial

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from bot.db.batch import PreparedInsert
from bot.db.engine import Database, utcnow
from bot.db.models import ConversationReference, ProcessedRequest

#: Keys of effects given once per person for good (the first-conversation welcome): never pruned.
WELCOMED = "welcomed:"


_PROCESSED = ProcessedRequest.__table__  # type: ignore[attr-defined]
_CLAIMS: dict[str, PreparedInsert] = {}  # dialect -> INSERT ... ON CONFLICT DO NOTHING RETURNING


def _claim_statement(dialect: str) -> PreparedInsert:
    statement = _CLAIMS.get(dialect)
    if statement is None:
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        statement = _CLAIMS[dialect] = PreparedInsert(
            insert(_PROCESSED).on_conflict_do_nothing().returning(_PROCESSED.c.key))
    return statement


def _claim(key: str, seen_at: datetime, conn: Connection) -> bool:
    # A row back means it was inserted (rowcount is not reliable through every driver).
    statement = _claim_statement(conn.dialect.name)
    return statement.run(conn, {"key": key, "seen_at": seen_at}) is not None


async def first_time(db: Database, key: str) -> bool:
    """Record ``key``; True the first time it is seen, False for a retry or a replay.

    Every inbound request pays for this, so it is the cheapest write the database offers: one
    plain ``INSERT ... ON CONFLICT DO NOTHING`` (inserted or not says first or not), group
    committed with the other requests' small writes (:class:`bot.db.batch.GroupCommit`).
    """
    return bool(await db.commits.submit(partial(_claim, key[:200], utcnow())))


async def forget_older_than(db: Database, age: timedelta) -> int:
    """Drop keys older than ``age`` (well past every platform's retry window); welcomes stay."""
    cutoff = utcnow() - age
    async with db.session() as session:
        result = await session.execute(
            sa.delete(ProcessedRequest).where(
                ProcessedRequest.seen_at < cutoff,  # type: ignore[arg-type]
                sa.not_(ProcessedRequest.key.startswith(WELCOMED)))  # type: ignore[attr-defined,call-overload]
        )
        await session.commit()
        return int(getattr(result, "rowcount", 0) or 0)


async def save_reference(db: Database, ref: ConversationReference) -> None:
    """Insert or refresh a conversation reference (kept per platform, workspace and user)."""
    async with db.session() as session:
        existing = await session.get(ConversationReference, ref.key)
        if existing is None:
            session.add(ref)
        else:
            existing.reference = ref.reference
            existing.channel = ref.channel
            existing.updated_at = utcnow()
            session.add(existing)
        try:
            await session.commit()
        except IntegrityError:
            # Two activities from the same conversation raced; the other one stored it.
            await session.rollback()
