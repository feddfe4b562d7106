r"""Defensive input for every HTTP route: one place that decides what a body may look like.

Bodies are bounded by the application's ``client_max_size`` (1 MB). On top of that:

* ``Content-Encoding`` other than ``identity`` is refused with 415 by :func:`guard`, before
  anything is read. Slack, the Bot Framework and the web chat page never compress requests,
  so refusing is simpler and safer than decompressing with a bound (no decompression bombs,
  no garbage streams half-way through a read).
* Text is decoded as strict UTF-8.
* JSON is parsed with limits: nesting at most :data:`MAX_DEPTH` deep, integers of at most
  :data:`MAX_INT_DIGITS` digits, finite numbers only, no ``NaN`` / ``Infinity``.
* Strings are checked for lone surrogates (``"\ud800"`` escapes, which no database driver
  can encode) and NUL characters (which PostgreSQL refuses in text columns). In protocol fields
  (ids, names, types) they are refused with a 400 naming the field; in free text (what a person
  typed) they are cleaned (a surrogate becomes U+FFFD, a NUL is dropped) so a report is kept,
  never lost.

:class:`InputError` is a 400 (or the status it names) with a message safe to show the caller;
:func:`guard` turns it into a JSON answer wherever it is raised during a request.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Awaitable, Callable, Collection, Mapping
from typing import Any

from aiohttp import web

MAX_DEPTH = 64
MAX_INT_DIGITS = 50
MAX_FLOAT_CHARS = 100
MAX_QUERY_DIGITS = 18  # fits a signed 64-bit integer (SQLite and PostgreSQL bigint)
IDENTITY = ("", "identity")
_BAD_TEXT = re.compile(r"[\ud800-\udfff\x00]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


class InputError(ValueError):
    """Input refused before any work is done; ``str(exc)`` is safe to show the caller."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def decode_utf8(raw: bytes, what: str = "body") -> str:
    """Strict UTF-8 (no replacement, no surrogate escapes), or InputError."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(f"{what} is not valid UTF-8") from None


def _parse_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise InputError(f"a number in the JSON has more than {MAX_INT_DIGITS} digits")
    return int(text)


def _parse_float(text: str) -> float:
    value = float(text) if len(text) <= MAX_FLOAT_CHARS else math.inf
    if not math.isfinite(value):
        raise InputError("a number in the JSON is out of range")
    return value


def _parse_constant(name: str) -> Any:
    raise InputError(f"{name} is not a JSON number")


def loads(raw: bytes | str, *, free_text: Collection[str] = (), what: str = "body",
          cleaned: list[str] | None = None) -> Any:
    """Parse JSON within the limits above and clean or refuse its strings (see module doc).

    ``free_text`` names the keys whose string values (at any depth below them) are what a
    person typed: those are cleaned instead of refused, and their paths appended to
    ``cleaned`` when given.
    """
    text = decode_utf8(raw, what) if isinstance(raw, bytes) else raw
    try:
        data = json.loads(text, parse_int=_parse_int, parse_float=_parse_float,
                          parse_constant=_parse_constant)
    except RecursionError:
        raise InputError(f"{what}: JSON is nested too deeply (at most {MAX_DEPTH} levels)") from None
    except json.JSONDecodeError:
        raise InputError(f"{what} is not valid JSON") from None
    return sanitize(data, free_text=free_text, what=what, cleaned=cleaned)


def sanitize(data: Any, *, free_text: Collection[str] = (), what: str = "body",
             cleaned: list[str] | None = None) -> Any:
    """Check depth and strings of parsed JSON; return it with free text cleaned.

    Iterative, so no payload can exhaust the stack here.
    """
    root: list[Any] = [data]
    # (container, key in container, value, path, depth, inside free text)
    stack: list[tuple[Any, Any, Any, str, int, bool]] = [(root, 0, data, "", 0, False)]
    while stack:
        parent, key, value, path, depth, free = stack.pop()
        if isinstance(value, str):
            if _BAD_TEXT.search(value):
                parent[key] = _clean_text(value, path or what, free)
                if cleaned is not None:
                    cleaned.append(path or what)
            continue
        if not isinstance(value, dict | list):
            continue
        if depth >= MAX_DEPTH:
            raise InputError(f"{what}: JSON is nested too deeply (at most {MAX_DEPTH} levels)")
        if isinstance(value, list):
            for index, item in enumerate(value):
                stack.append((value, index, item, f"{path}[{index}]", depth + 1, free))
            continue
        for name in list(value):
            if _BAD_TEXT.search(name):
                raise InputError(f"{path or what}: a field name contains a NUL or a lone "
                                 "surrogate")
            child = f"{path}.{name}" if path else name
            stack.append((value, name, value[name], child, depth + 1, free or name in free_text))
    return root[0]


def _clean_text(value: str, path: str, free: bool) -> str:
    if not free:
        kind = "a lone surrogate" if _SURROGATE.search(value) else "a NUL character"
        raise InputError(f"{path} contains {kind}, which is not allowed there")
    return _SURROGATE.sub("\ufffd", value).replace("\x00", "")


def query_int(query: Mapping[str, str], name: str, default: int = 0) -> int:
    """A non-negative whole number from the query string: ASCII digits only, bounded length.

    ``str.isdigit`` is not enough: it accepts superscripts and other scripts' digits, which
    ``int()`` then refuses or reads differently.
    """
    value = query.get(name)
    if value is None:
        return default
    if not (value.isascii() and value.isdigit() and len(value) <= MAX_QUERY_DIGITS):
        raise InputError(f"a numeric {name}= is required (ASCII digits 0-9, at most "
                         f"{MAX_QUERY_DIGITS})")
    return int(value)


def error_response(message: str, status: int = 400) -> web.Response:
    """The JSON error every route answers with."""
    return web.json_response({"error": message}, status=status)


@web.middleware
async def guard(request: web.Request,
                handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
                ) -> web.StreamResponse:
    """Refuse compressed bodies (415); turn an InputError raised anywhere into its 4xx."""
    encoding = request.headers.get("Content-Encoding", "").strip().lower()
    if encoding not in IDENTITY:
        return error_response("Content-Encoding is not accepted: send the body uncompressed",
                              415)
    try:
        return await handler(request)
    except InputError as exc:
        return error_response(str(exc), exc.status)
