"""Lexical index at 1k / 10k synthetic articles: build (and save) vs load from the cache.

    python benchmarks/index_cache_bench.py [--sizes 1000 10000]

Each phase runs in its own process so its peak RSS is its own. Prints JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def phase(size: int, cache: str, what: str) -> dict[str, float]:
    """One build or load in this process: seconds (wall, CPU) and peak RSS."""
    from benchmarks.faq_bench import synthetic
    from knowledge.checks import load_articles
    from knowledge.index_cache import cache_key, load_or_build
    from tests.support import REAL_KB

    real = load_articles(REAL_KB)[0]
    articles = real + synthetic(real, size - len(real))
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    cpu0, start = time.process_time(), time.perf_counter()
    key_start = time.perf_counter()
    cache_key(articles)
    key_s = time.perf_counter() - key_start
    index = load_or_build(articles, Path(cache))
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu0
    assert index.search("what is the PAUSE method")
    return {"articles": len(articles), "phase": what, "wall_s": round(wall, 3),
            "cpu_s": round(cpu, 3), "key_s": round(key_s, 3),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "rss_before_mb": round(rss0 / 1024, 1)}


def main() -> None:
    """Build then load each size, each in a fresh process."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--phase", nargs=3, help=argparse.SUPPRESS)
    opts = parser.parse_args()
    if opts.phase:
        print(json.dumps(phase(int(opts.phase[0]), opts.phase[1], opts.phase[2])))
        return
    rows = []
    for size in opts.sizes:
        with tempfile.TemporaryDirectory() as cache:
            for what in ("build", "load"):
                out = subprocess.run([sys.executable, __file__, "--phase", str(size), cache, what],
                                     capture_output=True, text=True, check=True).stdout
                rows.append(json.loads(out))
            rows[-1]["cache_file_mb"] = round(
                sum(p.stat().st_size for p in Path(cache).iterdir()) / 2**20, 1)
    print(json.dumps({"rows": rows, "load_average": os.getloadavg()}, indent=1))


if __name__ == "__main__":
    main()
