"""Incident tables: the incident, its append-only hash-chained events, and the id counter."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Column, Field, SQLModel

from bot.db.engine import UTCDateTime, utcnow


class Incident(SQLModel, table=True):
    """The current state of one incident (every change to it is also an IncidentEvent)."""

    __tablename__ = "incident"

    id: int | None = Field(default=None, primary_key=True)
    human_id: str = Field(max_length=20, unique=True)
    idempotency_key: str = Field(max_length=200, unique=True)
    reporter: str = Field(max_length=200, index=True)
    category: str = Field(max_length=40, index=True)
    subcategory: str = Field(default="", max_length=80)
    jurisdiction: str = Field(max_length=40, index=True)
    site: str = Field(default="", max_length=200)
    occurred_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    severity: str = Field(max_length=4, index=True)
    danger: bool = False
    stopped: bool = False
    degraded: bool = False
    description: str = Field(max_length=3000)
    details: str = Field(default="{}", description="optional fields as JSON")
    source_link: str = Field(default="", max_length=500)
    needs_details: bool = False
    status: str = Field(default="new", max_length=16, index=True)
    assignee: str | None = Field(default=None, max_length=200)
    law_enforcement_agency: str = Field(default="", max_length=200)
    law_enforcement_case: str = Field(default="", max_length=100)
    lessons_learned: str = Field(default="", max_length=3000)
    resolution: str = Field(default="", max_length=3000)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))
    acknowledged_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    resolved_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    closed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    # The pinned chain head: written with every event, sealed (with the audit key) over every
    # column above and these, so a deleted newest event or an edited row no longer verifies.
    chain_count: int | None = None
    chain_head: str | None = Field(default=None, max_length=64)
    key_id: str | None = Field(default=None, max_length=16)
    seal: str | None = Field(default=None, max_length=64)


class IncidentEvent(SQLModel, table=True):
    """One append-only change; ``hash`` is a MAC over ``prev_hash`` and this event's content."""

    __tablename__ = "incident_event"
    __table_args__ = (sa.UniqueConstraint("incident_id", "seq"),)

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incident.id", index=True)
    seq: int
    at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    actor: str = Field(max_length=200)
    kind: str = Field(max_length=32)
    changes: str = Field(description="JSON: {field: [before, after]} or a note")
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


class IncidentCounter(SQLModel, table=True):
    """The last number handed out per year (INC-2026-000123)."""

    __tablename__ = "incident_counter"

    year: int = Field(primary_key=True)
    last: int = 0
    seal: str | None = Field(default=None, max_length=64,
                             description="MAC over year and last: numbers cannot be rewound")
