"""Time per question of the guard (rules + classifier), this checkout against a baseline checkout.

Usage: .venv/bin/python benchmarks/guard_latency.py [--baseline CHECKOUT] [--semantic]

Each checkout runs in its own process (``--child``), on the same questions: every question of
``knowledge/eval`` except the held-out files, and the base's own phrasings (about 11,000), each
checked once after a warm-up pass over 200 of them (rules compiled, the model file read; the
rules' caches are emptied before the timed pass). Prints one JSON object: per checkout, wall
p50 / p99 / max and mean process CPU per question, in milliseconds. ``--baseline`` is another
checkout of the project (say ``git worktree add /tmp/base <commit>``); without it only this
checkout is timed. ``--semantic`` times the semantic fit (the embedding comes from the
knowledge base's cache and is computed once per question in the warm-up, so the model is not
timed).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]


def questions(root: Path) -> list[str]:
    """Every non-held-out question of ``root``'s eval folder (first 400 of each file)."""
    out: list[str] = []
    for path in sorted((root / "knowledge" / "eval").glob("*.jsonl")):
        if "heldout" in path.name:
            continue
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()
                if line.strip()]
        out += [row["q"] for row in rows[:400]]
    return out


def child(root: Path, semantic: bool) -> dict[str, object]:
    """Time the guard of ``root`` (this process imports that checkout)."""
    sys.path.insert(0, str(root))
    from benchmarks.fit_guard import base_phrasings
    from handlers.faq import guard, guard_rules

    guard.use_semantic(semantic)
    guard.prepare()
    asked = questions(HERE) + base_phrasings()
    warm = asked if semantic else asked[:200]
    for question in warm:
        guard.explain(question)
    for cached in ("scan", "part_starts", "told_then_asked"):
        if hasattr(getattr(guard_rules, cached, None), "cache_clear"):  # as that checkout has them
            getattr(guard_rules, cached).cache_clear()
    wall: list[float] = []
    cpu_start = time.process_time()
    for question in asked:
        start = time.perf_counter()
        guard.explain(question)
        wall.append(time.perf_counter() - start)
    cpu = time.process_time() - cpu_start
    wall.sort()
    return {"questions": len(asked), "engine": guard.engine(),
            "p50_ms": round(wall[len(wall) // 2] * 1e3, 3),
            "p99_ms": round(wall[int(len(wall) * 0.99)] * 1e3, 3),
            "max_ms": round(wall[-1] * 1e3, 3),
            "cpu_per_question_ms": round(cpu / len(asked) * 1e3, 4)}


def main() -> None:
    """Run each checkout in its own process and print the figures as JSON."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--baseline", type=Path, default=None)
    parser.add_argument("--semantic", action="store_true")
    parser.add_argument("--child", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        print(json.dumps(child(args.child.resolve(), args.semantic)))
        return
    roots = {"this": HERE} | ({"baseline": args.baseline.resolve()} if args.baseline else {})
    out: dict[str, object] = {"load_average": os.getloadavg()[0]}
    for name, root in roots.items():
        command = [sys.executable, str(Path(__file__).resolve()), "--child", str(root)]
        done = subprocess.run(command + (["--semantic"] if args.semantic else []),
                              capture_output=True, text=True, check=True)
        out[name] = json.loads(done.stdout.strip().splitlines()[-1])
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
