"""Fit the answer / abstain decision model (``knowledge/decision.json``), deterministically.

Usage: .venv/bin/python benchmarks/fit_decision.py [--out knowledge/decision.json] [--check]

- Weights: L2-regularised logistic regression (Newton's method, numpy, fixed iterations) over the
  candidate features of ``knowledge.decide``, fitted on the TRAIN split of ``knowledge/eval``
  (``inscope_train.jsonl``, ``abstain_train.jsonl`` and the later batches
  ``*_train_extra*.jsonl``); only files in this repository, so a clean
  clone refits to the same file (``--dev FILE`` adds another set by hand). A
  candidate is positive when its answer text contains one of the question's ``expect_any``
  phrases (the ``kb eval`` rule).
- Threshold: chosen on the CALIBRATION split (``inscope_calibration.jsonl``,
  ``abstain_calibration.jsonl`` and their later batches ``*_calibration_extra*.jsonl``) to
  maximise in-scope plus abstain accuracy of the top re-ranked candidate.
- Veto and rescue (``Retriever.search``): the model overrules the lexical top only where it is
  sure. Both thresholds are chosen on TRAIN + CALIBRATION, end to end (``answer_question``, the
  ``kb eval`` rule: guard, jurisdiction choice, "Also:"), to maximise in-scope plus abstain
  accuracy on calibration (the weights are fitted on train), among the pairs that score at
  least as well as the lexical engine alone on in-scope and on abstain in each split; when no
  pair improves on it, the model never overrules (veto 0, rescue above 1). The rescue is never
  below the calibrated threshold (the model would not answer with that candidate itself).
- ``--cv``: grouped cross-validation on train (5 folds by article, and one fold per writing
  batch, :func:`grouped_cv`), how the features, the train files and the question-vector
  regularisation were chosen: it measures generalisation to unseen articles and to new askers'
  wording as the held-out split does, without reading it.
- The semantic model also weighs the question's own vector (``query_weights``, the same for
  every candidate of a question): what questions the base cannot answer look like.
- A third model, ``lexical+semantic+memory``, adds the question memory's features
  (``knowledge.memory``: how close a question comes to the labelled questions of each candidate
  and to questions to decline). Its memory is every train and calibration file (what app.yaml's
  ``question_memory`` ships), and every question is asked without its own writing batch in it
  (fit rows, threshold, veto and rescue alike), as a new question would be. With the calibration
  batches in the memory, the calibration articles hold as many labelled questions as the others;
  with train alone they held five each and the model, used to richer memories, under-answered
  them (calibration, model alone, in-scope at 95 % abstain: train-only memory 81.1 %, no memory
  84.7 %, train + calibration 87.4 %). ``--cv`` reports it by batch (the left-out batch is out of
  the memory for the fit's rows too). A per-article question count as a feature lost 4 points
  there and was dropped.
  New articles have no labelled questions: fitted without that case, the model declined every
  question about the four new-topic articles (0 of 25 right, against 16 without the memory). So
  each batch's fit rows treat a fixed quarter of the articles as new
  (``knowledge.decide.unknown_for``), and the model answers with those on their other evidence.
  On top of its logistic weights, boosted trees (:data:`BOOSTER`, ``knowledge/booster.py``) are
  fitted on the same rows, reading the candidate features and the logistic logit; the threshold,
  veto and rescue are then chosen on the trees' probabilities. Needs scikit-learn (the ``fit``
  extra); answering never does.
- The HELDOUT split is never read here (``tests/knowledge/test_decide.py`` checks it); report it
  with ``electionbot kb eval knowledge/eval/<heldout>.jsonl``.

Partisan and personal-data items are left out: the guard refuses those before retrieval.
Three models are written: ``lexical`` (no semantic package), ``lexical+semantic`` (tied to the
embedding engine it was fitted with) and ``lexical+semantic+memory`` (with its trees).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from handlers.faq.replies import article_text  # noqa: E402
from knowledge.checks import load_articles  # noqa: E402
from knowledge.decide import (  # noqa: E402
    FEATURES,
    MEMORY_MODEL,
    MODEL_FILE,
    DecisionModel,
    Retriever,
    contains_asked,
    fit_rows,
)
from knowledge.language import detect_language  # noqa: E402
from knowledge.memory import (  # noqa: E402
    MEMORY_FEATURES,
    SHIPPED,
    QuestionMemory,
    group_of,
    read_labelled,
    save_shipped,
)
from knowledge.search import SearchIndex  # noqa: E402
from knowledge.semantic import ENGINES, SemanticIndex, load_embedder, query_cache  # noqa: E402

EVAL = ROOT / "knowledge" / "eval"
GUARDED = ("partisan", "personal_data", "instructions")
#: Only these question files: the guard's own sets are labelled refuse / allow, not answers.
KINDS = ("inscope", "abstain")
L2 = 1.0
#: Regularisation of the question-vector weights (semantic model), chosen among 3, 10, 30 and
#: 100 by grouped cross-validation on train, by article and by batch (``--cv``): 100 scored
#: best on both at 90 % and 95 % abstain (2026-11-30).
QUERY_L2 = 100.0
ITERATIONS = 25
#: Question vectors the semantic fit keeps (~1.5 KB each; the eval files hold ~4,000 questions).
FIT_QUERY_CACHE = 20_000


def split_files(split: str, folder: Path = EVAL) -> list[Path]:
    """The question files of one split (never the held-out one)."""
    if split not in ("train", "calibration"):
        raise ValueError("the decision model reads only the train and calibration splits")
    names = (f"{split}.jsonl", f"{split}_extra*.jsonl")  # train_extra, train_extra2, ...: later batches
    return sorted({p for kind in KINDS for name in names for p in folder.glob(f"{kind}_{name}")
                   if "heldout" not in p.name})


def read_items(paths: list[Path]) -> list[dict[str, Any]]:
    """Labelled questions, without the ones the guard refuses."""
    items = []
    for path in paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                item = json.loads(line)
                if item.get("kind") not in GUARDED:
                    item["_batch"] = group_of(path)  # the writing batch
                    items.append(item)
    return items


def right_articles(items: list[dict[str, Any]], articles: list[Any]) -> list[set[str]]:
    """For each question, the ids of the articles that answer it (empty for abstain items).

    A labelled question names its article (and ``also_ok``); only a set without that label
    falls back to the ``kb eval`` rule (an article containing an expected phrase), which also
    counts articles that merely mention a generic phrase.
    """
    out = []
    for item in items:
        if "expect_any" not in item:
            out.append(set())
            continue
        if item.get("article"):
            out.append({item["article"], *item.get("also_ok", [])})
            continue
        lang = detect_language(item["q"])
        phrases = [e.lower().replace("-", " ") for e in item["expect_any"]]
        out.append({a.id for a in articles
                    if any(p in article_text(a, lang).lower().replace("-", " ") for p in phrases)})
    return out


def fit_logistic(x: np.ndarray, y: np.ndarray, extra_l2: float = L2, *,
                 n_features: int = len(FEATURES)) -> tuple[np.ndarray, float]:
    """L2-regularised logistic regression by Newton's method (bias unregularised).

    The columns after the first ``n_features`` (the question vector) get ``extra_l2``.
    """
    mean, std = x.mean(axis=0), x.std(axis=0)
    std[std < 1e-9] = 1.0
    z = np.hstack([(x - mean) / std, np.ones((len(x), 1))])
    w = np.zeros(z.shape[1])
    reg = np.full(z.shape[1], L2)
    reg[n_features:] = extra_l2
    reg[-1] = 0.0
    for _ in range(ITERATIONS):
        p = 1 / (1 + np.exp(-np.clip(z @ w, -50, 50)))
        grad = z.T @ (p - y) + reg * w
        hess = (z * (p * (1 - p))[:, None]).T @ z + np.diag(reg + 1e-9)
        w -= np.linalg.solve(hess, grad)
    weights = w[:-1] / std
    bias = float(w[-1] - (w[:-1] * mean / std).sum())
    return weights, bias


#: The stacked trees' settings (scikit-learn's HistGradientBoostingClassifier). Chosen on the
#: reserve batch, model alone, in-scope at 97 % of its questions declined, against the logistic
#: model alone (84.1 %): these trees 85.8 %; 600 trees at rate 0.03 (86.8 %) and 31 leaves
#: (86.3 %) were within that batch's noise and cost more (see knowledge/eval/README.md, session
#: 45). No early stopping and a fixed seed: the same rows give the same trees.
BOOSTER = {"learning_rate": 0.05, "max_iter": 300, "max_leaf_nodes": 15,
           "l2_regularization": 1.0, "early_stopping": False, "random_state": 0}


def fit_booster(x: np.ndarray, logits: np.ndarray, y: np.ndarray,
                features: tuple[str, ...]) -> Any:
    """Trees over the candidate features and the logistic logit (``knowledge.booster``)."""
    try:
        from sklearn.ensemble import HistGradientBoostingClassifier
    except ImportError:
        raise SystemExit("fitting the memory model needs scikit-learn: "
                         "pip install -e '.[dev,semantic,fit]'") from None
    from knowledge.booster import from_sklearn

    trees = HistGradientBoostingClassifier(**BOOSTER)  # type: ignore[arg-type]
    trees.fit(np.hstack([x, logits[:, None]]), y)
    return from_sklearn(trees, features)


def question_vectors(retriever: Retriever, items: list[dict[str, Any]]) -> np.ndarray:
    """Each question's semantic vector as the retriever embeds it (zeros when it has none)."""
    dim = retriever.semantic.matrix.shape[1]
    rows = []
    for item in items:
        vec = retriever.question_vector(retriever.index.analyse(item["q"]).query)
        rows.append(np.zeros(dim) if vec is None else np.asarray(vec, dtype=float))
    return np.vstack(rows)


def decisions(retriever: Retriever, items: list[dict[str, Any]], right: list[set[str]],
              weights: dict[str, float], bias: float,
              query_weights: tuple[float, ...] = (), booster: Any = None
              ) -> list[tuple[float, bool, bool]]:
    """(top probability, top is right, in scope) per question."""
    model = DecisionModel(weights, bias, 0.5, {}, query_weights=query_weights, booster=booster)
    out = []
    for item, ok in zip(items, right, strict=True):
        an, cands = retriever.candidates(item["q"], memory_exclude=item.get("_batch"))
        prior = model.prior(retriever.question_vector(an.query)) if query_weights else 0.0
        best = (0.0, False)
        for c in cands:
            p = model.probability(c.features, prior)
            if p > best[0]:
                best = (p, retriever.index.articles[c.doc].id in ok)
        out.append((best[0], best[1], "expect_any" in item))
    return out


def scores(dec: list[tuple[float, bool, bool]], t: float) -> dict[str, float]:
    """In-scope and abstain accuracy at threshold t."""
    ins = [p >= t and ok for p, ok, scope in dec if scope]
    outs = [p < t for p, _ok, scope in dec if not scope]
    return {"in_scope": round(sum(ins) / len(ins), 4) if ins else 1.0,
            "abstain": round(sum(outs) / len(outs), 4) if outs else 1.0,
            "in_scope_n": len(ins), "abstain_n": len(outs)}


def choose_threshold(dec: list[tuple[float, bool, bool]]) -> float:
    """The cut (midway between observed probabilities) with the best in-scope + abstain accuracy."""
    probs = sorted({p for p, _ok, _s in dec} | {0.0, 1.0})
    cuts = [(a + b) / 2 for a, b in zip(probs, probs[1:], strict=False)] or [0.5]

    def value(t: float) -> tuple[float, float]:
        s = scores(dec, t)
        return (s["in_scope"] + s["abstain"], s["abstain"])
    return max(cuts, key=value)


CV_FOLDS = 5


def cv_fold(item: dict[str, Any]) -> int:
    """The fold of a question: by its article (every question about one article in one fold,
    as the splits deal articles), by its own text for questions to decline (no article)."""
    key = item.get("article") or item["q"]
    return int(hashlib.blake2b(key.encode("utf-8"), digest_size=4).hexdigest(), 16) % CV_FOLDS


def batch_fold(item: dict[str, Any]) -> str:
    """The fold of a question by the batch (file) it was written in: each batch was written
    later, by other hands, so leaving one out measures generalisation to new askers' wording."""
    return str(item.get("_batch", ""))


def design(rows: list[tuple[int, dict[str, float], int]], qvecs: np.ndarray | None,
           features: tuple[str, ...] = FEATURES) -> tuple[np.ndarray, np.ndarray]:
    """The fit's matrix (candidate features, then the question's vector) and labels."""
    x = np.array([[f[name] for name in features] for _n, f, _y in rows], dtype=float)
    if qvecs is not None:
        x = np.hstack([x, qvecs[[n for n, _f, _y in rows]]])
    return x, np.array([y for _n, _f, y in rows], dtype=float)


def split_weights(w: np.ndarray, features: tuple[str, ...] = FEATURES
                  ) -> tuple[dict[str, float], tuple[float, ...]]:
    """Fitted weights as (candidate feature weights, question vector weights)."""
    return (dict(zip(features, map(float, w[:len(features)]), strict=True)),
            tuple(float(v) for v in w[len(features):]))


def grouped_cv(retriever: Retriever, items: list[dict[str, Any]], right: list[set[str]],
               features: tuple[str, ...] = FEATURES, *, query_l2: float | None = None,
               by: Any = cv_fold) -> dict[str, Any]:
    """Out-of-fold decisions of the logistic model, folds grouped by article (:func:`cv_fold`)
    or by batch (:func:`batch_fold`).

    Measures generalisation to articles (or askers) no fit saw, like the held-out split; the
    figures are those at the out-of-fold threshold with the best in-scope + abstain accuracy,
    and at the lowest thresholds declining at least 90 % and 95 % of the questions to decline.
    ``query_l2``: add the question's vector with that regularisation (semantic engine only).
    """
    memory = retriever.memory is not None
    features = features + MEMORY_FEATURES if memory else features
    rows = [] if memory else [row for row in fit_rows(retriever, items, right)
                              if contains_asked(row[1])]
    qvecs = question_vectors(retriever, items) if query_l2 is not None else None
    folds = [by(item) for item in items]
    dec: list[tuple[float, bool, bool]] = [(0.0, False, "expect_any" in item) for item in items]
    for k in sorted(set(folds)):
        if memory:  # the held-out batch is out of the memory for the fit's rows too
            rows = [row for row in fit_rows(retriever, items, right, also_exclude=(str(k),))
                    if contains_asked(row[1])]
        x, y = design([r for r in rows if folds[r[0]] != k], qvecs, features)
        w, bias = fit_logistic(x, y, L2 if query_l2 is None else query_l2,
                               n_features=len(features))
        weights, qw = split_weights(w, features)
        test = [n for n, fold in enumerate(folds) if fold == k]
        for n, d in zip(test, decisions(retriever, [items[n] for n in test],
                                        [right[n] for n in test], weights, bias, qw),
                        strict=True):
            dec[n] = d
    best = choose_threshold(dec)
    cuts = sorted({p for p, _ok, _s in dec})
    out = {"folds": len(set(folds)), "best": {"threshold": round(best, 4), **scores(dec, best)}}
    for level in (0.9, 0.95):
        strict = next((t for t in cuts if scores(dec, t)["abstain"] >= level), 1.0)
        out[f"abstain_{level}"] = {"threshold": round(strict, 4), **scores(dec, strict)}
    return out


VETO_GRID = (0.0, *[round(0.3 + 0.05 * i, 2) for i in range(11)])
RESCUE_GRID = (*[round(0.5 + 0.05 * i, 2) for i in range(10)], NEVER := 1.1)


def end_to_end(retriever: Retriever, split_paths: dict[str, list[Path]],
               pairs: list[tuple[float, float]]) -> dict[tuple[float, float], dict[str, tuple[int, ...]]]:
    """(in-scope correct, total, abstain correct, total) per split for every (veto, rescue) pair,
    through ``answer_question`` as ``electionbot kb eval`` runs it (asker unknown)."""
    from dataclasses import replace as dc_replace
    from types import SimpleNamespace

    from app.config import load_app_config
    from handlers.faq.answer import answer_question
    from handlers.faq.cli import answer_to_json
    from handlers.faq.evaluate import evaluate, load_items
    from knowledge.store import KnowledgeBase

    app = load_app_config(ROOT / "app.yaml")
    contact = app.contact_for(None)
    model = retriever.model
    assert model is not None
    real, cache = retriever.scored, {}
    group = [""]  # the batch being asked: its questions' features differ per memory

    def scored(query: str, language: str | None = None, query_vec: Any = None) -> Any:
        if (group[0], query, language) not in cache:
            cache[(group[0], query, language)] = real(query, language=language,
                                                      query_vec=query_vec)
        return cache[(group[0], query, language)]

    retriever.scored = scored  # type: ignore[method-assign]
    kb = KnowledgeBase({a.id: a for a in retriever.index.articles}, retriever.index, retriever)
    services: Any = SimpleNamespace(settings=SimpleNamespace(app=app),
                                    knowledge=SimpleNamespace(current=kb))
    files = {name: [(p, load_items(p)) for p in paths] for name, paths in split_paths.items()}
    memory = retriever.memory
    # a batch's questions are asked without themselves in the memory, as new ones
    without = {path: memory.without([group_of(path)]) if memory is not None else None
               for per_file in files.values() for path, _its in per_file}
    out: dict[tuple[float, float], dict[str, tuple[int, ...]]] = {}
    for veto, rescue in pairs:
        retriever.__dict__["model"] = dc_replace(model, veto=veto, rescue=rescue)
        out[(veto, rescue)] = {}
        for name, per_file in files.items():
            figures = [0, 0, 0, 0]
            for path, its in per_file:
                retriever.memory = without[path]
                group[0] = group_of(path)
                rep = evaluate(its, lambda q: answer_to_json(
                    answer_question(question=q, services=services), contact))
                for i, v in enumerate((rep.in_scope_correct, rep.in_scope_total,
                                       rep.abstain_correct, rep.abstain_total)):
                    figures[i] += v
            out[(veto, rescue)][name] = tuple(figures)
    retriever.memory = memory
    retriever.__dict__["model"] = model
    del retriever.scored
    return out


#: The issue's abstain target: the operating point declines at least this share of the
#: calibration questions to decline when some (veto, rescue) pair does.
ABSTAIN_TARGET = 0.97


def choose_overrule(figures: dict[tuple[float, float], dict[str, tuple[int, ...]]]
                    ) -> tuple[float, float]:
    """The (veto, rescue) pair for the operating point, on the calibration split (the weights
    were fitted on train, so train figures flatter them), among the pairs at least as good as the
    lexical engine alone (veto 0, never rescue) on both in-scope and abstain, in every split.

    Among them, those declining at least :data:`ABSTAIN_TARGET` of the calibration questions
    to decline, when there are any, and of these the one answering the most in-scope ones: a
    wrong answer costs a clerk more than an honest "I don't have a vetted answer" naming whom
    to ask. Without such a pair, the best in-scope + abstain accuracy.
    """
    base = figures[(0.0, NEVER)]

    def pooled(f: dict[str, tuple[int, ...]]) -> tuple[float, float]:
        cal = f.get("calibration") or next(iter(f.values()))
        ins, abst = cal[0] / max(1, cal[1]), cal[2] / max(1, cal[3])
        return ins + abst, abst

    ok = [pair for pair, f in figures.items()
          if all(f[s][0] >= base[s][0] and f[s][2] >= base[s][2] for s in base)]

    def declines(pair: tuple[float, float]) -> bool:
        cal = figures[pair].get("calibration") or next(iter(figures[pair].values()))
        return cal[2] >= ABSTAIN_TARGET * cal[3]

    strict = [pair for pair in ok if declines(pair)]
    if strict:
        return max(strict, key=lambda pair: (pooled(figures[pair])[0] - pooled(figures[pair])[1],
                                             pooled(figures[pair])[1], pair[0], -pair[1]))
    return max(ok, key=lambda pair: (*pooled(figures[pair]), pair[0], -pair[1]))


def fit(engine_name: str, retriever: Retriever, train: list[dict[str, Any]],
        cal: list[dict[str, Any]], articles: list[Any],
        split_paths: dict[str, list[Path]] | None = None) -> dict[str, Any]:
    """Weights on train, threshold on calibration, figures for both."""
    r_train, r_cal = right_articles(train, articles), right_articles(cal, articles)
    rows = [row for row in fit_rows(retriever, train, r_train) if contains_asked(row[1])]
    semantic = retriever.semantic is not None
    features = FEATURES + (MEMORY_FEATURES if retriever.memory is not None else ())
    x, y = design(rows, question_vectors(retriever, train) if semantic else None, features)
    w, bias = fit_logistic(x, y, QUERY_L2, n_features=len(features))
    weights, qw = split_weights(w, features)
    weights = {k: round(v, 6) for k, v in weights.items()}
    query_weights = tuple(round(v, 6) for v in qw)
    bias = round(bias, 6)
    booster = None
    if retriever.memory is not None:  # the memory model: trees stacked on its logit
        logits = x @ np.array([*[weights[f] for f in features], *query_weights]) + bias
        booster = fit_booster(x[:, :len(features)], logits, y, features)
    dec_cal = decisions(retriever, cal, r_cal, weights, bias, query_weights, booster)
    threshold = round(choose_threshold(dec_cal), 6)
    dec_train = decisions(retriever, train, r_train, weights, bias, query_weights, booster)
    overrule: dict[str, Any] = {"veto": 0.0, "rescue": NEVER}
    if split_paths:
        name = MEMORY_MODEL if retriever.memory is not None else retriever.engine
        retriever.models = {name: DecisionModel(
            weights, bias, threshold, {"engine": engine_name}, 0.0, NEVER,
            query_weights=query_weights, booster=booster)}
        retriever.__dict__.pop("model", None)
        # A rescue answers with the model's own best candidate: never below the model's
        # calibrated threshold (a candidate the model itself would not answer with).
        pairs = [(v, r) for v in VETO_GRID for r in RESCUE_GRID if r >= threshold or r == NEVER]
        figures = end_to_end(retriever, split_paths, pairs)
        veto, rescue = choose_overrule(figures)
        overrule = {"veto": veto, "rescue": rescue,
                    "end_to_end": {"lexical_alone": figures[(0.0, NEVER)],
                                   "chosen": figures[(veto, rescue)]}}
    extra = {"query_weights": list(query_weights), "query_l2": QUERY_L2} if query_weights else {}
    if booster is not None:
        extra["booster"] = {**booster.to_json(), "fit": BOOSTER}
    return {"engine": engine_name, "weights": weights, "bias": bias, "threshold": threshold,
            **overrule, **extra,
            "rows": len(rows), "positives": int(y.sum()),
            "train": scores(dec_train, threshold), "calibration": scores(dec_cal, threshold)}


def build_memory(embedder: Any, articles: list[Any], paths: list[Path]) -> QuestionMemory | None:
    """The question memory of these files, as ``serve`` builds it from app.yaml's
    ``question_memory`` (embedded afresh: the shipped vectors are what this writes)."""
    return QuestionMemory.build(read_labelled(paths), article_ids=[a.id for a in articles],
                                embedder=embedder, shipped=None)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Fit both models and write the JSON file."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, default=MODEL_FILE)
    parser.add_argument("--eval-dir", type=Path, default=EVAL)
    parser.add_argument("--dev", type=Path, default=None)
    parser.add_argument("--no-semantic", action="store_true")
    parser.add_argument("--engine", default=None, help="semantic engine (default: the first installed)")
    parser.add_argument("--cv", action="store_true",
                        help="print grouped cross-validation on train and write nothing")
    parser.add_argument("--query-l2", type=float, nargs="*", default=[QUERY_L2],
                        help="with --cv: question-vector regularisations to compare")
    args = parser.parse_args(argv)
    articles, problems = load_articles(ROOT / "knowledge" / "articles")
    if problems:
        raise SystemExit(str(problems[0]))
    train_files = split_files("train", args.eval_dir) + ([args.dev] if args.dev else [])
    cal_files = split_files("calibration", args.eval_dir)
    train, cal = read_items(train_files), read_items(cal_files)
    index = SearchIndex(articles)
    if args.cv:
        right = right_articles(train, articles)
        lexical = Retriever(index, None, models={})
        result: dict[str, Any] = {"lexical": {
            "by_article": grouped_cv(lexical, train, right),
            "by_batch": grouped_cv(lexical, train, right, by=batch_fold)}}
        embedder = None if args.no_semantic else load_embedder(
            (args.engine,) if args.engine else ENGINES)
        if embedder is not None:
            query_cache(embedder).size = max(query_cache(embedder).size, FIT_QUERY_CACHE)
            fused = Retriever(index, SemanticIndex(articles, embedder), models={})
            for name, l2 in (("lexical+semantic", None),
                             *((f"lexical+semantic, question vector L2={v:g}", v)
                               for v in args.query_l2)):
                result[name] = {"by_article": grouped_cv(fused, train, right, query_l2=l2),
                                "by_batch": grouped_cv(fused, train, right, query_l2=l2,
                                                       by=batch_fold)}
            # The memory's other batches stand for the labelled questions a deployment holds.
            fused.memory = build_memory(embedder, articles, train_files + cal_files)
            result[f"{MEMORY_MODEL}, question vector L2={QUERY_L2:g}"] = {
                "by_batch": grouped_cv(fused, train, right, query_l2=QUERY_L2, by=batch_fold)}
        print(json.dumps(result, indent=1))
        return result
    split_paths = {"train": train_files, "calibration": cal_files}
    models = {"lexical": fit("lexical", Retriever(index, None, models={}), train, cal, articles,
                             split_paths)}
    embedder = None if args.no_semantic else load_embedder((args.engine,) if args.engine else ENGINES)
    if embedder is not None:
        sem = SemanticIndex(articles, embedder)
        # The end-to-end search asks every labelled question once per (veto, rescue) pair: keep
        # all their vectors (retrieval and the guard share the cache), not the last 1,024 only.
        query_cache(embedder).size = max(query_cache(embedder).size, FIT_QUERY_CACHE)
        models["lexical+semantic"] = fit(embedder.name, Retriever(index, sem, models={}),
                                         train, cal, articles, split_paths)
        memory = build_memory(embedder, articles, train_files + cal_files)
        if memory is not None:
            models[MEMORY_MODEL] = fit(embedder.name, Retriever(index, sem, models={},
                                                                memory=memory),
                                       train, cal, articles, split_paths)
            models[MEMORY_MODEL]["memory"] = {"questions": len(memory),
                                              "answered": memory.answered,
                                              "files": [p.name for p in train_files + cal_files]}
            if args.out == MODEL_FILE:
                save_shipped(SHIPPED, memory.keys, memory.vectors, embedder.name)
    out = {"fitted_on": {"train": [p.name for p in train_files],
                         "calibration": [p.name for p in cal_files],
                         "method": f"logistic regression, L2={L2}, Newton x{ITERATIONS}; threshold "
                                   "maximises in-scope + abstain accuracy on calibration",
                         "script": "benchmarks/fit_decision.py"},
           "features": list(FEATURES), "models": models}
    args.out.write_text(json.dumps(out, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    summary = {k: {"train": m["train"], "calibration": m["calibration"],
                   "threshold": m["threshold"], "veto": m["veto"], "rescue": m["rescue"],
                   "end_to_end": m.get("end_to_end")} for k, m in models.items()}
    print(json.dumps(summary, indent=1))
    return out


if __name__ == "__main__":
    main()
