"""The closed sets of the certification domain, stored as their plain values (``StrEnum``)."""

from __future__ import annotations

from enum import StrEnum


class CertStatus(StrEnum):
    """Where one official stands in one program (computed, never stored)."""

    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    PROVISIONAL = "provisional"
    CERTIFIED = "certified"
    RENEWAL_DUE = "renewal_due"
    OVERDUE = "overdue"
    LAPSED = "lapsed"
    EXEMPT = "exempt"


class CompletionStatus(StrEnum):
    """A reported course: pending until a verifier decides; imported ones are verified."""

    PENDING = "pending"
    VERIFIED = "verified"
    REJECTED = "rejected"
