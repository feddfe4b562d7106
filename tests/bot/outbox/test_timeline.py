"""The send timeline on a fake clock: absolute slots, catching up within the burst after a stall.

A small simulation of one or two worker processes: each reserves slots from a shared grid (what
:class:`~bot.outbox.pacing.RateLimiter` keeps in the database: the n-th slot at start + n / rate),
wakes for each slot (on time, late, or not at all during a stall) and asks its
:class:`~bot.outbox.pacing.Timeline` when the send starts; a send woken too late takes a new
slot. Time only moves when the simulation says so, so every figure is exact.
"""

from __future__ import annotations

import heapq
import random
from dataclasses import dataclass, field

import pytest

from bot.outbox.pacing import MAX_LATE, SAFETY, TOLERANCE, Timeline

STEP = 0.001  # the fake clock's tick


@dataclass
class Grid:
    """The shared budget (the database's bucket): slots 1 / rate apart, none before now."""

    rate: float
    tat: float = 0.0

    def reserve(self, now: float) -> float:
        slot = max(self.tat, now)
        self.tat = slot + 1.0 / self.rate
        return slot


@dataclass
class Worker:
    """One process: reserves ``lookahead`` seconds of slots, sends when they come."""

    grid: Grid
    lookahead: float = 2.0
    stalls: list[tuple[float, float]] = field(default_factory=list)
    late: float = 0.0  # every wake-up this much after its start (a busy loop)
    jitter: float = 0.0  # plus up to this much, at random
    timeline: Timeline = field(default_factory=Timeline)
    planned: list[tuple[float, int]] = field(default_factory=list)
    starts: list[float] = field(default_factory=list)
    repaced: int = 0
    rng: random.Random = field(default_factory=lambda: random.Random(16))

    def stalled(self, now: float) -> bool:
        return any(a <= now < b for a, b in self.stalls)

    def tick(self, now: float, pending: list[int]) -> None:
        if self.stalled(now):
            return
        wakes = []
        while self.planned and self.planned[0][0] + self.late <= now:
            at, n = heapq.heappop(self.planned)
            wakes.append((at, n))
        for at, n in wakes:
            woke = now + self.rng.uniform(0, self.jitter)
            if Timeline.admit(at, woke):
                self.starts.append(self.timeline.start("g", self.grid.rate, woke))
            else:  # missed its slot: back to the queue for a new one
                self.repaced += 1
                pending.insert(0, n)
        while pending and self.grid.tat < now + self.lookahead:
            heapq.heappush(self.planned, (self.grid.reserve(now), pending.pop(0)))


def run(workers: list[Worker], sends: int, until: float = 60.0) -> list[float]:
    """Every start of every worker, in order, once all ``sends`` went."""
    pending = list(range(sends))
    now = 0.0
    while now < until:
        for worker in workers:
            worker.tick(now, pending)
        if not pending and not any(w.planned for w in workers):
            break
        now = round(now + STEP, 6)
    starts = sorted(t for w in workers for t in w.starts)
    assert len(starts) == sends, "every send starts exactly once"
    return starts


def busiest(starts: list[float], window: float) -> int:
    """The most starts in any window of ``window`` seconds."""
    return max(sum(1 for t in starts[i:] if t < s + window) for i, s in enumerate(starts))


RATE = 60 * SAFETY  # Slack's workspace budget, as paced


def burst() -> float:
    return Timeline().burst(RATE)


@pytest.mark.parametrize("late", [0.0, 0.2])
def test_late_wake_ups_do_not_push_later_sends_back(late: float) -> None:
    # Every wake-up up to 15 ms late at random (and, the second time, 200 ms behind as well):
    # the slots are absolute, so the whole run takes what the rate says, where chaining each
    # send from the one before (the old pacer) lost the lateness on every send.
    worker = Worker(Grid(RATE), late=late, jitter=TOLERANCE)
    starts = run([worker], 600)
    assert worker.repaced == 0
    assert starts[-1] - starts[0] == pytest.approx(599 / RATE, abs=2 * TOLERANCE)
    for window in (0.1, 1.0, 3.0):
        assert busiest(starts, window) <= RATE * window + burst()


@pytest.mark.parametrize("window", [0.25, 1.0, 2.0, 5.0])
def test_after_a_two_second_stall_it_catches_up_within_the_burst(window: float) -> None:
    worker = Worker(Grid(RATE), stalls=[(3.0, 5.0)])
    starts = run([worker], 600)
    # Never more than rate * window + burst in any window, the stall's end included.
    assert busiest(starts, window) <= RATE * window + burst()
    # At the stall's end at most the burst goes at once; the sends due in its last MAX_LATE
    # follow at the rate and those due before take new slots: the stall costs its length.
    assert sum(1 for t in starts if 5.0 <= t <= 5.0 + 1e-9) <= burst()
    assert worker.repaced == pytest.approx((2.0 - MAX_LATE) * RATE, abs=2)
    assert starts[-1] - starts[0] == pytest.approx(599 / RATE + 2.0, abs=0.05)


def test_two_processes_share_one_budget_even_when_one_of_them_stalls() -> None:
    grid = Grid(RATE)
    stalled = Worker(grid, lookahead=1.0, stalls=[(2.0, 4.0)])
    steady = Worker(grid, lookahead=1.0, late=0.005)
    starts = run([stalled, steady], 600)
    # Each process keeps the bound on its own; together, the stalled one's catch-up can add at
    # most its slots of the last MAX_LATE seconds (the rest it gives back for new slots).
    for worker in (stalled, steady):
        assert busiest(sorted(worker.starts), 1.0) <= RATE + burst()
    for window in (0.5, 1.0, 3.0):
        assert busiest(starts, window) <= RATE * (window + MAX_LATE) + burst()
    assert stalled.repaced > 0  # its missed slots were not sent on top of the other's
    assert starts[-1] - starts[0] < 600 / RATE + 1.0  # the other kept the budget busy


def test_the_burst_fits_the_platform_window_the_safety_margin_leaves() -> None:
    # rate * 1 s + burst stays within the platform's own limit for one-second windows.
    for limit in (1, 7, 30, 60, 100):
        rate = limit * SAFETY
        assert rate + Timeline().burst(rate) <= limit + 1
        assert rate * (1 + TOLERANCE) < limit


def test_starts_go_at_once_up_to_the_burst_then_at_the_rate() -> None:
    timeline = Timeline()
    starts = [timeline.start("g", RATE, now=10.0) for _ in range(5)]
    assert starts[0] == 10.0 and starts[1] == pytest.approx(10.0 + 1 / RATE - TOLERANCE)
    assert starts[4] == pytest.approx(10.0 + 4 / RATE - TOLERANCE)
    assert timeline.start("other", RATE, now=10.0) == 10.0  # groups do not share a budget
    assert timeline.start("web", float("inf"), now=3.0) == 3.0
    assert Timeline.admit(10.0, 10.0 + MAX_LATE) and not Timeline.admit(10.0, 10.6)
