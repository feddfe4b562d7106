"""Pacing arithmetic: the slowdown after 429s and the buckets it applies to."""

from __future__ import annotations

import gc
import weakref

import pytest

from bot.messages import Destination
from bot.ops.heap import freeze_startup_objects, refreeze_if_frozen
from bot.outbox.pacing import (
    RECOVER,
    SLOWDOWN,
    SLOWEST,
    Budgets,
    Slowdown,
    platform_buckets,
    slowed,
)


def test_each_429_slows_the_group_down_to_a_floor_and_it_recovers_over_time() -> None:
    slowdown = Slowdown()
    slowdown.throttled("slack:T1", now=100.0)
    assert slowdown.factors(100.0) == {"slack:T1": pytest.approx(SLOWDOWN)}
    for _ in range(200):  # a storm of 429s never takes it below the floor
        slowdown.throttled("slack:T1", now=100.0)
    assert slowdown.factors(100.0)["slack:T1"] == pytest.approx(SLOWEST)
    halfway = 100.0 + (1 - SLOWEST) / RECOVER / 2
    assert slowdown.factors(halfway)["slack:T1"] == pytest.approx((1 + SLOWEST) / 2)
    assert slowdown.factors(100.0 + (1 - SLOWEST) / RECOVER + 1) == {}  # back to full speed


def test_only_the_shared_bucket_of_a_slowed_group_is_slowed() -> None:
    buckets = platform_buckets(Destination.parse("slack:T1:C1"), Budgets())
    assert slowed(buckets, {}) == buckets
    assert slowed(buckets, {"slack:T2": 0.5}) == buckets
    channel, workspace = slowed(buckets, {"slack:T1": 0.5})
    assert channel == buckets[0]
    assert workspace.key == "slack:T1" and workspace.rate == pytest.approx(buckets[1].rate / 2)


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
