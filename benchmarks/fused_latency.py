"""Latency and CPU per question of the fused engine (lexical + semantic + decision), any checkout.

Usage: .venv/bin/python benchmarks/fused_latency.py [--root CHECKOUT] [--sizes 0,1000]
           [--queries 1000] [--cache DIR] [--lexical]

The ``fused`` engine of ``benchmarks/faq_bench.py`` alone (``Retriever.search(q, limit=4)``, the
question-vector cache emptied before every question, so every question runs the model), timed on
the code of ``--root`` (default: this checkout; run another checkout with its own venv), so a
before / after comparison is two back-to-back runs of this script. Questions: the train and
calibration questions of ``knowledge/eval`` and the shared development set (never the held-out
ones), then typo'd variants of them, up to ``--queries``. Sizes as in ``faq_bench``: 0 is the real
base, larger sizes add its synthetic articles. Prints one JSON line per size: wall p50 / p99 and
process CPU per question (every thread of the process: the model's too), with the load average.
``--lexical`` times the lexical decision engine (no semantic channel) instead; ``--memory`` adds
the question memory of the checkout's app.yaml (``question_memory``, ``knowledge.memory``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]


def pct(values: list[float], p: float) -> float:
    """Nearest-rank percentile, rounded to microseconds."""
    v = sorted(values)
    return round(v[min(len(v) - 1, int(len(v) * p))], 3)


def main() -> None:
    """Time the fused engine at each size."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--root", type=Path, default=HERE)
    parser.add_argument("--sizes", default="0,1000")
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--cache", type=Path, default=None)
    parser.add_argument("--lexical", action="store_true")
    parser.add_argument("--memory", action="store_true")
    args = parser.parse_args()
    root = args.root.resolve()
    sys.path.insert(0, str(root))
    import benchmarks.faq_bench as fb
    from knowledge.checks import load_articles
    from knowledge.decide import Retriever, kinds_masks
    from knowledge.search import SearchIndex

    real, _problems = load_articles(root / "knowledge" / "articles")
    files = [p for p in sorted((root / "knowledge" / "eval").glob("*.jsonl"))
             if p.name.startswith(("inscope_", "abstain_")) and "heldout" not in p.name]
    questions = [i["q"] for i in fb.read_set([*files, fb.DEV])]
    queries = fb.timing_queries(questions, args.queries)[:max(args.queries, 1)]
    for size in (int(s) for s in args.sizes.split(",")):
        articles = real + fb.synthetic(real, max(0, size - len(real))) if size else real
        start = time.perf_counter()
        index = SearchIndex(articles)
        # As a server's index has them (kept in its index cache): each article's fact kinds
        # found once, not by the first question to rank it.
        index.kinds = kinds_masks(articles)
        if args.lexical:
            retriever = Retriever(index, None)
            clear = None
        else:
            from knowledge.semantic import SemanticIndex, load_embedder
            embedder = load_embedder()
            assert embedder is not None, "needs the semantic extra"
            sem = SemanticIndex(articles, embedder, cache_dir=args.cache)
            memory = None
            if args.memory:
                from app.config import load_app_config
                from knowledge.memory import QuestionMemory, read_labelled, resolve

                paths = resolve(load_app_config(root / "app.yaml").question_memory, root)
                memory = QuestionMemory.build(read_labelled(paths),
                                              article_ids=[a.id for a in articles],
                                              embedder=embedder)
            retriever = Retriever(index, sem, memory=memory)
            clear = sem.queries.clear
        build = time.perf_counter() - start
        for warm in ("warm up the caches", "pause", "phone number"):
            retriever.search(warm, limit=4)
        wall, cpu = [], []
        load = os.getloadavg()[0]
        for q in queries:
            if clear is not None:
                clear()
            t0, c0 = time.perf_counter(), time.process_time()
            retriever.search(q, limit=4)
            cpu.append((time.process_time() - c0) * 1000)
            wall.append((time.perf_counter() - t0) * 1000)
        engine = retriever.engine + ("+memory" if getattr(retriever, "uses_memory", False)
                                     else "")
        print(json.dumps({"root": str(root), "engine": engine,
                          "articles": len(articles), "queries": len(queries),
                          "build_s": round(build, 2), "p50_ms": pct(wall, 0.5),
                          "p99_ms": pct(wall, 0.99), "cpu_p50_ms": pct(cpu, 0.5),
                          "cpu_p99_ms": pct(cpu, 0.99),
                          "cpu_mean_ms": round(sum(cpu) / len(cpu), 3),
                          "load_before": round(load, 2),
                          "load_after": round(os.getloadavg()[0], 2)}), flush=True)


if __name__ == "__main__":
    main()
