"""Helpers for every CLI command group, the core's and each domain's.

The composition root (``app.cli.main``) hands over the domains' configuration sections once, with
:func:`use_sections`, so a domain's command loads the whole, strictly checked app.yaml without the
core importing any domain. The settings models (pydantic) are imported when a command first loads
settings, not with the CLI: a one-shot command has by then turned the collector off
(``app.cli.kb.one_shot``), so their many long-lived objects are never walked.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

if TYPE_CHECKING:
    from bot.config.settings import Sections, Settings

_sections: dict[str, Sections | Callable[[], Sections]] = {}


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print one line on stderr and return the exit to raise."""
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def use_sections(sections: Sections | Callable[[], Sections]) -> None:
    """The domains' app.yaml sections, given by the composition root before any command runs.

    A callable is called once, when a command first loads settings (so importing the CLI does
    not import every domain).
    """
    _sections["domains"] = sections


def settings_or_exit(*, demo: bool = False) -> Settings:
    """Load settings (``demo`` only from ``--demo``); a configuration problem exits with code 2."""
    from bot.config.settings import ConfigError, load_settings

    sections = _sections.get("domains")
    if callable(sections):
        sections = _sections["domains"] = sections()
    try:
        return load_settings(demo=demo, sections=sections)
    except ConfigError as exc:
        raise fail(str(exc), 2) from None


def pid_file(settings: Settings) -> Path:
    """Where ``serve`` writes its pid so ``kb reload`` can signal it."""
    return settings.config_path.parent / "data" / "electionbot.pid"


def run_with_db(coro_factory: Callable[[Any], Awaitable[Any]]) -> Any:
    """Migrate, open the database, run ``coro_factory(db)`` and close it (for CLI commands)."""
    import asyncio  # here, not at the top: read-only commands never start a loop

    from bot.db.engine import Database, upgrade

    settings = settings_or_exit()
    upgrade(settings.env.DATABASE_URL)

    async def run() -> Any:
        db = Database(settings.env.DATABASE_URL)
        try:
            return await coro_factory(db)
        finally:
            await db.close()

    return asyncio.run(run())
