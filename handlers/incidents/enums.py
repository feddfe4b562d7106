"""The closed sets of the incident domain, stored as their plain values (``StrEnum``)."""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    """How bad it is; ordered by the harm, not by the text (``SEV1`` is the most severe).

    ``Severity.SEV1 > Severity.SEV3`` is true: comparisons use :attr:`rank`, never the
    strings (where ``"SEV1" < "SEV3"``).
    """

    SEV1 = "SEV1"
    SEV2 = "SEV2"
    SEV3 = "SEV3"
    SEV4 = "SEV4"

    @property
    def rank(self) -> int:
        """4 for SEV1 down to 1 for SEV4: higher is more severe."""
        return len(Severity) - list(Severity).index(self)

    def _other(self, other: Any) -> Severity:
        if isinstance(other, str) and not isinstance(other, Severity):
            return Severity(other)
        if not isinstance(other, Severity):
            raise TypeError(f"cannot compare a severity with {type(other).__name__}")
        return other

    def __lt__(self, other: Any) -> bool:
        """Less severe than ``other``."""
        return self.rank < self._other(other).rank

    def __le__(self, other: Any) -> bool:
        """Less severe than, or as severe as, ``other``."""
        return self.rank <= self._other(other).rank

    def __gt__(self, other: Any) -> bool:
        """More severe than ``other``."""
        return self.rank > self._other(other).rank

    def __ge__(self, other: Any) -> bool:
        """More severe than, or as severe as, ``other``."""
        return self.rank >= self._other(other).rank


class IncidentStatus(StrEnum):
    """Where an incident is in its lifecycle (the first five are open)."""

    NEW = "new"
    TRIAGED = "triaged"
    IN_PROGRESS = "in_progress"
    ESCALATED = "escalated"
    MONITORING = "monitoring"
    RESOLVED = "resolved"
    CLOSED = "closed"

    @property
    def is_open(self) -> bool:
        """Not resolved and not closed."""
        return self not in (IncidentStatus.RESOLVED, IncidentStatus.CLOSED)

    @classmethod
    def from_word(cls, word: str) -> IncidentStatus | None:
        """The status a person typed: a value, or a button's word ("acknowledged"); else None.

        The incident buttons say Acknowledge, Escalate and Resolve, so those words (and
        ``ack``) are accepted for the statuses the buttons set.
        """
        spelled = word.strip().lower().replace("-", "_")
        try:
            return cls(spelled)
        except ValueError:
            return STATUS_WORDS.get(spelled)


# Words for a status besides its value: what the incident buttons say (see STATUS_BUTTONS).
STATUS_WORDS = {"ack": IncidentStatus.TRIAGED, "acknowledge": IncidentStatus.TRIAGED,
                "acknowledged": IncidentStatus.TRIAGED, "escalate": IncidentStatus.ESCALATED,
                "resolve": IncidentStatus.RESOLVED}
