"""Fit the guard's classifier (deterministic): every train and calibration batch -> weights + threshold.

    python benchmarks/fit_guard.py            # cross-validate, fit, write handlers/faq/guard_model.json
    python benchmarks/fit_guard.py --cv-only  # the cross-validation figures only (nothing written)
    python benchmarks/fit_guard.py --grid     # the same for each L2 strength of ``GRID``
    python benchmarks/fit_guard.py --semantic # the fit that also reads question embeddings
                                              # (needs the semantic extra; writes
                                              # handlers/faq/guard_model_semantic.json)

Reads ONLY training and calibration data, never a held-out file:

- refused / allowed examples: the guard batches of ``BATCHES`` (``guard_<batch>.jsonl``: the first
  train and calibration splits and the later batches, written without seeing the held-out split),
  the partisan / personal-data / instruction rows of ``abstain_train.jsonl`` (refused) and the
  in-scope train questions (allowed), as the eval README permits;
- the knowledge base's own phrasings (every article's ``questions:`` and title, English and
  Spanish) and the in-scope calibration questions: allowed. They are fitted on too (the guard
  must never refuse the base's own questions, nor questions like them), and cross-validated by
  article: each article's phrasings fall in one fold.

Method. Features: :func:`handlers.faq.guard_model.features`. Multinomial logistic regression
(allowed + the three refused acts), L2, sample weights giving the allowed class ``ALLOW_SHARE`` of
the total, fitted by accelerated full-batch gradient descent over a sparse design matrix.
Leave-one-batch-out cross-validation over the guard batches (each batch was written apart, so
leaving one out asks how the fit does on phrasings it never saw; the base's articles are dealt
to the same folds) gives every guard question and base phrasing an out-of-fold score; the fit
on everything is what ships. Its threshold is the lowest at which the whole guard (rules +
classifier) refuses, on out-of-fold scores, at most ``MAX_FALSE_REFUSALS`` of the allowed guard
questions and, on their own, of the calibration batches' allowed questions, and at most
``MAX_OWN_FALSE_REFUSALS`` of the base's phrasings and in-scope calibration questions; and the
fit that ships refuses none of those phrasings.
The semantic fit's model file names the embedder it was fitted on (``embedder``); the guard
reads it only beside that embedder.
With ``--semantic`` every question's sentence embedding (:mod:`knowledge.semantic`, clipped and
embedded exactly as retrieval embeds a question; vectors cached on disk) joins the features as a
dense block scaled by ``DENSE_SCALE``; the same cross-validation and threshold rule apply, and the
result is the fit the guard uses while the semantic channel runs.
``benchmarks/guard_report.py`` reports the held-out splits (``heldout``, ``heldout2``, ``heldout3``).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from handlers.faq.guard import yields  # noqa: E402
from handlers.faq.guard_model import (  # noqa: E402
    ALLOW,
    MODEL_PATH,
    SEMANTIC_MODEL_PATH,
    GuardModel,
    features,
)
from handlers.faq.guard_rules import match  # noqa: E402
from knowledge.checks import load_articles  # noqa: E402

EVAL = ROOT / "knowledge" / "eval"
CLASSES = (ALLOW, "partisan", "personal_data", "instructions")
GUARD_KINDS = frozenset(CLASSES[1:])
#: Guard batches, in the order they were written (see knowledge/eval/README.md).
BATCHES = ("train", "calibration", "train_extra", "train_extra2", "calibration_extra",
           "train_extra3", "calibration_extra2", "train_extra4", "train_extra5",
           "calibration_extra3", "train_extra6", "calibration_extra4", "train_extra7",
           "calibration_extra5", "train_extra8", "calibration_extra6", "train_extra9",
           "calibration_extra7", "train_extra10", "calibration_extra8", "train_extra11",
           "calibration_extra9", "train_extra12", "calibration_extra10", "train_extra13",
           "calibration_extra11")
TRAIN_SPLITS = tuple(b for b in BATCHES if b.startswith("train"))
CALIBRATION_SPLITS = tuple(b for b in BATCHES if b.startswith("calibration"))
L2 = 1e-5
GRID = (1e-3, 1e-4, 3e-5, 1e-5)
STEPS = 1500
RATE = 2.0
MIN_DF = 2
ALLOW_SHARE = 0.5
MAX_FALSE_REFUSALS = 0.01
#: The bound is 1 % on the base's phrasings too; the threshold keeps to half of it, a margin for
#: phrasings of articles nobody has written yet.
MAX_OWN_FALSE_REFUSALS = 0.005
THRESHOLD_FLOOR = 0.5
#: Weight of the embedding block against the (L2-normalised) sparse features, semantic fit.
DENSE_SCALE = 1.0
#: Question vectors of the semantic fit, kept between runs (keyed by engine and text hash).
VECTOR_CACHE = Path.home() / ".cache" / "electionbot" / "guard-vectors"


@dataclass(frozen=True)
class Example:
    """One labelled question, the batch it came from and its cross-validation fold.

    ``fold`` is a guard batch name, or None for rows every fold fits on (abstain and in-scope
    train rows, which belong to no batch).
    """

    question: str
    cls: str
    batch: str
    fold: str | None


def article_fold(article_id: str) -> str:
    """The fold (a guard batch name) an article's phrasings are dealt to, by a hash of its id."""
    digest = hashlib.sha256(article_id.encode("utf-8")).digest()
    return BATCHES[int.from_bytes(digest[:4], "big") % len(BATCHES)]


def jsonl_rows(name: str) -> list[dict[str, str]]:
    """The rows of one file of knowledge/eval (``name`` without ``.jsonl``)."""
    path = EVAL / f"{name}.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip()]


def load_split(name: str) -> list[tuple[str, str]]:
    """(question, class) pairs of one guard file (``guard_<name>.jsonl``)."""
    return [(r["q"], ALLOW if r["label"] == "allow" else r["category"])
            for r in jsonl_rows(f"guard_{name}")]


def examples() -> list[Example]:
    """Everything the classifier may be fitted on (train and calibration data only)."""
    rows = [Example(q, c, name, name) for name in BATCHES for q, c in load_split(name)]
    rows += [Example(r["q"], r["kind"], "abstain_train", None) for r in jsonl_rows("abstain_train")
             if r["kind"] in GUARD_KINDS]
    rows += [Example(r["q"], ALLOW, "inscope_train", None) for r in jsonl_rows("inscope_train")]
    return rows + own_examples()


def own_examples() -> list[Example]:
    """The base's phrasings and the in-scope calibration questions (batch ``own``), by article."""
    return [*(Example(q, ALLOW, "own", article_fold(a)) for a, q in base_phrasings_by_article()),
            *(Example(r["q"], ALLOW, "own", article_fold(r["article"]))
              for r in jsonl_rows("inscope_calibration"))]


def training_rows() -> list[tuple[str, str]]:
    """(question, class) of :func:`examples` (what the shipped fit sees)."""
    return [(e.question, e.cls) for e in examples()]


def base_phrasings_by_article() -> list[tuple[str, str]]:
    """(article id, phrasing) for every ``questions:`` entry and title (English and Spanish)."""
    articles, _problems = load_articles(ROOT / "knowledge" / "articles")
    out: list[tuple[str, str]] = []
    for a in articles:
        texts = [*a.questions, a.title, *([*a.es.questions, a.es.title] if a.es else [])]
        out += [(a.id, q) for q in texts]
    return out


def base_phrasings() -> list[str]:
    """Every ``questions:`` entry and title of the knowledge base (English and Spanish)."""
    return [q for _, q in base_phrasings_by_article()]


def own_phrasings() -> list[str]:
    """The base's phrasings and the in-scope calibration questions: all allowed."""
    return [e.question for e in own_examples()]


# --- the fit -----------------------------------------------------------------------------------

@dataclass
class Design:
    """A sparse design matrix in coordinate form over a fixed vocabulary."""

    rows: np.ndarray
    cols: np.ndarray
    vals: np.ndarray
    n: int
    width: int = 0
    dense: np.ndarray | None = None  # (n, d): columns after the sparse vocabulary

    @classmethod
    def build(cls, feats: Sequence[dict[str, float]], index: dict[str, int],
              dense: np.ndarray | None = None) -> Design:
        r: list[int] = []
        c: list[int] = []
        v: list[float] = []
        for i, f in enumerate(feats):
            for name, value in f.items():
                j = index.get(name)
                if j is not None:
                    r.append(i)
                    c.append(j)
                    v.append(value)
        return cls(np.array(r, dtype=np.int64), np.array(c, dtype=np.int64),
                   np.array(v, dtype=np.float64), len(feats), len(index), dense)

    def times(self, w: np.ndarray) -> np.ndarray:
        """X @ w."""
        out = np.stack([np.bincount(self.rows, weights=self.vals * w[self.cols, k],
                                    minlength=self.n) for k in range(w.shape[1])], axis=1)
        if self.dense is not None:
            out += self.dense @ w[self.width:]
        return out

    def t_times(self, g: np.ndarray, width: int) -> np.ndarray:
        """X.T @ g."""
        out = np.stack([np.bincount(self.cols, weights=self.vals * g[self.rows, k],
                                    minlength=self.width).astype(np.float64)
                        for k in range(g.shape[1])], axis=1)
        if self.dense is not None:
            out = np.vstack([out, self.dense.T @ g])
        return out


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    p = np.exp(z)
    return p / p.sum(axis=1, keepdims=True)


def fit(feats: Sequence[dict[str, float]], classes: Sequence[str], *, l2: float = L2,
        allow_share: float = ALLOW_SHARE, steps: int = STEPS,
        vectors: np.ndarray | None = None) -> GuardModel:
    """Multinomial logistic regression, L2, Nesterov-accelerated full-batch gradient descent.

    Sample weights give the allowed class ``allow_share`` of the total weight and split the rest
    equally between the refused classes (a balanced 4-way weighting would make "refuse" the
    prior at 3 : 1 and push every short, unusual allowed question towards a refusal).
    ``vectors``: question embeddings (semantic fit), a dense block scaled by ``DENSE_SCALE``.
    """
    df = Counter(name for f in feats for name in f)
    vocab = sorted(name for name, n in df.items() if n >= MIN_DF)
    index = {name: i for i, name in enumerate(vocab)}
    dense = vectors * DENSE_SCALE if vectors is not None else None
    x = Design.build(feats, index, dense)
    width = len(vocab) + (dense.shape[1] if dense is not None else 0)
    k = len(CLASSES)
    y = np.array([CLASSES.index(c) for c in classes])
    onehot = np.eye(k)[y]
    counts = np.maximum(onehot.sum(axis=0), 1)
    shares = np.array([allow_share] + [(1 - allow_share) / (k - 1)] * (k - 1))
    weight = (len(y) * shares / counts)[y]
    w = np.zeros((width, k))
    b = np.zeros(k)
    look_w, look_b, t = w.copy(), b.copy(), 1.0
    for _ in range(steps):
        p = _softmax(x.times(look_w) + look_b)
        g = (p - onehot) * weight[:, None] / len(y)
        new_w = look_w - RATE * (x.t_times(g, width) + l2 * look_w)
        new_b = look_b - RATE * g.sum(axis=0)
        t_next = (1 + (1 + 4 * t * t) ** 0.5) / 2
        momentum = (t - 1) / t_next
        look_w = new_w + momentum * (new_w - w)
        look_b = new_b + momentum * (new_b - b)
        w, b, t = new_w, new_b, t_next
    weights = {name: tuple(float(v) for v in w[i]) for name, i in index.items()
               if np.abs(w[i]).max() >= 1e-3}
    dense_rows = tuple(tuple(float(v) for v in row) for row in w[len(vocab):])
    return GuardModel(CLASSES, weights, tuple(float(v) for v in b), 1.0, dense_rows,
                      DENSE_SCALE if dense_rows else 1.0)


# --- cross-validation and the threshold --------------------------------------------------------

def refusal_score(model: GuardModel, question: str, vector: np.ndarray | None = None) -> float:
    """The score a threshold is compared with (-1 when a protective frame excuses the verdict)."""
    probs = model.probabilities(question, None if vector is None else vector.tolist())
    kind = max((c for c in model.classes if c != ALLOW), key=lambda c: probs[c])
    return -1.0 if yields(kind, question) else 1.0 - probs[ALLOW]


@dataclass
class Scored:
    """Rules' verdict and classifier score per question."""

    ruled: list[bool]
    score: list[float]

    def refused(self, threshold: float) -> list[bool]:
        return [r or s >= threshold for r, s in zip(self.ruled, self.score, strict=True)]

    def added(self, threshold: float) -> int:
        """Questions the classifier refuses that the rules let through (what a threshold moves)."""
        return sum(not r and s >= threshold for r, s in zip(self.ruled, self.score, strict=True))


def out_of_fold(data: Sequence[Example], feats: Sequence[dict[str, float]], *,
                l2: float = L2, log: Callable[[str], None] = lambda _: None,
                vectors: np.ndarray | None = None) -> list[float]:
    """Each question's score by the fit on every other fold (rows of no fold: nan)."""
    scores = [float("nan")] * len(data)
    for fold in BATCHES:
        inside = [i for i, e in enumerate(data) if e.fold != fold]
        model = fit([feats[i] for i in inside], [data[i].cls for i in inside], l2=l2,
                    vectors=None if vectors is None else vectors[inside])
        for i, e in enumerate(data):
            if e.fold == fold:
                scores[i] = refusal_score(model, e.question,
                                          None if vectors is None else vectors[i])
        log(f"fold {fold}: done")
    return scores


def choose_threshold(allowed: Scored, own: Scored, calibration: Scored | None = None,
                     shipped_own: Scored | None = None) -> float:
    """Lowest threshold (>= ``THRESHOLD_FLOOR``) within every false-refusal bound, else 1.0.

    Out-of-fold, the classifier's own false refusals (beyond the rules'): at most
    ``MAX_FALSE_REFUSALS`` of the allowed guard questions and of the calibration batches'
    allowed questions (``calibration``) on their own, at most ``MAX_OWN_FALSE_REFUSALS`` of the
    base's phrasings and in-scope calibration questions; and none of those phrasings refused by
    the fit that ships (``shipped_own``, in-sample). The rules' own false refusals are no
    threshold's to trade: counted in the bound, a rule refusing a few allowed calibration
    questions would push the threshold up until the classifier refused almost nothing (they are
    reported apart, ``rules_alone_false_refusals``, and fixed in the rules).
    """
    bounds = [(allowed, MAX_FALSE_REFUSALS), (own, MAX_OWN_FALSE_REFUSALS)]
    bounds += [(calibration, MAX_FALSE_REFUSALS)] if calibration is not None else []
    bounds += [(shipped_own, 0.0)] if shipped_own is not None else []
    candidates = sorted({round(s, 4) for scored, _ in bounds for s in scored.score} | {1.0})
    for value in candidates:
        threshold = value + 1e-4
        if threshold < THRESHOLD_FLOOR:
            continue
        if all(scored.added(threshold) <= bound * len(scored.ruled) for scored, bound in bounds):
            return threshold
    return 1.0


def figures(data: Sequence[Example], refused: Sequence[bool], batch: str | None = None
            ) -> dict[str, str]:
    """``refused/total`` per class over the guard batches (or one batch)."""
    out = {}
    for cls in CLASSES:
        picked = [r for e, r in zip(data, refused, strict=True)
                  if e.cls == cls and e.batch in BATCHES and (batch is None or e.batch == batch)]
        out[cls] = f"{sum(picked)}/{len(picked)}"
    return out


def question_vectors(texts: Sequence[str]) -> np.ndarray:
    """Each question's embedding as retrieval computes it (clipped the same way; disk-cached)."""
    from knowledge.semantic import QUERY_TOKENS, EmbeddingCache, clip, load_embedder

    embedder = load_embedder()
    if embedder is None:
        raise SystemExit("--semantic needs the semantic extra (pip install -e '.[semantic]')")
    cache = EmbeddingCache(VECTOR_CACHE, embedder.name)
    stored = cache.load()
    clipped = [clip(t[:2000], embedder.token_count, QUERY_TOKENS) for t in texts]
    keys = [hashlib.sha256(t.encode("utf-8")).digest()[:16] for t in clipped]
    todo = sorted({(k, t) for k, t in zip(keys, clipped, strict=True) if k not in stored})
    for start in range(0, len(todo), 64):
        part = todo[start:start + 64]
        for (key, _), vec in zip(part, embedder.queries([t for _, t in part]), strict=True):
            stored[key] = vec
    if todo:
        cache.save(list(stored), np.stack(list(stored.values())))
    return np.stack([stored[k] for k in keys]).astype(np.float64)


def embedder_name() -> str:
    """The name of the embedder the semantic fit reads (recorded in its model file)."""
    from knowledge.semantic import load_embedder

    embedder = load_embedder()
    if embedder is None:
        raise SystemExit("--semantic needs the semantic extra (pip install -e '.[semantic]')")
    return str(embedder.name)


def cross_validate(l2: float = L2, log: Callable[[str], None] = lambda _: None, *,
                   semantic: bool = False) -> dict[str, object]:
    """Out-of-fold figures at the threshold chosen on out-of-fold scores, and the fit on all."""
    data = examples()
    feats = [features(e.question) for e in data]
    vectors = question_vectors([e.question for e in data]) if semantic else None
    oof = out_of_fold(data, feats, l2=l2, log=log, vectors=vectors)
    model = fit(feats, [e.cls for e in data], l2=l2, vectors=vectors)
    ruled = [match(e.question) is not None for e in data]
    guard = [i for i, e in enumerate(data) if e.batch in BATCHES and e.cls == ALLOW]
    own = [i for i, e in enumerate(data) if e.batch == "own"]
    allowed = Scored([ruled[i] for i in guard], [oof[i] for i in guard])
    own_scored = Scored([ruled[i] for i in own], [oof[i] for i in own])
    calibration = [i for i in guard if data[i].batch in CALIBRATION_SPLITS]
    calibration_scored = Scored([ruled[i] for i in calibration], [oof[i] for i in calibration])
    shipped_own = Scored([ruled[i] for i in own],
                         [refusal_score(model, data[i].question,
                                        None if vectors is None else vectors[i]) for i in own])
    threshold = choose_threshold(allowed, own_scored, calibration_scored, shipped_own)
    refused = [r or (s == s and s >= threshold) for r, s in zip(ruled, oof, strict=True)]
    return {"l2": l2, "semantic": semantic, "threshold": round(threshold, 4),
            "out_of_fold": figures(data, refused),
            "per_batch": {b: figures(data, refused, b) for b in BATCHES},
            "own_false_refusals": f"{sum(own_scored.refused(threshold))}/{len(own)}",
            "calibration_false_refusals":
                f"{sum(calibration_scored.refused(threshold))}/{len(calibration)}",
            "shipped_own_false_refusals": f"{sum(shipped_own.refused(threshold))}/{len(own)}",
            "rules_alone_false_refusals": f"{sum(allowed.ruled)}/{len(allowed.ruled)}",
            "model": model, "allowed": allowed, "own": own_scored}


def main() -> None:
    """Cross-validate, fit on everything, set the threshold, write the model; print figures."""
    global DENSE_SCALE
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cv-only", action="store_true", help="print figures, write nothing")
    parser.add_argument("--grid", action="store_true", help="cross-validate each L2 of GRID")
    parser.add_argument("--semantic", action="store_true",
                        help="the fit that also reads question embeddings (semantic channel)")
    parser.add_argument("--dense-scale", type=float, default=DENSE_SCALE,
                        help="weight of the embedding block (semantic fit)")
    args = parser.parse_args()
    DENSE_SCALE = args.dense_scale

    def log(message: str) -> None:
        print(message, file=sys.stderr)

    for l2 in (GRID if args.grid else (L2,)):
        result = cross_validate(l2, log, semantic=args.semantic)
        model = result.pop("model")
        result.pop("allowed")
        result.pop("own")
        print(json.dumps(result, indent=2))
    if args.cv_only or args.grid:
        return
    assert isinstance(model, GuardModel)
    shipped = GuardModel(model.classes, model.weights, model.bias, float(result["threshold"]),
                         model.dense, model.dense_scale, model.feature_version,
                         embedder_name() if args.semantic else "")
    path = SEMANTIC_MODEL_PATH if args.semantic else MODEL_PATH
    path.write_text(json.dumps(shipped.to_json(), sort_keys=True, separators=(",", ":"))
                          + "\n", encoding="utf-8")
    print(json.dumps({"written": str(path.relative_to(ROOT)),
                      "features": len(shipped.weights), "threshold": round(shipped.threshold, 4),
                      "examples": len(examples()), "own_phrasings": len(own_phrasings())},
                     indent=2))


if __name__ == "__main__":
    main()
