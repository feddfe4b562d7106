"""Helpers shared by the CLI's command groups."""

from __future__ import annotations

from pathlib import Path

import typer

from bot.config import ConfigError, Settings, load_settings


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print one line on stderr and return the exit to raise."""
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def settings_or_exit() -> Settings:
    """Load settings; a configuration problem exits with code 2."""
    try:
        return load_settings()
    except ConfigError as exc:
        raise fail(str(exc), 2) from None


def pid_file(settings: Settings) -> Path:
    """Where ``serve`` writes its pid so ``kb reload`` can signal it."""
    return settings.config_path.parent / "data" / "electionbot.pid"
