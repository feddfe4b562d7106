"""Database engine, async sessions and schema migrations (Alembic).

One way to use the database from async code, everywhere: SQLAlchemy's async engine with
``AsyncSession`` (aiosqlite on the embedded default, psycopg 3 on PostgreSQL). Sessions are
short-lived: ``async with db.session() as s: ...``.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
import traceback
import weakref
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.orm import Session
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.db.batch import PACE, BatchWriter

if TYPE_CHECKING:
    from alembic.config import Config

log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).parent / "migrations"
# Every engine, async or sync: SQLAlchemy's error messages (and its INFO statement log) would
# otherwise quote the bound values, i.e. reporters' names, phones and what they wrote.
ENGINE_OPTIONS: dict[str, Any] = {"hide_parameters": True}
DATABASE = "database"  # session.info: the Database whose session() made it
R = TypeVar("R")


def utcnow() -> datetime:
    """Now, time-zone aware."""
    return datetime.now(UTC)


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """A timestamp that is always time-zone aware in Python, stored as UTC everywhere."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        """Refuse naive datetimes; store UTC."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: use an aware datetime (UTC)")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        """SQLite hands back naive values; they were stored as UTC."""
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


def async_url(url: str) -> str:
    """The driver URL for the async engine."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return str(parsed.set(drivername="sqlite+aiosqlite"))
    return str(parsed.set(drivername="postgresql+psycopg"))


def sync_url(url: str) -> str:
    """The driver URL Alembic uses."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return str(parsed.set(drivername="sqlite"))
    return str(parsed.set(drivername="postgresql+psycopg"))


def _ensure_sqlite_dir(url: str) -> None:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)


class Database:
    """The engine plus helpers; one per process."""

    def __init__(self, url: str) -> None:
        """Create the engine (no connection is made until first use)."""
        _ensure_sqlite_dir(url)
        self.url = url
        self.is_sqlite = make_url(url).get_backend_name() == "sqlite"
        # A pre-ping guards against a server that dropped the connection; a SQLite file has
        # none, and the extra round trip per checkout only adds to the single writer's queue.
        kwargs: dict[str, Any] = {**ENGINE_OPTIONS, "pool_pre_ping": not self.is_sqlite}
        if self.is_sqlite:
            kwargs["connect_args"] = {"timeout": 30}
        self.engine: AsyncEngine = create_async_engine(async_url(url), **kwargs)
        if self.is_sqlite:
            sa.event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
            sa.event.listen(self.engine.sync_engine, "connect", _stop_once)
        self._on_commit: dict[str, list[weakref.WeakMethod[Callable[[], None]]]] = {}
        self._threaded: Engine | None = None
        self._writers: dict[str, BatchWriter] = {}

    def writer(self, table: sa.Table, pace: float = PACE) -> BatchWriter:
        """The group-commit writer of ``table`` (one per table; drained by :meth:`close`).

        ``pace``: see :class:`~bot.db.batch.BatchWriter` (0: write as soon as rows are queued;
        the rows queued while a write runs go together in the next).
        """
        writer = self._writers.get(table.name)
        if writer is None:
            writer = self._writers[table.name] = BatchWriter(self, table, pace)
        return writer

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A short-lived session; commit explicitly, rolled back on error."""
        async with AsyncSession(self.engine, expire_on_commit=False,
                                info={DATABASE: self}) as session:
            yield session

    def on_commit(self, flag: str, hook: Callable[[], None]) -> None:
        """Call ``hook`` (a bound method, held weakly) once a flagged transaction commits.

        A transaction is flagged by setting ``session.info[flag]`` on a session from
        :meth:`session`; the flag is cleared by its commit or rollback.
        """
        self._on_commit.setdefault(flag, []).append(weakref.WeakMethod(hook))  # type: ignore[arg-type]

    def _ended(self, info: dict[Any, Any], *, committed: bool) -> None:
        """A session's transaction ended: run the hooks of its flags if it committed."""
        for flag, hooks in self._on_commit.items():
            if info.pop(flag, False) and committed:
                hooks[:] = [ref for ref in hooks if ref() is not None]
                for ref in hooks:
                    hook = ref()
                    try:  # the commit happened: a hook's failure must not look like its failure
                        if hook is not None:
                            hook()
                    except Exception:
                        log.exception("commit hook failed", extra={"flag": flag})

    async def transaction(self, work: Callable[[Connection], R]) -> R:
        """Run ``work`` (plain SQL, no awaits) in one transaction holding locks briefly.

        On SQLite the whole transaction runs in one worker thread on a plain (synchronous)
        connection, so the database-wide write lock is never held across event-loop round
        trips: on a busy loop that would make every other writer (a person filing an
        incident) queue behind it. This is the only synchronous engine; it shares the file
        and is disposed with the async one. PostgreSQL has row locks, so the async engine's
        ``run_sync`` is used there.
        """
        try:
            return await self._transaction(work)
        except BaseException as exc:
            release_frames(exc)
            raise

    async def _transaction(self, work: Callable[[Connection], R]) -> R:
        if not self.is_sqlite:
            async with self.engine.begin() as conn:
                return await conn.run_sync(work)
        if self._threaded is None:
            self._threaded = sa.create_engine(sync_url(self.url), connect_args={"timeout": 30},
                                              hide_parameters=True)
            sa.event.listen(self._threaded, "connect", _sqlite_pragmas)
        return await asyncio.to_thread(_run_in, self._threaded, work)

    async def ping(self) -> bool:
        """Whether the database answers a trivial query."""
        try:
            async with self.engine.connect() as conn:
                await asyncio.wait_for(conn.execute(sa.text("SELECT 1")), timeout=2)
            return True
        except Exception:
            return False

    async def upgrade(self) -> None:
        """Apply migrations up to head (idempotent)."""
        await asyncio.to_thread(upgrade, self.url)

    async def close(self) -> None:
        """Write what the batch writers still hold, then dispose of the pools."""
        for writer in self._writers.values():
            await writer.aclose()
        await self.engine.dispose()
        if self._threaded is not None:
            self._threaded.dispose()


@sa.event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    db = session.info.get(DATABASE)
    if isinstance(db, Database):
        db._ended(session.info, committed=True)


@sa.event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    db = session.info.get(DATABASE)
    if isinstance(db, Database):
        db._ended(session.info, committed=False)


def alembic_config(url: str) -> Config:
    """Alembic configuration without an ini file."""
    from alembic.config import Config  # only migrations need alembic: one-shot commands skip it

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", sync_url(url).replace("%", "%%"))
    return cfg


def upgrade(url: str) -> None:
    """Apply migrations synchronously (the CLI and start-up use this)."""
    from alembic import command

    _ensure_sqlite_dir(url)
    command.upgrade(alembic_config(url), "head")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets the web chat read while a background send writes; busy_timeout avoids
    # "database is locked" under short bursts of concurrent writes. In WAL mode NORMAL syncs
    # at checkpoints rather than on every commit: a committed transaction can be lost only
    # to a power cut or OS crash (never to the process dying), and the file never corrupts.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA busy_timeout=30000")
    _use_wal(cursor)
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _use_wal(cursor: Any, attempts: int = 100) -> None:
    """Switch the file to WAL (it stays so); a no-op on a file that already is.

    SQLite answers this pragma "database is locked" without waiting when another connection
    holds the file at that instant (a new pooled connection opened beside a busy writer), so
    the caller's request would fail: once the file is in WAL that is not an error, and before
    it is, a short retry waits for the writer.
    """
    for attempt in range(attempts):
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc):
                raise
            if cursor.execute("PRAGMA journal_mode").fetchone()[0] == "wal":
                return  # already WAL (the usual case): nothing to switch, nothing to wait for
            if attempt == attempts - 1:
                raise
            time.sleep(0.01)  # only before the file's first switch to WAL


def _stop_once(dbapi_connection: Any, _record: Any) -> None:
    """Make the aiosqlite connection's ``stop`` ask its thread to stop once only.

    A task cancelled while its statement runs has its connection closed by SQLAlchemy in a
    task of its own, queued behind the statement in aiosqlite's thread. Cancelled again
    meanwhile (the loop's shutdown cancels every task: ``web.run_app``, ``asyncio.run``,
    pytest-asyncio's teardown), the task stops the thread (``stop``); the close's own ``stop``
    then queued a second request and awaited its answer, but the thread ends at the first: the
    close and the loop's shutdown waited for ever, idle. A later call now waits for the first
    request's answer (shielded: a cancelled waiter does not cancel it for the others).
    """
    connection: Any = getattr(dbapi_connection, "_connection", None)  # aiosqlite Connection
    if not callable(getattr(connection, "stop", None)):
        return
    own = weakref.ref(connection)  # no reference cycle: an unused connection still goes at once
    asked: list[asyncio.Future[Any] | None] = []

    def stop_once() -> asyncio.Future[Any] | None:
        if not asked:
            conn = own()
            asked.append(type(conn).stop(conn) if conn is not None else None)
            return asked[0]
        first = asked[0]
        try:
            if first is None or first.done() or first.get_loop() is not asyncio.get_running_loop():
                return None
        except RuntimeError:  # not on the loop (a garbage collection in a worker thread)
            return None
        return asyncio.shield(first)

    connection.stop = stop_once


def _run_in(engine: Engine, work: Callable[[Connection], R]) -> R:
    """``work`` in one transaction on ``engine`` (in a worker thread; no closure holds it)."""
    with engine.begin() as conn:
        return work(conn)


def release_frames(exc: BaseException) -> None:
    """Drop the locals of the finished frames that ``exc`` (and what caused it) holds.

    A database error's traceback keeps every frame it went through, with their locals: the
    batch's rows, the connection. SQLAlchemy's error handling also makes it a reference cycle
    (the frame that raised the error holds it in a local), so all of that lived on until a full
    garbage collection: after two reminder passes' batches met (one refused, exactly once),
    54,000 drafts and a 0.3 s collection on the event loop. The traceback still names every
    file and line; only the frames' variables go. The frame that caught ``exc`` is still
    running and is left alone.
    """
    seen: set[int] = set()
    pending: list[BaseException | None] = [exc]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        traceback.clear_frames(current.__traceback__)
        pending += [current.__cause__, current.__context__]
