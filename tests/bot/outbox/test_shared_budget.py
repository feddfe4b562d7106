"""A late send re-slotted only when another process shares its budget; batch look-ups per claim;
the timeline keeps every bucket's rate, not only the group's."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bot.adapters.teams.proactive import find_reference, find_references
from bot.db.engine import Database, utcnow
from bot.db.models import ConversationReference
from bot.messages import Destination, Reply
from bot.outbox.pacing import MAX_LATE, SAFETY, TOLERANCE, Bucket, RateLimiter, Timeline
from bot.outbox.queue import enqueue_many
from bot.outbox.worker import Outbox, Slot
from tests.support import migrated

RATE = 60 * SAFETY


async def _db(tmp_path: Path) -> Database:
    url = f"sqlite:///{tmp_path / 'o.db'}"
    migrated(url)
    return Database(url)


class Clock:
    def __init__(self) -> None:
        self.now = utcnow() + timedelta(seconds=1)

    def __call__(self) -> datetime:
        return self.now


async def test_a_bucket_is_shared_once_another_process_holds_slots_in_it(tmp_path: Path) -> None:
    db, clock = await _db(tmp_path), Clock()
    one, other = RateLimiter(db, clock), RateLimiter(db, clock)
    group = [Bucket("slack:T1", RATE)]
    try:
        await one.schedule([group] * 5, horizon=2.0)
        await one.schedule([group] * 5, horizon=2.0)  # its own slots ahead: not shared
        assert not one.shared(group, clock.now)
        await other.schedule([group] * 5, horizon=2.0)  # finds the first one's slots ahead
        assert other.shared(group, clock.now)
        await one.schedule([group], horizon=2.0)  # finds the other's reservation
        assert one.shared(group, clock.now)
        assert not one.shared([Bucket("slack:T2", RATE)], clock.now)
        clock.now += timedelta(minutes=2)  # nobody else reserved since: alone again
        assert not one.shared(group, clock.now)
    finally:
        await db.close()


async def test_slots_that_passed_are_no_sign_of_another_process(tmp_path: Path) -> None:
    db, clock = await _db(tmp_path), Clock()
    group = [Bucket("slack:T1", RATE)]
    try:
        await RateLimiter(db, clock).schedule([group] * 3, horizon=2.0)  # a process long gone
        clock.now += timedelta(seconds=10)
        fresh = RateLimiter(db, clock)
        await fresh.schedule([group], horizon=2.0)
        assert not fresh.shared(group, clock.now)
    finally:
        await db.close()


@pytest.mark.parametrize("shared", [False, True])
async def test_a_send_woken_late_keeps_its_slot_unless_the_budget_is_shared(
        tmp_path: Path, shared: bool) -> None:
    db = await _db(tmp_path)
    outbox = Outbox(db)
    loop = asyncio.get_running_loop()
    try:
        late = Slot(loop.time() - MAX_LATE - 0.2, [Bucket("slack:T1", RATE)], shared)
        assert (await outbox._slot(late) is None) is shared
        on_time = Slot(loop.time() - MAX_LATE / 2, [Bucket("slack:T1:C9", 1.0)], shared)
        assert await outbox._slot(on_time) is not None
    finally:
        await db.close()


def test_the_timeline_keeps_each_buckets_rate() -> None:
    timeline = Timeline()
    channel, group = Bucket("slack:T1:C1", 1.0 * SAFETY), Bucket("slack:T1", RATE)
    first = timeline.start_send([channel, group], now=5.0)
    other_channel = timeline.start_send([Bucket("slack:T1:C2", SAFETY), group], now=5.0)
    again = timeline.start_send([channel, group], now=5.0)  # both woken late, together
    assert first == 5.0
    assert other_channel == pytest.approx(5.0 + 1 / RATE - TOLERANCE)
    assert again == pytest.approx(5.0 + 1 / SAFETY - TOLERANCE)  # the channel's rate holds
    assert timeline.start_send([], now=7.0) == 7.0


class Batching:
    """A Slack-like transport that looks a batch up at once (and counts the look-ups)."""

    def __init__(self) -> None:
        self.batches: list[list[str]] = []
        self.single: list[str] = []
        self.known: set[str] = set()
        self.sent: list[str] = []

    async def prepare_many(self, destinations: Sequence[Destination]) -> None:
        self.batches.append(sorted(str(d) for d in destinations))
        self.known.update(str(d) for d in destinations)

    async def prepare(self, destination: Destination) -> None:
        if str(destination) not in self.known:
            self.single.append(str(destination))

    async def send(self, destination: Destination, reply: Reply, *, key: str) -> str:
        self.sent.append(str(destination))
        return "ref"


async def test_a_claimed_batch_is_looked_up_at_once(tmp_path: Path) -> None:
    db = await _db(tmp_path)
    outbox, transport = Outbox(db, clock=lambda: utcnow() + timedelta(seconds=1)), Batching()
    outbox.budgets = type(outbox.budgets)(slack_workspace_per_second=1000.0,
                                          slack_channel_per_second=1000.0)
    outbox.register("slack", transport)
    dests = [Destination.parse(f"slack:T1:@U{i}") for i in range(6)]
    try:
        async with db.session() as session:
            await enqueue_many(session, [(f"k{i}", d, Reply(text="hi"))
                                         for i, d in enumerate(dests)])
            await session.commit()
        assert await outbox.run_once() == 6
        assert transport.batches == [sorted(str(d) for d in dests)]
        assert transport.single == [] and sorted(transport.sent) == sorted(map(str, dests))
    finally:
        await db.close()


async def test_teams_references_of_a_batch_are_those_found_one_by_one(tmp_path: Path) -> None:
    db = await _db(tmp_path)
    old, new = utcnow() - timedelta(days=2), utcnow()

    def row(key: str, channel: str, user: str | None, at: datetime, tag: str,
            tenant: str = "t1") -> ConversationReference:
        return ConversationReference(key=key, platform="teams", workspace=tenant, user_id=user,
                                     channel=channel, updated_at=at,
                                     reference=json.dumps({"tag": tag}))
    try:
        async with db.session() as session:
            session.add_all([
                row("a1", "a:personal", "ann", old, "ann-old"),
                row("a2", "a:personal2", "ann", new, "ann-new"),
                row("c1", "19:chan@thread", None, new, "chan"),
                row("c2", "19:chan@thread", "bob", old, "chan-old"),
                row("x1", "19:chan@thread", None, new, "other-tenant", tenant="t2"),
            ])
            await session.commit()
        dests = [Destination.parse(d) for d in (
            "teams:t1:@ann", "teams:t1:19:chan@thread;messageid=7", "teams:t1:@nobody",
            "teams:t3:@ann", "teams:t2:19:chan@thread")]
        batch = await find_references(db, dests)
        for d in dests:
            assert batch.get(d) == await find_reference(db, d), d
        assert batch[dests[0]] == {"tag": "ann-new"} and dests[2] not in batch
    finally:
        await db.close()


async def test_slack_dm_channels_of_a_batch_are_recalled_in_one_look_up(tmp_path: Path) -> None:
    from bot.adapters.slack.send import SlackTransport, build_send_client, dm_key

    db = await _db(tmp_path)
    transport = SlackTransport(build_send_client("http://127.0.0.1:9/api/", "xoxb-t"), db)
    try:
        async with db.session() as session:
            session.add(ConversationReference(key=dm_key("T1", "U1"), platform="slack",
                                              workspace="T1", user_id="U1", channel="D1",
                                              reference="{}"))
            await session.commit()
        await transport.prepare_many([Destination.parse(d) for d in (
            "slack:T1:@U1", "slack:T1:@U2", "slack:T1:C5")])
        assert await transport.dm_channel("T1", "U1") == "D1"  # from the batch, no query
        assert transport._dm_unstored == {dm_key("T1", "U2")}  # to be opened, not read again
    finally:
        await transport.aclose()
        await db.close()
