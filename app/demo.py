"""Demo mode's fence: only this machine, never through a proxy.

In demo mode anyone can pick any web chat name and the demo overlay grants roles to such names,
so the server must be reachable from this machine alone. ``serve --demo`` refuses a non-loopback
bind (``Settings.check_listen_address``); this middleware refuses, on every route, a request that
says it was forwarded (a reverse proxy such as deploy/nginx.conf adds these headers) or that does
not come from a loopback address. Each refusal is audited.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from bot.addresses import is_loopback_host
from bot.db.engine import Database
from bot.ops.audit import audit

log = logging.getLogger(__name__)
# RFC 7239 Forwarded, the X-Forwarded-* family (For, Host, Proto, Port, Prefix, Server, ...)
# and nginx's X-Real-IP.
PROXY_HEADERS = ("forwarded", "x-real-ip")
PROXY_PREFIX = "x-forwarded-"
PROXIED = ("demo mode refuses requests that came through a proxy (Forwarded / X-Forwarded-* / "
           "X-Real-IP headers); demo mode is for this machine only, never a deployment")
NOT_LOCAL = "demo mode answers only requests from this machine"


def proxy_header(headers: Iterable[str]) -> str | None:
    """The first header name that marks a request as forwarded by a proxy, if any."""
    for name in headers:
        lowered = name.lower()
        if lowered in PROXY_HEADERS or lowered.startswith(PROXY_PREFIX):
            return name
    return None


def _is_local(remote: str | None) -> bool:
    return bool(remote) and is_loopback_host(remote or "")


def demo_fence(db: Database) -> Middleware:
    """An aiohttp middleware that answers 403 (and audits) any proxied or non-local request."""

    @web.middleware
    async def fence(request: web.Request, handler: Handler) -> web.StreamResponse:
        header = proxy_header(request.headers)
        if header is None and _is_local(request.remote):
            return await handler(request)
        reason = f"{header} header" if header else "not a loopback address"
        try:
            await audit(db, actor=f"http:{request.remote or 'unknown'}",
                        action="demo.refused_request", target=request.path, allowed=False,
                        reason=reason)
        except Exception:  # the refusal stands even when the audit log cannot be written
            log.exception("could not audit a refused demo request")
        return web.json_response({"error": PROXIED if header else NOT_LOCAL}, status=403)

    return fence
