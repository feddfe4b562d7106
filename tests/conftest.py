"""Shared fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import Settings
from tests.support import make_settings


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings on a temp SQLite file, the fixture knowledge base and no platform secrets."""
    return make_settings(tmp_path)
