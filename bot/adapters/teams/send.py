"""Sending to a Teams conversation with the retry rules Teams asks for.

429, 412, 502 and 504 are transient: wait (Retry-After when given, else capped exponential
backoff with full jitter) and try again; the SDK never retries a POST itself. 403 with
``MessageWritesBlocked`` means the app was blocked or uninstalled: permanent, stop at once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.schema import Activity, ErrorResponseException, ResourceResponse

from bot.outbox.transport import PermanentSendError, backoff

log = logging.getLogger(__name__)
RETRYABLE = frozenset({412, 429, 502, 504})
MAX_ATTEMPTS = 4
BASE_DELAY = 0.5
MAX_DELAY = 8.0


def status_of(exc: Exception) -> int:
    """The HTTP status of a Bot Connector error (0 when there was no response)."""
    response = getattr(exc, "response", None)
    return int(getattr(response, "status_code", 0) or 0)


def retry_after_of(exc: Exception) -> float | None:
    """Seconds Teams asked us to wait (Retry-After), capped; None when not given."""
    response = getattr(exc, "response", None)
    value = getattr(response, "headers", {}).get("Retry-After") if response is not None else None
    try:
        return min(float(value), MAX_DELAY * 4) if value is not None else None
    except ValueError:
        return None


def reason_of(exc: Exception) -> str:
    """``MessageWritesBlocked`` when Teams said so in a 403 body, else ``Forbidden``."""
    response = getattr(exc, "response", None)
    text: Any = getattr(response, "text", "") if response is not None else ""
    body = text() if callable(text) else text
    return "MessageWritesBlocked" if "MessageWritesBlocked" in str(body) else "Forbidden"


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
        except ErrorResponseException as exc:
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
