"""The certification domain's outbox keys (stored text unchanged: existing rows still match)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from bot.outbox.keys import Key


@dataclass(frozen=True, slots=True)
class ReminderKey(Key):
    """One recipient's reminder digest of one day: ``cert:<recipient>:<day>``.

    The recipient is a chat identity or, for an official reached by e-mail, ``email:<address>``.
    """

    recipient: str
    day: date
    PREFIX = "cert:"

    def __str__(self) -> str:
        """The stored text."""
        return f"{self.PREFIX}{self.recipient}:{self.day.isoformat()}"

    @classmethod
    def parse(cls, text: str) -> tuple[str, date] | None:
        """The recipient and day of a stored key; None for a key cut to the column."""
        recipient, _, day = text.removeprefix(cls.PREFIX).rpartition(":")
        try:
            return recipient, date.fromisoformat(day)
        except ValueError:
            return None


@dataclass(frozen=True, slots=True)
class UnreachableDigestKey(Key):
    """One state staff member's digest of unreachable officials of one day."""

    member: str
    day: date

    def __str__(self) -> str:
        """``cert-unreachable:<member identity>:<day>``."""
        return f"cert-unreachable:{self.member}:{self.day.isoformat()}"
