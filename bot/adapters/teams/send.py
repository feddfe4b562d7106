"""Sending to a Teams conversation with the retry rules Teams asks for.

429, 412, 502 and 504 are transient: wait (Retry-After when given, else capped exponential
backoff with full jitter) and try again; the SDK never retries a POST itself. The Agents SDK's
connector raises :class:`aiohttp.ClientResponseError` (status, headers, body as ``message``). 403 with
``MessageWritesBlocked`` means the app was blocked or uninstalled: permanent, stop at once.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from microsoft_agents.activity import Activity, ResourceResponse
from microsoft_agents.hosting.core import TurnContext

from bot.outbox.transport import PermanentSendError, backoff

log = logging.getLogger(__name__)
RETRYABLE = frozenset({412, 429, 502, 504})
MAX_ATTEMPTS = 4
BASE_DELAY = 0.5
MAX_DELAY = 8.0
_CODE = re.compile(r"[A-Za-z][A-Za-z0-9]{2,60}")


def _headers(exc: Exception) -> Any:
    if isinstance(exc, aiohttp.ClientResponseError):
        return exc.headers or {}
    response = getattr(exc, "response", None)
    return getattr(response, "headers", None) or {}


def status_of(exc: Exception) -> int:
    """The HTTP status of a Bot Connector error (0 when there was no response)."""
    if isinstance(exc, aiohttp.ClientResponseError):
        return int(exc.status or 0)
    response = getattr(exc, "response", None)
    return int(getattr(response, "status_code", 0) or 0)


def retry_after_of(exc: Exception) -> float | None:
    """Seconds Teams asked us to wait (Retry-After), capped; None when not given."""
    value = _headers(exc).get("Retry-After")
    try:
        return min(float(value), MAX_DELAY * 4) if value is not None else None
    except ValueError:
        return None


def error_code(body: str) -> str | None:
    """Microsoft's error code in a Bot Connector error body, most specific first.

    ``innerHttpError.subCode`` (``MessageWritesBlocked``) beats ``error.code``
    (``ConversationBlockedByUser``, ``BotNotInConversationRoster``, ``ConversationNotFound``).
    Only a short run of letters is kept: the body is the platform's, not ours.
    """
    try:
        parsed = json.loads(body) if body else None
    except ValueError:
        parsed = None
    error = parsed.get("error") if isinstance(parsed, dict) else None
    candidates: list[object] = []
    if isinstance(error, dict):
        inner = error.get("innerHttpError")
        if isinstance(inner, dict):
            candidates.append(inner.get("subCode"))
        candidates.append(error.get("code"))
    if isinstance(parsed, dict):
        inner = parsed.get("innerHttpError")
        if isinstance(inner, dict):
            candidates.append(inner.get("subCode"))
    for code in candidates:
        if isinstance(code, str) and _CODE.fullmatch(code):
            return code
    return "MessageWritesBlocked" if "MessageWritesBlocked" in body else None


def body_of(exc: Exception) -> str:
    """The error response's body text (the Agents SDK puts it in ``message``)."""
    if isinstance(exc, aiohttp.ClientResponseError):
        return str(exc.message or "")
    response = getattr(exc, "response", None)
    text: Any = getattr(response, "text", "") if response is not None else ""
    body = text() if callable(text) else text
    return str(body or getattr(exc, "message", "") or "")


def reason_of(exc: Exception) -> str:
    """Microsoft's error code from the body (``MessageWritesBlocked``, ...), else ``Forbidden``."""
    return error_code(body_of(exc)) or "Forbidden"


async def send_with_retry(
    context: TurnContext, activity: Activity,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> ResourceResponse | None:
    """Send one activity in the turn's conversation; retry transient failures.

    Raises :class:`~bot.outbox.transport.PermanentSendError` when Teams forbids it (403).
    """
    for attempt in range(MAX_ATTEMPTS):
        try:
            return await context.send_activity(activity)
        except aiohttp.ClientResponseError as exc:
            status = status_of(exc)
            if status == 403:
                raise PermanentSendError(f"{status} {reason_of(exc)}") from None
            if status not in RETRYABLE or attempt == MAX_ATTEMPTS - 1:
                raise
            delay = backoff(attempt, base=BASE_DELAY, cap=MAX_DELAY,
                            retry_after=retry_after_of(exc))
            log.info("Teams answered %s; retrying in %.2f s", status, delay)
            await sleep(delay)
    return None
