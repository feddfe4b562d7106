"""Web chat sign-in: local accounts, server-side sessions, OIDC logins in flight, failures.

Only hashes of session tokens are stored (SHA-256 of 32 random bytes: a database reader cannot
use them). Password hashes are argon2id. Sign-in failures live here, not in memory, so several
instances share the limits.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Column, Field, SQLModel

from bot.db.engine import UTCDateTime, utcnow


class WebAccount(SQLModel, table=True):
    """A local account (``web:local:<name>``), created with ``electionbot users add``."""

    __tablename__ = "web_account"

    name: str = Field(primary_key=True, max_length=40)
    password_hash: str = Field(max_length=300)
    totp_secret: str | None = Field(default=None, max_length=64)
    totp_last_step: int = Field(default=0, description="a code is accepted once")
    disabled: bool = False
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))


class WebSession(SQLModel, table=True):
    """A signed-in browser; the cookie holds the token, this row only its hash."""

    __tablename__ = "web_session"

    token_hash: str = Field(primary_key=True, max_length=64)
    identity: str = Field(max_length=300, index=True, description="web:local:<n> / web:<p>:<sub>")
    account: str | None = Field(default=None, max_length=40, index=True,
                                description="the local account, checked on every request")
    provider: str = Field(max_length=40, description="'local' or the OIDC provider's name")
    display_name: str = Field(default="", max_length=200)
    csrf: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))
    last_seen_at: datetime = Field(default_factory=utcnow,
                                   sa_column=Column(UTCDateTime, nullable=False))


class WebSignInFailure(SQLModel, table=True):
    """One failed sign-in (no password, no code): counted per account, address and pair."""

    __tablename__ = "web_signin_failure"

    id: int | None = Field(default=None, primary_key=True)
    account: str = Field(max_length=200, index=True)
    address: str = Field(max_length=64, index=True)
    at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False, index=True))


class WebOidcLogin(SQLModel, table=True):
    """An OpenID Connect sign-in between the redirect out and the callback (single use)."""

    __tablename__ = "web_oidc_login"

    state_hash: str = Field(primary_key=True, max_length=64)
    provider: str = Field(max_length=40)
    nonce: str = Field(max_length=128)
    code_verifier: str = Field(max_length=128)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))
