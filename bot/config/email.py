"""E-mail through the office's SMTP relay: the ``email:`` section of app.yaml and its checks.

Where the relay is and how to sign in come from the environment only (``SMTP_URL``,
``SMTP_USERNAME``, ``SMTP_PASSWORD``, ``MAIL_FROM``); how to use it (TLS policy, pacing, the
Reply-To address, timeouts) from app.yaml. E-mail is on when ``SMTP_URL`` is set.

``SMTP_URL`` is ``smtp://host[:port]`` (STARTTLS, port 587 by default) or ``smtps://host[:port]``
(TLS from the first byte, port 465 by default). It carries no user name, password or options:
a URL is easily logged, and one place for each setting is easier to check.

STARTTLS is required unless ``email.starttls: opportunistic``: a relay that does not offer it
(or a man in the middle who removes it from the relay's answer) gets nothing. Opportunistic
STARTTLS is refused with a password for any relay but this machine: stripping STARTTLS would
hand the password over in clear.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator

from bot.addresses import is_loopback_host
from bot.config.base import Strict
from bot.messages import InvalidDestination, email_address

if TYPE_CHECKING:
    from bot.config.settings import Environment

DEFAULT_PORTS = {"smtp": 587, "smtps": 465}
FIX_URL = ("use smtp://host[:port] (STARTTLS, default port 587) or smtps://host[:port] (TLS "
           "from the start, default port 465)")


class EmailPacing(Strict):
    """How fast the relay takes mail: ``per_second`` on average, ``burst`` back to back."""

    per_second: float = Field(default=5.0, gt=0, le=500)
    burst: int = Field(default=1, ge=1, le=100)


class EmailConfig(Strict):
    """The ``email:`` section: how the bot uses the relay named by ``SMTP_URL``."""

    #: ``required``: never send without STARTTLS (smtp:// URLs); ``opportunistic``: use it when
    #: offered (a relay on this machine, or one without a password).
    starttls: Literal["required", "opportunistic"] = "required"
    #: PEM file of the certificate authority that signed the relay's certificate, when it is
    #: not one the system trusts (an internal CA); relative to app.yaml.
    ca_file: str | None = None
    #: The name shown with MAIL_FROM ("Connecticut Elections Division <alerts@...>"); the
    #: office's name when empty.
    from_name: str = Field(default="", max_length=120)
    #: Where answers go (Reply-To) and the address the footer names for questions.
    reply_to: str | None = None
    timeout_seconds: float = Field(default=15.0, ge=1, le=25,
                                   description="per connection step; the outbox lease is 30 s")
    connections: int = Field(default=2, ge=1, le=10, description="kept open to the relay")
    pacing: EmailPacing = EmailPacing()

    @field_validator("reply_to")
    @classmethod
    def _address(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            return email_address(value)
        except InvalidDestination as error:
            raise ValueError(str(error)) from None

    @field_validator("from_name")
    @classmethod
    def _one_line(cls, value: str) -> str:
        if any(ch in value for ch in "\r\n\t\0") or any(ord(ch) < 32 for ch in value):
            raise ValueError("must be one line of text")
        return value.strip()


@dataclass(frozen=True, slots=True)
class Relay:
    """Where the relay is (from ``SMTP_URL``) and how to reach it."""

    host: str
    port: int
    implicit_tls: bool

    @property
    def loopback(self) -> bool:
        """Whether the relay runs on this machine (tests, a local MTA)."""
        return is_loopback_host(self.host)

    @property
    def shown(self) -> str:
        """``host:port`` with the TLS kind, for ``config check`` and logs (no secret in it)."""
        return f"{self.host}:{self.port} ({'TLS' if self.implicit_tls else 'STARTTLS'})"


def parse_relay(url: str) -> Relay:
    """``SMTP_URL`` as a :class:`Relay`; ValueError naming the problem and the fix."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise ValueError(f"not a URL; {FIX_URL}") from None
    if parts.scheme not in DEFAULT_PORTS:
        raise ValueError(f"unknown scheme {parts.scheme[:10]!r}; {FIX_URL}")
    if parts.username is not None or parts.password is not None:
        raise ValueError("must not contain a user name or password; put them in SMTP_USERNAME "
                         "and SMTP_PASSWORD")
    if not parts.hostname:
        raise ValueError(f"names no host; {FIX_URL}")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError("takes no path or options; TLS follows the scheme and app.yaml "
                         "email.starttls")
    return Relay(host=parts.hostname, port=port or DEFAULT_PORTS[parts.scheme],
                 implicit_tls=parts.scheme == "smtps")


def email_problem(env: Environment, config: EmailConfig, base: Path) -> str | None:
    """What is wrong with the e-mail settings (key first, then the fix), else None."""
    if env.SMTP_URL is None:
        stray = [k for k in ("SMTP_USERNAME", "SMTP_PASSWORD", "MAIL_FROM")
                 if getattr(env, k) is not None]
        return (f"{stray[0]}: set without SMTP_URL; set SMTP_URL to the office's relay "
                "(smtp://host:587 or smtps://host:465) or remove it") if stray else None
    try:
        relay = parse_relay(env.SMTP_URL)
    except ValueError as error:
        return f"SMTP_URL: {error}"
    if env.MAIL_FROM is None:
        return ("MAIL_FROM: required with SMTP_URL; the address the relay lets the bot send "
                "from, e.g. alerts@elections.example.gov")
    try:
        email_address(env.MAIL_FROM)
    except InvalidDestination as error:
        return f"MAIL_FROM: {error}; give one plain address (the name is app.yaml email.from_name)"
    if (env.SMTP_USERNAME is None) != (env.SMTP_PASSWORD is None):
        missing = "SMTP_PASSWORD" if env.SMTP_PASSWORD is None else "SMTP_USERNAME"
        return f"{missing}: set SMTP_USERNAME and SMTP_PASSWORD together (or neither)"
    if (env.SMTP_USERNAME is not None and not relay.implicit_tls and not relay.loopback
            and config.starttls != "required"):
        return ("email.starttls: opportunistic with a password would send it in clear if "
                "anyone between the bot and the relay removed STARTTLS; keep starttls: "
                "required, or use smtps://")
    if config.ca_file is not None and not ca_path(config, base).is_file():
        return f"email.ca_file: {ca_path(config, base)} does not exist"
    return None


def ca_path(config: EmailConfig, base: Path) -> Path:
    """``email.ca_file`` relative to app.yaml's folder."""
    path = Path(config.ca_file or "")
    return path if path.is_absolute() else base / path


def email_warnings(env: Environment, config: EmailConfig, has_contact: bool) -> list[str]:
    """E-mail settings that work but deserve a second look (``config check``)."""
    if env.SMTP_URL is None:
        return []
    warnings = []
    relay = parse_relay(env.SMTP_URL)
    if config.starttls == "opportunistic" and not relay.loopback and not relay.implicit_tls:
        warnings.append("email.starttls: opportunistic; mail (alerts included) travels in clear "
                        "to a relay that does not offer STARTTLS")
    if not has_contact and config.reply_to is None:
        warnings.append("email.reply_to: not set and app.yaml has no contacts.default; e-mail "
                        "footers name nobody to ask")
    return warnings
