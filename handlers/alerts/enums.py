"""The closed sets of the alert domain, stored as their plain values (``StrEnum``)."""

from __future__ import annotations

from enum import StrEnum


class AlertStatus(StrEnum):
    """From draft to sent (or refused / discarded); each move happens once."""

    DRAFT = "draft"
    PENDING_APPROVAL = "pending_approval"
    SENT = "sent"
    REFUSED = "refused"
    DISCARDED = "discarded"


class AlertSeverity(StrEnum):
    """How urgent an alert is (the CAP scale); severe and extreme are chased sooner."""

    MINOR = "minor"
    MODERATE = "moderate"
    SEVERE = "severe"
    EXTREME = "extreme"

    @property
    def is_severe(self) -> bool:
        """Severe or extreme: a second broadcaster approves, the short window applies."""
        return self in (AlertSeverity.SEVERE, AlertSeverity.EXTREME)


class AckKind(StrEnum):
    """A recipient's answer to an alert."""

    RECEIVED = "received"
    ACTIONED = "actioned"
    NOT_APPLICABLE = "not_applicable"
    NEED_HELP = "need_help"


class Tier(StrEnum):
    """The coalition's circles, T0 (election officials) out to T3 (community partners)."""

    T0 = "T0"
    T1 = "T1"
    T2 = "T2"
    T3 = "T3"


class Tlp(StrEnum):
    """Traffic Light Protocol labels, from the most shareable to the most restricted."""

    CLEAR = "CLEAR"
    GREEN = "GREEN"
    AMBER = "AMBER"
    AMBER_STRICT = "AMBER+STRICT"
    RED = "RED"

    def within(self, ceiling: Tlp) -> bool:
        """Whether this label is no more restricted than ``ceiling`` (by order, not text)."""
        order = list(Tlp)
        return order.index(self) <= order.index(ceiling)
