"""E-mail through the real outbox and server wiring to a real relay: queue -> worker -> relay."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import sqlalchemy as sa

from bot.adapters.email import wording
from bot.adapters.email.message import message_id
from bot.messages import REPEAT_LINE, Destination, Reply
from bot.outbox.keys import EditKey
from bot.outbox.queue import enqueue
from tests.bot.adapters.email.conftest import relay_settings
from tests.fakes.smtp import MAIL_FROM, SmtpRelay
from tests.support import RunningBot, make_settings, running_bot, wait_until

DOMAIN = MAIL_FROM.rpartition("@")[2]


@asynccontextmanager
async def mailing_bot(tmp_path: Path, relay: SmtpRelay, **email: Any) -> AsyncIterator[RunningBot]:
    """The production app on the relay, its outbox running (retries after ~0.1 s)."""
    async with running_bot(relay_settings(tmp_path, relay, **email)) as bot:
        outbox = bot.services.outbox
        outbox.base_delay, outbox.max_delay = 0.05, 0.2
        task = asyncio.create_task(outbox.run(interval=0.05, coalesce=0.05))
        try:
            yield bot
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


async def queue(bot: RunningBot, *sends: tuple[Any, str, Reply]) -> None:
    async with bot.services.db.session() as session:
        for key, address, reply in sends:
            enqueue(session, key=key, destination=Destination.email(address), reply=reply)
        await session.commit()


async def rows(bot: RunningBot) -> dict[str, dict[str, Any]]:
    async with bot.services.db.engine.connect() as conn:
        found = (await conn.execute(sa.text(
            "SELECT key, status, attempts, last_error, message_ref FROM outbox_message"))).all()
    return {r[0]: {"status": r[1], "attempts": r[2], "last_error": r[3], "ref": r[4]}
            for r in found}


async def settled(bot: RunningBot, count: int) -> dict[str, dict[str, Any]]:
    async def done() -> dict[str, dict[str, Any]] | None:
        found = await rows(bot)
        finished = [r for r in found.values() if r["status"] in ("sent", "dead")]
        return found if len(finished) >= count else None
    return await wait_until(done, timeout=20)


async def test_queued_mail_reaches_the_relay_with_the_key_as_message_id(
        tmp_path: Path, relay: SmtpRelay) -> None:
    async with mailing_bot(tmp_path, relay) as bot:
        async with aiohttp.ClientSession() as http, http.get(f"{bot.url}/healthz") as response:
            health = await response.json()
        assert health["platforms"]["email"] == "enabled"
        assert health["email"] == {"configured": True, "tls": "starttls required",
                                   "per_second": 5.0}
        assert "127.0.0.1" not in str(health["email"]) and relay.password not in str(health)
        await queue(bot, *((f"cert:{i}", f"clerk{i}@town.example.org",
                            Reply(text=f"Your course is due (#{i})", title="Certification"))
                           for i in range(3)))
        found = await settled(bot, 3)
    received = relay.messages
    assert sorted(m.message_id for m in received) == sorted(
        message_id(f"cert:{i}", DOMAIN) for i in range(3))
    assert all(found[f"cert:{i}"] == {"status": "sent", "attempts": 1, "last_error": None,
                                      "ref": message_id(f"cert:{i}", DOMAIN)} for i in range(3))
    one = next(m for m in received if m.rcpt_tos == ["clerk1@town.example.org"])
    assert one.message["Subject"] == "Certification: Your course is due (#1)"
    assert "Test Office" in one.message.get_body(("plain",)).get_content()


async def test_healthz_without_smtp_url_says_off(tmp_path: Path) -> None:
    async with running_bot(make_settings(tmp_path, demo=False)) as bot, \
            aiohttp.ClientSession() as http, http.get(f"{bot.url}/healthz") as response:
        health = await response.json()
    assert health["email"] == {"configured": False}
    assert health["platforms"]["email"] == "disabled"


async def test_4xx_twice_then_delivered_once_and_not_marked_repeat(tmp_path: Path,
                                                                   relay: SmtpRelay) -> None:
    relay.fail_next(2, code=451, text="4.7.1 Try later")
    async with mailing_bot(tmp_path, relay) as bot:
        await queue(bot, ("k1", "jane@example.org", Reply(text="Hello")))
        found = await settled(bot, 1)
    assert found["k1"]["status"] == "sent" and found["k1"]["attempts"] == 3
    (message,) = relay.messages
    assert REPEAT_LINE not in message.message.get_body(("plain",)).get_content()
    assert relay.rejected == ["451 4.7.1 Try later"] * 2


async def test_5xx_is_a_dead_letter_with_the_relays_answer(tmp_path: Path,
                                                           relay: SmtpRelay) -> None:
    relay.refuse("gone@example.org", 550, "5.1.1 <gone@example.org>: mailbox unavailable")
    async with mailing_bot(tmp_path, relay) as bot:
        await queue(bot, ("k1", "gone@example.org", Reply(text="Hello")),
                    ("k2", "jane@example.org", Reply(text="Hello")))
        found = await settled(bot, 2)
    assert found["k1"]["status"] == "dead" and found["k1"]["attempts"] == 1
    assert found["k1"]["last_error"] == "smtp 550 5.1.1 <address>: mailbox unavailable"
    assert found["k2"]["status"] == "sent"


async def test_a_hang_up_after_data_is_resent_once_marked_with_the_same_id(
        tmp_path: Path, relay: SmtpRelay) -> None:
    relay.drop_after_data(1)
    async with mailing_bot(tmp_path, relay) as bot:
        await queue(bot, ("k1", "jane@example.org", Reply(text="Polls close at 8 pm")))
        found = await settled(bot, 1)
    first, second = relay.messages
    assert found["k1"]["status"] == "sent"
    assert first.message_id == second.message_id == message_id("k1", DOMAIN)
    assert REPEAT_LINE not in first.message.get_body(("plain",)).get_content()
    assert second.message.get_body(("plain",)).get_content().splitlines()[0] == REPEAT_LINE


async def test_follow_ups_and_edits_thread_under_the_original(tmp_path: Path,
                                                              relay: SmtpRelay) -> None:
    async with mailing_bot(tmp_path, relay) as bot:
        await queue(bot, ("alert:A-1:jane", "jane@example.org",
                          Reply(text="Bomb threat", title="Alert A-1", marking="TLP:AMBER")))
        await settled(bot, 1)
        await queue(bot, (EditKey("alert:A-1:jane", "ack"), "jane@example.org",
                          Reply(text="Answered: Received", title="Alert A-1",
                                marking="TLP:AMBER")),
                    ("alert:A-2:jane", "jane@example.org",
                     Reply(text="All clear", title="Alert A-2", marking="TLP:AMBER",
                           follows="alert:A-1:jane")))
        found = await settled(bot, 3)
    original = message_id("alert:A-1:jane", DOMAIN)
    by_subject = {m.message["Subject"]: m for m in relay.messages}
    assert set(by_subject) == {"[TLP:AMBER] Alert A-1: Bomb threat",
                               "[TLP:AMBER] Updated: Alert A-1: Answered: Received",
                               "[TLP:AMBER] Alert A-2: All clear"}
    update = by_subject["[TLP:AMBER] Updated: Alert A-1: Answered: Received"]
    clear = by_subject["[TLP:AMBER] Alert A-2: All clear"]
    for follow in (update, clear):
        assert follow.message["In-Reply-To"] == original
        assert follow.message["References"] == original
    assert wording.UPDATED_LINE in update.message.get_body(("plain",)).get_content()
    assert found["alert:A-1:jane:edit:ack"]["status"] == "sent"


def worst_window(times: list[float], window: float) -> int:
    """The most starts in any ``window`` seconds."""
    return max(sum(1 for t in times if start <= t < start + window) for start in times)


class Timed:
    """The real transport, with the moment the outbox starts each send (what pacing decides)."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.starts = inner, []

    async def send(self, destination: Destination, reply: Reply, *, key: str) -> str:
        self.starts.append(time.monotonic())
        return str(await self.inner.send(destination, reply, key=key))


async def test_pacing_holds_the_relay_rate_and_allows_its_burst(tmp_path: Path) -> None:
    rate, burst, count = 4.0, 4, 14
    with SmtpRelay(tmp_path / "relay") as relay:
        async with mailing_bot(tmp_path, relay, connections=burst,
                               pacing={"per_second": rate, "burst": burst}) as bot:
            timed = Timed(bot.services.outbox.transports["email"])
            bot.services.outbox.register("email", timed)
            await queue(bot, *((f"p{i}", f"p{i}@example.org", Reply(text="x"))
                               for i in range(count)))
            await settled(bot, count)
        assert len(relay.messages) == count
    starts = sorted(timed.starts)
    # The burst goes at once, the rest one slot apart at the (safety-scaled) rate.
    assert starts[burst - 1] - starts[0] < 0.2  # spaced at the rate this would take 0.75 s
    steady = starts[-1] - starts[burst - 1]
    assert steady >= (count - burst) / rate * 0.95, steady
    for window in (1.0, 2.0):
        assert worst_window(starts, window) <= rate * window + burst, (window, starts)
