"""Tables the core itself needs: idempotency keys and stored conversation references."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Column, Field, SQLModel

from bot.db.engine import UTCDateTime, utcnow


class ProcessedRequest(SQLModel, table=True):
    """One row per request already acted on (event id, signature, activity id, ...)."""

    __tablename__ = "processed_request"

    key: str = Field(primary_key=True, max_length=200)
    seen_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))


class ConversationReference(SQLModel, table=True):
    """Where the bot can reach a person or channel later (Teams proactive sends, Slack DMs)."""

    __tablename__ = "conversation_reference"

    key: str = Field(primary_key=True, max_length=300)
    platform: str = Field(max_length=16, index=True)
    workspace: str = Field(max_length=200, index=True)
    user_id: str | None = Field(default=None, max_length=200, index=True)
    channel: str = Field(max_length=400)
    reference: str = Field(description="the platform's own reference, as JSON")
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))


class OutboxMessage(SQLModel, table=True):
    """A message to send later, written in the same transaction as the change it announces."""

    __tablename__ = "outbox_message"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=200, unique=True, description="one message per intent")
    platform: str = Field(max_length=16)
    destination: str = Field(max_length=500)
    payload: str = Field(description="the neutral Reply as JSON")
    status: str = Field(default="pending", max_length=16, index=True,
                        description="pending, sending, sent or dead")
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow,
                                      sa_column=Column(UTCDateTime, nullable=False, index=True))
    lease_until: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    last_error: str | None = Field(default=None, max_length=500)
    message_ref: str | None = Field(default=None, max_length=300)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))
    sent_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))


class WebChatInbox(SQLModel, table=True):
    """Proactive messages for a web chat user; the page polls for them."""

    __tablename__ = "webchat_inbox"

    id: int | None = Field(default=None, primary_key=True)
    user_id: str = Field(max_length=300, index=True,
                         description="a demo name, or a signed-in identity web:<p>:<user>")
    payload: str
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))


class AuditEntry(SQLModel, table=True):
    """Permission decisions worth keeping: denials (and who tried what)."""

    __tablename__ = "audit_entry"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))
    actor: str = Field(max_length=200, index=True)
    action: str = Field(max_length=64)
    target: str = Field(max_length=200)
    allowed: bool = False
    reason: str = Field(default="", max_length=300)
    # The keyed hash chain (bot/ops/audit.py); None on entries from before it, until re-sealed.
    seq: int | None = Field(default=None, index=True)
    prev_hash: str | None = Field(default=None, max_length=64)
    hash: str | None = Field(default=None, max_length=64)


class AuditHead(SQLModel, table=True):
    """The audit log's pinned chain head (one row), sealed with the audit key."""

    __tablename__ = "audit_head"

    id: int = Field(default=1, primary_key=True)
    count: int = 0
    head: str = Field(max_length=64)
    key_id: str | None = Field(default=None, max_length=16)
    seal: str | None = Field(default=None, max_length=64)


@sa.event.listens_for(AuditEntry, "before_insert")
def _chain_audit_entry(_mapper: Any, connection: sa.Connection, target: AuditEntry) -> None:
    """Every audit entry, whoever writes it, joins the keyed chain in its own transaction."""
    from bot.ops.audit import chain_new_entry

    chain_new_entry(connection, target)


class DisplayName(SQLModel, table=True):
    """How a person is called (and their time zone, where the platform says), by identity.

    A cache filled from what the adapters learn (Slack ``users.info``, a Teams activity's
    ``from.name``, a web chat account's display name), read when a reply names someone.
    """

    __tablename__ = "display_name"

    identity: str = Field(primary_key=True, max_length=300)
    name: str = Field(default="", max_length=200)
    time_zone: str = Field(default="", max_length=64)
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))
