"""Garbage collection for the long-running processes (``serve``, ``worker``).

CPython's full collection walks every tracked object. Most of a running bot's objects are made
at start-up and live for ever (the knowledge index, libraries, configuration), so once the
process is ready they are moved out of the collector's sight with :func:`gc.freeze`. A full
collection then walks only what requests and sends create: during a broadcast of thousands of
messages this took pauses of about 100 ms out of the event loop, which a person filing an
incident at that moment would feel (see ``benchmarks/broadcast_bench.py``). Frozen objects in
reference cycles are never collected, so a reload (a new knowledge index replacing the old one)
unfreezes, collects the old index, and freezes again.

Big batch work (a reminder pass over 100,000 officials) holds a large working set for seconds
while the process goes on serving: :func:`full_collections_paused` keeps full collections from
walking it, while young collections go on freeing the garbage that requests make meanwhile.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager


def freeze_startup_objects() -> None:
    """Collect once, then exempt everything alive from later collections (start-up, reload)."""
    gc.collect()
    gc.freeze()


def refreeze_if_frozen() -> None:
    """After a knowledge reload in a process that froze: free the old index, exempt the new.

    The full collection this takes pauses the process once (about 0.1 s), on a reload only.
    """
    if gc.get_freeze_count():
        gc.unfreeze()
        freeze_startup_objects()


NEVER = 1 << 30  # a full-collection threshold no process reaches
_lock = threading.Lock()
_pauses = 0  # how many callers are inside full_collections_paused
_thresholds = gc.get_threshold()  # what to restore when the last one leaves


@contextmanager
def full_collections_paused() -> Iterator[None]:
    """No automatic *full* collection inside this block; young collections go on.

    A full collection walks every tracked object while holding the GIL: with a batch's million
    objects alive, that is a stall of the event loop of a tenth of a second or more, whichever
    thread triggers it. Disabling the collector instead would stop the young collections too:
    the cycles that requests leave behind (sessions, responses) then pile up, and the first
    collection after the block walks all of them at once (0.2-0.4 s in the 100,000-official
    event-loop test). Here the objects a batch keeps reach the oldest generation after two
    short young walks and stay out of sight until the batch frees them by reference counting.

    Re-entrant and safe across threads: the thresholds in force when the first caller entered
    come back when the last one leaves, whatever the order they leave in.
    """
    global _pauses, _thresholds
    with _lock:
        if not _pauses:
            _thresholds = gc.get_threshold()
            young, middle, *_ = _thresholds
            gc.set_threshold(young, middle, NEVER)
        _pauses += 1
    try:
        yield
    finally:
        with _lock:
            _pauses -= 1
            if not _pauses:
                gc.set_threshold(*_thresholds)
