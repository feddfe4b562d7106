"""Pacing arithmetic: the gate that keeps every window the platform counts within its limit,
the hold after a 429 and the full rate after it, and the buckets each destination needs."""

from __future__ import annotations

import asyncio
import gc
import heapq
import math
import random
import weakref
from pathlib import Path

import pytest

from bot.db.engine import Database
from bot.messages import Destination, Reply
from bot.ops.heap import freeze_startup_objects, refreeze_if_frozen
from bot.outbox.pacing import SAFETY, TOLERANCE, Bucket, Budgets, Gate, Timeline, platform_buckets
from bot.outbox.queue import enqueue
from bot.outbox.transport import RetryableSendError
from bot.outbox.worker import Outbox
from tests.support import migrated

LIMIT = 30  # Teams' tenant: 30 a second
TENANT = Bucket("teams:t1", LIMIT * SAFETY, limit=LIMIT, per=1.0)


def most_in_a_window(times: list[float], per: float) -> int:
    """The most of ``times`` in any window ``(x - per, x]`` (as the fake platforms count)."""
    times = sorted(times)
    best, first = 0, 0
    for last, t in enumerate(times):
        while t - times[first] >= per:
            first += 1
        best = max(best, last - first + 1)
    return best


def simulate(sends: int, latency: float, *, gate: bool, stall: tuple[float, float] = (0, 0),
             seed: int = 16) -> tuple[list[float], list[float]]:
    """Sends paced by the timeline, each woken for its slot (none during ``stall``), through
    the gate or not, with answers ``latency`` to ``3 * latency`` after the start and arrival at
    the platform anywhere in between. Returns (starts, arrivals). Time moves only here."""
    rng = random.Random(seed)
    timeline, keeper = Timeline(), Gate()
    events: list[tuple[float, int, str, int]] = []  # (time, order, what, send)
    for n in range(sends):  # the reserved slots: 1 / rate apart
        slot = n / TENANT.rate
        woke = stall[1] if stall[0] <= slot < stall[1] else slot
        heapq.heappush(events, (woke, n, "wake", n))
    starts, arrivals = [], []
    waiting: list[int] = []  # sends waiting for an answer
    counted: dict[int, list] = {}
    seq = sends
    while events:
        now, _, what, n = heapq.heappop(events)
        if what == "wake":
            at = timeline.start_send([TENANT], now)
            seq += 1
            heapq.heappush(events, (at, seq, "try", n))
            continue
        if what == "answer":
            keeper.answered(counted.pop(n), now)
            for w in waiting:
                seq += 1
                heapq.heappush(events, (now, seq, "try", w))
            waiting.clear()
            continue
        wait, window = keeper.wait([TENANT], now) if gate else (0.0, None)
        if wait > 0:
            if math.isinf(wait):
                waiting.append(n)
            else:
                seq += 1
                heapq.heappush(events, (now + wait, seq, "try", n))
            continue
        counted[n] = keeper._enter([TENANT], now) if gate else []
        took = rng.uniform(latency, 3 * latency)
        starts.append(now)
        arrivals.append(now + rng.uniform(0, took))
        seq += 1
        heapq.heappush(events, (now + took, seq, "answer", n))
    assert len(starts) == sends
    return starts, arrivals


@pytest.mark.parametrize("stall", [(0, 0), (5.0, 6.5)])
def test_the_gate_keeps_every_counted_window_within_the_limit_whatever_the_latency(
        stall: tuple[float, float]) -> None:
    # Answers 40 to 120 ms after the start: far more jitter than 0.97's 31 ms of headroom.
    _, ungated = simulate(600, 0.04, gate=False, stall=stall)
    assert most_in_a_window(ungated, 1.0) > LIMIT  # the timeline alone lands over the limit
    starts, arrivals = simulate(600, 0.04, gate=True, stall=stall)
    assert most_in_a_window(arrivals, 1.0) <= LIMIT
    assert most_in_a_window(starts, 1.0) <= LIMIT


def test_the_gate_costs_nothing_when_answers_come_within_the_margin() -> None:
    starts, arrivals = simulate(600, 0.005, gate=True)
    assert most_in_a_window(arrivals, 1.0) <= LIMIT
    # Still the timeline's rate: 0.97 of the limit, within the tolerance.
    assert starts[-1] - starts[0] == pytest.approx(599 / TENANT.rate, abs=2 * TOLERANCE)


def test_after_a_hold_the_timeline_resumes_at_the_full_rate() -> None:
    timeline, gate = Timeline(), Gate()
    bucket = Bucket("slack:T1", 60 * SAFETY, limit=60, per=1.0)
    timeline.start_send([bucket], 10.0)
    timeline.hold([bucket], 11.0)  # a 429 with Retry-After: 1
    gate.hold([bucket], 11.0)
    assert gate.held([bucket], 10.2) == pytest.approx(0.8)
    assert gate.held([Bucket("slack:T2", 1.0)], 10.2) == 0.0  # another workspace goes on
    starts = [timeline.start_send([bucket], 10.2) for _ in range(5)]
    assert starts[0] == pytest.approx(11.0 - TOLERANCE)
    # Each next start 1 / rate later: the configured rate (no lowered rate after the 429).
    gaps = [b - a for a, b in zip(starts, starts[1:], strict=False)]
    assert gaps == pytest.approx([1 / bucket.rate] * 4)
    assert gate.held([bucket], 11.0) == 0.0


async def test_sends_pass_the_gate_in_line_and_within_the_window() -> None:
    gate, loop = Gate(), asyncio.get_running_loop()
    group = Bucket("slack:T1", 5 / 0.2, limit=5, per=0.2)
    passed: list[tuple[int, float, float]] = []  # (send, start, answer)

    async def send(n: int, channel: str) -> None:
        counted = await gate.through([Bucket(f"slack:T1:{channel}", 50.0, limit=1, per=0.1),
                                      group])
        start = loop.time()
        await asyncio.sleep(0.01 * (n % 3))  # answers 0 to 20 ms later
        passed.append((n, start, loop.time()))
        gate.answered(counted, loop.time())

    # 20 sends at once; sends 0 and 1 to the same channel (its window: 1 in 0.1 s).
    await asyncio.gather(*(send(n, "C0" if n < 2 else f"C{n}") for n in range(20)))
    starts = sorted(start for _, start, _ in passed)
    assert len(starts) == 20 and most_in_a_window(starts, 0.2) <= 5
    order = [n for n, _, _ in sorted(passed, key=lambda p: p[1])]
    assert order[:1] == [0] and order.index(1) > order.index(2)  # 1 stepped out of line
    assert [n for n in order if n > 1] == list(range(2, 20))  # the rest in the order they came
    assert gate.waited == 15 and not gate._lines  # the first 5 (not 1) went at once


async def test_room_for_several_lets_several_through_in_one_step_and_a_cancel_frees_its_place(
        ) -> None:
    gate, loop = Gate(), asyncio.get_running_loop()
    group = Bucket("teams:t1", 3 / 0.2, limit=3, per=0.2)
    first = [await gate.through([group]) for _ in range(3)]  # the window is full, in flight
    seen: list[int] = []  # how many were in flight when each waiting send got through

    async def send() -> None:
        counted = await gate.through([group])
        seen.append(gate._windows["teams:t1"].inflight)
        await asyncio.sleep(0.01)
        gate.answered(counted, loop.time())

    waiting = [asyncio.create_task(send()) for _ in range(6)]
    cancelled = asyncio.create_task(send())
    while len(gate._lines.get("teams:t1", ())) < 7:
        await asyncio.sleep(0)
    cancelled.cancel()
    now = loop.time()
    for counted in first:  # three answers at once: room for three once they leave the window
        gate.answered(counted, now)
    await asyncio.gather(*waiting)
    assert cancelled.cancelled()
    # The first to go went with the next two already let through (in the same loop step).
    assert len(seen) == 6 and seen[0] == 3
    assert not gate._lines and gate._windows["teams:t1"].inflight == 0  # the cancel took none


class Timed:
    """A transport recording when each send started; the first answers 429, Retry-After 0.3."""

    def __init__(self) -> None:
        self.starts: list[tuple[float, str]] = []
        self.throttled_at: float | None = None

    async def send(self, destination: Destination, reply: Reply, *, key: str) -> str:
        loop = asyncio.get_running_loop()
        self.starts.append((loop.time(), key))
        if self.throttled_at is None:
            self.throttled_at = loop.time()
            raise RetryableSendError("ratelimited", retry_after=0.3)
        return key


async def test_a_429_holds_its_group_for_retry_after_and_nothing_is_lost(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'o.db'}"
    migrated(url)
    db = Database(url)
    outbox, transport = Outbox(db), Timed()
    outbox.pacer = lambda d: [Bucket("webchat:local", 50.0, limit=50, per=1.0)]
    outbox.register("webchat", transport)
    async with db.session() as session:
        for i in range(8):
            enqueue(session, key=f"k{i}", destination=Destination.parse(f"webchat:local:@u{i}"),
                    reply=Reply(text="hi"))
        await session.commit()
    assert await outbox.run_once() == 8
    assert transport.throttled_at is not None
    later = [t for t, _ in transport.starts if t > transport.throttled_at]
    assert len(later) == 7 and min(later) >= transport.throttled_at + 0.3
    assert outbox.gate.held([Bucket("webchat:local", 50.0)],
                            asyncio.get_running_loop().time()) == 0.0
    await db.close()


def test_each_destination_needs_its_own_and_its_groups_bucket_with_the_platforms_window() -> None:
    channel, workspace = platform_buckets(Destination.parse("slack:T1:C1"), Budgets())
    assert (channel.key, channel.limit, channel.per) == ("slack:T1:C1", 1, 1.0)
    assert (workspace.key, workspace.limit) == ("slack:T1", 10)
    assert workspace.rate == pytest.approx(10 * SAFETY)
    conversation, thirty, tenant = platform_buckets(Destination.parse("teams:t1:19:abc"),
                                                    Budgets())
    assert (conversation.limit, conversation.per) == (7, 1.0)
    assert (thirty.limit, thirty.per) == (60, 30.0)
    assert (tenant.key, tenant.limit, tenant.rate) == ("teams:t1", 30, pytest.approx(30 * SAFETY))
    assert platform_buckets(Destination.parse("webchat:local:@ann"), Budgets()) == []


class Probe:
    """An object whose collection can be observed."""


def test_start_up_objects_are_frozen_and_a_reload_refreezes_only_a_frozen_process() -> None:
    gc.unfreeze()
    try:
        refreeze_if_frozen()
        assert gc.get_freeze_count() == 0  # tests and one-shot commands are left alone
        freeze_startup_objects()
        frozen = gc.get_freeze_count()
        assert frozen > 0
        index = [[i] for i in range(1000)]  # a reloaded knowledge index, say (tracked objects)
        refreeze_if_frozen()
        assert all(o is not index for o in gc.get_objects())  # out of the collector's sight
        # An index with reference cycles, frozen at one reload, is freed by the next one.
        item = Probe()
        probe = weakref.ref(item)
        cycle: list[object] = [item]
        cycle.append(cycle)
        del item
        refreeze_if_frozen()
        del cycle  # dropped, but only a collection can free a cycle
        assert probe() is not None
        refreeze_if_frozen()
        assert probe() is None
    finally:
        gc.unfreeze()
