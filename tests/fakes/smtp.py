"""A real SMTP relay on 127.0.0.1 (aiosmtpd, random port) that records mail and can misbehave.

Usage::

    with SmtpRelay(tmp_path) as relay:                  # STARTTLS + AUTH, password "relay-pw"
        env = relay.env()                               # SMTP_URL, SMTP_USERNAME, ... for Settings
        email_config = {"ca_file": str(relay.ca_file)}  # trust the throwaway certificate
        relay.fail_next(2, code=451)                    # the next two DATA answers: 451
        relay.refuse("gone@example.org", code=550)      # RCPT TO refused for good
        relay.drop_after_data(1)                        # keep the next message, hang up unanswered
        relay.slow(0.5, after_keeping=True)             # keep each message, answer 0.5 s later
        await relay.wait_for(3)                         # three messages received (or AssertionError)
        relay.messages[0].message["Message-ID"]

Variants: ``SmtpRelay(tmp, tls="implicit")`` (smtps://), ``tls="none"`` (plain; AUTH allowed
without TLS only with ``auth_require_tls=False``), ``offer_starttls=False`` (a relay that does not
offer STARTTLS although it has a certificate, as a man in the middle would make it look),
``auth=False`` (an open relay on loopback). The server runs in its own thread and event loop
(aiosmtpd's Controller), so a test's loop or another process can be its client. The certificate
is self-signed for ``localhost`` and ``127.0.0.1``, made by :func:`make_certificate`; clients
verify it with ``ca_file``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import ssl
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Literal

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

USERNAME = "electionbot"
PASSWORD = "relay-pw"  # noqa: S105 (a test relay's password)
MAIL_FROM = "alerts@office.example.gov"
Tls = Literal["starttls", "implicit", "none"]


def make_certificate(folder: Path) -> tuple[Path, Path]:
    """A throwaway self-signed certificate for localhost / 127.0.0.1: (cert.pem, key.pem)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([
                x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    folder.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = folder / "relay-cert.pem", folder / "relay-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


@dataclass
class Received:
    """One message the relay accepted."""

    mail_from: str
    rcpt_tos: list[str]
    raw: bytes
    tls: bool
    user: str | None
    at: float = field(default_factory=time.monotonic)

    @property
    def message(self) -> EmailMessage:
        """The message parsed with the modern policy (headers decoded)."""
        parsed = message_from_bytes(self.raw, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed

    @property
    def message_id(self) -> str:
        """Its Message-ID header."""
        return str(self.message["Message-ID"] or "")


class Recorder:
    """The aiosmtpd handler: records accepted mail; answers as it was told to (thread-safe)."""

    def __init__(self) -> None:
        """Nothing received, nothing programmed."""
        self.messages: list[Received] = []
        self.refused: dict[str, str] = {}  # address -> full SMTP answer at RCPT
        self.data_failures: list[str] = []  # answers for the next DATA commands, in order
        self.drops = 0  # next messages kept but answered by hanging up
        self.data_delay = 0.0  # seconds before taking a message (a slow relay)
        self.answer_delay = 0.0  # seconds between keeping a message and saying so
        self.auth_failures = 0
        self.rejected: list[str] = []  # the answers given instead of accepting
        self._lock = threading.Lock()

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope,  # noqa: N802
                          address: str, rcpt_options: list[str]) -> str:
        """Refuse a programmed address, else accept it."""
        with self._lock:
            answer = self.refused.get(address.lower())
            if answer:
                self.rejected.append(answer)
                return answer
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session,  # noqa: N802
                          envelope: Envelope) -> str:
        """Fail as programmed, else keep the message (and maybe hang up without answering)."""
        if self.data_delay:
            await asyncio.sleep(self.data_delay)
        with self._lock:
            if self.data_failures:
                answer = self.data_failures.pop(0)
                self.rejected.append(answer)
                return answer
            raw = envelope.original_content or b""
            if isinstance(raw, str):
                raw = raw.encode()
            self.messages.append(Received(
                mail_from=str(envelope.mail_from), rcpt_tos=list(envelope.rcpt_tos), raw=raw,
                tls=session.ssl is not None, user=_user(session)))
            drop = self.drops > 0
            self.drops -= 1 if drop else 0
        if drop and server.transport is not None:
            server.transport.close()  # delivered, but the client never hears so
            return "421 closing"  # never reaches the client
        if self.answer_delay:
            await asyncio.sleep(self.answer_delay)  # kept already: a crash now leaves it uncertain
        return "250 Message accepted for delivery"


def _user(session: Session) -> str | None:
    data = getattr(session, "auth_data", None)
    if isinstance(data, LoginPassword):
        return data.login.decode(errors="replace")
    return None


class _Controller(Controller):
    """aiosmtpd's threaded controller on port 0: learns its port, counts connections."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.connections = 0

    def factory(self) -> SMTP:
        """One SMTP protocol per connection (the first is the controller's own probe)."""
        self.connections += 1
        return super().factory()

    def _trigger_server(self) -> None:
        assert self.server is not None
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


class SmtpRelay:
    """The fake relay; see the module docstring."""

    def __init__(self, folder: Path, *, tls: Tls = "starttls", auth: bool = True,
                 auth_require_tls: bool = True, offer_starttls: bool = True,
                 require_starttls: bool = False, username: str = USERNAME,
                 password: str = PASSWORD) -> None:
        """Configure (nothing listens before :meth:`start`)."""
        self.folder = folder
        self.tls = tls
        self.username, self.password = username, password
        self.recorder = Recorder()
        self.ca_file, self._key_file = make_certificate(folder)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.ca_file, self._key_file)
        kwargs: dict[str, Any] = {"hostname": "127.0.0.1", "port": 0,
                                  "server_hostname": "relay.test", "data_size_limit": 10_000_000}
        if tls == "implicit":
            kwargs["ssl_context"] = context
        elif tls == "starttls" and offer_starttls:
            kwargs["tls_context"] = context
            kwargs["require_starttls"] = require_starttls
        if auth:
            # aiosmtpd counts only STARTTLS as TLS: on an implicit-TLS port every AUTH is inside it.
            kwargs.update(auth_required=True,
                          auth_require_tls=auth_require_tls and tls != "implicit",
                          authenticator=self._authenticate)
        else:
            kwargs.update(auth_require_tls=False)
        self._controller = _Controller(self.recorder, **kwargs)

    def _authenticate(self, server: SMTP, session: Session, envelope: Envelope,
                      mechanism: str, auth_data: Any) -> AuthResult:
        ok = (isinstance(auth_data, LoginPassword)
              and auth_data.login == self.username.encode()
              and auth_data.password == self.password.encode())
        if not ok:
            with self.recorder._lock:
                self.recorder.auth_failures += 1
        # handled=False: aiosmtpd answers the failure (535) itself.
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)

    # -- life cycle --------------------------------------------------------------------------

    def start(self) -> SmtpRelay:
        """Listen on 127.0.0.1, a random port."""
        self._controller.start()
        return self

    def stop(self) -> None:
        """Stop listening (connections are closed)."""
        self._controller.stop()

    def __enter__(self) -> SmtpRelay:
        """Start."""
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        """Stop."""
        self.stop()

    # -- where it is -------------------------------------------------------------------------

    @property
    def port(self) -> int:
        """The port it listens on."""
        return int(self._controller.port)

    @property
    def url(self) -> str:
        """``SMTP_URL`` for the bot."""
        scheme = "smtps" if self.tls == "implicit" else "smtp"
        return f"{scheme}://127.0.0.1:{self.port}"

    def env(self, *, credentials: bool = True, mail_from: str = MAIL_FROM) -> dict[str, str]:
        """The bot's environment for this relay."""
        env = {"SMTP_URL": self.url, "MAIL_FROM": mail_from}
        if credentials:
            env.update(SMTP_USERNAME=self.username, SMTP_PASSWORD=self.password)
        return env

    # -- what it received --------------------------------------------------------------------

    @property
    def messages(self) -> list[Received]:
        """A copy of the accepted messages, in order."""
        with self.recorder._lock:
            return list(self.recorder.messages)

    @property
    def connections(self) -> int:
        """Client connections opened so far (the controller's own start-up probe excluded)."""
        return max(0, self._controller.connections - 1)

    @property
    def auth_failures(self) -> int:
        """Failed AUTH attempts."""
        return self.recorder.auth_failures

    @property
    def rejected(self) -> list[str]:
        """The refusals answered so far (RCPT and DATA)."""
        with self.recorder._lock:
            return list(self.recorder.rejected)

    def messages_to(self, address: str) -> list[Received]:
        """Accepted messages with ``address`` among their recipients."""
        return [m for m in self.messages if address.lower() in (r.lower() for r in m.rcpt_tos)]

    def message_ids(self) -> Counter[str]:
        """How many copies of each Message-ID arrived."""
        return Counter(m.message_id for m in self.messages)

    async def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        """Wait until at least ``count`` messages arrived; AssertionError after ``timeout``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            messages = self.messages
            if len(messages) >= count:
                return messages
            await asyncio.sleep(0.01)
        raise AssertionError(f"{len(self.messages)} of {count} messages within {timeout} s")

    # -- misbehaviour ------------------------------------------------------------------------

    def fail_next(self, times: int, code: int = 451,
                  text: str = "4.3.0 Try again later") -> None:
        """Answer the next ``times`` DATA commands with ``code`` (nothing kept)."""
        with self.recorder._lock:
            self.recorder.data_failures += [f"{code} {text}"] * times

    def refuse(self, address: str, code: int = 550,
               text: str = "5.1.1 No such user here") -> None:
        """Answer RCPT TO ``address`` with ``code`` from now on."""
        with self.recorder._lock:
            self.recorder.refused[address.lower()] = f"{code} {text}"

    def drop_after_data(self, times: int = 1) -> None:
        """Keep the next ``times`` messages but hang up instead of answering (an uncertain send)."""
        with self.recorder._lock:
            self.recorder.drops += times

    def slow(self, seconds: float, *, after_keeping: bool = False) -> None:
        """Wait ``seconds`` at each DATA: before taking the message, or ``after_keeping`` it."""
        if after_keeping:
            self.recorder.answer_delay = seconds
        else:
            self.recorder.data_delay = seconds
