"""The guard's classifier: word 1-2-grams, multinomial logistic regression.

Weights live in ``guard_model.json`` next to this file, written by ``benchmarks/fit_guard.py``
(trained on the guard set's train split, its refusal threshold calibrated on the calibration split
and on the knowledge base's own question phrasings). Scoring is plain Python over a sparse
feature dict: no numpy at run time, a few microseconds per question.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from handlers.faq.guard_rules import normalise

MODEL_PATH = Path(__file__).with_name("guard_model.json")
ALLOW = "allow"
#: In-word character n-gram sizes. None: on a batch written later (``guard_train_extra``) a
#: words-only model, fitted without it, generalised better than char 3-5-grams (more refusals
#: caught, at a lower calibrated threshold), because char n-grams let short, unusual allowed
#: phrasings of the base ("votesure email address") score high.
CHAR_NGRAMS: tuple[int, ...] = ()


#: Request wrappers dropped before counting n-grams: "give me / show me / can you" carry no act
#: on their own, and a model fitted without the later batch learnt them as signs of a personal-
#: data request (14 of 190 fresh allowed questions refused; 3 once these words are dropped).
STOP_WORDS = frozenset(
    "give gimme me show tell send get find list pull up please can you could would i need want "
    "dame muestrame dime necesito the a an".split())


def features(question: str) -> dict[str, float]:
    """Binary word 1-2-grams without ``STOP_WORDS``, L2-normalised.

    In-word character n-grams of ``CHAR_NGRAMS`` are added when it names any sizes.
    """
    text = normalise(question)
    tokens = [t for t in "".join(ch if ch.isalnum() or ch == "'" else " " for ch in text).split()
              if t not in STOP_WORDS]
    feats: set[str] = {f"w:{t}" for t in tokens}
    feats |= {f"b:{a}_{b}" for a, b in zip(tokens, tokens[1:], strict=False)}
    for token in tokens:
        padded = f"<{token}>"
        for n in CHAR_NGRAMS:
            feats |= {f"c:{padded[i:i + n]}" for i in range(max(len(padded) - n + 1, 0))}
    if not feats:
        return {}
    value = 1.0 / math.sqrt(len(feats))
    return dict.fromkeys(feats, value)


@dataclass(frozen=True)
class GuardModel:
    """Classes (``allow`` first), per-feature weight rows, biases and the refusal threshold."""

    classes: tuple[str, ...]
    weights: dict[str, tuple[float, ...]]
    bias: tuple[float, ...]
    threshold: float

    def probabilities(self, question: str) -> dict[str, float]:
        """Softmax probability of each class."""
        scores = list(self.bias)
        for feat, value in features(question).items():
            row = self.weights.get(feat)
            if row is not None:
                for i, w in enumerate(row):
                    scores[i] += w * value
        top = max(scores)
        exps = [math.exp(s - top) for s in scores]
        total = sum(exps)
        return {c: e / total for c, e in zip(self.classes, exps, strict=True)}

    def refusal(self, question: str) -> tuple[str | None, float]:
        """(the refused category or None, probability the question must be refused)."""
        probs = self.probabilities(question)
        refuse = 1.0 - probs[ALLOW]
        if refuse < self.threshold:
            return None, refuse
        kind = max((c for c in self.classes if c != ALLOW), key=lambda c: probs[c])
        return kind, refuse

    def to_json(self) -> dict[str, object]:
        """JSON-ready data (weights rounded; the fit script prunes near-zero rows)."""
        return {"format": 1, "features": "word 1-2-grams minus request wrappers, binary, L2",
                "classes": list(self.classes), "threshold": self.threshold,
                "bias": [round(b, 5) for b in self.bias],
                "weights": {f: [round(w, 4) for w in row]
                            for f, row in sorted(self.weights.items())}}

    @classmethod
    def from_json(cls, data: dict[str, object]) -> GuardModel:
        """Read what :meth:`to_json` wrote."""
        classes = tuple(str(c) for c in data["classes"])  # type: ignore[attr-defined]
        if not classes or classes[0] != ALLOW:
            raise ValueError("guard model: classes must start with 'allow'")
        weights = {str(f): tuple(float(w) for w in row)
                   for f, row in data["weights"].items()}  # type: ignore[attr-defined]
        return cls(classes, weights, tuple(float(b) for b in data["bias"]),  # type: ignore[attr-defined]
                   float(data["threshold"]))  # type: ignore[arg-type]


@lru_cache(maxsize=1)
def load_model(path: Path = MODEL_PATH) -> GuardModel | None:
    """The shipped model, loaded once per process; None when no model file is present."""
    if not path.exists():
        return None
    return GuardModel.from_json(json.loads(path.read_text(encoding="utf-8")))
