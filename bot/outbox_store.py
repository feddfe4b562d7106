"""The outbox's database side: fair claiming by pacing group and batched result writes.

Claiming ranks due rows *within* each pacing group (a destination's ``platform:workspace``
prefix: one Slack workspace, one Teams tenant, the web chat) and takes the first ``room[g]`` of
every group, so a workspace with many rows cannot fill the worker with sends that only wait
for its budget while another workspace's budget goes unused. Rows are taken with one
``UPDATE ... WHERE id IN (...) AND <still due> RETURNING id``: a row another process claimed
in between is simply not returned (safe on SQLite, whose writers are serialised, and on
PostgreSQL, which re-checks the condition after a row lock).

Results (sent, retried, postponed, dead) are written by :func:`write_results` as one
``executemany`` per batch instead of one transaction per send.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from bot.db import Database
from bot.models import OutboxMessage

T = OutboxMessage.__table__  # type: ignore[attr-defined]
RESULT_COLUMNS = ("status", "attempts", "lease_until", "last_error", "message_ref", "sent_at",
                  "next_attempt_at")


def _due(now: datetime) -> sa.ColumnElement[bool]:
    return sa.or_(sa.and_(T.c.status == "pending", T.c.next_attempt_at <= now),
                  sa.and_(T.c.status == "sending", T.c.lease_until < now))


def _group_expr(is_sqlite: bool) -> sa.ColumnElement[str]:
    """``platform:workspace`` of ``destination`` (``platform:workspace:target``) in SQL."""
    find = sa.func.instr if is_sqlite else sa.func.strpos
    rest = sa.func.substr(T.c.destination, sa.func.length(T.c.platform) + 2)
    return sa.func.substr(T.c.destination, 1, sa.func.length(T.c.platform) + find(rest, ":") - 1)


async def claim(db: Database, *, now: datetime, lease: timedelta, limit: int,
                room: Callable[[str], int]) -> tuple[list[OutboxMessage], set[int]]:
    """Lease up to ``limit`` due rows, at most ``room(group)`` per pacing group, oldest first.

    Also returns the ids whose lease had run out while ``sending`` (that attempt may have
    landed).
    """
    if limit <= 0:
        return [], set()
    group = _group_expr(db.is_sqlite).label("grp")
    rank = sa.func.row_number().over(partition_by=_group_expr(db.is_sqlite),
                                     order_by=T.c.id).label("rn")
    ranked = sa.select(T.c.id, T.c.status, group, rank).where(_due(now)).subquery()
    async with db.engine.connect() as conn:
        candidates = (await conn.execute(
            sa.select(ranked.c.id, ranked.c.grp, ranked.c.status).where(ranked.c.rn <= limit)
            .order_by(ranked.c.rn, ranked.c.id).limit(limit * 4))).all()
    taken: dict[str, int] = {}
    ids: list[int] = []
    lapsed = set()
    for row_id, grp, status in candidates:
        if taken.get(grp, 0) < room(grp) and len(ids) < limit:
            taken[grp] = taken.get(grp, 0) + 1
            ids.append(row_id)
            if status == "sending":
                lapsed.add(row_id)
    if not ids:
        return [], set()
    async with db.engine.begin() as conn:
        got = (await conn.execute(
            sa.update(T).where(T.c.id.in_(ids), _due(now))
            .values(status="sending", lease_until=now + lease).returning(T.c.id))).scalars().all()
        rows = (await conn.execute(sa.select(T).where(T.c.id.in_(got)).order_by(T.c.id))).all()
    return [OutboxMessage(**r._mapping) for r in rows], lapsed & set(got)


async def write_results(db: Database, results: Mapping[int, Mapping[str, Any]]) -> None:
    """Store many rows' outcomes in one transaction."""
    if not results:
        return
    stmt = sa.update(T).where(T.c.id == sa.bindparam("_id")).values(
        {c: sa.bindparam(f"_{c}", type_=T.c[c].type) for c in RESULT_COLUMNS})
    params = [{"_id": row_id, **{f"_{c}": values[c] for c in RESULT_COLUMNS}}
              for row_id, values in results.items()]
    async with db.engine.begin() as conn:
        await conn.execute(stmt, params)
