"""A real SMTP relay (STARTTLS + AUTH) per test, and settings that point the bot at it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.config.settings import Settings
from tests.fakes.smtp import SmtpRelay
from tests.support import make_settings


@pytest.fixture
def relay(tmp_path: Path) -> Iterator[SmtpRelay]:
    with SmtpRelay(tmp_path / "relay") as server:
        yield server


def relay_settings(tmp_path: Path, server: SmtpRelay, *, env: dict[str, str] | None = None,
                   **email: Any) -> Settings:
    """Production settings for ``server`` (its certificate trusted through email.ca_file)."""
    section = {"ca_file": str(server.ca_file), **email}
    return make_settings(tmp_path, {**server.env(), **(env or {})}, demo=False, email=section)
