"""Compute statuses and due reminders for 1,000 / 10,000 / 100,000 officials; print JSON.

Pure computation over preloaded records (what the scheduler does after its database read):
every official is evaluated against its program and the reminder ladder at one instant.
Target: under 2 s for 100,000 officials. Each size is timed over 3 passes: ``seconds`` is the
median wall time, ``seconds_best`` the fastest and ``cpu_seconds_best`` the process CPU time
(useful on a shared machine: ``load_average_1m`` says how busy it was).
"""

from __future__ import annotations

import gc
import json
import os
import random
import statistics
import sys
import time
import tracemalloc
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from handlers.certifications.reminders import OfficialRecord, Policy, plan  # noqa: E402
from handlers.certifications.rules import load_programs  # noqa: E402
from handlers.certifications.status import CompiledProgram, Facts  # noqa: E402

ZONES = {"KS-CLERK": ("America/Chicago", "America/Denver"), "CT-ROV": ("America/New_York",),
         "CERA": ("America/Los_Angeles", "America/Chicago")}
NOW = datetime(2026, 12, 17, 16, tzinfo=UTC)


def make_records(n: int, programs: dict[str, CompiledProgram], seed: int = 5) -> list[OfficialRecord]:
    rng = random.Random(seed)
    codes = sorted(programs)
    records = []
    for i in range(n):
        code = codes[i % len(codes)]
        courses = list(programs[code].courses.values())
        took = date(2019, 1, 1) + timedelta(days=rng.randrange(0, 2900))
        term_type = rng.choice(("two_year", "four_year"))
        facts = Facts(took_office=took, term_end=took + timedelta(days=730 if term_type ==
                                                                 "two_year" else 1460),
                      term_type=term_type, role="x", from_deputy=rng.random() < 0.1,
                      days_to_election=rng.randrange(0, 400), jurisdiction="KS")
        done = sorted((took + timedelta(days=rng.randrange(0, 2000)), c.code, c.hours or 4.0)
                      for c in rng.sample(courses, rng.randrange(0, len(courses) + 1)))
        records.append(OfficialRecord(id=i + 1, time_zone=rng.choice(ZONES[code]),
                                      assignments=[(code, facts)], done=tuple(done),
                                      waived=frozenset({code}) if rng.random() < 0.02
                                      else frozenset(), identity=f"webchat:local:u{i}"))
    return records


def measure(n: int, programs: dict[str, CompiledProgram], policy: Policy,
            repeat: int = 3) -> dict[str, object]:
    """Time ``repeat`` identical passes (wall and CPU), then one traced pass for peak memory."""
    records = make_records(n, programs)
    gc.collect()
    gc.freeze()  # preloaded data is long-lived: keep the cyclic GC from re-scanning it
    walls, cpus = [], []
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        due = plan(records, programs, NOW, policy)
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    # Memory is measured on a separate, identical pass: tracemalloc slows allocation several-fold.
    tracemalloc.start()
    plan(records, programs, NOW, policy)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    gc.unfreeze()
    statuses: dict[str, int] = {}
    for r in records:
        for s in r.standings:
            statuses[s.status] = statuses.get(s.status, 0) + 1
    return {"officials": n, "seconds": round(statistics.median(walls), 3),
            "seconds_best": round(min(walls), 3), "cpu_seconds_best": round(min(cpus), 3),
            "peak_mib": round(peak / 2**20, 2), "due_reminders": len(due),
            "statuses": dict(sorted(statuses.items()))}


def main() -> None:
    """Run 1k, 10k and 100k; print JSON (``seconds`` is the median of 3 passes)."""
    programs = {c: CompiledProgram(p) for c, p in load_programs().items()}
    policy = Policy(holidays=frozenset({date(2026, 12, 25)}))
    runs = [measure(n, programs, policy) for n in (1_000, 10_000, 100_000)]
    print(json.dumps({"benchmark": "cert_bench", "now": NOW.isoformat(), "runs": runs,
                      "cpus": os.cpu_count(), "load_average_1m": round(os.getloadavg()[0], 2),
                      "target_seconds_100k": 2.0,
                      "meets_target": runs[-1]["seconds"] < 2.0}, indent=2))  # type: ignore[operator]


if __name__ == "__main__":
    main()
