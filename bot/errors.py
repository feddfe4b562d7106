"""The one error vocabulary handlers raise; the router turns it into a reply, once.

* :class:`UserError`: what the person asked for is not possible (bad input, wrong state, an
  expired button); ``reason`` tells them why and ``hint`` (optional) what to do instead.
* :class:`Refused`: a role check said no; ``reason`` says what they may not do. Whoever raises
  it records the refusal in the audit log first, where the domain audits refusals.
* :class:`Replayed`: the request was handled before (a platform's retry or a replayed signed
  request); nothing is done and nobody is answered. The adapter that made the request stops.

Anything else a handler raises is a bug: the router logs it with a correlation id and the
person sees a short apology with that id, never a traceback. Python's ``PermissionError`` is
an ``OSError`` (a file the process may not read): it is never used for a role refusal, so a
real file error is reported as a failure, not as "you may not".
"""

from __future__ import annotations


class UserError(Exception):
    """Not possible now, for a reason the person is shown (and may act on)."""

    def __init__(self, reason: str, *, hint: str = "") -> None:
        """Keep the reason (shown as the reply) and an optional hint shown below it."""
        super().__init__(reason)
        self.reason = reason
        self.hint = hint


class Refused(Exception):
    """The person's roles do not allow this; ``reason`` is shown to them."""

    def __init__(self, reason: str) -> None:
        """Keep the reason shown to the person."""
        super().__init__(reason)
        self.reason = reason


class Replayed(Exception):
    """A request whose key was claimed before: its effect happened once already (never shown)."""
