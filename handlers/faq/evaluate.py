"""Score answers against a question set (``electionbot kb eval``)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class EvalFileError(ValueError):
    """A malformed line in the question set, with its line number."""


@dataclass(frozen=True)
class EvalItem:
    """One question: either in scope (``expect_any``) or to be declined (``kind``)."""

    line: int
    question: str
    expect_any: tuple[str, ...] = ()
    abstain_kind: str | None = None


@dataclass
class EvalReport:
    """Accuracy on both parts plus the misses."""

    in_scope_total: int = 0
    in_scope_correct: int = 0
    abstain_total: int = 0
    abstain_correct: int = 0
    by_kind: Counter[str] = field(default_factory=Counter)
    by_kind_correct: Counter[str] = field(default_factory=Counter)
    misses: list[dict[str, Any]] = field(default_factory=list)
    retrieval_total: int = 0
    retrieval_top1: int = 0
    retrieval_top3: int = 0
    retrieval_engine: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """Figures as JSON-ready data."""
        return {
            "in_scope": {"total": self.in_scope_total, "correct": self.in_scope_correct,
                         "accuracy": _ratio(self.in_scope_correct, self.in_scope_total)},
            "abstain": {"total": self.abstain_total, "correct": self.abstain_correct,
                        "accuracy": _ratio(self.abstain_correct, self.abstain_total),
                        "by_kind": {k: {"total": n, "correct": self.by_kind_correct[k],
                                        "accuracy": _ratio(self.by_kind_correct[k], n)}
                                    for k, n in sorted(self.by_kind.items())}},
            "partisan": self._kind("partisan"),
            "personal_data": self._kind("personal_data"),
            "retrieval": {"engine": self.retrieval_engine, "total": self.retrieval_total,
                          "top1": _ratio(self.retrieval_top1, self.retrieval_total),
                          "top3": _ratio(self.retrieval_top3, self.retrieval_total)},
            "misses": self.misses,
        }

    def _kind(self, kind: str) -> dict[str, Any]:
        n = self.by_kind.get(kind, 0)
        return {"total": n, "correct": self.by_kind_correct[kind],
                "accuracy": _ratio(self.by_kind_correct[kind], n)}


def _ratio(a: int, b: int) -> float:
    return round(a / b, 4) if b else 1.0


def load_items(path: Path) -> list[EvalItem]:
    """Read a JSONL question set; raise EvalFileError naming the bad line."""
    items = []
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            data = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise EvalFileError(f"{path}:{number}: not JSON ({exc.msg})") from None
        if not isinstance(data, dict) or not isinstance(data.get("q"), str):
            raise EvalFileError(f"{path}:{number}: needs a string field 'q'")
        if data.get("expect") == "abstain":
            items.append(EvalItem(number, data["q"], abstain_kind=str(data.get("kind", "other"))))
        elif isinstance(data.get("expect_any"), list) and data["expect_any"]:
            items.append(EvalItem(number, data["q"], tuple(map(str, data["expect_any"]))))
        else:
            raise EvalFileError(f"{path}:{number}: needs expect_any [...] or expect: abstain")
    return items


def _norm(text: str) -> str:
    return " ".join(text.lower().replace("-", " ").split())


def is_correct(item: EvalItem, answered: bool, answer: str) -> bool:
    """In scope: answered and contains an expected phrase. Abstain: not answered."""
    if item.abstain_kind is not None:
        return not answered
    text = _norm(answer)
    return answered and any(_norm(p) in text for p in item.expect_any)


#: (question) -> the retrieval stage's ranked candidates as (article id, answer text), best first
Retrieve = Callable[[str], list[tuple[str, str]]]


def evaluate(items: list[EvalItem], ask: Callable[[str], dict[str, Any]],
             retrieve: Retrieve | None = None, engine: str | None = None) -> EvalReport:
    """Ask every question through ``ask`` (the ``electionbot ask --json`` contract) and score.

    With ``retrieve``, in-scope questions also score the retrieval stage alone (before the
    answer / abstain decision): top-1 and top-3 hold an article whose text has an expected phrase.
    """
    report = EvalReport(retrieval_engine=engine)
    for item in items:
        if retrieve is not None and item.abstain_kind is None:
            ranked = [is_correct(item, True, text) for _id, text in retrieve(item.question)[:3]]
            report.retrieval_total += 1
            report.retrieval_top1 += bool(ranked[:1] and ranked[0])
            report.retrieval_top3 += any(ranked)
        result = ask(item.question)
        ok = is_correct(item, bool(result["answered"]), str(result.get("answer") or ""))
        if item.abstain_kind is None:
            report.in_scope_total += 1
            report.in_scope_correct += ok
        else:
            report.abstain_total += 1
            report.abstain_correct += ok
            report.by_kind[item.abstain_kind] += 1
            report.by_kind_correct[item.abstain_kind] += ok
        if not ok:
            report.misses.append({"line": item.line, "question": item.question,
                                  "expected": list(item.expect_any) or "abstain",
                                  "got": result.get("article_id"),
                                  "confidence": result.get("confidence")})
    return report
