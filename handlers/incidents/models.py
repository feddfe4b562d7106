"""Incident tables: the incident, its append-only hash-chained events, and the id counter."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Column, Field, SQLModel

from bot.db.columns import EnumText
from bot.db.engine import UTCDateTime, utcnow
from handlers.incidents.enums import IncidentStatus, Severity


class IncidentBase(SQLModel):
    """What a report says: the fields a person fills in, and the severity they imply."""

    category: str = Field(max_length=40, index=True)
    subcategory: str = Field(default="", max_length=80)
    jurisdiction: str = Field(max_length=40, index=True)
    site: str = Field(default="", max_length=200)
    occurred_at: datetime = Field(sa_type=UTCDateTime)
    severity: Severity = Field(sa_type=EnumText(Severity, 4), index=True)
    danger: bool = False
    stopped: bool = False
    degraded: bool = False
    description: str = Field(max_length=3000)
    source_link: str = Field(default="", max_length=500)
    needs_details: bool = False
    law_enforcement_agency: str = Field(default="", max_length=200)
    law_enforcement_case: str = Field(default="", max_length=100)


class IncidentCreate(IncidentBase):
    """A validated report, ready to file or to complete a quick report with."""

    details: dict[str, str] = Field(default_factory=dict)

    def columns(self) -> dict[str, Any]:
        """The incident row's values for this report (the optional details as JSON)."""
        return {**self.model_dump(exclude={"details"}),
                "details": json.dumps(self.details, sort_keys=True)}


class Incident(IncidentBase, table=True):
    """The current state of one incident (every change to it is also an IncidentEvent)."""

    __tablename__ = "incident"

    id: int | None = Field(default=None, primary_key=True)
    human_id: str = Field(max_length=20, unique=True)
    idempotency_key: str = Field(max_length=200, unique=True)
    reporter: str = Field(max_length=200, index=True)
    details: str = Field(default="{}", description="optional fields as JSON")
    status: IncidentStatus = Field(default=IncidentStatus.NEW,
                                   sa_type=EnumText(IncidentStatus, 16), index=True)
    assignee: str | None = Field(default=None, max_length=200)
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
