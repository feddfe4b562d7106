"""Lexical index at 1k / 10k articles: build (and save) vs load from the cache, against baselines.

    python benchmarks/index_cache_bench.py [--sizes 1000 10000] [--runs 1]
        [--baseline main=/work/wt/perf-cli-base --baseline pre16=/work/wt/pre16]

The articles are the real base plus synthetic ones (``benchmarks.faq_bench.synthetic``, the
same for every checkout). Each phase runs in its own process, with the checkout's own
interpreter and code, so its CPU and memory are its own:

* ``build``: an empty cache: the index is built (and saved where the checkout has a cache);
* ``load``: the same again, now from the cache (a checkout without one builds again);
* then, in both, the decision layer over the index (``Retriever``) and 200 train questions,
  twice (CPU per question: the first pass meets the candidates for the first time).

Reported per phase: wall and CPU seconds of the index (``index_*``) and of the decision layer
(``retriever_cpu_s``), CPU per question, the key's share, the garbage collector's full passes
within the index's time and after it (``*full_gc*``: they walk every article object, so one
costs about the same wherever it lands), the RSS the phase added
(peak and kept, MB) and the cache file size. Phases of different checkouts alternate. Prints one
JSON object with the machine's load average before and after.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parents[1]
#: Questions asked after the load: the train split (never the held-out one), first 200.
QUESTION_FILE = HERE / "knowledge" / "eval" / "inscope_train.jsonl"
QUESTIONS = 200


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def phase(size: int, cache: str, what: str) -> dict[str, Any]:
    """One build or load in this process (run with the checkout's interpreter and code)."""
    from benchmarks.faq_bench import synthetic
    from knowledge.checks import load_articles
    from knowledge.decide import Retriever
    from knowledge.search import SearchIndex
    from tests.support import REAL_KB

    try:
        from knowledge.index_cache import cache_key, load_or_build
    except ImportError:  # a checkout from before the cache: every start builds
        cache_key, load_or_build = None, None
    real = load_articles(REAL_KB)[0]
    articles = real + synthetic(real, size - len(real))
    # The garbage collector's full passes walk every article object: one is due soon after the
    # articles are made, and lands in whichever part allocates next. Timed apart, not excluded.
    collections: list[float] = []
    started = [0.0]

    def collected(stage: str, info: dict[str, int]) -> None:
        if info["generation"] == 2:
            if stage == "start":
                started[0] = time.process_time()
            else:
                collections.append(time.process_time() - started[0])

    gc.callbacks.append(collected)
    rss0 = _rss_mb()
    cpu0, start = time.process_time(), time.perf_counter()
    key_s = 0.0
    if load_or_build is None:
        index = SearchIndex(articles)
    else:
        key_start = time.process_time()
        cache_key(articles)
        key_s = time.process_time() - key_start
        index = load_or_build(articles, Path(cache))
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu0
    index_gc = list(collections)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kept = _rss_mb() - rss0
    cpu1 = time.process_time()
    retriever = Retriever(index, None)
    retriever_cpu = time.process_time() - cpu1
    questions = [json.loads(line)["q"] for line in
                 QUESTION_FILE.read_text(encoding="utf-8").splitlines()[:QUESTIONS]]
    passes = []
    for _ in range(2):  # the first pass meets every candidate for the first time
        cpu2 = time.process_time()
        for question in questions:
            retriever.search(question, limit=3)
        passes.append(time.process_time() - cpu2)
    assert retriever.search("what is the PAUSE method", limit=1)
    gc.callbacks.remove(collected)
    later_gc = collections[len(index_gc):]
    return {"articles": len(articles), "phase": what, "cached": load_or_build is not None,
            "index_wall_s": round(wall, 3), "index_cpu_s": round(cpu, 3),
            "key_cpu_s": round(key_s, 3), "retriever_cpu_s": round(retriever_cpu, 3),
            "question_cpu_ms_first_pass": round(1000 * passes[0] / len(questions), 2),
            "question_cpu_ms_second_pass": round(1000 * passes[1] / len(questions), 2),
            "index_full_gc": len(index_gc), "index_full_gc_cpu_s": round(sum(index_gc), 3),
            "after_index_full_gc": len(later_gc),
            "after_index_full_gc_cpu_s": round(sum(later_gc), 3),
            "index_peak_rss_added_mb": round(peak - rss0, 1),
            "index_rss_kept_mb": round(kept, 1), "rss_before_mb": round(rss0, 1)}


def run_phase(checkout: Path, size: int, cache: str, what: str) -> dict[str, Any]:
    """``phase`` in a fresh process of ``checkout``'s interpreter, with its code first."""
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    out = subprocess.run([str(checkout / ".venv/bin/python"), str(Path(__file__).resolve()),
                          "--phase", str(size), cache, what], cwd=checkout, env=env,
                         capture_output=True, text=True, check=True).stdout
    row = json.loads(out)
    files = list(Path(cache).iterdir())
    row["cache_file_mb"] = round(sum(p.stat().st_size for p in files) / 2**20, 1)
    return row


def main() -> None:
    """Build then load each size in each checkout (alternating), a fresh process per phase."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--runs", type=int, default=1, help="repeats (medians reported)")
    parser.add_argument("--baseline", action="append", default=[], metavar="LABEL=PATH")
    parser.add_argument("--phase", nargs=3, help=argparse.SUPPRESS)
    opts = parser.parse_args()
    if opts.phase:
        sys.path.insert(0, os.getcwd())
        print(json.dumps(phase(int(opts.phase[0]), opts.phase[1], opts.phase[2])))
        return
    checkouts = {"this": HERE} | {label: Path(path) for label, _, path in
                                  (b.partition("=") for b in opts.baseline)}
    load_before = os.getloadavg()
    rows: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for size in opts.sizes:
        for run in range(opts.runs):
            order = list(checkouts.items())
            if run % 2:
                order.reverse()
            for label, checkout in order:
                with tempfile.TemporaryDirectory() as cache:
                    for what in ("build", "load"):
                        row = run_phase(checkout, size, cache, what)
                        rows.setdefault(label, {}).setdefault(f"{size}/{what}", []).append(row)
    out: dict[str, Any] = {}
    for label, phases in rows.items():
        out[label] = {}
        for name, runs in phases.items():
            merged = dict(runs[0])
            for field, value in runs[0].items():
                if isinstance(value, float):
                    merged[field] = round(statistics.median(r[field] for r in runs), 3)
            merged["runs"] = len(runs)
            out[label][name] = merged
    out["load_average"] = {"before": load_before, "after": os.getloadavg()}
    out["cpus"] = os.cpu_count()
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
