"""Structured (JSON) logging that never writes tokens, secrets or personal data.

Personal data (a reporter's name and phone, what they wrote, a question) reaches a log only
through libraries: database drivers log statements with their values at DEBUG/INFO, SDKs log
request bodies, and database errors quote the offending value. So:

* the drivers' and SDKs' loggers (:data:`QUIET_LOGGERS`) stay at WARNING whatever
  ``ELECTIONBOT_LOG_LEVEL`` says, and every SQLAlchemy engine hides bound parameters
  (``bot.db.engine.ENGINE_OPTIONS``);
* the message of a database exception is never written (its type and frames are), neither in
  a traceback nor as a ``%s`` argument;
* a record with ``extra={"hide_exception_message": True}`` (the server's last-resort error
  boundary) has every exception message in its traceback dropped.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import traceback
from types import TracebackType
from typing import Any

SECRET = re.compile(r"\b(xox[abposer]-[A-Za-z0-9-]+|xapp-[A-Za-z0-9-]+|Bearer\s+[A-Za-z0-9._~+/=-]+)")
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}
QUIET_LOGGERS = ("slack_bolt", "slack_sdk", "botbuilder", "microsoft_agents", "msrest",
                 "aiohttp.access", "sqlalchemy", "aiosqlite", "psycopg", "alembic", "msal",
                 "azure", "procrastinate", "urllib3")
DB_PACKAGES = ("sqlalchemy", "psycopg", "sqlite3", "aiosqlite", "alembic", "procrastinate")
HIDE_EXCEPTION_MESSAGE = "hide_exception_message"
HIDDEN = "[message hidden: it may quote stored data]"
ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]


def redact(text: str) -> str:
    """Replace anything that looks like a Slack token or bearer token."""
    return SECRET.sub("[redacted]", text)


def is_database_error(exc: BaseException) -> bool:
    """Whether ``exc`` comes from the database stack (its message may quote bound values)."""
    return type(exc).__module__.split(".")[0] in DB_PACKAGES


def format_exception(exc_info: ExcInfo, *, hide_all: bool = False) -> str:
    """A traceback without exception messages when any exception in it is a database error.

    A driver error's message quotes the value it refused, and the exceptions chained to it
    often carry the same data; the types and frames are kept. ``hide_all`` drops the messages
    whatever the exceptions are.
    """
    top = traceback.TracebackException(*exc_info)
    chain: list[traceback.TracebackException] = []
    pending: list[traceback.TracebackException | None] = [top]
    while pending:
        current = pending.pop()
        if current is None or any(current is seen for seen in chain):
            continue
        chain.append(current)
        pending += [current.__cause__, current.__context__]
    if hide_all or any((getattr(t.exc_type, "__module__", "") or "").split(".")[0] in DB_PACKAGES
                       for t in chain):
        for current in chain:
            current._str = HIDDEN  # type: ignore[attr-defined]
            current.__notes__ = None
    return "".join(top.format())


def _safe_args(args: Any) -> Any:
    if isinstance(args, tuple) and any(isinstance(a, BaseException) and is_database_error(a)
                                       for a in args):
        return tuple(type(a).__name__ if isinstance(a, BaseException) and is_database_error(a)
                     else a for a in args)
    return args


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message and the ``extra`` fields."""

    def format(self, record: logging.LogRecord) -> str:
        """Serialise a record, redacting secrets and database error messages."""
        record.args = _safe_args(record.args)
        data: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and key != HIDE_EXCEPTION_MESSAGE:
                data[key] = redact(value) if isinstance(value, str) else value
        if record.exc_info and record.exc_info[1] is not None:
            exc_info: ExcInfo = record.exc_info  # type: ignore[assignment]
            hide_all = bool(getattr(record, HIDE_EXCEPTION_MESSAGE, False))
            data["exception"] = redact(format_exception(exc_info, hide_all=hide_all))
        return json.dumps(data, default=str)


class MalformedRequests(logging.Filter):
    """A request aiohttp refused at the protocol level (400) is logged as one INFO line.

    aiohttp logs it (a header line too long, a bad request line) at ERROR with a traceback,
    but it is the client's fault and nothing in the bot failed.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Downgrade such a record in place; let every other record through unchanged."""
        from aiohttp.http_exceptions import HttpProcessingError

        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, HttpProcessingError) and 400 <= (exc.code or 0) < 500:
            record.levelno, record.levelname = logging.INFO, "INFO"
            record.msg = f"{record.msg} (refused: {type(exc).__name__})"
            record.exc_info = record.exc_text = None
        return True


#: The Agents SDK logs every activity that fails its schema at ERROR, with a traceback and the
#: offending values (which can be a person's words). The Teams endpoint answers such a request
#: with 400 itself, so these records say nothing an operator needs and may hold personal data.
ACTIVITY_VALIDATION_LOGGER = "microsoft_agents.activity.activity"


def quiet_malformed_requests() -> None:
    """Keep client mistakes out of the error log.

    Installs :class:`MalformedRequests` on aiohttp's server logger (once) and mutes the Teams
    SDK's per-activity validation errors (see :data:`ACTIVITY_VALIDATION_LOGGER`).
    """
    server = logging.getLogger("aiohttp.server")
    if not any(isinstance(f, MalformedRequests) for f in server.filters):
        server.addFilter(MalformedRequests())
    logging.getLogger(ACTIVITY_VALIDATION_LOGGER).setLevel(logging.CRITICAL)


def configure(level: str = "INFO") -> None:
    """JSON logs on stderr; drivers and SDKs (which log values and bodies) at WARNING always."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in QUIET_LOGGERS:
        logging.getLogger(noisy).setLevel(logging.WARNING)
    quiet_malformed_requests()
