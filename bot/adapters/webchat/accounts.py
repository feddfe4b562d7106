"""Local web chat accounts: argon2 passwords, optional TOTP, sign-in limits and their audit.

A sign-in names an account (``web:local:<name>``) and comes from a client address. Failures are
rows in the database (so every instance counts them) and lock the account from that address,
the account from anywhere, or the address for any account, for the configured window. Nothing
here ever logs or stores a password or a code; an unknown name costs a hash like a known one,
and every refusal reads the same.
"""

from __future__ import annotations

import asyncio
import hmac
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Literal

import pyotp
import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlmodel import select

from bot.adapters.webchat.models import WebAccount, WebSession, WebSignInFailure
from bot.config.webchat import SignInLimits
from bot.db.engine import Database
from bot.ops.audit import audit

NAME = re.compile(r"^[a-z0-9._-]{1,40}$")
CODE = re.compile(r"^[0-9]{6}$")
MIN_PASSWORD = 12
MAX_PASSWORD = 1024
HASHER = PasswordHasher()
SIGNIN_FAILED = ("Sign-in failed. Check your name, password and code; after several failures "
                 "sign-in pauses for a while.")
SIGNIN_LOCKED = "Too many failed sign-ins. Wait a while, then try again."
CODE_NEEDED = "Enter the 6-digit code from your authenticator app."


class AccountError(ValueError):
    """A CLI request about accounts that cannot be done (the message says why)."""


@cache
def _dummy_hash() -> str:
    return HASHER.hash("not a password anyone has")


def normal_name(name: str) -> str | None:
    """The account name as stored (lower case), or None when it cannot be one."""
    clean = name.strip().lower()
    return clean if NAME.fullmatch(clean) else None


def check_new_password(password: str) -> None:
    """Refuse passwords too short to resist guessing (or too long to hash cheaply)."""
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"the password must have at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise AccountError(f"the password must have at most {MAX_PASSWORD} characters")


async def add_account(db: Database, *, name: str, password: str, totp: bool) -> str | None:
    """Create a local account; return its new TOTP secret when asked for one."""
    clean = normal_name(name)
    if clean is None:
        raise AccountError("the name must be 1-40 letters, digits, dots, dashes or underscores")
    check_new_password(password)
    secret = pyotp.random_base32() if totp else None
    hashed = await asyncio.to_thread(HASHER.hash, password)
    async with db.session() as session:
        if await session.get(WebAccount, clean) is not None:
            raise AccountError(f"an account named {clean} already exists")
        session.add(WebAccount(name=clean, password_hash=hashed, totp_secret=secret))
        await session.commit()
    return secret


async def disable_account(db: Database, name: str) -> bool:
    """Disable an account and end its sessions at once; False when there is no such account."""
    clean = normal_name(name) or ""
    async with db.session() as session:
        account = await session.get(WebAccount, clean)
        if account is None:
            return False
        account.disabled = True
        session.add(account)
        await session.exec(sa.delete(WebSession).where(  # type: ignore[call-overload]
            WebSession.account == clean))  # type: ignore[arg-type]
        await session.commit()
    return True


async def list_accounts(db: Database) -> list[WebAccount]:
    """Every local account, by name."""
    async with db.session() as session:
        return list((await session.exec(select(WebAccount).order_by(WebAccount.name))).all())


def totp_uri(secret: str, *, name: str, issuer: str) -> str:
    """The otpauth:// URI an authenticator app scans (shown once, at creation)."""
    return pyotp.TOTP(secret).provisioning_uri(name=name, issuer_name=issuer)


@dataclass(frozen=True)
class SignIn:
    """The outcome of one attempt: ok (with the account), failed, locked or code_needed."""

    outcome: Literal["ok", "failed", "locked", "code_needed"]
    account: str = ""


def _verify(hashed: str, password: str) -> bool:
    try:
        return HASHER.verify(hashed, password)
    except (VerificationError, InvalidHashError):
        return False


def _totp_step(secret: str, code: str, now: datetime) -> int | None:
    """The time step a code belongs to (now, or one step either side), else None."""
    if not CODE.fullmatch(code):
        return None
    totp = pyotp.TOTP(secret)
    current = int(now.timestamp()) // totp.interval
    for step in (current - 1, current, current + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


async def _lock(db: Database, name: str, address: str, limits: SignInLimits,
                now: datetime, attempt: int) -> str | None:
    since = now - timedelta(minutes=limits.window_minutes)
    F = WebSignInFailure
    # Only attempts up to this one count: of a parallel burst the first ones are checked and
    # stay counted, the rest are refused (their rows forgotten) without freeing the lock.
    recent = sa.and_(F.at > since, F.id <= attempt)  # type: ignore[arg-type, operator]

    def count(*where: object) -> sa.ScalarSelect[int]:
        return sa.select(sa.func.count()).select_from(F).where(recent, *where).scalar_subquery()  # type: ignore[arg-type]
    query = sa.select(count(F.account == name, F.address == address),
                      count(F.account == name), count(F.address == address))
    async with db.session() as session:
        pair, account, per_address = (await session.execute(query)).one()
    # The counts include this attempt's own row (see :func:`_attempt`), hence ``>``.
    if pair > limits.per_pair:
        return "this account from this address"
    if account > limits.per_account:
        return "this account from any address"
    if per_address > limits.per_address:
        return "any account from this address"
    return None


async def _attempt(db: Database, name: str, address: str, now: datetime) -> int:
    """Count an attempt as a failure before checking it; the row's id (deleted if it is not one).

    Committed before the limits are read, so concurrent guesses see each other: a burst of
    parallel requests cannot all pass the check while none has failed yet.
    """
    async with db.session() as session:
        row = WebSignInFailure(account=name, address=address, at=now)
        session.add(row)
        await session.commit()
        assert row.id is not None
        return row.id


async def _forget_attempt(db: Database, row_id: int) -> None:
    async with db.session() as session:
        await session.exec(sa.delete(WebSignInFailure).where(  # type: ignore[call-overload]
            WebSignInFailure.id == row_id))  # type: ignore[arg-type]
        await session.commit()


async def _fail(db: Database, name: str, address: str, reason: str) -> None:
    await audit(db, actor=f"web:local:{name}", action="webchat.signin",
                target=f"from {address}", allowed=False, reason=reason)


async def _use_step(db: Database, name: str, step: int) -> bool:
    """Mark a code's time step used, atomically: of two racing sign-ins one code wins once."""
    async with db.session() as session:
        used = await session.exec(sa.update(WebAccount).where(  # type: ignore[call-overload]
            WebAccount.name == name, WebAccount.totp_last_step < step,  # type: ignore[arg-type]
        ).values(totp_last_step=step))
        await session.commit()
    return bool(used.rowcount == 1)


async def sign_in(db: Database, limits: SignInLimits, *, name: str, password: str, code: str,
                  address: str, now: datetime) -> SignIn:
    """Check one attempt against the limits, the password and the code; audit the outcome."""
    clean = normal_name(name) or name.strip().lower()[:40] or "-"
    address = address[:64]
    attempt = await _attempt(db, clean, address, now)
    locked = await _lock(db, clean, address, limits, now, attempt)
    if locked:
        await _forget_attempt(db, attempt)  # a refused attempt is not a guess
        await audit(db, actor=f"web:local:{clean}", action="webchat.signin",
                    target=f"from {address}", allowed=False, reason=f"locked: {locked}")
        return SignIn("locked")
    async with db.session() as session:
        account = await session.get(WebAccount, clean)
    hashed = account.password_hash if account else _dummy_hash()
    matches = await asyncio.to_thread(_verify, hashed, password[:MAX_PASSWORD])
    if account is None or account.disabled or not matches:
        reason = ("unknown account" if account is None else
                  "disabled account" if account.disabled else "wrong password")
        await _fail(db, clean, address, reason)
        return SignIn("failed")
    if account.totp_secret:
        if not code:
            await _forget_attempt(db, attempt)  # the password was right: not a failure
            return SignIn("code_needed")
        step = _totp_step(account.totp_secret, code.strip(), now)
        if step is None or not await _use_step(db, clean, step):
            await _fail(db, clean, address, "wrong or reused code")
            return SignIn("failed")
        account.totp_last_step = step
    if HASHER.check_needs_rehash(account.password_hash):
        account.password_hash = await asyncio.to_thread(HASHER.hash, password)
    async with db.session() as session:
        session.add(account)
        # A success clears this pair's count (the audit log keeps the failures), and old rows go.
        F = WebSignInFailure
        await session.exec(sa.delete(F).where(sa.or_(  # type: ignore[call-overload]
            sa.and_(F.account == clean, F.address == address),  # type: ignore[arg-type]
            F.at < now - timedelta(days=1))))  # type: ignore[arg-type,operator]
        await session.commit()
    await audit(db, actor=f"web:local:{clean}", action="webchat.signin",
                target=f"from {address}", allowed=True, reason="password" +
                (" and code" if account.totp_secret else ""))
    return SignIn("ok", clean)
