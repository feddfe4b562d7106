"""Loading the ledger from the database into plain records for evaluation.

Two ways in: :func:`load_records` (ORM rows, for one official or a page of them) and, for the
scheduler's whole roster, :func:`read_ledger` + :func:`records_from_rows`: plain column tuples
read in partitions (each a short step on the event loop) and turned into records in a worker
thread, so 100,000 officials never hold the loop for more than one partition at a time.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.config.settings import AppConfig
from bot.db.engine import Database
from handlers.certifications.config import CertificationConfig
from handlers.certifications.enums import CompletionStatus
from handlers.certifications.models import Assignment, Completion, Official, Waiver
from handlers.certifications.reminders import OfficialRecord
from handlers.certifications.rules import PROGRAMS_DIR, load_programs
from handlers.certifications.status import CompiledProgram, Done, Facts, as_facts


@lru_cache(maxsize=8)
def _compiled(folder: str) -> dict[str, CompiledProgram]:
    return {code: CompiledProgram(p) for code, p in load_programs(Path(folder)).items()}


def programs_for(app: AppConfig) -> dict[str, CompiledProgram]:
    """The configured programs, loaded and compiled once per folder."""
    folder = app.section(CertificationConfig).programs_path
    return _compiled(str(Path(folder).resolve()) if folder else str(PROGRAMS_DIR))


def days_to_election(app: AppConfig, took_office: date | None) -> int | None:
    """Days from taking office to the next configured state election (None if unknown)."""
    if took_office is None:
        return None
    ahead = [(e.day - took_office).days for e in app.section(CertificationConfig).elections
             if e.state and e.day >= took_office]
    return min(ahead) if ahead else None


def zone_for(app: AppConfig, jurisdiction: str) -> str:
    """The jurisdiction's time zone, else the office's."""
    for j in app.jurisdictions:
        if j.code == jurisdiction and j.time_zone:
            return j.time_zone
    return app.office.time_zone


def to_record(official: Official, assignments: list[Assignment], done: list[Done],
              waivers: list[Waiver], app: AppConfig, today: date) -> OfficialRecord:
    """One official's rows as an evaluation record."""
    assert official.id is not None
    return OfficialRecord(
        id=official.id, time_zone=official.time_zone, identity=official.identity,
        jurisdiction=official.jurisdiction, name=official.name, email=official.email,
        assignments=[(a.program, as_facts(a, days_to_election(app, a.took_office),
                                          official.jurisdiction)) for a in assignments],
        done=tuple(sorted(done)),
        waived=frozenset(w.program for w in waivers if w.active_on(today)))


async def load_records(db: Database, app: AppConfig, today: date, *,
                       official_ids: list[int] | None = None,
                       session: AsyncSession | None = None) -> list[OfficialRecord]:
    """Every official (or the given ones) with assignments, verified completions and waivers.

    Reads in ``session`` when given (one connection for a whole scheduler pass), else in its own.
    """
    if session is None:
        async with db.session() as own:
            return await load_records(db, app, today, official_ids=official_ids, session=own)
    q_off = select(Official)
    q_asg = select(Assignment)
    q_done = select(  # type: ignore[call-overload]
        Completion.official_id, Completion.completed_on, Completion.course,
        Completion.hours).where(Completion.status == CompletionStatus.VERIFIED)
    q_wv = select(Waiver)
    if official_ids is not None:
        q_off = q_off.where(Official.id.in_(official_ids))  # type: ignore[union-attr]
        q_asg = q_asg.where(Assignment.official_id.in_(official_ids))  # type: ignore[attr-defined]
        q_done = q_done.where(Completion.official_id.in_(official_ids))  # type: ignore[attr-defined]
        q_wv = q_wv.where(Waiver.official_id.in_(official_ids))  # type: ignore[attr-defined]
    officials = (await session.exec(q_off)).all()
    assignments = (await session.exec(q_asg)).all()
    completions = (await session.exec(q_done)).all()
    waivers = (await session.exec(q_wv)).all()
    by_asg: dict[int, list[Assignment]] = defaultdict(list)
    by_done: dict[int, list[Done]] = defaultdict(list)
    by_wv: dict[int, list[Waiver]] = defaultdict(list)
    for a in assignments:
        by_asg[a.official_id].append(a)
    for official_id, completed_on, course, hours in completions:
        by_done[official_id].append((completed_on, course, hours))
    for w in waivers:
        by_wv[w.official_id].append(w)
    return [to_record(o, by_asg[o.id or 0], by_done[o.id or 0], by_wv[o.id or 0], app, today)
            for o in officials]


PARTITION = 2000  # rows per step on the event loop
THREAD_PARTITION = 250  # rows per call into compiled code in a worker thread (see fetch_rows)


@dataclass
class LedgerRows:
    """The roster as plain rows (safe to hand to a worker thread)."""

    officials: list[Any] = field(default_factory=list)
    assignments: list[Any] = field(default_factory=list)
    completions: list[Any] = field(default_factory=list)
    waivers: list[Any] = field(default_factory=list)


async def stream_rows(session: AsyncSession, query: Any, into: list[Any]) -> None:
    """Append ``query``'s rows to ``into``, fetched :data:`PARTITION` at a time."""
    result = await session.stream(query)
    async for part in result.partitions(PARTITION):
        into.extend(part)


def _ledger_queries() -> list[sa.Select[Any]]:
    """The officials', assignments', verified completions' and waivers' columns (in order)."""
    o, a, c, w = (t.__table__.c for t in (Official, Assignment, Completion, Waiver))  # type: ignore[union-attr]
    return [sa.select(o.id, o.time_zone, o.identity, o.jurisdiction, o.name, o.email)
            .order_by(o.id),
            sa.select(a.official_id, a.program, a.role, a.term_type, a.took_office, a.term_end,
                      a.from_deputy, a.acting).order_by(a.id),
            sa.select(c.official_id, c.completed_on, c.course, c.hours)
            .where(c.status == CompletionStatus.VERIFIED),
            sa.select(w.official_id, w.program, w.until, w.revoked_at)]


async def read_ledger(session: AsyncSession) -> LedgerRows:
    """Every official's columns the scheduler needs, with assignments, completions and waivers."""
    rows = LedgerRows()
    parts = (rows.officials, rows.assignments, rows.completions, rows.waivers)
    for query, into in zip(_ledger_queries(), parts, strict=True):
        await stream_rows(session, query, into)
    return rows


def read_ledger_sync(conn: Connection) -> LedgerRows:
    """:func:`read_ledger` on a plain connection, in the calling (worker) thread.

    On SQLite (:meth:`~bot.db.engine.Database.transaction` runs it in a thread) this spares
    the event loop the hundreds of round trips of the partitions and the async driver's cost
    per row: the rows are fetched and converted where they are used.
    """
    rows = LedgerRows()
    parts = (rows.officials, rows.assignments, rows.completions, rows.waivers)
    for query, into in zip(_ledger_queries(), parts, strict=True):
        fetch_rows(conn, query, into)
    return rows


def fetch_rows(conn: Connection, query: Any, into: list[Any]) -> None:
    """Append ``query``'s rows to ``into``, a few hundred at a time (in a worker thread).

    SQLAlchemy makes a result's rows in compiled code, holding the GIL: ``.all()`` of 500,000
    rows holds it, and so the event loop, for a second or more; a partition of 2,000 for
    20 ms on a quiet machine. :data:`THREAD_PARTITION` rows at a time, the loop gets its turn
    every few milliseconds.
    """
    for part in conn.execute(query).partitions(THREAD_PARTITION):
        into.extend(part)


def records_from_rows(rows: LedgerRows, app: AppConfig, today: date) -> list[OfficialRecord]:
    """The rows of :func:`read_ledger` as evaluation records (pure: run it in a thread).

    Rows are unpacked as tuples (a named column costs a lookup per access: 100,000s here).
    """
    by_asg: dict[int, list[Any]] = defaultdict(list)
    by_done: dict[int, list[Done]] = defaultdict(list)
    waived: dict[int, set[str]] = defaultdict(set)
    for a in rows.assignments:
        by_asg[a[0]].append(a)
    for official_id, completed_on, course, hours in rows.completions:
        by_done[official_id].append((completed_on, course, hours))
    for official_id, program, until, revoked_at in rows.waivers:
        if revoked_at is None and (until is None or until >= today):
            waived[official_id].add(program)
    elections: dict[date | None, int | None] = {}
    records = []
    none: tuple[Any, ...] = ()
    for official_id, time_zone, identity, jurisdiction, name, email in rows.officials:
        facts = []
        for _, program, role, term_type, took, term_end, deputy, acting in by_asg.get(
                official_id, none):
            if took not in elections:
                elections[took] = days_to_election(app, took)
            facts.append((program, Facts(
                took_office=took, term_end=term_end, term_type=term_type, role=role,
                from_deputy=deputy, acting=acting, days_to_election=elections[took],
                jurisdiction=jurisdiction)))
        done = by_done.get(official_id)
        records.append(OfficialRecord(
            id=official_id, time_zone=time_zone, identity=identity, jurisdiction=jurisdiction,
            name=name, assignments=facts, done=tuple(sorted(done)) if done else (),
            waived=frozenset(waived.get(official_id, none)), email=email))
    return records
