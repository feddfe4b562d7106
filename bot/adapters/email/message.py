"""One outbox message as a complete e-mail: rendered parts plus headers (pure, no I/O).

The ``Message-ID`` is derived from the outbox key (:func:`message_id`), so a resend after a crash
carries the same id and mail clients recognise the second copy; a follow-up (``Reply.follows``)
names its parent's id the same way in ``In-Reply-To`` / ``References``, so updates and
all-clears thread under the original. An edit cannot replace a sent e-mail: it goes out as a new
message, "Updated: ...", threaded under the one it updates, with an id derived from that one and
its own content (a retried edit keeps its id).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime

from bot.adapters.email.mime import address, header_text, multipart
from bot.adapters.email.render import Office, render
from bot.messages import Reply

_MESSAGE_ID = re.compile(r"<[0-9a-f]{32}@[A-Za-z0-9.-]{1,253}>")


@dataclass(frozen=True, slots=True)
class Mailer:
    """Who sends: the envelope and From address (MAIL_FROM), its name, Reply-To, the office."""

    address: str
    name: str
    office: Office
    reply_to: str | None = None

    @property
    def domain(self) -> str:
        """MAIL_FROM's domain: the right-hand side of every Message-ID."""
        return self.address.rpartition("@")[2]


def message_id(key: str, domain: str) -> str:
    """``<sha256(key)[:32]@domain>``: the same outbox key always gives the same id."""
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:32]}@{domain}>"


def is_message_id(ref: str) -> bool:
    """Whether ``ref`` is an id this adapter made (the stored reference of a sent e-mail)."""
    return bool(_MESSAGE_ID.fullmatch(ref))


@dataclass(frozen=True, slots=True)
class Composed:
    """One e-mail ready for DATA: its bytes and its Message-ID."""

    data: bytes
    message_id: str


def compose(reply: Reply, *, to: str, key: str, mailer: Mailer, now: datetime,
            update_of: str | None = None) -> Composed:
    """``reply`` for ``to`` under outbox ``key``; ``update_of``: the id of the e-mail it updates."""
    rendered = render(reply, mailer.office, updated=update_of is not None)
    parent = None
    if update_of is not None:
        parent = update_of if is_message_id(update_of) else None
        digest = hashlib.sha256((rendered.subject + "\n" + rendered.text).encode()).hexdigest()
        own = message_id(f"{update_of}\n{digest}", mailer.domain)
    else:
        own = message_id(key, mailer.domain)
        if reply.follows:
            parent = message_id(reply.follows, mailer.domain)
    headers = [("From", address(mailer.address, mailer.name)), ("To", address(to))]
    if mailer.reply_to:
        headers.append(("Reply-To", address(mailer.reply_to)))
    headers += [("Subject", header_text(rendered.subject)), ("Date", format_datetime(now)),
                ("Message-ID", own)]
    if parent is not None:
        headers += [("In-Reply-To", parent), ("References", parent)]
    # Operational mail from a program: no vacation or out-of-office answers back (RFC 3834;
    # Exchange reads the second header).
    headers += [("Auto-Submitted", "auto-generated"), ("X-Auto-Response-Suppress", "All")]
    boundary = "=_eb_" + own[1:33]
    return Composed(multipart(headers, rendered.text, rendered.html, boundary), own)
