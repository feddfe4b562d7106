"""Outbox keys: one intent, one message. Typed in code, stored as text.

A key names what a message is for (``cert:<recipient>:<day>``), so a second scheduler, a
retry or a restart cannot queue it twice (the key is unique). Each domain declares its key
kinds as small frozen dataclasses deriving from :class:`Key`: ``str(key)`` is the stored text
(whose format never changes, so existing rows still match) and, where a domain needs a
field back, a ``parse`` classmethod reads it, so no caller takes key strings apart.
:class:`EditKey` is the one key kind of the outbox itself: an edit of the message sent under
another key.
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_KEY = 200  # the outbox's key column
EDIT_MARK = ":edit:"


class Key:
    """Base of every typed key: ``str()`` gives the stored text."""

    def __str__(self) -> str:
        """The stored text (subclasses define it)."""
        raise NotImplementedError


@dataclass(frozen=True, slots=True)
class EditKey(Key):
    """An edit of the message sent under ``of``, one per ``version``: ``<of>:edit:<version>``.

    A newer version of the same message supersedes an older one not yet sent.
    """

    of: str
    version: str

    def __str__(self) -> str:
        """``<of>:edit:<version>``."""
        return f"{self.of}{EDIT_MARK}{self.version}"

    def fits(self) -> bool:
        """Whether the key fits the column whole (a cut key would lose its version)."""
        return len(str(self)) <= MAX_KEY


def text(key: Key | str) -> str:
    """The stored text of ``key``, cut to the column's width.

    An edit key is never cut: without its version it would read as another message's key, so
    one too long is a ``ValueError`` (nothing is queued).
    """
    if isinstance(key, EditKey) and not key.fits():
        raise ValueError(f"edit key longer than {MAX_KEY} characters: {str(key)[:60]}...")
    return str(key)[:MAX_KEY]
