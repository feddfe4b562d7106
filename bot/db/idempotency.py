"""Exactly one effect per intent: remember request keys in the database."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from bot.db.batch import Claim
from bot.db.engine import Database, utcnow
from bot.db.models import ConversationReference, ProcessedRequest

#: Keys of effects given once per person for good (the first-conversation welcome): never pruned.
WELCOMED = "welcomed:"


_PROCESSED = ProcessedRequest.__table__  # type: ignore[attr-defined]
#: Built once, given its values at execution: SQLAlchemy then reuses the compiled statement
#: (a statement with the values inside is a new one to look up in its cache every time).
_CLAIM = sa.insert(_PROCESSED)


async def first_time(db: Database, key: str) -> bool:
    """Record ``key``; True the first time it is seen, False for a retry or a replay.

    One plain insert in one short transaction (no ORM session, no model instance): every
    inbound request pays for this, so it is the cheapest write the database offers.
    """
    values = {"key": key[:200], "seen_at": utcnow()}
    try:
        await db.transaction(lambda conn: conn.execute(_CLAIM, values))
    except IntegrityError:
        return False
    return True


#: The same claim where a key seen before is no error, just no row: one statement, no savepoint.
#: The key comes back only when it was inserted (the async PostgreSQL driver reports no
#: row count for this statement).
_CLAIM_IF_NEW = {
    "sqlite": sqlite.insert(_PROCESSED).on_conflict_do_nothing().returning(_PROCESSED.c.key),
    "postgresql": postgresql.insert(_PROCESSED).on_conflict_do_nothing().returning(_PROCESSED.c.key),
}


def claim(key: str) -> Claim:
    """Claiming ``key`` inside another write's transaction (``BatchWriter.add(row, claim)``).

    True the first time the key is seen; False for a retry or a replay, and nothing is
    written. The row that rides with it (the question log) is then not written either.
    """
    values = {"key": key[:200], "seen_at": utcnow()}

    def run(conn: Connection) -> bool:
        return conn.execute(_CLAIM_IF_NEW[conn.dialect.name], values).first() is not None

    return run


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
