"""Tables the core itself needs: idempotency keys and stored conversation references."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Column, Field, SQLModel

from bot.db import UTCDateTime, utcnow


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
