"""Answers to a slash command or a click: one JSON POST to its ``response_url``.

Every slash command pays for this post, so it is the plain request Slack's webhook client would
make (JSON body without empty fields, ``Content-Type: application/json``), without that
client's per-call wrappers (retry handler objects, per-request header and logging set-up), on
the outbox transport's keep-alive pool.
"""

from __future__ import annotations

import json
from typing import Any

import aiohttp
from aiohttp.payload import BytesPayload

_JSON = "application/json;charset=utf-8"
_JSON_HEADERS = {"Content-Type": _JSON}


class ResponseUrlRefused(Exception):
    """Slack answered with an error status (the URL expired, was used up, or the body is bad)."""


async def post_response(session: aiohttp.ClientSession, url: str,
                        payload: dict[str, Any]) -> None:
    """POST ``payload`` (None values left out) to ``url`` on ``session``'s pool.

    As the webhook client does by default, a request whose connection the server closed
    without an answer (typically a kept-alive one it had timed out) is sent once more on a new
    connection; any other failure, or an error status, is raised.
    """
    body = json.dumps({k: v for k, v in payload.items() if v is not None}).encode()
    for attempt in (1, 2):
        try:
            # A payload object: aiohttp then skips looking the body's type up in its registry.
            async with session.post(url, data=BytesPayload(body, content_type=_JSON),
                                    headers=_JSON_HEADERS) as resp:
                await resp.read()
                if resp.status >= 400:
                    raise ResponseUrlRefused(str(resp.status))
                return
        except aiohttp.ServerDisconnectedError:
            if attempt == 2:
                raise
