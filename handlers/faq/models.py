"""What the FAQ keeps: questions asked (scrubbed of personal data) and Helpful? feedback."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Column, Field, SQLModel

from bot.db.engine import UTCDateTime, utcnow


class AskedQuestion(SQLModel, table=True):
    """One question and what the bot did with it; refused questions keep no text at all."""

    __tablename__ = "faq_question"

    id: int | None = Field(default=None, primary_key=True)
    asked_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))
    platform: str = Field(max_length=16)
    jurisdiction: str | None = Field(default=None, max_length=40)
    question: str = Field(default="", max_length=1000, description="scrubbed of personal data")
    language: str = Field(default="en", max_length=8)
    outcome: str = Field(max_length=16, index=True, description="answered, abstained or refused")
    article_id: str | None = Field(default=None, max_length=120)
    confidence: float = 0.0


class Feedback(SQLModel, table=True):
    """A Helpful? click; one per person per answer (the person is kept only as a hash)."""

    __tablename__ = "faq_feedback"
    __table_args__ = (sa.UniqueConstraint("question_id", "voter"),)

    id: int | None = Field(default=None, primary_key=True)
    question_id: int = Field(foreign_key="faq_question.id", index=True)
    article_id: str = Field(max_length=120)
    helpful: bool
    voter: str = Field(max_length=64, description="sha256 of the platform identity")
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))
