"""Alert tables: the alert, one recipient row per destination, acknowledgements, events.

Delivery state lives in the outbox: each recipient row names its outbox message by key (read
with ``bot.outbox.queue.status``), and both are written in the alert's sending transaction.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Column, Field, SQLModel

from bot.db.columns import EnumText
from bot.db.engine import UTCDateTime, utcnow
from handlers.alerts.enums import AckKind, AlertSeverity, AlertStatus


class Alert(SQLModel, table=True):
    """One alert (or update / all-clear / cancel of a parent), from draft to sent."""

    __tablename__ = "alert"

    id: int | None = Field(default=None, primary_key=True)
    public_id: str = Field(max_length=16, unique=True, description="opaque, on buttons")
    parent_id: int | None = Field(default=None, foreign_key="alert.id", index=True)
    alert_type: str = Field(max_length=40)
    severity: AlertSeverity = Field(sa_type=EnumText(AlertSeverity, 16))
    headline: str = Field(max_length=80)
    body: str = ""
    instructions: str = ""
    public_text: str = ""
    public_text_translated: str = ""
    tlp: str = Field(max_length=16)
    audience: str = Field(default="{}", description="JSON: groups, tiers, jurisdictions")
    ack_required: bool = True
    ack_window_minutes: int = 0
    expires_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    exercise: bool = False
    needs_approval: bool = False
    status: AlertStatus = Field(default=AlertStatus.DRAFT, sa_type=EnumText(AlertStatus, 20),
                                index=True)
    created_by: str = Field(max_length=200)
    reply_to: str = Field(max_length=500, description="where the sender hears back")
    decided_by: str | None = Field(default=None, max_length=200)
    decision_note: str = Field(default="", max_length=300)
    created_at: datetime = Field(default_factory=utcnow,
                                 sa_column=Column(UTCDateTime, nullable=False))
    sent_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, index=True))


class AlertRecipient(SQLModel, table=True):
    """One destination of one alert, with who it is (for status and follow-up)."""

    __tablename__ = "alert_recipient"
    __table_args__ = (sa.UniqueConstraint("alert_id", "destination"),)

    id: int | None = Field(default=None, primary_key=True)
    alert_id: int = Field(foreign_key="alert.id", index=True)
    destination: str = Field(max_length=500)
    tier: str = Field(max_length=2)
    group_name: str = Field(max_length=60)
    name: str = Field(default="", max_length=120)
    organisation: str = Field(max_length=120)
    jurisdiction: str = Field(max_length=40)
    backup: str | None = Field(default=None, max_length=500)
    people: str = Field(default="[]", description="JSON list of identities")
    outbox_key: str = Field(max_length=200, unique=True)
    excluded: str = Field(default="", max_length=40,
                          description="why it was not sent (reach.Exclusion), else empty")


class AlertAck(SQLModel, table=True):
    """One acknowledgement per (alert, person)."""

    __tablename__ = "alert_ack"
    __table_args__ = (sa.UniqueConstraint("alert_id", "person"),)

    id: int | None = Field(default=None, primary_key=True)
    alert_id: int = Field(foreign_key="alert.id", index=True)
    recipient_id: int = Field(foreign_key="alert_recipient.id", index=True)
    person: str = Field(max_length=200)
    kind: AckKind = Field(sa_type=EnumText(AckKind, 20))
    at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


class AlertEvent(SQLModel, table=True):
    """What happened to an alert: created, approval asked, approved, refused, sent, denied."""

    __tablename__ = "alert_event"

    id: int | None = Field(default=None, primary_key=True)
    alert_id: int = Field(foreign_key="alert.id", index=True)
    at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    actor: str = Field(max_length=200)
    kind: str = Field(max_length=32)
    note: str = Field(default="", max_length=500)


class NetworkMember(SQLModel, table=True):
    """A member added from the CLI (app.yaml members are read from the file)."""

    __tablename__ = "network_member"
    __table_args__ = (sa.UniqueConstraint("group_name", "destination"),)

    id: int | None = Field(default=None, primary_key=True)
    group_name: str = Field(max_length=60, index=True)
    tier: str = Field(max_length=2)
    destination: str = Field(max_length=500)
    name: str = Field(default="", max_length=120)
    organisation: str = Field(max_length=120)
    jurisdiction: str = Field(max_length=40)
    backup: str | None = Field(default=None, max_length=500)
    people: str = Field(default="[]")
    created_at: datetime = Field(default_factory=utcnow,
                                 sa_column=Column(UTCDateTime, nullable=False))
