"""Small pages a domain serves on its own address, by meaning; an adapter renders the HTML.

A domain that needs a web page outside the chat (the answer page of an e-mail's one-click
acknowledgement link) lists :class:`PageRoute` objects on its ``Feature``. Its handler gets a
:class:`PageRequest` (already bounded and decoded: path parts, form fields, the client's
address, whether the request came from another site) and answers a :class:`Page`: a title,
plain-text paragraphs, facts and at most one confirmation button. The renderer
(``bot.adapters.pages``) escapes every string, so a handler never writes markup.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from bot.messages import Fact, Tone

if TYPE_CHECKING:
    from bot.services import Services


@dataclass(frozen=True, slots=True)
class Confirm:
    """One button that sends the page back by POST (no script), with hidden ``fields``."""

    label: str
    fields: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Page:
    """What a page says: its HTTP status, a title and plain text (never markup)."""

    status: int
    title: str
    paragraphs: tuple[str, ...] = ()
    tone: Tone = Tone.INFO
    facts: tuple[Fact, ...] = ()
    confirm: Confirm | None = None
    #: Small print under everything else (who runs this page).
    byline: str = ""
    lang: str = "en"
    #: Seconds a client should wait before trying again (a 429 or 503), if known.
    retry_after: int | None = None


@dataclass(frozen=True, slots=True)
class PageRequest:
    """One request for a page, as the handler may use it."""

    method: Literal["GET", "HEAD", "POST"]
    #: The path's ``{name}`` parts, as sent (bounded by the adapter, otherwise unchecked).
    params: Mapping[str, str] = field(default_factory=dict)
    #: A POST's form fields (``application/x-www-form-urlencoded``), else empty.
    form: Mapping[str, str] = field(default_factory=dict)
    #: The client's address (behind ``webchat.trusted_proxies``: the forwarded one), for
    #: per-address limits only; never shown, logged or stored beyond the counter.
    address: str = ""
    #: The browser said the request came from a page of another site (``Origin`` or
    #: ``Sec-Fetch-Site``); a request without either header is not cross-site.
    cross_site: bool = False

    @property
    def changes(self) -> bool:
        """Whether the request may change something (only a POST may)."""
        return self.method == "POST"


PageHandler = Callable[[PageRequest, "Services"], Awaitable[Page]]


@dataclass(frozen=True, slots=True)
class PageRoute:
    """A page at ``path`` (``{name}`` parts allowed): GET and HEAD, and POST when ``post``."""

    path: str
    handler: PageHandler
    post: bool = False
