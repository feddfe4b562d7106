"""Idle memory and start-up cost of ``electionbot serve --demo``, against baselines.

    python benchmarks/serve_rss_bench.py [--runs 2] [--settle 10]
        [--baseline main=/work/wt/perf-cli-base --baseline pre16=/work/wt/pre16]

For each checkout and for the semantic channel off and on (``semantic_retrieval`` in a copy of
its app.yaml, its own knowledge/articles; on needs the ``semantic`` extra, and its embeddings
come from the shared disk cache, warmed by an untimed start), it starts the checkout's own
``electionbot serve --demo`` on a free port in a temporary folder (fresh SQLite database), waits
for ``/healthz``, lets it idle ``--settle`` seconds and reads ``/proc/PID/status``: resident
memory now (idle) and its peak, and the CPU the process used to get there; then, with still no
request, the CPU it spends per second over ``--idle`` seconds (its background loops). Checkouts
alternate.
Prints one JSON object with the machine's load average before and after.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _status_mb(pid: int, field: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise LookupError(field)


def start_once(checkout: Path, semantic: bool, settle: float, idle: float = 20.0
               ) -> dict[str, Any]:
    """One start of ``serve --demo``: idle and peak RSS (MB), CPU and wall to ready, and the
    CPU it spends per second over ``idle`` seconds with no requests."""
    with tempfile.TemporaryDirectory() as home:
        config = yaml.safe_load((checkout / "app.yaml").read_text(encoding="utf-8"))
        config["knowledge_path"] = str(checkout / "knowledge" / "articles")
        config["semantic_retrieval"] = semantic
        # the labelled questions as the checkout ships them (globs are relative to app.yaml)
        config["question_memory"] = [str(checkout / g) for g in config.get("question_memory", [])]
        if not config["question_memory"]:
            del config["question_memory"]  # a checkout from before the setting existed
        (Path(home) / "app.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
        if (checkout / "demo.yaml").is_file():
            (Path(home) / "demo.yaml").write_bytes((checkout / "demo.yaml").read_bytes())
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("SLACK_", "MICROSOFT_", "DATABASE_URL", "ELECTIONBOT_"))}
        env.update(ELECTIONBOT_CONFIG=f"{home}/app.yaml", DATABASE_URL=f"sqlite:///{home}/bot.db")
        port = _free_port()
        start = time.perf_counter()
        proc = subprocess.Popen([str(checkout / ".venv/bin/electionbot"), "serve", "--demo",
                                 "--port", str(port)], cwd=home, env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            while True:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz",
                                                timeout=2) as response:
                        response.read()
                    break
                except OSError:
                    if proc.poll() is not None:
                        raise RuntimeError(proc.stderr.read().decode()[-2000:]) from None
                    time.sleep(0.2)
            ready = time.perf_counter() - start
            time.sleep(settle)
            cpu = _cpu_seconds(proc.pid)
            rss, peak = _status_mb(proc.pid, "VmRSS"), _status_mb(proc.pid, "VmHWM")
            time.sleep(idle)  # nobody asks anything: what the background loops cost
            idle_cpu = _cpu_seconds(proc.pid) - cpu
            return {"idle_rss_mb": round(rss, 1), "peak_rss_mb": round(peak, 1),
                    "start_cpu_s": round(cpu, 2), "ready_wall_s": round(ready, 2),
                    "idle_cpu_ms_per_s": round(1000 * idle_cpu / idle, 2)}
        finally:
            proc.terminate()
            proc.wait(timeout=60)


def _cpu_seconds(pid: int) -> float:
    stat = Path(f"/proc/{pid}/stat").read_text().split()
    return (int(stat[13]) + int(stat[14])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    """Alternate checkouts, semantic off then on; medians of ``--runs``."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--settle", type=float, default=10.0)
    parser.add_argument("--baseline", action="append", default=[], metavar="LABEL=PATH")
    parser.add_argument("--idle", type=float, default=20.0,
                        help="seconds with no requests over which idle CPU is measured")
    parser.add_argument("--no-semantic", action="store_true", help="measure semantic off only")
    opts = parser.parse_args()
    checkouts = {"this": HERE}
    for entry in opts.baseline:
        label, _, path = entry.rpartition("=")
        checkouts[label or "baseline"] = Path(path)
    modes = [False] if opts.no_semantic else [False, True]
    load_before = os.getloadavg()
    if not opts.no_semantic:  # fill the embedding cache once, untimed
        start_once(HERE, True, 0, idle=0.1)
    samples: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for semantic in modes:
        for run in range(opts.runs):
            order = list(checkouts.items())
            if run % 2:
                order.reverse()
            for label, checkout in order:
                row = start_once(checkout, semantic, opts.settle, opts.idle)
                key = "semantic_on" if semantic else "semantic_off"
                samples.setdefault(label, {}).setdefault(key, []).append(row)
                print(label, key, row, file=sys.stderr)
    out: dict[str, Any] = {
        label: {mode: {field: statistics.median(r[field] for r in rows) for field in rows[0]}
                | {"runs": len(rows)} for mode, rows in per.items()}
        for label, per in samples.items()}
    out["load_average"] = {"before": load_before, "after": os.getloadavg()}
    out["cpus"] = os.cpu_count()
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
