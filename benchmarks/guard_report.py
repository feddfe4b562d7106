"""Report the guard (rules + shipped classifier) on guard splits and the base's own phrasings.

    python benchmarks/guard_report.py calibration heldout heldout2 heldout3
    python benchmarks/guard_report.py base inscope_train inscope_calibration   # false refusals
    python benchmarks/guard_report.py abstain_heldout      # the guard kinds of an abstain file
    python benchmarks/guard_report.py --lexical heldout    # the lexical-only path (app default)

By default the guard runs as it does beside the semantic channel (its semantic fit, when the
``semantic`` extra is installed); ``--lexical`` runs it as it does with ``semantic_retrieval:
false``. The output names the classifier that ran (``engine``).

Per split: refusal rate per refused category (any refusal counts; the category the guard gave
is reported too), false-refusal rate on allowed questions, and which layer decided. A split name
is a guard file (``guard_<name>.jsonl``), ``base`` (the base's questions and titles),
``inscope_<split>`` (all allowed) or ``abstain_<split>`` (its partisan / personal-data /
instruction rows, refused, and its other rows, allowed). Nothing is fitted or tuned here.

Misses are listed question by question, except for held-out files (``*heldout*``): those give
aggregate figures only, so nobody reads their questions to tune the guard.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.fit_guard import GUARD_KINDS, base_phrasings, jsonl_rows, load_split  # noqa: E402
from handlers.faq import guard  # noqa: E402
from handlers.faq.guard import explain  # noqa: E402
from handlers.faq.guard_model import ALLOW  # noqa: E402


def report(pairs: list[tuple[str, str]], *, list_misses: bool = True) -> dict[str, object]:
    """Figures for (question, class) pairs; misses listed only when ``list_misses``."""
    total: Counter[str] = Counter()
    refused: Counter[str] = Counter()
    same_kind: Counter[str] = Counter()
    layers: Counter[str] = Counter()
    false_by: Counter[str] = Counter()  # which layer refused an allowed question (a count)
    misses: list[str] = []
    for question, cls in pairs:
        verdict = explain(question)
        total[cls] += 1
        if verdict.kind is not None:
            refused[cls] += 1
            same_kind[cls] += verdict.kind == cls
            layers[verdict.layer.split(":")[0]] += 1
            if cls == ALLOW:
                false_by[verdict.layer.split(":")[0]] += 1
        if (verdict.kind is None) != (cls == ALLOW):
            misses.append(f"{cls}: {question} -> {verdict.kind} ({verdict.layer})")
    out: dict[str, object] = {
        c: {"total": total[c], "refused": refused[c],
            "refusal_rate": round(refused[c] / total[c], 4) if total[c] else None,
            "same_category": same_kind[c]} for c in sorted(total) if c != ALLOW}
    out["allowed"] = {"total": total[ALLOW], "false_refusals": refused[ALLOW],
                      "false_refusal_rate": round(refused[ALLOW] / total[ALLOW], 4)
                      if total[ALLOW] else 0.0, "false_refusals_by": dict(false_by)}
    if list_misses:
        out["decided_by"] = dict(layers)
        out["misses"] = misses
    else:
        out["misses"] = len(misses)
    return out


def pairs_of(split: str) -> list[tuple[str, str]]:
    """(question, class) of one split name (see the module docstring)."""
    if split == "base":
        return [(q, ALLOW) for q in base_phrasings()]
    if split.startswith("inscope_"):
        return [(r["q"], ALLOW) for r in jsonl_rows(split)]
    if split.startswith("abstain_"):
        return [(r["q"], r["kind"] if r["kind"] in GUARD_KINDS else ALLOW)
                for r in jsonl_rows(split)]
    return load_split(split)


def main(argv: list[str] | None = None) -> None:
    """Print one JSON object with a report per split."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("splits", nargs="*", default=["calibration", "base"])
    parser.add_argument("--lexical", action="store_true",
                        help="the lexical-only guard even when the semantic extra is installed")
    args = parser.parse_args(argv)
    guard.use_semantic(not args.lexical)
    try:
        figures: dict[str, object] = {"engine": guard.engine()}
        figures |= {split: report(pairs_of(split), list_misses="heldout" not in split)
                    for split in args.splits}
    finally:
        guard.use_semantic(None)
    print(json.dumps(figures, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
