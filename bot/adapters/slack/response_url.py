"""Answers to a slash command or a click: one JSON POST to its ``response_url``.

Every slash command pays for this post, so it is the plain request Slack's webhook client would
make (JSON body without empty fields, ``Content-Type: application/json``), without that
client's per-call wrappers (retry handler objects, per-request header and logging set-up), on
the outbox transport's keep-alive pool.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from aiohttp.payload import BytesPayload

_JSON = "application/json;charset=utf-8"
_JSON_HEADERS = {"Content-Type": _JSON}


#: Where Slack's response_urls point (commercial Slack and GovSlack).
SLACK_HOOK_HOSTS = frozenset({"hooks.slack.com", "hooks.slack-gov.com"})


def response_url_allowed(url: str, api_url: str) -> bool:
    """Whether ``url`` is a response_url Slack could have given: https on Slack's hook host.

    Or on the Web API's own scheme, host and port (``SLACK_API_URL``: a deployment's own Slack
    gateway, or the project's fake Slack in tests). A signed request is Slack's, but a leaked
    signing secret must not turn the bot into a client that posts answers anywhere it is told.
    """
    try:
        got, api = urlsplit(url), urlsplit(api_url)
        got_port, api_port = got.port, api.port
    except ValueError:
        return False
    if got.scheme == "https" and got.hostname in SLACK_HOOK_HOSTS and got_port in (None, 443):
        return True
    return bool(got.hostname) and (got.scheme, got.hostname, got_port) == (
        api.scheme, api.hostname, api_port)


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
