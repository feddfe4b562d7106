"""Sign-in endpoints of the web chat: who am I, sign in (local account), sign out.

Outside demo mode every web chat request needs a session (:func:`signed_in`). In demo mode
(``electionbot serve --demo``) these endpoints say so and the page keeps its name picker.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

from aiohttp import web

from bot.adapters.webchat import accounts as webauth
from bot.adapters.webchat.models import WebSession
from bot.adapters.webchat.sessions import (
    COOKIE,
    CSRF_COOKIE,
    clear_cookie,
    client_address,
    csrf_problem,
    current_session,
    end_session,
    read_cookie,
    set_cookie,
    start_session,
)
from bot.db.engine import utcnow
from bot.messages import Sender
from bot.services import Services

NEED_SIGN_IN = "Sign in first."
DEMO_ONLY = "This server runs in demo mode: pick a name instead of signing in."


def sender_for(row: WebSession) -> Sender:
    """The neutral sender of a signed-in person: ``web:local:<name>`` or ``web:<provider>:<sub>``."""
    _, provider, user = row.identity.split(":", 2)
    return Sender("web", provider, user, display_name=row.display_name or user)


def _error(message: str, status: int, **extra: Any) -> web.Response:
    return web.json_response({"error": message, **extra}, status=status)


class WebAuth:
    """The sign-in side of the web chat for one server."""

    def __init__(self, services: Services) -> None:
        """Use these settings and this database."""
        self.services = services
        self.config = services.settings.app.webchat
        self.demo = services.settings.demo

    async def session(self, request: web.Request) -> WebSession | None:
        """The request's live session, if any."""
        token = read_cookie(request, self.config, COOKIE)
        return await current_session(self.services.db, token, now=utcnow(), config=self.config)

    async def signed_in(self, request: web.Request, *,
                        changes: bool) -> tuple[WebSession | None, web.Response | None]:
        """The session, or the refusal to send: 401 without one, 403 when CSRF checks fail."""
        row = await self.session(request)
        if row is None:
            return None, _error(NEED_SIGN_IN, 401, sign_in="/webchat/session")
        if changes:
            problem = csrf_problem(request, self.config, row.csrf)
            if problem:
                return None, _error(problem, 403)
        return row, None

    async def info(self, request: web.Request) -> web.Response:
        """GET /webchat/session: the mode, who is signed in, the CSRF token, the ways in."""
        if self.demo:
            return web.json_response({"mode": "demo", "signed_in": False})
        providers = [{"name": p.name, "label": p.shown_as, "url": f"/webchat/oidc/{p.name}/login"}
                     for p in self.config.oidc]
        body: dict[str, Any] = {"mode": "signin", "providers": providers,
                                "local_accounts": self.config.local_accounts}
        row = await self.session(request)
        if row is not None:
            body.update(signed_in=True, identity=row.identity, display_name=row.display_name,
                        csrf=row.csrf)
            return web.json_response(body, headers={"Cache-Control": "no-store"})
        # Before sign-in the form is protected by a double-submit token (cookie + header).
        csrf = read_cookie(request, self.config, CSRF_COOKIE) or secrets.token_urlsafe(32)
        body.update(signed_in=False, csrf=csrf)
        response = web.json_response(body, headers={"Cache-Control": "no-store"})
        set_cookie(response, request, self.config, CSRF_COOKIE, csrf)
        return response

    async def sign_in(self, request: web.Request) -> web.Response:
        """POST /webchat/signin {user, password, code}: a local account's sign-in."""
        if self.demo:
            return _error(DEMO_ONLY, 404)
        if not self.config.local_accounts:
            return _error("Local accounts are switched off; use your organisation's sign-in.", 404)
        problem = csrf_problem(request, self.config, read_cookie(request, self.config, CSRF_COOKIE))
        if problem:
            return _error(problem, 403)
        try:
            payload = json.loads(await request.read())
        except (ValueError, UnicodeDecodeError, RecursionError):
            return _error("body is not valid JSON", 400)
        fields = [payload.get(k, "") if isinstance(payload, dict) else None
                  for k in ("user", "password", "code")]
        strings = [f for f in fields if isinstance(f, str) and len(f) <= webauth.MAX_PASSWORD]
        if len(strings) != 3:
            return _error("send user, password and code as strings", 400)
        user, password, code = strings
        result = await webauth.sign_in(
            self.services.db, self.config.signin_limits, name=user, password=password, code=code,
            address=client_address(request, self.config), now=utcnow())
        if result.outcome == "locked":
            return _error(webauth.SIGNIN_LOCKED, 429)
        if result.outcome == "code_needed":
            return _error(webauth.CODE_NEEDED, 401, code_needed=True)
        if result.outcome == "failed":
            return _error(webauth.SIGNIN_FAILED, 401)
        return await self.open_session(request, identity=f"web:local:{result.account}",
                                       provider="local", account=result.account,
                                       display_name=result.account)

    async def open_session(self, request: web.Request, *, identity: str, provider: str,
                           account: str | None, display_name: str,
                           redirect: str | None = None) -> web.Response:
        """Replace any session this browser had with a new one, and set its cookie."""
        old = read_cookie(request, self.config, COOKIE)
        if old:
            await end_session(self.services.db, old)
        token, row = await start_session(self.services.db, identity=identity, provider=provider,
                                         account=account, display_name=display_name,
                                         now=utcnow(), config=self.config)
        response: web.Response
        if redirect is not None:
            response = web.Response(status=303, headers={"Location": redirect})
        else:
            response = web.json_response({"signed_in": True, "identity": identity,
                                          "display_name": row.display_name, "csrf": row.csrf})
        set_cookie(response, request, self.config, COOKIE, token)
        clear_cookie(response, request, self.config, CSRF_COOKIE)
        return response

    async def sign_out(self, request: web.Request) -> web.Response:
        """POST /webchat/signout: the session row is deleted and the cookie cleared."""
        if self.demo:
            return _error(DEMO_ONLY, 404)
        row, refusal = await self.signed_in(request, changes=True)
        if refusal is not None:
            return refusal
        await end_session(self.services.db, read_cookie(request, self.config, COOKIE))
        response = web.json_response({"signed_in": False})
        clear_cookie(response, request, self.config, COOKIE)
        return response

    def routes(self, app: web.Application) -> None:
        """Mount the endpoints."""
        app.router.add_get("/webchat/session", self.info)
        app.router.add_post("/webchat/signin", self.sign_in)
        app.router.add_post("/webchat/signout", self.sign_out)
        if self.config.oidc:
            from bot.adapters.webchat.oidc import OidcClient

            OidcClient(self).routes(app)
