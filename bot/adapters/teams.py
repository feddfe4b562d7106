"""Microsoft Teams adapter (botbuilder CloudAdapter)."""

from __future__ import annotations

from aiohttp import web

from bot.router import Router


async def _disabled(_request: web.Request) -> web.Response:
    return web.json_response(
        {"error": "Microsoft Teams is not configured on this server (see README)"}, status=503)


def setup(app: web.Application, router: Router) -> bool:
    """Mount /api/messages; return whether Teams is enabled."""
    app.router.add_post("/api/messages", _disabled)
    return False
