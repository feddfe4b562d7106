"""The outbox's e-mail transport: the office's SMTP relay through aiosmtplib.

A few connections (``email.connections``) are kept open and reused; a connection that failed is
dropped and the next send opens a new one (STARTTLS or implicit TLS, then AUTH). One recipient
per message (each has its own footer and links), sent as MAIL, RCPT, DATA so the relay's answer
says how far the message got:

* a 4xx anywhere, a refused connection, a TLS or sign-in failure: retried with backoff, and the
  message is known not to have been delivered (``unsent``), so the retry is no "repeat";
* 5xx to RCPT or DATA: dead letter, with the relay's code and text (addresses blanked) as the
  reason; 5xx to MAIL FROM or AUTH is the office's configuration, not the message: retried, and
  logged as an error, so fixing the relay loses nothing;
* the connection lost or timed out during DATA: perhaps delivered; the outbox resends once with
  the same ``Message-ID``, marked as a possible repeat.

The password is sent only over TLS, or to a relay on this machine. TLP:RED is never e-mailed.
Logs name the relay's answer codes and the kind of failure, never an address, a subject or a body.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import ssl
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import aiosmtplib

from bot.adapters.email.message import Mailer, compose
from bot.adapters.email.render import tlp_label
from bot.config.email import Relay
from bot.db.engine import utcnow
from bot.messages import Destination, Reply
from bot.outbox.transport import Editable, PermanentSendError, RetryableSendError, Transport

log = logging.getLogger(__name__)
SEND_BUDGET = 25.0  # seconds for one send, waiting for a connection included (the lease is 30)
IDLE_REUSE = 60.0  # seconds: an older idle connection is replaced, not trusted
LOG_EVERY = 60.0  # seconds between two logs of the same relay problem
_ADDRESS = re.compile(r"<?[^\s<>()\[\]:;,\"']+@[^\s<>()\[\]:;,\"']+>?")
STALE = (aiosmtplib.SMTPServerDisconnected, ConnectionError)


def scrub(text: str, limit: int = 200) -> str:
    """A relay's answer as one line without addresses (it is stored and may be logged)."""
    return " ".join(_ADDRESS.sub("<address>", text).split())[:limit]


def smtp_reason(exc: aiosmtplib.SMTPResponseException) -> str:
    """``smtp <code> <text>``, trimmed."""
    return f"smtp {exc.code} {scrub(str(exc.message))}"


@dataclass(frozen=True, slots=True)
class Credentials:
    """SMTP_USERNAME and SMTP_PASSWORD."""

    username: str
    password: str


class _Slot:
    """One pooled connection (None until opened, again after a failure)."""

    def __init__(self) -> None:
        self.smtp: aiosmtplib.SMTP | None = None
        self.used = 0.0
        self.in_data = False  # the current send reached DATA (it may have been delivered)


class EmailTransport(Transport, Editable):
    """Sends neutral replies as e-mail through the relay (see the module docstring)."""

    def __init__(self, relay: Relay, mailer: Mailer, *, credentials: Credentials | None,
                 tls_context: ssl.SSLContext, starttls_required: bool = True,
                 timeout: float = 15.0, connections: int = 2,
                 clock: Callable[[], datetime] = utcnow) -> None:
        """Reach ``relay`` as ``mailer`` with at most ``connections`` open at once."""
        self.relay = relay
        self.mailer = mailer
        self.credentials = credentials
        self.tls_context = tls_context
        self.starttls_required = starttls_required
        self.timeout = timeout
        self.clock = clock
        # Last in, first out: the connection used last (open, warm) is taken first, and one
        # that stays unused past IDLE_REUSE is replaced when next needed.
        self._slots: asyncio.LifoQueue[_Slot] = asyncio.LifoQueue()
        for _ in range(connections):
            self._slots.put_nowait(_Slot())
        self._logged: dict[str, float] = {}
        self.opened = 0  # connections opened (metrics, tests)

    # -- the outbox's interface ----------------------------------------------------------------

    async def send(self, destination: Destination, reply: Reply, *, key: str) -> str:
        """E-mail ``reply`` to the destination's address; return its Message-ID."""
        to = self._address(destination, reply)
        message = compose(reply, to=to, key=key, mailer=self.mailer, now=self.clock())
        await self._submit(message.data, to)
        return message.message_id

    async def update(self, destination: Destination, message_ref: str, reply: Reply) -> None:
        """A sent e-mail cannot change: send the new version, "Updated:", threaded under it."""
        to = self._address(destination, reply)
        message = compose(reply, to=to, key=message_ref, mailer=self.mailer, now=self.clock(),
                          update_of=message_ref)
        await self._submit(message.data, to)

    async def aclose(self) -> None:
        """Say goodbye to the relay on every open connection (on shutdown)."""
        while not self._slots.empty():
            slot = self._slots.get_nowait()
            if slot.smtp is not None and slot.smtp.is_connected:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(slot.smtp.quit(), 2.0)
            slot.smtp = None

    @staticmethod
    def _address(destination: Destination, reply: Reply) -> str:
        if destination.address is None:
            raise PermanentSendError("not an e-mail destination")
        if tlp_label(reply.marking) == "TLP:RED":
            raise PermanentSendError("TLP:RED is never sent by e-mail")
        if reply.form is not None:
            raise PermanentSendError("a form cannot be sent by e-mail")
        return destination.address

    # -- one submission -------------------------------------------------------------------------

    async def _submit(self, data: bytes, to: str) -> None:
        reached_data = False
        try:
            async with asyncio.timeout(SEND_BUDGET):
                slot = await self._slots.get()
                slot.in_data = False
                try:
                    await self._transaction(slot, data, to)
                except asyncio.CancelledError:  # cut off mid-command: the connection is unusable
                    self._drop(slot)
                    raise
                finally:
                    reached_data = slot.in_data
                    self._slots.put_nowait(slot)
        except TimeoutError:
            raise RetryableSendError("smtp: no answer within the send budget",
                                     unsent=not reached_data) from None

    async def _transaction(self, slot: _Slot, data: bytes, to: str) -> None:
        """MAIL, RCPT and DATA on the slot's connection (a stale one is replaced once)."""
        reused = slot.smtp is not None
        smtp = await self._connection(slot)
        try:
            await smtp.mail(self.mailer.address)
        except STALE:
            self._drop(slot)
            if not reused:
                raise RetryableSendError("smtp: connection lost before the message",
                                         unsent=True) from None
            smtp = await self._connection(slot)  # the relay had closed an idle connection
            await self._stage(slot, smtp.mail(self.mailer.address), "mail")
        except aiosmtplib.SMTPResponseException as exc:
            await self._reset(slot)
            self._alarm("sender", exc.code)
            raise RetryableSendError(f"relay refused the sender (MAIL_FROM): {smtp_reason(exc)}",
                                     unsent=True) from None
        except (aiosmtplib.SMTPException, OSError) as exc:
            self._drop(slot)
            raise RetryableSendError(f"smtp: {type(exc).__name__}", unsent=True) from None
        await self._stage(slot, smtp.rcpt(to), "rcpt")
        slot.in_data = True
        await self._stage(slot, smtp.data(data), "data")
        slot.used = time.monotonic()

    async def _stage(self, slot: _Slot, step: Awaitable[Any], stage: str) -> None:
        """Await one SMTP command and turn its failure into the outbox's error."""
        try:
            await step
        except aiosmtplib.SMTPResponseException as exc:
            if stage != "data":
                await self._reset(slot)
            if exc.code >= 500 and stage in ("rcpt", "data"):
                raise PermanentSendError(smtp_reason(exc)) from None
            if stage == "mail":
                self._alarm("sender", exc.code)
            raise RetryableSendError(smtp_reason(exc), unsent=True) from None
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            self._drop(slot)
            # Lost during DATA: the relay may have taken the message.
            raise RetryableSendError(f"smtp: {type(exc).__name__} during {stage.upper()}",
                                     unsent=stage != "data") from None

    # -- connections ----------------------------------------------------------------------------

    async def _connection(self, slot: _Slot) -> aiosmtplib.SMTP:
        """The slot's open connection, or a new one (TLS, then sign-in)."""
        smtp = slot.smtp
        if smtp is not None and smtp.is_connected and time.monotonic() - slot.used < IDLE_REUSE:
            return smtp
        self._drop(slot)
        relay = self.relay
        smtp = aiosmtplib.SMTP(hostname=relay.host, port=relay.port, use_tls=relay.implicit_tls,
                               start_tls=False, tls_context=self.tls_context,
                               timeout=self.timeout, local_hostname=self.mailer.domain)
        try:
            await smtp.connect()
            await smtp.ehlo()
            secure = relay.implicit_tls
            if not secure and smtp.supports_extension("starttls"):
                await smtp.starttls()
                await smtp.ehlo()  # what the relay offers inside TLS (AUTH, often)
                secure = True
            if not secure and self.starttls_required:
                self._alarm("starttls", 0)
                raise RetryableSendError("relay did not offer STARTTLS, which email.starttls "
                                         "requires; nothing was sent", unsent=True)
            if self.credentials is not None:
                await self._sign_in(smtp, secure)
        except RetryableSendError:
            smtp.close()
            raise
        except aiosmtplib.SMTPResponseException as exc:
            smtp.close()
            raise RetryableSendError(f"relay refused the connection: {smtp_reason(exc)}",
                                     unsent=True) from None
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            smtp.close()
            kind = "tls" if isinstance(exc, ssl.SSLError) else "connect"
            self._alarm(kind, 0)
            raise RetryableSendError(f"cannot reach the relay: {type(exc).__name__}",
                                     unsent=True) from None
        slot.smtp, slot.used = smtp, time.monotonic()
        self.opened += 1
        return smtp

    async def _sign_in(self, smtp: aiosmtplib.SMTP, secure: bool) -> None:
        assert self.credentials is not None
        if not secure and not self.relay.loopback:
            self._alarm("cleartext", 0)
            raise RetryableSendError("refusing to send the relay password without TLS",
                                     unsent=True)
        if not smtp.supports_extension("auth"):
            self._alarm("auth", 0)
            raise RetryableSendError("relay offers no sign-in (AUTH) although SMTP_USERNAME is "
                                     "set", unsent=True)
        try:
            await smtp.login(self.credentials.username, self.credentials.password)
        except aiosmtplib.SMTPAuthenticationError as exc:
            self._alarm("auth", exc.code)
            raise RetryableSendError("relay refused the sign-in (SMTP_USERNAME / "
                                     f"SMTP_PASSWORD): {smtp_reason(exc)}", unsent=True) from None

    async def _reset(self, slot: _Slot) -> None:
        """End a refused transaction so the connection can carry the next one."""
        if slot.smtp is None:
            return
        try:
            await slot.smtp.rset()
        except Exception:
            self._drop(slot)

    @staticmethod
    def _drop(slot: _Slot) -> None:
        if slot.smtp is not None:
            slot.smtp.close()
        slot.smtp = None

    def _alarm(self, kind: str, code: int) -> None:
        """Log a relay-wide problem (sign-in, TLS, sender) at most once a minute per kind."""
        now = time.monotonic()
        if now - self._logged.get(kind, -LOG_EVERY) >= LOG_EVERY:
            self._logged[kind] = now
            log.error("smtp relay problem", extra={"problem": kind, "smtp_code": code,
                                                   "relay": self.relay.shown})
