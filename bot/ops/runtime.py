"""How a long-running process (``serve``, ``worker``) runs once it is ready.

Two settings keep the event loop prompt while other work shares the process:

- :func:`bot.ops.heap.freeze_startup_objects`: full garbage collections no longer walk the
  objects made at start-up;
- a GIL switch interval of 1 ms instead of CPython's 5 ms. Heavy periodic work (a reminder
  pass's planning, SQLite writes) runs in worker threads so that it does not hold the loop; but
  each time the loop thread releases the GIL (a system call: a log write, a file's status, a
  socket) a busy worker thread may keep it for a whole interval. A step that releases it ten
  times then waited up to 50 ms at 5 ms per handoff: in the mixed event-loop test
  (``tests/app/test_event_loop.py``) steps using 1 ms of CPU took 50-60 ms of wall time while
  a reminder pass planned in its thread. At 1 ms the loop waits at most about 1 ms a handoff.
"""

from __future__ import annotations

import sys

from bot.ops.heap import freeze_startup_objects

SWITCH_INTERVAL = 0.001  # seconds a thread may hold the GIL while another waits for it


def ready_to_serve() -> None:
    """Call once the process has started and is about to serve (after start-up's imports)."""
    sys.setswitchinterval(SWITCH_INTERVAL)
    freeze_startup_objects()
