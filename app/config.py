"""Settings with every domain's section: what the server, the CLI, tests and benchmarks load."""

from __future__ import annotations

from pathlib import Path

from bot.config import settings as core
from handlers import config_sections


def load_settings(environ: dict[str, str] | None = None, *, demo: bool = False) -> core.Settings:
    """``bot.config.settings.load_settings`` with the sections of ``handlers.FEATURES``."""
    return core.load_settings(environ, demo=demo, sections=config_sections())


def load_app_config(path: Path, *, demo: bool = False) -> core.AppConfig:
    """``bot.config.settings.load_app_config`` with the sections of ``handlers.FEATURES``."""
    return core.load_app_config(path, demo=demo, sections=config_sections())
