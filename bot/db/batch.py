"""Group commit: the small writes of many requests in one short transaction.

A busy request path that only appends a row (the question log) or claims a request key (the
replay check every inbound request pays for) should not pay for a session, an ORM flush and a
commit of its own. :class:`GroupCommit` queues such writes as plain functions of a connection;
one background task runs everything queued so far in one transaction (SQLAlchemy Core, through
:meth:`bot.db.engine.Database.small_transaction`) and hands each caller its own result. Writes
queued while a transaction runs, or in the same turn of the event loop, go together in the
next one. Closing (the database's ``close``, on a clean shutdown) writes what is still queued
first.

A batch that fails on one write's data (an integrity error) is run again one write per
transaction, so that write's caller alone gets the error; a failure of the database itself
(locked, unreachable) reaches every caller of the batch at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from functools import partial
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

log = logging.getLogger(__name__)
MAX_BATCH = 500  # writes per transaction: a long backlog is written in bounded steps

Row = dict[str, Any]
#: One write: a function of an open connection (no awaits), returning the caller's result.
Write = Callable[[Connection], Any]
_Queued = tuple[Write, asyncio.Future[Any]]


class GroupCommit:
    """Run queued writes in shared transactions; ``await submit(write)`` returns its result."""

    def __init__(self, db: Any) -> None:
        """Write through ``db`` (a :class:`bot.db.engine.Database`: its ``small_transaction``)."""
        self.db = db
        self._queue: list[_Queued] = []
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._closed = False

    def submit(self, write: Write) -> asyncio.Future[Any]:
        """Queue ``write``; the future resolves to its result once its transaction committed."""
        loop = asyncio.get_running_loop()
        done: asyncio.Future[Any] = loop.create_future()
        if self._closed:  # after shutdown began: write it alone, still exactly once
            task = loop.create_task(self._write([(write, done)]))
            task.add_done_callback(_quiet)
            return done
        self._queue.append((write, done))
        if self._task is None or self._task.done():
            self._wake = asyncio.Event()
            self._task = loop.create_task(self._run())
        assert self._wake is not None
        self._wake.set()
        return done

    async def _run(self) -> None:
        assert self._wake is not None
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._queue:
                batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
                await self._write(batch)
            if self._closed:
                return

    async def _write(self, batch: list[_Queued]) -> None:
        writes = [write for write, _ in batch]
        try:
            results = await self.db.small_transaction(
                lambda conn: [write(conn) for write in writes])
        except IntegrityError as exc:
            if len(batch) == 1:
                _fail(batch, exc)
                return
            for one in batch:  # nothing was written: each again alone, its error its own
                await self._write([one])
            return
        except Exception as exc:  # every caller learns; none of the writes was committed
            log.error("batched write failed", extra={"writes": len(batch),
                                                     "error": type(exc).__name__})
            _fail(batch, exc)
            return
        for (_, done), result in zip(batch, results, strict=True):
            if not done.done():
                done.set_result(result)

    async def aclose(self) -> None:
        """Write everything still queued, then stop (later writes are committed one by one)."""
        self._closed = True
        if self._task is not None and not self._task.done():
            assert self._wake is not None
            self._wake.set()
            with contextlib.suppress(Exception):
                await self._task
        elif self._queue:
            batch, self._queue = self._queue, []
            await self._write(batch)


class BatchWriter:
    """Insert rows of one table through a :class:`GroupCommit`; ``await add(row)`` is the key."""

    def __init__(self, commits: GroupCommit, table: sa.Table) -> None:
        """Append to ``table``; the insert is built (and compiled) once."""
        self.table = table
        (key,) = table.primary_key.columns
        self._commits = commits
        self._insert = PreparedInsert(sa.insert(table).returning(key))

    def add(self, row: Row) -> asyncio.Future[Any]:
        """Queue ``row``; the future resolves to its primary key once committed."""
        return self._commits.submit(partial(_insert, self._insert, row))


def _insert(statement: PreparedInsert, row: Row, conn: Connection) -> Any:
    found = statement.run(conn, row)
    assert found is not None  # RETURNING of an insert that happened
    return found[0]


class PreparedInsert:
    """An ``INSERT ... RETURNING`` for the group commit, compiled once per set of columns.

    On SQLite it runs on the driver's cursor with the SQL and the columns' bind conversions
    SQLAlchemy compiled for it (a UTC timestamp is stored exactly as through SQLAlchemy):
    executing the statement through SQLAlchemy costs about as much again as SQLite's own work,
    and every inbound request makes two of these. Driver errors are raised as SQLAlchemy's.
    Elsewhere (PostgreSQL) it is an ordinary SQLAlchemy execution.
    """

    def __init__(self, statement: sa.Insert) -> None:
        """Wrap ``statement`` (an insert with RETURNING, given its values at execution)."""
        self.statement = statement
        self._compiled: dict[tuple[str, ...], tuple[str, tuple[tuple[str, Any], ...]]] = {}

    def run(self, conn: Connection, row: Row) -> tuple[Any, ...] | None:
        """Insert ``row``; the first row RETURNING gave, or None when nothing was inserted."""
        dialect = conn.dialect
        if dialect.name != "sqlite":
            found = conn.execute(self.statement, row).first()
            return tuple(found) if found is not None else None
        keys = tuple(row)
        compiled = self._compiled.get(keys)
        if compiled is None:
            compiled = self._compiled[keys] = self._compile(dialect, keys)
        sql, binds = compiled
        params = [row[name] if process is None else process(row[name]) for name, process in binds]
        try:
            cursor = conn.connection.driver_connection.execute(sql, params)  # type: ignore[union-attr]
            return cursor.fetchone()  # type: ignore[no-any-return]
        except dialect.loaded_dbapi.Error as exc:
            raise sa.exc.DBAPIError.instance(sql, params, exc, dialect.loaded_dbapi.Error,
                                             hide_parameters=True, dialect=dialect) from exc

    def _compile(self, dialect: Any, keys: tuple[str, ...]) -> tuple[str, tuple[tuple[str, Any], ...]]:
        compiled = self.statement.compile(dialect=dialect, column_keys=list(keys))
        table = self.statement.table
        binds = tuple((name, table.c[name].type.dialect_impl(dialect).bind_processor(dialect))
                      for name in compiled.positiontup or ())
        return compiled.string, binds


def _fail(batch: list[_Queued], exc: BaseException) -> None:
    for _, done in batch:
        if not done.done():
            done.set_exception(exc)


def _quiet(task: asyncio.Task[None]) -> None:
    if not task.cancelled():
        task.exception()  # retrieved: _write reports failures to the write's future
