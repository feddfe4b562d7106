"""Test harness: real settings files, real databases and the real server on a random port."""

from __future__ import annotations

import asyncio
import atexit
import os
import shutil
import socket
import sqlite3
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from aiohttp import web

from app.config import load_settings
from app.server import create_app
from app.services import build_services
from bot.config.settings import DEMO_OVERLAY_NAME, Settings, demo_identities
from bot.db.engine import Database, sync_url, upgrade
from bot.services import Services

ROOT = Path(__file__).resolve().parent.parent
FIXTURE_KB = ROOT / "tests" / "data" / "kb"
REAL_KB = ROOT / "knowledge" / "articles"

BASE_CONFIG: dict[str, Any] = {
    "office": {"name": "Test Office", "state": "CT", "time_zone": "America/New_York"},
    "jurisdictions": [
        {"code": "CA", "name": "California", "time_zone": "America/Los_Angeles"},
        {"code": "CT", "name": "Connecticut", "time_zone": "America/New_York"},
        {"code": "KS", "name": "Kansas", "time_zone": "America/Chicago"},
    ],
    "contacts": {
        "default": {"name": "the test office", "email": "help@example.org",
                    "verified_on": "2026-01-01"},
        "KS": {"name": "Kansas Elections Division", "phone": "800-262-VOTE (8683)",
               "verified_on": "2026-01-01"},
    },
    "roles": {"state_staff": ["webchat:local:boss", "slack:T0TEST:UBOSS"]},
    "knowledge_path": str(FIXTURE_KB),
}


def write_config(tmp: Path, **overrides: Any) -> Path:
    """Write app.yaml and demo.yaml into ``tmp`` (top-level keys overridden); return app.yaml.

    Top-level sections naming ``webchat:`` identities go to demo.yaml, the way the shipped
    files are split: demo mode merges them back (the same settings as one file), production
    mode (CLI commands without --demo) reads the rest.
    """
    data = {**BASE_CONFIG, **overrides}
    demo = {key: value for key, value in data.items() if demo_identities(value)}
    path = tmp / "app.yaml"
    path.write_text(yaml.safe_dump({k: v for k, v in data.items() if k not in demo}),
                    encoding="utf-8")
    (tmp / DEMO_OVERLAY_NAME).write_text(yaml.safe_dump(demo), encoding="utf-8")
    return path


def make_settings(tmp: Path, env: dict[str, str] | None = None, *, demo: bool = True,
                  **overrides: Any) -> Settings:
    """Settings from temp config files, a temp SQLite file and only the given environment.

    Demo mode by default (the suite talks to the web chat as self-declared names); tests of
    production behaviour pass ``demo=False``.
    """
    config = write_config(tmp, **overrides)
    environ = {"ELECTIONBOT_CONFIG": str(config),
               "DATABASE_URL": f"sqlite:///{tmp / 'bot.db'}", **(env or {})}
    return load_settings(environ, demo=demo)


_template_lock = threading.Lock()
_templates: dict[str, Path] = {}


def migrated(url: str) -> None:
    """Bring a test database to head; a new SQLite file starts as a copy of one migrated per process.

    Running every migration for each of hundreds of fresh test databases was a large share of
    the suite's time; the migrations themselves are exercised by ``tests/bot/db/test_db.py``, the CLI
    tests and every PostgreSQL test, which still call :func:`bot.db.engine.upgrade`.
    """
    target = _sqlite_path(url)
    if target is None or target.exists():
        upgrade(url)
        return
    with _template_lock:
        template = _templates.get("head")
        if template is None:
            folder = Path(tempfile.mkdtemp(prefix="electionbot-template-"))
            atexit.register(shutil.rmtree, folder, True)
            template = folder / "head.db"
            upgrade(f"sqlite:///{template}")
            with sqlite3.connect(template) as conn:  # everything into the main file, no -wal
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            _templates["head"] = template
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(template, target)


def _sqlite_path(url: str) -> Path | None:
    plain = sync_url(url)
    if not plain.startswith("sqlite:///") or plain.endswith(":memory:"):
        return None
    return Path(plain.removeprefix("sqlite:///"))


@dataclass
class RunningBot:
    """A live server: its base URL and the services behind it."""

    url: str
    services: Services
    app: web.Application


def free_port() -> int:
    """A port nobody is listening on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@asynccontextmanager
async def running_bot(settings: Settings, *, background: bool = False) -> AsyncIterator[RunningBot]:
    """Migrate, build and serve the production app on 127.0.0.1 with a random port."""
    migrated(settings.env.DATABASE_URL)
    services = build_services(settings)
    app = create_app(services, background=background)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield RunningBot(f"http://127.0.0.1:{port}", services, app)
    finally:
        await runner.cleanup()
        await services.db.close()


async def wait_until(check: Callable[[], Awaitable[Any]], timeout: float = 10.0) -> Any:
    """Poll ``check`` until it returns something truthy (a condition, never a fixed sleep)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := await check():
            return result
        await asyncio.sleep(0.01)
    raise AssertionError(f"condition not met within {timeout} s")


def in_ci() -> bool:
    """CI sets CI=true; there, a missing service is a failure, not a skip."""
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def count_transactions(db: Database) -> list[int]:
    """Note each transaction ``db.transaction`` runs (a group commit, say); one item apiece."""
    transactions: list[int] = []
    real = db.transaction

    async def counted(work: Any) -> Any:
        transactions.append(1)
        return await real(work)

    db.transaction = counted  # type: ignore[method-assign]
    return transactions
