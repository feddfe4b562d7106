"""The pause of full garbage collections that a reminder pass holds its working set under."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from bot.ops.heap import full_collections_paused


@contextmanager
def generations_collected() -> Iterator[set[int]]:
    """The generations the collector walks automatically inside the block."""
    seen: set[int] = set()

    def collecting(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            seen.add(info["generation"])

    gc.collect()  # the oldest generation's size is now its full size: nothing pending
    gc.callbacks.append(collecting)
    try:
        yield seen
    finally:
        gc.callbacks.remove(collecting)


def working_set() -> list[list[int]]:
    """Enough long-lived containers that a full collection falls due (a quarter of the old)."""
    return [[] for _ in range(len(gc.get_objects()) // 2 + 50_000)]


def test_a_big_working_set_triggers_full_collections_without_the_pause() -> None:
    """The control: the check below can fail."""
    with generations_collected() as seen:
        kept = working_set()
    assert 2 in seen and kept


def test_no_full_collection_walks_it_under_the_pause_but_young_ones_go_on() -> None:
    before = gc.get_threshold()
    with generations_collected() as seen, full_collections_paused():
        kept = working_set()
        assert gc.isenabled()
    assert 0 in seen and 2 not in seen and kept
    assert gc.get_threshold() == before


def test_overlapping_pauses_restore_the_thresholds_whatever_order_they_end_in() -> None:
    """Two passes at once (a periodic tick and a manual run) used to leave the collector off."""
    before = gc.get_threshold()
    for first_out in (0, 1):
        pauses = [full_collections_paused(), full_collections_paused()]
        for pause in pauses:
            pause.__enter__()
        assert gc.get_threshold()[:2] == before[:2] and gc.get_threshold()[2] > before[2]
        pauses[first_out].__exit__(None, None, None)
        assert gc.get_threshold() != before  # the other one still holds its working set
        pauses[1 - first_out].__exit__(None, None, None)
        assert gc.get_threshold() == before and gc.isenabled()


def test_pauses_from_worker_threads_end_as_they_began() -> None:
    before = gc.get_threshold()
    inside, release = threading.Barrier(4), threading.Event()

    def hold() -> None:
        with full_collections_paused():
            inside.wait(timeout=10)
            release.wait(timeout=10)

    threads = [threading.Thread(target=hold) for _ in range(3)]
    for thread in threads:
        thread.start()
    inside.wait(timeout=10)  # all three are inside at once
    assert gc.get_threshold() != before
    release.set()
    for thread in threads:
        thread.join(timeout=10)
    assert gc.get_threshold() == before


def test_an_error_inside_still_ends_the_pause() -> None:
    before = gc.get_threshold()
    try:
        with full_collections_paused():
            raise ValueError("boom")
    except ValueError:
        pass
    assert gc.get_threshold() == before
