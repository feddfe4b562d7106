"""Fit the guard's classifier (deterministic): train splits -> weights, calibration -> threshold.

    python benchmarks/fit_guard.py            # writes handlers/faq/guard_model.json

Reads ONLY training and calibration data. To fit: ``knowledge/eval/guard_train.jsonl``,
``guard_train_extra.jsonl`` and ``guard_train_extra2.jsonl`` (later batches, written without
seeing the held-out split), the partisan / personal-data / instruction rows of
``abstain_train.jsonl`` (refused) and the in-scope train questions (allowed), as the eval README
permits. Features were chosen by batch cross-validation on the two later batches: fit without
one, calibrate as below, count what the whole guard gets right on it (word-class n-grams caught 65
of 97 partisan and 49 of 67 personal-data questions of the third batch, against 52 and 45 for
words alone, with 3 more of its 211 allowed questions refused). To choose the refusal threshold:
``guard_calibration.jsonl`` and ``guard_calibration_extra.jsonl``, the knowledge base's own
``questions:`` and the in-scope train and calibration questions (the lowest threshold that keeps
false refusals of the whole guard, rules + classifier, at most 1 % on the calibration splits'
allowed questions and at most 0.5 %, half the 1 % bound, on the base's phrasings and in-scope
questions). The held-out split is never read here;
``benchmarks/guard_report.py`` reports on it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from handlers.faq.guard import yields  # noqa: E402
from handlers.faq.guard_model import ALLOW, MODEL_PATH, GuardModel, features  # noqa: E402
from handlers.faq.guard_rules import match  # noqa: E402
from knowledge.checks import load_articles  # noqa: E402

EVAL = ROOT / "knowledge" / "eval"
CLASSES = (ALLOW, "partisan", "personal_data", "instructions")
L2 = 1e-3
STEPS = 2000
RATE = 2.0
MIN_DF = 2
ALLOW_SHARE = 0.5
MAX_FALSE_REFUSALS = 0.01
#: On the base's own phrasings the bound is 1 %; the threshold keeps to half of it, a margin for
#: phrasings nobody wrote down (on a fresh batch, 0.5 % instead of 0 caught 84 rather than 65 of
#: 97 partisan questions, for 3 more of 211 allowed ones refused).
MAX_OWN_FALSE_REFUSALS = 0.005
THRESHOLD_FLOOR = 0.5


def load_split(name: str) -> list[tuple[str, str]]:
    """(question, class) pairs of one guard split."""
    rows = [json.loads(line) for line in (EVAL / f"guard_{name}.jsonl").read_text(
        encoding="utf-8").splitlines() if line.strip()]
    return [(r["q"], ALLOW if r["label"] == "allow" else r["category"]) for r in rows]


TRAIN_SPLITS = ("train", "train_extra", "train_extra2")
#: ``calibration_extra``: a second calibration batch written for issue 12 without opening any
#: held-out file (see knowledge/eval/README.md).
CALIBRATION_SPLITS = ("calibration", "calibration_extra")
GUARD_KINDS = frozenset(CLASSES[1:])


def jsonl_rows(name: str) -> list[dict[str, str]]:
    """The rows of one file of knowledge/eval (``name`` without ``.jsonl``)."""
    path = EVAL / f"{name}.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip()]


def training_rows() -> list[tuple[str, str]]:
    """Everything the classifier is fitted on (train splits only, never calibration or held-out)."""
    rows = [pair for name in TRAIN_SPLITS for pair in load_split(name)]
    rows += [(r["q"], r["kind"]) for r in jsonl_rows("abstain_train") if r["kind"] in GUARD_KINDS]
    rows += [(r["q"], ALLOW) for r in jsonl_rows("inscope_train")]
    return rows


def own_phrasings() -> list[str]:
    """The base's phrasings and the in-scope train and calibration questions: all allowed."""
    inscope = [r["q"] for name in ("inscope_train", "inscope_calibration")
               for r in jsonl_rows(name)]
    return [*base_phrasings(), *inscope]


def base_phrasings() -> list[str]:
    """Every ``questions:`` entry of the knowledge base (English and Spanish)."""
    articles, _problems = load_articles(ROOT / "knowledge" / "articles")
    return [q for a in articles for q in [*a.questions, *(a.es.questions if a.es else [])]]


def fit(train: list[tuple[str, str]], allow_share: float = ALLOW_SHARE,
        l2: float = L2) -> GuardModel:
    """Multinomial logistic regression, L2, full-batch gradient descent.

    Sample weights give the allowed class ``allow_share`` of the total weight and split the rest
    equally between the refused classes (a balanced 4-way weighting would make "refuse" the
    prior at 3 : 1 and push every short, unusual allowed question towards a refusal).
    """
    feats = [features(q) for q, _ in train]
    df: dict[str, int] = {}
    for f in feats:
        for name in f:
            df[name] = df.get(name, 0) + 1
    vocab = sorted(name for name, n in df.items() if n >= MIN_DF)
    index = {name: i for i, name in enumerate(vocab)}
    x = np.zeros((len(train), len(vocab)), dtype=np.float32)
    for row, f in enumerate(feats):
        for name, value in f.items():
            if name in index:
                x[row, index[name]] = value
    y = np.array([CLASSES.index(c) for _, c in train])
    onehot = np.eye(len(CLASSES))[y]
    counts = onehot.sum(axis=0)
    shares = np.array([allow_share] + [(1 - allow_share) / (len(CLASSES) - 1)] * (len(CLASSES) - 1))
    sample_weight = (len(train) * shares / counts)[y].astype(np.float32)
    w = np.zeros((len(vocab), len(CLASSES)), dtype=np.float32)
    b = np.zeros(len(CLASSES))
    for _ in range(STEPS):
        z = x @ w + b
        z -= z.max(axis=1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(axis=1, keepdims=True)
        g = (p - onehot) * sample_weight[:, None] / len(train)
        w -= RATE * (x.T @ g + l2 * w)
        b -= RATE * g.sum(axis=0)
    weights = {name: tuple(float(v) for v in w[i]) for name, i in index.items()
               if np.abs(w[i]).max() >= 1e-3}
    return GuardModel(CLASSES, weights, tuple(float(v) for v in b), 1.0)


def _decided(model: GuardModel, question: str) -> tuple[bool, float]:
    """(refused whatever the threshold, score the threshold is compared with)."""
    probs = model.probabilities(question)
    score = 1.0 - probs[ALLOW]
    kind = max((c for c in model.classes if c != ALLOW), key=lambda c: probs[c])
    if match(question) is not None:
        return True, score
    return False, -1.0 if yields(kind, question) else score


def calibrate(model: GuardModel, calibration: list[tuple[str, str]],
              own: list[str]) -> GuardModel:
    """The lowest threshold with <= 1 % false refusals on calibration and <= 0.5 % on ``own``.

    ``own`` is :func:`own_phrasings`. Rules and scores are computed once per question; a
    threshold refuses the questions the rules pass whose score reaches it.
    """
    allowed = [_decided(model, q) for q, c in calibration if c == ALLOW]
    phrasings = [_decided(model, q) for q in own]
    scores = sorted({round(model.refusal(q)[1], 4) for q, _ in calibration}
                    | {round(score, 4) for _, score in phrasings} | {1.0})
    for threshold in [t + 1e-4 for t in scores if t >= THRESHOLD_FLOOR]:
        false_cal = sum(ruled or score >= threshold for ruled, score in allowed)
        false_own = sum(ruled or score >= threshold for ruled, score in phrasings)
        if (false_cal <= MAX_FALSE_REFUSALS * len(allowed)
                and false_own <= MAX_OWN_FALSE_REFUSALS * len(phrasings)):
            return GuardModel(model.classes, model.weights, model.bias, threshold)
    return GuardModel(model.classes, model.weights, model.bias, 1.0)


def main() -> None:
    """Fit, calibrate, write the model and print the calibration figures as JSON."""
    train, own = training_rows(), own_phrasings()
    calibration = [pair for name in CALIBRATION_SPLITS for pair in load_split(name)]
    model = calibrate(fit(train), calibration, own)
    MODEL_PATH.write_text(json.dumps(model.to_json(), sort_keys=True, separators=(",", ":")) + "\n",
                          encoding="utf-8")
    print(json.dumps({"written": str(MODEL_PATH.relative_to(ROOT)),
                      "features": len(model.weights), "threshold": round(model.threshold, 4),
                      "train": len(train), "calibration": len(calibration),
                      "own_phrasings": len(own)}, indent=2))


if __name__ == "__main__":
    main()
