"""The wire form of one e-mail: headers and a multipart/alternative body (pure, no I/O).

Written directly instead of through :mod:`email.message`: every message has the same shape
(a text and an HTML part, a dozen headers the adapter controls), and the standard library's
general machinery costs about 5 ms of CPU per message, on the event loop, thousands of times in
a broadcast. The pieces that need care use the standard library's C helpers: bodies are
quoted-printable (:func:`binascii.b2a_qp`: 7-bit, lines of at most 76 characters, so every relay
takes them), non-ASCII header text is RFC 2047 encoded words (UTF-8, base64). The tests parse
every message back with :mod:`email` (``policy.default``).

Header values reach here as one line (the renderer's subject, validated names and addresses);
:func:`header_text` refuses anything else, so no text can add a header.
"""

from __future__ import annotations

import base64
import binascii

CRLF = "\r\n"
WORD_BYTES = 45  # UTF-8 bytes per encoded word: 60 base64 characters, 72 with its frame


def header_text(text: str) -> str:
    """``text`` as a header value: as it is when ASCII, else UTF-8 encoded words, folded."""
    if any(ch in text for ch in "\r\n\0"):
        raise ValueError("a header value must be one line")
    if text.isascii():
        return text
    words, chunk = [], b""
    for ch in text:
        encoded = ch.encode("utf-8")
        if len(chunk) + len(encoded) > WORD_BYTES:
            words.append(chunk)
            chunk = b""
        chunk += encoded
    words.append(chunk)
    return (CRLF + " ").join(f"=?utf-8?b?{base64.b64encode(w).decode('ascii')}?=" for w in words)


def address(addr: str, name: str = "") -> str:
    """``Name <addr>`` (the name quoted, or encoded when not ASCII), or ``addr`` alone."""
    if not name:
        return addr
    if name.isascii():
        quoted = name.replace("\\", "\\\\").replace('"', '\\"')
        return f'"{header_text(quoted)}" <{addr}>'
    return f"{header_text(name)} <{addr}>"


def quoted_printable(text: str) -> str:
    """``text`` (UTF-8) as a quoted-printable body with CRLF line ends."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n")
    encoded = binascii.b2a_qp(lines.encode("utf-8"), quotetabs=False, istext=True, header=False)
    return encoded.decode("ascii").replace("\n", CRLF)


def multipart(headers: list[tuple[str, str]], text: str, html: str, boundary: str) -> bytes:
    """The whole message: ``headers`` (already header values), then the text and HTML parts.

    ``boundary`` must start with ``=_``: quoted-printable never writes that pair, so no body
    can contain it.
    """
    if not boundary.startswith("=_"):
        raise ValueError("the boundary must start with '=_'")
    out = [f"{name}: {value}" for name, value in headers]
    out += ["MIME-Version: 1.0",
            f'Content-Type: multipart/alternative; boundary="{boundary}"', ""]
    for subtype, body in (("plain", text), ("html", html)):
        out += [f"--{boundary}", f'Content-Type: text/{subtype}; charset="utf-8"',
                "Content-Transfer-Encoding: quoted-printable", "", quoted_printable(body)]
    out += [f"--{boundary}--", ""]
    return CRLF.join(out).encode("ascii")
