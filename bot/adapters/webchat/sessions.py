"""Server-side web chat sessions, their cookie, and CSRF / origin checks.

The cookie carries 32 random bytes; the database keeps only their SHA-256, the identity, and a
CSRF token the page sends back in ``X-CSRF-Token`` on every state-changing request. A session
ends on sign-out, after ``session_idle_minutes`` without use, after ``session_max_hours`` in all,
and at once when its local account is disabled or its OIDC provider leaves app.yaml.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import sqlalchemy as sa
from aiohttp import web

from bot.adapters.webchat.models import WebAccount, WebSession
from bot.addresses import is_loopback_host
from bot.config.webchat import WebChat
from bot.db.engine import Database
from bot.ops import limits

COOKIE = "electionbot_session"
CSRF_COOKIE = "electionbot_csrf"
SECURE_PREFIX = "__Host-"
CSRF_HEADER = "X-CSRF-Token"
TOUCH_EVERY = timedelta(minutes=1)
PROXY_HEADERS = ("Forwarded", "X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host")


def token_hash(token: str) -> str:
    """What the database keeps of a session token or OIDC state."""
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def _netloc(url: str) -> str | None:
    """The host[:port] of a URL, or None when it cannot be parsed (e.g. ``http://[::1``)."""
    try:
        return urlsplit(url).netloc
    except ValueError:
        return None


def _loopback(host: str) -> bool:
    try:
        name = urlsplit(f"//{host}").hostname or ""
    except ValueError:  # a malformed Host header is not loopback
        return False
    return is_loopback_host(name)


def is_secure(request: web.Request, config: WebChat) -> bool:
    """Secure cookies everywhere except plain http to a loopback address (the local page)."""
    if config.public_url:
        return config.public_url.startswith("https://")
    proxied = any(h in request.headers for h in PROXY_HEADERS)
    return request.scheme != "http" or proxied or not _loopback(request.host)


def cookie_name(base: str, secure: bool) -> str:
    """``__Host-`` names need Secure, Path=/ and no Domain; the browser enforces all three."""
    return SECURE_PREFIX + base if secure else base


def set_cookie(response: web.StreamResponse, request: web.Request, config: WebChat,
               base: str, value: str) -> None:
    """HttpOnly, SameSite=Lax, Path=/, Secure (and ``__Host-``) unless on loopback http."""
    secure = is_secure(request, config)
    response.set_cookie(cookie_name(base, secure), value, path="/", httponly=True,
                        secure=secure, samesite="Lax")


def clear_cookie(response: web.StreamResponse, request: web.Request, config: WebChat,
                 base: str) -> None:
    """Tell the browser to forget a cookie."""
    secure = is_secure(request, config)
    response.del_cookie(cookie_name(base, secure), path="/", secure=secure, httponly=True,
                        samesite="Lax")


def read_cookie(request: web.Request, config: WebChat, base: str) -> str:
    """Only the name this connection would set: a plain cookie is not trusted over https."""
    return request.cookies.get(cookie_name(base, is_secure(request, config)), "")


def origin_problem(request: web.Request, config: WebChat) -> str | None:
    """Refuse requests a browser made for another site (Sec-Fetch-Site, then Origin)."""
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None and site != "same-origin":
        return "cross-site request refused"
    origin = request.headers.get("Origin")
    if origin is None:
        return None
    if config.public_url:
        return None if origin == config.public_url else "request from another origin refused"
    return None if _netloc(origin) == request.host else "request from another origin refused"


def csrf_problem(request: web.Request, config: WebChat, expected: str) -> str | None:
    """Origin first, then the token the page got from /webchat/session (compared in constant time)."""
    problem = origin_problem(request, config)
    if problem:
        return problem
    sent = request.headers.get(CSRF_HEADER, "")
    if not expected or not sent or not hmac.compare_digest(sent.encode(), expected.encode()):
        return "missing or wrong CSRF token; reload the page"
    return None


async def start_session(db: Database, *, identity: str, provider: str, account: str | None,
                        display_name: str, now: datetime, config: WebChat) -> tuple[str, WebSession]:
    """A new session (new token, new CSRF token); expired sessions are cleared on the way."""
    token = secrets.token_urlsafe(32)
    row = WebSession(token_hash=token_hash(token), identity=identity, account=account,
                     provider=provider, display_name=display_name[:200],
                     csrf=secrets.token_urlsafe(32), created_at=now, last_seen_at=now)
    async with db.session() as session:
        S = WebSession
        await session.exec(sa.delete(S).where(sa.or_(  # type: ignore[call-overload]
            S.created_at < now - timedelta(hours=config.session_max_hours),  # type: ignore[arg-type,operator]
            S.last_seen_at < now - timedelta(minutes=config.session_idle_minutes))))  # type: ignore[arg-type,operator]
        session.add(row)
        await session.commit()
    return token, row


async def current_session(db: Database, token: str, *, now: datetime,
                          config: WebChat) -> WebSession | None:
    """The live session for a cookie value, else None (and an expired or revoked one is deleted)."""
    if not token or len(token) > 100:
        return None
    async with db.session() as session:
        row = await session.get(WebSession, token_hash(token))
        if row is None:
            return None
        idle = now - row.last_seen_at > timedelta(minutes=config.session_idle_minutes)
        old = now - row.created_at > timedelta(hours=config.session_max_hours)
        if row.account is not None:
            account = await session.get(WebAccount, row.account)
            revoked = account is None or account.disabled or not config.local_accounts
        else:
            revoked = row.provider not in {p.name for p in config.oidc}
        if idle or old or revoked:
            await session.delete(row)
            await session.commit()
            return None
        if now - row.last_seen_at > TOUCH_EVERY:
            row.last_seen_at = now
            session.add(row)
            await session.commit()
        return row


async def end_session(db: Database, token: str) -> None:
    """Sign out: the session row goes, so the cookie is worthless even if kept."""
    async with db.session() as session:
        row = await session.get(WebSession, token_hash(token))
        if row is not None:
            await session.delete(row)
            await session.commit()


def client_address(request: web.Request, config: WebChat) -> str:
    """The caller's address; behind a proxy in ``trusted_proxies``, the last untrusted hop."""
    address = limits.client_address(request.remote, request.headers.get("X-Forwarded-For", ""),
                                    config.trusted_proxies)
    return address[:64] or "unknown"
