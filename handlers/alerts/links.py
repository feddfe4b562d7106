"""One-click acknowledgement links for alerts sent by e-mail: signed, per recipient and answer.

A link is ``<public url>/alerts/ack/<token>``. The token is a JWS compact serialisation
(RFC 7515, HS256, signed and checked by joserfc, which compares MACs in constant time) over a
short text payload ``<alert public id>.<recipient row id>.<answer code>.<expiry>`` (expiry in
Unix seconds): about 105 characters, so mail clients neither wrap nor cut it. It is a
capability: whoever holds it may give that one answer for that one recipient, until it
expires (the alert's expiry, at most ``alerts.ack_links.max_days`` after sending). It is
single-use in effect: the first answer per person is kept (as in chat), so using it again, or
another of the same e-mail's links, records nothing more (except "Need help", which still tells
state staff once, as in chat).

Keys come from the environment only: ``ELECTIONBOT_LINK_KEY`` (``NEW,OLD`` while changing it:
links are signed with NEW and checked against both). Each secret is stretched with
HKDF-SHA-256 under a label of its own, so the key signs nothing else. In demo mode without it,
the key is derived the same way from the audit key (SQLite's ``audit.key``, shared by ``serve``
and ``worker``), else made up per process. A deployment without it refuses to mint links
(:class:`LinkSetupError` names the variable); it does not send alerts without them.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import OctKey

from bot.config.settings import Settings
from bot.errors import UserError
from bot.messages import Link
from bot.ops.audit_key import settings_audit_key
from handlers.alerts.config import AlertsConfig
from handlers.alerts.enums import AckKind

PATH = "/alerts/ack/"
ROUTE = PATH + "{token}"
MAX_TOKEN = 200  # what we mint is about 105 characters; anything longer is refused unread
ALGORITHM = "HS256"
HKDF_LABEL = b"electionbot alert acknowledgement links v1"
#: Demo mode without a configured key: links stop working when this web server stops.
DEMO_BASE = "http://127.0.0.1:3978"
CODES = {AckKind.RECEIVED: "r", AckKind.ACTIONED: "a", AckKind.NOT_APPLICABLE: "n",
         AckKind.NEED_HELP: "h"}
KINDS = {code: kind for kind, code in CODES.items()}
_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,40}\.[A-Za-z0-9_-]{16,80}\.[A-Za-z0-9_-]{43}")
_PAYLOAD = re.compile(r"(AL-[A-Z0-9]{1,13})\.([1-9][0-9]{0,17})\.([ranh])\.([0-9]{1,12})")
_DEMO_SECRET = secrets.token_bytes(32)


class BadToken(ValueError):
    """Not a token we signed: malformed, oversized, tampered with, or signed with another key."""


class LinkSetupError(UserError):
    """Links cannot be made here (no key, no public address); the reason names the fix."""


@dataclass(frozen=True, slots=True)
class AckClaim:
    """What one link says: this answer, for this recipient row of this alert, until then."""

    public_id: str
    recipient_id: int
    kind: AckKind
    expires: datetime

    def payload(self) -> bytes:
        """The signed text."""
        stamp = int(self.expires.timestamp())
        return f"{self.public_id}.{self.recipient_id}.{CODES[self.kind]}.{stamp}".encode()

    @classmethod
    def parse(cls, payload: bytes) -> AckClaim:
        """The inverse of :meth:`payload` (BadToken when it is not one)."""
        match = _PAYLOAD.fullmatch(payload.decode("ascii", errors="replace"))
        if match is None:
            raise BadToken("unexpected payload")
        public_id, rid, code, stamp = match.groups()
        try:
            expires = datetime.fromtimestamp(int(stamp), UTC)
        except (ValueError, OverflowError, OSError):
            raise BadToken("unexpected expiry") from None
        return cls(public_id, int(rid), KINDS[code], expires)


def derive(secret: bytes) -> bytes:
    """The signing key made from one configured secret (HKDF-SHA-256, this feature's label)."""
    return HKDF(algorithm=SHA256(), length=32, salt=None, info=HKDF_LABEL).derive(secret)


class LinkSigner:
    """Signs with the first key, accepts any of them (a key change keeps old links working)."""

    def __init__(self, secrets_: Sequence[bytes]) -> None:
        """Derive one signing key per configured secret (at least one)."""
        if not secrets_:
            raise ValueError("at least one secret")
        self.keys = tuple(OctKey.import_key(derive(s)) for s in secrets_)

    def sign(self, claim: AckClaim) -> str:
        """The token for ``claim``."""
        return str(jws.serialize_compact({"alg": ALGORITHM}, claim.payload(), self.keys[0]))

    def verify(self, token: str) -> AckClaim:
        """The claim a token we signed carries (expiry not checked); BadToken otherwise."""
        if not isinstance(token, str) or len(token) > MAX_TOKEN or not _TOKEN.fullmatch(token):
            raise BadToken("not a link token")
        for key in self.keys:
            try:
                signed = jws.deserialize_compact(token, key, algorithms=[ALGORITHM])
            except JoseError:
                continue
            except (ValueError, TypeError, UnicodeError):  # garbled parts that passed the shape
                raise BadToken("not a link token") from None
            if signed.headers() != {"alg": ALGORITHM}:
                raise BadToken("unexpected header")
            return AckClaim.parse(bytes(signed.payload))
        raise BadToken("bad signature")


@lru_cache(maxsize=8)
def _signer(secrets_: tuple[bytes, ...]) -> LinkSigner:
    return LinkSigner(secrets_)


@dataclass(frozen=True)
class AckLinks:
    """Making and reading links in this deployment (``problem`` says why it cannot, if so)."""

    signer: LinkSigner | None
    base_url: str | None
    problem: str = ""
    max_days: int = 7

    def ready(self) -> LinkSigner:
        """The signer, or LinkSetupError naming what to configure."""
        if self.problem or self.signer is None:
            raise LinkSetupError(self.problem or "acknowledgement links are not configured")
        return self.signer

    def expiry(self, expires_at: datetime | None, now: datetime) -> datetime:
        """When a link sent ``now`` stops working: the alert's expiry, at most ``max_days``."""
        latest = now + timedelta(days=self.max_days)
        return min(expires_at, latest) if expires_at is not None else latest

    def url(self, claim: AckClaim) -> str:
        """The address of one link."""
        signer = self.ready()
        return f"{self.base_url}{PATH}{signer.sign(claim)}"

    def for_recipient(self, public_id: str, recipient_id: int, expires: datetime,
                      labels: dict[str, str]) -> tuple[Link, ...]:
        """The four answer links of one recipient, labelled (``labels``: answer -> words)."""
        return tuple(Link(labels[kind], self.url(AckClaim(public_id, recipient_id, kind, expires)))
                     for kind in AckKind)


def ack_links(settings: Settings) -> AckLinks:
    """The links of this deployment: keys from the environment, address from app.yaml."""
    max_days = settings.app.section(AlertsConfig).ack_links.max_days
    configured = settings.env.ELECTIONBOT_LINK_KEY
    base = settings.app.webchat.public_url
    problems = []
    if configured is not None:
        secrets_ = tuple(p.strip().encode() for p in configured.get_secret_value().split(","))
    elif settings.demo:
        audit = settings_audit_key(settings)
        secrets_ = (audit.secret if audit.keyed else _DEMO_SECRET,)
    else:
        secrets_ = ()
        problems.append("ELECTIONBOT_LINK_KEY is not set (the key that signs e-mail "
                        "acknowledgement links; make one with `openssl rand -hex 32`)")
    if base is None and settings.demo:
        base = DEMO_BASE
    elif base is None:
        problems.append("webchat.public_url is not set in app.yaml (the https:// address "
                        "the links open)")
    problem = ""
    if problems:
        problem = ("E-mail acknowledgement links cannot be made: " + "; and ".join(problems)
                   + ". Nothing was sent.")
    return AckLinks(_signer(secrets_) if secrets_ else None, base, problem, max_days)
