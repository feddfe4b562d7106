"""Slack installations (one per workspace / org and installer) and OAuth install states.

Tokens are never stored in the clear: the ``*_token`` columns hold Fernet ciphertext
(:class:`bot.adapters.slack.oauth.TokenBox`). Absent ids are stored as "" so the unique key
(enterprise, team, installer) works on every database.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Column, Field, SQLModel

from bot.db.engine import UTCDateTime, utcnow


class SlackInstallation(SQLModel, table=True):
    """One app installation: the workspace (or org), who installed it, and encrypted tokens."""

    __tablename__ = "slack_installation"
    __table_args__ = (UniqueConstraint("enterprise_id", "team_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    enterprise_id: str = Field(default="", max_length=40, index=True)
    team_id: str = Field(default="", max_length=40, index=True)
    user_id: str = Field(max_length=40, description="the installer")
    is_enterprise_install: bool = False
    app_id: str | None = Field(default=None, max_length=40)
    enterprise_name: str | None = Field(default=None, max_length=200)
    enterprise_url: str | None = Field(default=None, max_length=300)
    team_name: str | None = Field(default=None, max_length=200)
    bot_id: str | None = Field(default=None, max_length=40)
    bot_user_id: str | None = Field(default=None, max_length=40)
    bot_scopes: str = Field(default="", max_length=2000)
    bot_token: str | None = Field(default=None, description="encrypted")
    bot_refresh_token: str | None = Field(default=None, description="encrypted")
    bot_token_expires_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    user_scopes: str = Field(default="", max_length=2000)
    user_token: str | None = Field(default=None, description="encrypted")
    user_refresh_token: str | None = Field(default=None, description="encrypted")
    user_token_expires_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    token_type: str | None = Field(default=None, max_length=16)
    installed_at: datetime = Field(default_factory=utcnow,
                                   sa_column=Column(UTCDateTime, nullable=False, index=True))


class SlackOAuthState(SQLModel, table=True):
    """An install link's ``state``: consumed once, refused after ``expires_at``."""

    __tablename__ = "slack_oauth_state"

    state: str = Field(primary_key=True, max_length=64)
    expires_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False, index=True))
