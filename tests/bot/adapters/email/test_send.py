"""The e-mail transport against a real SMTP relay: TLS, sign-in, answers mapped to the outbox."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.adapters.email.app import build_transport
from bot.adapters.email.message import message_id
from bot.adapters.email.send import EmailTransport
from bot.messages import Destination, Reply
from bot.outbox.transport import PermanentSendError, RetryableSendError
from tests.bot.adapters.email.conftest import relay_settings
from tests.fakes.smtp import MAIL_FROM, SmtpRelay

JANE = Destination.email("jane@example.org")
DOMAIN = MAIL_FROM.rpartition("@")[2]


def transport_for(tmp_path: Path, relay: SmtpRelay, **email: object) -> EmailTransport:
    transport = build_transport(relay_settings(tmp_path, relay, **email))
    assert transport is not None
    return transport


async def test_sends_over_starttls_signed_in_and_reuses_one_connection(
        tmp_path: Path, relay: SmtpRelay) -> None:
    transport = transport_for(tmp_path, relay, connections=1)
    refs = [await transport.send(Destination.email(f"p{i}@example.org"), Reply(text=f"n{i}"),
                                 key=f"cert:{i}") for i in range(5)]
    received = await relay.wait_for(5)
    assert refs == [message_id(f"cert:{i}", DOMAIN) for i in range(5)]
    assert [m.message_id for m in received] == refs
    assert all(m.tls and m.user == relay.username for m in received)
    assert [m.rcpt_tos for m in received] == [[f"p{i}@example.org"] for i in range(5)]
    assert all(m.mail_from == MAIL_FROM for m in received)
    assert relay.connections == 1 and transport.opened == 1
    await transport.aclose()


async def test_implicit_tls(tmp_path: Path) -> None:
    with SmtpRelay(tmp_path / "r", tls="implicit") as relay:
        transport = transport_for(tmp_path, relay)
        await transport.send(JANE, Reply(text="hello"), key="k1")
        (received,) = await relay.wait_for(1)
        assert received.user == relay.username and received.rcpt_tos == [JANE.address]
        await transport.aclose()


async def test_4xx_is_retried_and_known_unsent_then_goes(tmp_path: Path,
                                                         relay: SmtpRelay) -> None:
    transport = transport_for(tmp_path, relay)
    relay.fail_next(1, code=451, text="4.7.1 Slow down")
    with pytest.raises(RetryableSendError) as err:
        await transport.send(JANE, Reply(text="x"), key="k")
    assert err.value.unsent and str(err.value) == "smtp 451 4.7.1 Slow down"
    assert not relay.messages
    await transport.send(JANE, Reply(text="x"), key="k")
    assert len(await relay.wait_for(1)) == 1
    assert relay.connections == 1  # the refused transaction did not cost the connection


async def test_5xx_for_a_recipient_is_a_dead_letter_without_the_address(
        tmp_path: Path, relay: SmtpRelay, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    transport = transport_for(tmp_path, relay)
    relay.refuse("gone@example.org", code=550,
                 text="5.1.1 <gone@example.org>: Recipient address rejected")
    with pytest.raises(PermanentSendError) as err:
        await transport.send(Destination.email("gone@example.org"), Reply(text="x"), key="k")
    assert str(err.value) == "smtp 550 5.1.1 <address>: Recipient address rejected"
    # The same connection carries the next recipient.
    await transport.send(JANE, Reply(text="y"), key="k2")
    assert [m.rcpt_tos for m in await relay.wait_for(1)] == [[JANE.address]]
    relay.fail_next(1, code=554, text="5.6.0 Message content rejected")
    with pytest.raises(PermanentSendError, match="smtp 554 5.6.0 Message content rejected"):
        await transport.send(JANE, Reply(text="z"), key="k3")
    assert not [r for r in caplog.records
                if r.name.startswith("bot") and "example.org" in r.getMessage() + str(r.__dict__)]


async def test_wrong_password_is_a_clear_retryable_error_and_logged_once(
        tmp_path: Path, relay: SmtpRelay, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    transport = transport_for(tmp_path, relay, env={"SMTP_PASSWORD": "wrong-pw"})
    for _ in range(3):
        with pytest.raises(RetryableSendError) as err:
            await transport.send(JANE, Reply(text="x"), key="k")
        assert err.value.unsent
        assert "relay refused the sign-in (SMTP_USERNAME / SMTP_PASSWORD): smtp 535" \
            in str(err.value)
    assert relay.auth_failures >= 3 and not relay.messages  # each mechanism offered was tried
    problems = [r for r in caplog.records if r.getMessage() == "smtp relay problem"]
    assert len(problems) == 1 and problems[0].problem == "auth"  # type: ignore[attr-defined]
    ours = " ".join(r.getMessage() + str(r.__dict__) for r in caplog.records
                    if r.name.startswith("bot"))
    assert "wrong-pw" not in ours and "jane" not in ours and "smtp 535" not in ours


async def test_starttls_required_sends_nothing_to_a_relay_without_it(tmp_path: Path) -> None:
    with SmtpRelay(tmp_path / "r", offer_starttls=False, auth=False) as relay:
        transport = transport_for(tmp_path, relay, env={"SMTP_USERNAME": "", "SMTP_PASSWORD": ""})
        transport.credentials = None  # an open relay: the point is TLS
        with pytest.raises(RetryableSendError, match="did not offer STARTTLS") as err:
            await transport.send(JANE, Reply(text="secret alert"), key="k")
        assert err.value.unsent and not relay.messages


@dataclass(frozen=True)
class Elsewhere:
    """The relay's address as if it were another machine (the loopback exception gone)."""

    host: str
    port: int
    implicit_tls: bool = False
    loopback: bool = False
    shown: str = "relay.example.gov:587 (STARTTLS)"


async def test_the_password_never_travels_in_clear_except_to_this_machine(
        tmp_path: Path) -> None:
    with SmtpRelay(tmp_path / "r", tls="none", auth_require_tls=False) as relay:
        local = transport_for(tmp_path, relay, starttls="opportunistic")
        await local.send(JANE, Reply(text="x"), key="k")  # loopback: tests, a local MTA
        assert (await relay.wait_for(1))[0].user == relay.username
        remote = transport_for(tmp_path, relay, starttls="opportunistic")
        remote.relay = Elsewhere("127.0.0.1", relay.port)  # type: ignore[assignment]
        with pytest.raises(RetryableSendError, match="password without TLS"):
            await remote.send(JANE, Reply(text="x"), key="k2")
        assert relay.auth_failures == 0 and len(relay.messages) == 1


async def test_an_untrusted_certificate_is_refused(tmp_path: Path, relay: SmtpRelay) -> None:
    transport = transport_for(tmp_path, relay)
    transport.tls_context = __import__("ssl").create_default_context()  # system CAs only
    with pytest.raises(RetryableSendError, match="cannot reach the relay"):
        await transport.send(JANE, Reply(text="x"), key="k")
    assert relay.auth_failures == 0 and not relay.messages


async def test_lost_during_data_is_uncertain_and_the_next_send_reconnects(
        tmp_path: Path, relay: SmtpRelay) -> None:
    transport = transport_for(tmp_path, relay, connections=1)
    relay.drop_after_data(1)
    with pytest.raises(RetryableSendError) as err:
        await transport.send(JANE, Reply(text="x"), key="k")
    assert not err.value.unsent  # it landed; the outbox resends marked as a possible repeat
    await transport.send(JANE, Reply(text="x", repeat=True), key="k")
    first, second = await relay.wait_for(2)
    assert first.message_id == second.message_id == message_id("k", DOMAIN)
    assert relay.connections == 2


async def test_unreachable_relay_is_retryable_and_unsent(tmp_path: Path) -> None:
    with SmtpRelay(tmp_path / "r") as relay:
        transport = transport_for(tmp_path, relay)
    with pytest.raises(RetryableSendError, match="cannot reach the relay") as err:
        await transport.send(JANE, Reply(text="x"), key="k")
    assert err.value.unsent


async def test_update_is_threaded_and_red_and_forms_never_go(tmp_path: Path,
                                                             relay: SmtpRelay) -> None:
    transport = transport_for(tmp_path, relay)
    ref = await transport.send(JANE, Reply(text="Alert", title="Alert A-1"), key="a1")
    await transport.update(JANE, ref, Reply(text="Answered: Received", title="Alert A-1"))
    original, update = await relay.wait_for(2)
    assert update.message["In-Reply-To"] == ref == original.message_id
    assert update.message_id != ref and update.message["Subject"].startswith("Updated: ")
    with pytest.raises(PermanentSendError, match="TLP:RED"):
        await transport.send(JANE, Reply(text="x", marking="TLP:RED"), key="r")
    with pytest.raises(PermanentSendError, match="not an e-mail destination"):
        await transport.send(Destination.parse("slack:T1:C1"), Reply(text="x"), key="s")
    assert len(relay.messages) == 2


async def test_a_send_over_its_budget_says_how_far_it_got(
        tmp_path: Path, relay: SmtpRelay, monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.adapters.email import send

    monkeypatch.setattr(send, "SEND_BUDGET", 0.5)
    transport = transport_for(tmp_path, relay, connections=1)
    await transport.send(JANE, Reply(text="warm"), key="k0")  # the connection is open
    relay.slow(5.0)  # the relay sits on DATA
    with pytest.raises(RetryableSendError, match="send budget") as stuck:
        await transport.send(JANE, Reply(text="x"), key="k1")
    assert not stuck.value.unsent  # cut off in DATA: it may have arrived
    relay.slow(0)
    slot = await transport._slots.get()  # every connection busy
    with pytest.raises(RetryableSendError, match="send budget") as queued:
        await transport.send(JANE, Reply(text="y"), key="k2")
    assert queued.value.unsent  # it never had a connection
    transport._slots.put_nowait(slot)
    before = relay.connections
    await transport.send(JANE, Reply(text="z"), key="k3")
    assert relay.connections == before + 1  # the connection cut off mid-DATA was not reused
    assert message_id("k3", DOMAIN) in {m.message_id for m in relay.messages}
