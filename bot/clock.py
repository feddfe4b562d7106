"""Clocks. Production uses the real one; drills and tests can start the bot at another instant."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta


@dataclass
class FlowingClock:
    """Starts at ``base`` and then runs at real speed (an exercise 'as if it were Election Day').

    Used when ``ELECTIONBOT_SIMULATED_START`` is set (tabletop exercises, multi-process tests):
    every timestamp the bot takes, including reminder scheduling and rate-limit budgets, follows
    this clock, so set it only on a drill deployment with its own database.
    """

    base: datetime
    _set_at: float = field(default_factory=time.monotonic)

    def set(self, instant: datetime) -> None:
        """Jump to ``instant``."""
        self.base, self._set_at = instant, time.monotonic()

    def __call__(self) -> datetime:
        """Now, on this clock."""
        return self.base + timedelta(seconds=time.monotonic() - self._set_at)
