"""Slack adapter (slack-bolt AsyncApp)."""

from __future__ import annotations

from aiohttp import web

from bot.router import Router


async def _disabled(_request: web.Request) -> web.Response:
    return web.json_response(
        {"error": "Slack is not configured on this server: set SLACK_BOT_TOKEN and "
                  "SLACK_SIGNING_SECRET (see README)"}, status=503)


def setup(app: web.Application, router: Router) -> bool:
    """Mount /slack/events; return whether Slack is enabled."""
    app.router.add_post("/slack/events", _disabled)
    return False
