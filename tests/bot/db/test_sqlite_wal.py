"""A new SQLite connection opened while another one writes still gets its pragmas (no error)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from bot.db import engine


def test_wal_switch_waits_for_a_writer_instead_of_failing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "bot.db"
    with sqlite3.connect(path) as setup:  # a file as migrations leave it: rollback journal
        setup.execute("CREATE TABLE t (x)")
    writer = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("INSERT INTO t VALUES (1)")

    fresh = sqlite3.connect(path, timeout=30)
    with pytest.raises(sqlite3.OperationalError, match="locked"):  # SQLite does not wait here
        fresh.execute("PRAGMA journal_mode=WAL")

    waits: list[float] = []

    def writer_finishes(seconds: float) -> None:
        waits.append(seconds)
        writer.execute("COMMIT")

    monkeypatch.setattr(engine.time, "sleep", writer_finishes)
    engine._sqlite_pragmas(fresh, None)
    assert len(waits) == 1
    assert fresh.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert fresh.execute("PRAGMA busy_timeout").fetchone() == (30000,)
    assert fresh.execute("SELECT x FROM t").fetchall() == [(1,)]
    writer.close()
    fresh.close()


def test_other_errors_are_not_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    class Broken:
        def execute(self, sql: str) -> None:
            raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(engine.time, "sleep", lambda s: pytest.fail("retried"))
    with pytest.raises(sqlite3.OperationalError, match="disk I/O"):
        engine._use_wal(Broken())
