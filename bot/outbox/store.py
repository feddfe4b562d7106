"""The outbox's database side: fair claiming by pacing group and batched result writes.

Claiming ranks due rows *within* each pacing group (a destination's ``platform:workspace``
prefix: one Slack workspace, one Teams tenant, the web chat) and takes the first ``room[g]`` of
every group, so a workspace with many rows cannot fill the worker with sends that only wait
for its budget while another workspace's budget goes unused. Rows are taken with one
``UPDATE ... WHERE id IN (...) AND <still due> RETURNING id``: a row another process claimed
in between is simply not returned (safe on SQLite, whose writers are serialised, and on
PostgreSQL, which re-checks the condition after a row lock), and the same statement returns
the columns a send needs as plain :class:`Claimed` records (no ORM objects: a broadcast claims
thousands).

Results (sent, retried, postponed, dead) are written by :func:`write_results` as one
``executemany`` per batch instead of one transaction per send; the worker does that, the claim
and the slot reservation in a single short :meth:`~bot.db.engine.Database.transaction` per
pass.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bot.db.engine import Database
from bot.db.models import OutboxMessage

T = OutboxMessage.__table__  # type: ignore[attr-defined]
RESULT_COLUMNS = ("status", "attempts", "lease_until", "last_error", "message_ref", "sent_at",
                  "next_attempt_at")


@dataclass(frozen=True, slots=True)
class Claimed:
    """One leased outbox row: what sending it and recording the outcome need."""

    id: int
    key: str
    platform: str
    destination: str
    payload: str
    attempts: int
    last_error: str | None
    next_attempt_at: datetime
    created_at: datetime


CLAIMED = tuple(T.c[name] for name in Claimed.__slots__)  # type: ignore[attr-defined]


def _due(now: datetime | sa.BindParameter[Any]) -> sa.ColumnElement[bool]:
    return sa.or_(sa.and_(T.c.status == "pending", T.c.next_attempt_at <= now),
                  sa.and_(T.c.status == "sending", T.c.lease_until < now))


def _group_expr(is_sqlite: bool) -> sa.ColumnElement[str]:
    """``platform:workspace`` of ``destination`` (``platform:workspace:target``) in SQL."""
    find = sa.func.instr if is_sqlite else sa.func.strpos
    rest = sa.func.substr(T.c.destination, sa.func.length(T.c.platform) + 2)
    return sa.func.substr(T.c.destination, 1, sa.func.length(T.c.platform) + find(rest, ":"))


def _candidates_statement(is_sqlite: bool) -> sa.Select[Any]:
    """The fair claim's read, with ``now``, ``limit`` and ``cap`` as parameters.

    Built once per backend: SQLAlchemy reuses its compiled form for every pass.
    """
    group = _group_expr(is_sqlite).label("grp")
    rank = sa.func.row_number().over(partition_by=_group_expr(is_sqlite),
                                     order_by=T.c.id).label("rn")
    ranked = sa.select(T.c.id, T.c.status, group, rank).where(
        _due(sa.bindparam("now", type_=T.c.next_attempt_at.type))).subquery()
    limit = sa.bindparam("limit", type_=sa.Integer)
    return (sa.select(ranked.c.id, ranked.c.grp, ranked.c.status).where(ranked.c.rn <= limit)
            .order_by(ranked.c.rn, ranked.c.id).limit(sa.bindparam("cap", type_=sa.Integer)))


_CANDIDATES = {backend: _candidates_statement(backend) for backend in (True, False)}
#: Whether any row may still need sending (pending, or leased by a send): an idle loop whose
#: table has none can wait for a commit's wake-up instead of looking every second.
_LIVE = sa.select(T.c.id).where(T.c.status.in_(("pending", "sending"))).limit(1)


async def candidates(db: Database, *, now: datetime, limit: int,
                     room: Callable[[str], int]) -> tuple[list[int], set[int]]:
    """Ids of up to ``limit`` due rows, at most ``room(group)`` per pacing group, oldest first.

    Also the ids among them whose lease ran out while ``sending`` (that attempt may have
    landed). A plain read: :func:`take` claims them.
    """
    if limit <= 0:
        return [], set()
    async with db.engine.connect() as conn:
        found = (await conn.execute(_CANDIDATES[db.is_sqlite],
                                    {"now": now, "limit": limit, "cap": limit * 4})).all()
    taken: dict[str, int] = {}
    ids: list[int] = []
    lapsed = set()
    for row_id, grp, status in found:
        if taken.get(grp, 0) < room(grp) and len(ids) < limit:
            taken[grp] = taken.get(grp, 0) + 1
            ids.append(row_id)
            if status == "sending":
                lapsed.add(row_id)
    return ids, lapsed


async def any_live(db: Database) -> bool:
    """Whether some row is pending or being sent (due now or later)."""
    async with db.engine.connect() as conn:
        return (await conn.execute(_LIVE)).first() is not None


def take(conn: Connection, ids: list[int], *, now: datetime,
         lease: timedelta) -> list[Claimed]:
    """Lease the rows of ``ids`` that are still due (in the caller's transaction), by id."""
    if not ids:
        return []
    rows = conn.execute(
        sa.update(T).where(T.c.id.in_(ids), _due(now))
        .values(status="sending", lease_until=now + lease).returning(*CLAIMED)).all()
    return sorted((Claimed(*row) for row in rows), key=lambda row: row.id)


def write_results(conn: Connection, results: Mapping[int, Mapping[str, Any]]) -> None:
    """Store many rows' outcomes (in the caller's transaction)."""
    if not results:
        return
    stmt = sa.update(T).where(T.c.id == sa.bindparam("_id")).values(
        {c: sa.bindparam(f"_{c}", type_=T.c[c].type) for c in RESULT_COLUMNS})
    params = [{"_id": row_id, **{f"_{c}": values[c] for c in RESULT_COLUMNS}}
              for row_id, values in results.items()]
    conn.execute(stmt, params)


async def edit_target(db: Database, of_key: str, *,
                      after_id: int) -> tuple[str | None, str | None, bool]:
    """(status, message_ref, newer edit queued) of the message sent under ``of_key``.

    "Newer" means an edit of it queued after the row ``after_id``; status and reference are
    None when there is no such message.
    """
    async with db.engine.connect() as conn:
        original = (await conn.execute(sa.select(T.c.status, T.c.message_ref).where(
            T.c.key == of_key))).first()
        newer = (await conn.execute(sa.select(sa.func.count()).where(
            T.c.key.like(f"{of_key}:edit:%"), T.c.id > after_id))).scalar_one()
    status, ref = original if original is not None else (None, None)
    return status, ref, bool(newer)

