"""The send timeline on a fake clock: absolute slots, catching up within the burst after a stall.

A small simulation of one or two worker processes: each reserves slots from a shared grid (what
:class:`~bot.outbox.pacing.RateLimiter` keeps in the database: the n-th slot at start + n / rate),
plans them on its :class:`~bot.outbox.pacing.Timeline`, and starts a send when its clock reaches
the start, unless it was woken too late, when the send takes a new slot. Time only moves when the
simulation says so, so every figure is exact.
"""

from __future__ import annotations

import heapq
import random
from dataclasses import dataclass, field

import pytest

from bot.outbox.pacing import SAFETY, TOLERANCE, Timeline

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
                self.starts.append(woke)
            else:  # missed its slot: back to the queue for a new one
                self.repaced += 1
                pending.insert(0, n)
        while pending and self.grid.tat < now + self.lookahead:
            slot = self.grid.reserve(now)
            heapq.heappush(self.planned, (self.timeline.plan("g", self.grid.rate, slot, now),
                                          pending.pop(0)))


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


def test_late_wake_ups_within_the_tolerance_do_not_push_later_sends_back() -> None:
    # Every wake-up 10 ms late plus up to 5 ms more: each send's slot is absolute, so the
    # whole run takes what the rate says, where chaining each send from the one before
    # (the old pacer) lost the lateness on every send: 3 % of the rate at 58/s.
    worker = Worker(Grid(RATE), late=0.010, jitter=TOLERANCE - 0.011)
    starts = run([worker], 600)
    assert worker.repaced == 0
    assert starts[-1] - starts[0] == pytest.approx(599 / RATE, abs=TOLERANCE)
    assert busiest(starts, 1.0) <= RATE * 1.0 + burst()


@pytest.mark.parametrize("window", [0.25, 1.0, 2.0, 5.0])
def test_after_a_two_second_stall_it_catches_up_within_the_burst(window: float) -> None:
    worker = Worker(Grid(RATE), stalls=[(3.0, 5.0)])
    starts = run([worker], 600)
    # Never more than rate * window + burst in any window, the stall's end included.
    assert busiest(starts, window) <= RATE * window + burst()
    # At the stall's end only the sends still within the tolerance of their slot go at once...
    assert sum(1 for t in starts if 5.0 <= t <= 5.0 + 1e-9) <= burst()
    # ...and the rest take new slots: the stall costs its two seconds, not more, no drift.
    assert worker.repaced > 0
    assert starts[-1] - starts[0] == pytest.approx(599 / RATE + 2.0, abs=0.05)


def test_two_processes_share_one_budget_even_when_one_of_them_stalls() -> None:
    grid = Grid(RATE)
    stalled = Worker(grid, lookahead=1.0, stalls=[(2.0, 4.0)])
    steady = Worker(grid, lookahead=1.0, late=0.005)
    starts = run([stalled, steady], 600)
    for window in (0.5, 1.0, 3.0):
        assert busiest(starts, window) <= RATE * window + burst()
    assert stalled.repaced > 0  # its missed slots were not sent on top of the other's
    assert starts[-1] - starts[0] < 600 / RATE + 1.0  # the other kept the budget busy


def test_the_burst_fits_the_platform_window_the_safety_margin_leaves() -> None:
    # rate * 1 s + burst stays within the platform's own limit for one-second windows.
    for limit in (1, 7, 30, 60, 100):
        rate = limit * SAFETY
        assert rate + Timeline().burst(rate) <= limit + 1
        assert rate * (1 + TOLERANCE) < limit


def test_a_start_is_never_before_its_slot_and_unpaced_groups_go_at_once() -> None:
    timeline = Timeline()
    assert timeline.plan("g", RATE, slot=10.0, now=9.0) == 10.0
    assert timeline.plan("g", RATE, slot=10.0 + 1 / RATE, now=9.0) == 10.0 + 1 / RATE
    assert timeline.plan("web", float("inf"), slot=1.0, now=3.0) == 3.0
    assert Timeline.admit(10.0, 10.0 + TOLERANCE) and not Timeline.admit(10.0, 10.1)
