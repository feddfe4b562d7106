"""The daily digest of unreachable officials for state staff: at most once a day, exactly once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from bot.services import Services
from handlers.certifications.scheduler import run_once
from tests.handlers.certifications.conftest import Clock, Recorder, load_demo, make_services


async def _digest_keys(services: Services) -> list[str]:
    async with services.db.engine.connect() as conn:
        rows = await conn.execute(sa.text(
            "SELECT key FROM outbox_message WHERE key LIKE 'cert-unreachable:%' ORDER BY key"))
        return [r[0] for r in rows]


async def test_one_digest_a_day_even_with_two_schedulers_and_a_restart(tmp_path: Path) -> None:
    clock = Clock(datetime(2026, 12, 17, 13, tzinfo=UTC))  # 08:00 in New York: too early
    for sub in "abc":
        (tmp_path / sub).mkdir()
    first = await make_services(tmp_path / "a", clock=clock)
    url = first.settings.env.DATABASE_URL
    second = await make_services(tmp_path / "b", url, clock)
    try:
        await load_demo(first)
        assert (await run_once(first)).staff_digests == 0
        clock.now = datetime(2026, 12, 17, 14, tzinfo=UTC)  # 09:00 office time
        results = await asyncio.gather(run_once(first), run_once(second), run_once(first))
        assert sum(r.staff_digests for r in results) == 1
        restarted = await make_services(tmp_path / "c", url, clock)
        assert (await run_once(restarted)).staff_digests == 0
        await restarted.db.close()
        assert await _digest_keys(first) == ["cert-unreachable:webchat:local:boss:2026-12-17"]

        recorder = Recorder(clock)
        first.outbox.register("webchat", recorder)
        await first.outbox.run_once()
        [(_, _, reply)] = [s for s in recorder.sent if s[1] == "webchat:local:@boss"]
        assert "1 official with a deadline cannot be reached" in reply.text
        assert reply.sections[0].text == ("Kim Ortiz (KS): no chat identity or e-mail address "
                                           "on the roster")

        clock.now = datetime(2026, 12, 18, 20, tzinfo=UTC)  # the next business day
        assert (await run_once(first)).staff_digests == 1
        clock.now = datetime(2026, 12, 19, 15, tzinfo=UTC)  # Saturday: nothing
        assert (await run_once(first)).staff_digests == 0
        assert len(await _digest_keys(first)) == 2
    finally:
        await first.db.close()
        await second.db.close()


async def test_a_platform_that_cannot_reach_someone_says_why(tmp_path: Path) -> None:
    """The rule (e.g. Teams: never opened the bot) comes from the transport, not the domain."""
    from bot.messages import Destination
    from handlers.certifications.commands import unreachable_rows

    class Unopened:
        async def send(self, destination: Destination, reply: object, *, key: str) -> str:
            raise AssertionError("no send expected")

        async def unreachable(self, destinations: list[Destination]) -> dict[Destination, str]:
            return {d: "never opened the bot" for d in destinations if d.user_id == "lee"}

    services = await make_services(tmp_path, clock=Clock(datetime(2026, 12, 17, 14, tzinfo=UTC)))
    try:
        await load_demo(services)
        assert [r[0] for r in await unreachable_rows(services, services.clock())] == ["Kim Ortiz"]
        assert not services.outbox.tells("webchat")  # its people are not even asked about
        services.outbox.register("webchat", Unopened())  # type: ignore[arg-type]
        assert services.outbox.tells("webchat") and not services.outbox.tells("teams")
        rows = await unreachable_rows(services, services.clock())
        assert rows == [  # by jurisdiction, then name
            ("Kim Ortiz", "KS", "no chat identity or e-mail address on the roster"),
            ("Lee Wallace", "KS", "never opened the bot; no e-mail address on the roster")]
    finally:
        await services.db.close()
