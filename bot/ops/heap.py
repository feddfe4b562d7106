"""Garbage collection for the long-running processes (``serve``, ``worker``).

CPython's full collection walks every tracked object. Most of a running bot's objects are made
at start-up and live for ever (the knowledge index, libraries, configuration), so once the
process is ready they are moved out of the collector's sight with :func:`gc.freeze`. A full
collection then walks only what requests and sends create: during a broadcast of thousands of
messages this took pauses of about 100 ms out of the event loop, which a person filing an
incident at that moment would feel (see ``benchmarks/broadcast_bench.py``). Frozen objects in
reference cycles are never collected, so a reload (a new knowledge index replacing the old one)
unfreezes, collects the old index, and freezes again.
"""

from __future__ import annotations

import gc


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
