"""A statement cut off by cancellation never leaves a task that no cancellation ends.

A task cancelled while its statement runs has its connection closed by SQLAlchemy in a task
of its own, queued behind that statement in aiosqlite's thread. When the loop then shuts down
(``asyncio.run``, ``web.run_app``, pytest-asyncio's teardown: every task cancelled once, then
all awaited) before the statement ends, the cancelled task stops the thread, and the close
asked the stopped thread to stop again and waited for an answer that never came: the loop's
shutdown waited for it for ever, idle.
"""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bot.db.engine import Database
from tests.support import wait_until


async def test_shutdown_while_a_cancelled_statement_runs_ends(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'bot.db'}")
    entered, release = threading.Event(), threading.Event()

    def block() -> int:  # a statement that runs in aiosqlite's thread until released
        entered.set()
        release.wait(10)
        return 1

    sa.event.listen(db.engine.sync_engine, "connect",
                    lambda conn, _record: conn.create_function("block", 0, block))

    async def query() -> None:
        async with db.engine.connect() as conn:
            await conn.execute(sa.text("SELECT block()"))

    async def closing() -> list[asyncio.Task[Any]]:
        return [task for task in asyncio.all_tasks()
                if task.get_coro().__qualname__.endswith("_terminate_graceful_close")]

    async def running() -> bool:
        return entered.is_set()

    try:
        task = asyncio.create_task(query())
        await wait_until(running)
        task.cancel()  # its connection is closed in a task of its own, behind the statement
        (close,) = await wait_until(closing)
        # The loop shuts down while the statement still runs: each task cancelled once.
        task.cancel()
        close.cancel()
        release.set()
        _, pending = await asyncio.wait({task, close}, timeout=10)
        for stuck in pending:  # (a failure leaves no task behind)
            stuck.cancel()
        assert not pending, "the close of a cancelled statement's connection never ended"
    finally:
        release.set()
        await db.close()
