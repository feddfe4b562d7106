"""One-shot CLI timings: wall and user+sys CPU (median of N) for ``ask``, ``kb check`` and
``config check``, optionally against a baseline checkout in the same run, runs interleaved.

    python benchmarks/cli_bench.py --runs 5 [--baseline main=/work/wt/perf-cli-base]
        [--baseline pre16=/work/wt/pre16]

Each entry runs ``<checkout>/.venv/bin/electionbot`` with the checkout as working directory
(its app.yaml, knowledge/ and data/); a first, untimed run per checkout and command warms the
page cache and the index cache. CPU is the child's user+sys from ``getrusage`` (steady on a busy
machine, unlike wall time). Prints one JSON object, with the machine's load average.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

COMMANDS = {
    "ask": ["ask", "what is the PAUSE method"],
    "ask phishing": ["ask", "how do I report a phishing email"],  # issue 16's example
    "kb check": ["kb", "check"],
    "config check": ["config", "check"],
}


def run_once(checkout: Path, args: list[str]) -> tuple[float, float]:
    """Wall seconds and the child's user+sys CPU seconds for one command."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([str(checkout / ".venv/bin/electionbot"), *args], cwd=checkout,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> None:
    """Measure and print JSON."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--baseline", action="append", default=[], metavar="[LABEL=]PATH",
                        help="another checkout to measure in the same run (repeatable)")
    opts = parser.parse_args()
    here = Path(__file__).resolve().parents[1]
    checkouts = {"this": here}
    for entry in opts.baseline:
        label, _, path = entry.rpartition("=")
        checkouts[label or "baseline"] = Path(path)
    load_before = os.getloadavg()
    samples: dict[str, dict[str, list[tuple[float, float]]]] = {
        label: {name: [] for name in COMMANDS} for label in checkouts}
    for name, args in COMMANDS.items():
        for checkout in checkouts.values():  # warm the page cache once
            run_once(checkout, args)
        for i in range(opts.runs):
            order = list(checkouts.items())
            if i % 2:
                order.reverse()
            for label, checkout in order:
                samples[label][name].append(run_once(checkout, args))
    out = {label: {name: {"wall_s_median": round(statistics.median(w for w, _ in runs), 3),
                          "cpu_s_median": round(statistics.median(c for _, c in runs), 3),
                          "runs": len(runs)}
                   for name, runs in per.items()}
           for label, per in samples.items()}
    out["load_average"] = {"before": load_before, "after": os.getloadavg()}
    out["cpus"] = os.cpu_count()
    json.dump(out, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
