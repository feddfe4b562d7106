"""Report the guard (rules + shipped classifier) on guard splits and the base's own phrasings.

    python benchmarks/guard_report.py calibration heldout
    python benchmarks/guard_report.py base inscope_train inscope_calibration   # false refusals

Per split: refusal rate per refused category (any refusal counts; the category the guard gave
is reported too), false-refusal rate on allowed questions, and which layer decided. Nothing is
fitted or tuned here.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.fit_guard import base_phrasings, jsonl_rows, load_split  # noqa: E402
from handlers.faq.guard import explain  # noqa: E402
from handlers.faq.guard_model import ALLOW  # noqa: E402


def report(pairs: list[tuple[str, str]]) -> dict[str, object]:
    """Figures for (question, class) pairs."""
    total: Counter[str] = Counter()
    refused: Counter[str] = Counter()
    same_kind: Counter[str] = Counter()
    layers: Counter[str] = Counter()
    misses: list[str] = []
    for question, cls in pairs:
        verdict = explain(question)
        total[cls] += 1
        if verdict.kind is not None:
            refused[cls] += 1
            same_kind[cls] += verdict.kind == cls
            layers[verdict.layer.split(":")[0]] += 1
        if (verdict.kind is None) != (cls == ALLOW):
            misses.append(f"{cls}: {question} -> {verdict.kind} ({verdict.layer})")
    out: dict[str, object] = {
        c: {"total": total[c], "refused": refused[c],
            "refusal_rate": round(refused[c] / total[c], 4) if total[c] else None,
            "same_category": same_kind[c]} for c in sorted(total) if c != ALLOW}
    out["allowed"] = {"total": total[ALLOW], "false_refusals": refused[ALLOW],
                      "false_refusal_rate": round(refused[ALLOW] / total[ALLOW], 4)
                      if total[ALLOW] else 0.0}
    out["decided_by"] = dict(layers)
    out["misses"] = misses
    return out


def main(splits: list[str]) -> None:
    """Print one JSON object with a report per split.

    ``base`` is the base's own phrasings and ``inscope_<split>`` an in-scope eval file, all
    allowed; any other name is a guard split.
    """
    figures = {}
    for split in splits:
        pairs = ([(q, ALLOW) for q in base_phrasings()] if split == "base"
                 else [(r["q"], ALLOW) for r in jsonl_rows(split)] if split.startswith("inscope_")
                 else load_split(split))
        figures[split] = report(pairs)
    print(json.dumps(figures, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main(sys.argv[1:] or ["calibration", "base"])
