"""Certification tables: officials, assignments, completions, waivers, snoozes, reminders sent.

Dates that are calendar facts (took office, completed on, deadlines) are plain ``date`` columns;
instants are time-zone-aware ``UTCDateTime``. Exactly-once reminders rest on two unique
constraints: ``cert_reminder_sent (deadline_key, recipient, step)`` and ``cert_digest
(recipient, day)``, written in the same transaction as the outbox row they announce.
"""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Column, Field, SQLModel

from bot.db.columns import EnumText
from bot.db.engine import UTCDateTime, utcnow
from handlers.certifications.enums import CompletionStatus


class Official(SQLModel, table=True):
    """A person who must be certified; ``external_id`` is the roster's stable key."""

    __tablename__ = "cert_official"

    id: int | None = Field(default=None, primary_key=True)
    external_id: str = Field(max_length=80, unique=True)
    name: str = Field(max_length=200)
    email: str = Field(default="", max_length=200)
    identity: str | None = Field(default=None, max_length=200, index=True,
                                 description="platform:workspace:user, None when unreachable")
    jurisdiction: str = Field(max_length=40, index=True)
    time_zone: str = Field(max_length=64)
    flagged: str = Field(default="", max_length=300, description="'not me / role changed' note")
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))


class Assignment(SQLModel, table=True):
    """An official's role in a program: the facts deadline rules are computed from."""

    __tablename__ = "cert_assignment"
    __table_args__ = (sa.UniqueConstraint("official_id", "program"),)

    id: int | None = Field(default=None, primary_key=True)
    official_id: int = Field(foreign_key="cert_official.id", index=True)
    program: str = Field(max_length=40)
    role: str = Field(max_length=60)
    term_type: str = Field(default="", max_length=20)
    took_office: date | None = None
    term_end: date | None = None
    from_deputy: bool = False
    acting: bool = False


class Completion(SQLModel, table=True):
    """A course taken; ``status`` is verified, pending or rejected."""

    __tablename__ = "cert_completion"
    __table_args__ = (sa.UniqueConstraint("official_id", "course", "completed_on"),)

    id: int | None = Field(default=None, primary_key=True)
    official_id: int = Field(foreign_key="cert_official.id", index=True)
    course: str = Field(max_length=40)
    completed_on: date
    hours: float = 0.0
    evidence: str = Field(default="", max_length=500)
    status: CompletionStatus = Field(default=CompletionStatus.VERIFIED,
                                     sa_type=EnumText(CompletionStatus, 16))
    reported_by: str = Field(default="", max_length=200)
    verified_by: str | None = Field(default=None, max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))


class Waiver(SQLModel, table=True):
    """A state staff decision: exempt from a program until a date (or indefinitely).

    Revoking keeps the row (``revoked_at``/``revoked_by``) so the decision history stays.
    """

    __tablename__ = "cert_waiver"

    id: int | None = Field(default=None, primary_key=True)
    official_id: int = Field(foreign_key="cert_official.id", index=True)
    program: str = Field(max_length=40, index=True)
    until: date | None = None
    reason: str = Field(default="", max_length=300)
    granted_by: str = Field(default="", max_length=200)
    granted_at: datetime | None = Field(default_factory=utcnow,
                                        sa_column=Column(UTCDateTime, nullable=True))
    revoked_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    revoked_by: str | None = Field(default=None, max_length=200)

    def active_on(self, day: date) -> bool:
        """Whether the waiver exempts on ``day``."""
        return self.revoked_at is None and (self.until is None or self.until >= day)


class Snooze(SQLModel, table=True):
    """Reminders for one deadline are held until ``until`` (escalations still go)."""

    __tablename__ = "cert_snooze"

    deadline_key: str = Field(primary_key=True, max_length=200)
    until: date


class ReminderSent(SQLModel, table=True):
    """One row per (deadline, recipient, step) ever sent: the database's exactly-once guard."""

    __tablename__ = "cert_reminder_sent"
    __table_args__ = (sa.UniqueConstraint("deadline_key", "recipient", "step"),)

    id: int | None = Field(default=None, primary_key=True)
    deadline_key: str = Field(max_length=200, index=True)
    recipient: str = Field(max_length=200)
    step: int
    day: date
    outbox_key: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))


class Digest(SQLModel, table=True):
    """At most one reminder digest per person per local day."""

    __tablename__ = "cert_digest"

    recipient: str = Field(primary_key=True, max_length=200)
    day: date = Field(primary_key=True)


class Revision(SQLModel, table=True):
    """Counters the database bumps on every change to the reminder pass's inputs.

    Triggers (migration 0014) bump ``n`` on any insert, update or delete of officials,
    assignments, completions, waivers and snoozes, and on any update or delete of reminders
    and digests sent, in the writer's own transaction. SQLite has one row; on PostgreSQL each
    connection bumps its own (``id`` is its backend's process id), so writers never wait on
    each other for it. Rows only grow and are never deleted: an unchanged sum of ``n`` means
    none of those tables changed.
    """

    __tablename__ = "cert_revision"

    id: int | None = Field(default=None, primary_key=True)
    n: int = Field(sa_column=Column(sa.BigInteger(), nullable=False))
