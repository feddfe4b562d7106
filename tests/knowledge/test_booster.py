"""The trees stacked on the memory model's logit: read, walked and refused when malformed."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from knowledge.booster import LOGIT, Booster, from_sklearn
from knowledge.decide import FEATURES, MEMORY_MODEL, DecisionModel, load_models

#: Two trees over (lex_conf, logit): the first splits on lex_conf, the second on the logit.
TREES = {"features": ["lex_conf", LOGIT], "baseline": -1.0, "trees": [
    [[0, 0.5, 1, 2, 0.0], [-1, 0.0, 0, 0, -2.0], [-1, 0.0, 0, 0, 1.5]],
    [[1, 0.0, 1, 2, 0.0], [-1, 0.0, 0, 0, -0.5], [1, 3.0, 3, 4, 0.0],
     [-1, 0.0, 0, 0, 0.25], [-1, 0.0, 0, 0, 1.0]],
]}


def _sigmoid(z: float) -> float:
    return 1 / (1 + math.exp(-z))


def test_every_tree_is_walked_to_its_leaf_and_the_leaves_summed() -> None:
    booster = Booster.from_json(TREES)
    assert booster.depth == 2
    # lex_conf 0.9 -> +1.5; logit 5 -> right, right -> +1.0; baseline -1
    assert booster.probability({"lex_conf": 0.9}, 5.0) == pytest.approx(_sigmoid(1.5))
    # lex_conf 0.2 -> -2.0; logit -1 -> left -> -0.5
    assert booster.probability({"lex_conf": 0.2}, -1.0) == pytest.approx(_sigmoid(-3.5))
    # a split sends "<= threshold" left, and a missing feature reads as 0
    assert booster.probability({"lex_conf": 0.5}, 2.0) == pytest.approx(_sigmoid(-2.75))
    assert booster.probability({}, 0.0) == pytest.approx(_sigmoid(-3.5))
    again = Booster.from_json(json.loads(json.dumps(booster.to_json())))
    assert again.to_json() == booster.to_json()


@pytest.mark.parametrize("broken", [
    {**TREES, "features": ["lex_conf"]},  # the logit is not its last input
    {**TREES, "trees": []},
    {**TREES, "trees": [[[0, 0.5, 1, 7, 0.0], [-1, 0, 0, 0, 1.0]]]},  # child outside the tree
    {**TREES, "trees": [[[5, 0.5, 1, 2, 0.0], [-1, 0, 0, 0, 1.0], [-1, 0, 0, 0, 1.0]]]},
    {**TREES, "trees": [[[-1, 0, 0, 0, 1.0], [0, 0.5, 0, 0, 0.0]]]},  # a child before its parent
])
def test_a_malformed_ensemble_is_refused(broken: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        Booster.from_json(broken)


def test_a_model_with_trees_answers_with_them_and_the_asked_fact_rule_still_holds() -> None:
    weights = {"lex_conf": 4.0, **dict.fromkeys(FEATURES[1:], 0.0)}
    plain = DecisionModel(weights, -2.0, 0.5, {})
    stacked = DecisionModel(weights, -2.0, 0.5, {}, booster=Booster.from_json(TREES))
    feats = {"lex_conf": 0.9}
    logit = -2.0 + 4.0 * 0.9
    assert plain.probability(feats) == pytest.approx(_sigmoid(logit))
    assert stacked.probability(feats) == pytest.approx(_sigmoid(-1.0 + 1.5 + 0.25))
    assert stacked.probability({"lex_conf": 0.9, "kind_missing": 1.0}) == 0.0


def test_a_model_whose_trees_cannot_be_read_is_not_used(tmp_path: Path) -> None:
    model = {"weights": {"lex_conf": 1.0}, "bias": 0.0, "threshold": 0.5}
    path = tmp_path / "decision.json"
    path.write_text(json.dumps({"models": {
        "lexical": model, MEMORY_MODEL: {**model, "booster": {**TREES, "trees": [[[9]]]}}}}))
    assert set(load_models(path)) == {"lexical"}
    path.write_text(json.dumps({"models": {MEMORY_MODEL: {**model, "booster": TREES}}}))
    assert load_models(path)[MEMORY_MODEL].booster is not None


def test_the_shipped_memory_model_stacks_its_trees() -> None:
    model = load_models()[MEMORY_MODEL]
    assert model.booster is not None and len(model.booster.roots) >= 50
    assert model.booster.features[-1] == LOGIT


def test_a_fitted_scikit_learn_ensemble_predicts_the_same_once_read() -> None:
    ensemble = pytest.importorskip("sklearn.ensemble")
    rng = np.random.default_rng(7)
    x = rng.normal(size=(600, 3))
    y = (x[:, 0] * x[:, 2] + 0.3 * rng.normal(size=600) > 0).astype(int)  # an interaction
    fitted = ensemble.HistGradientBoostingClassifier(max_iter=40, max_leaf_nodes=7,
                                                     early_stopping=False, random_state=0)
    fitted.fit(x, y)
    booster = from_sklearn(fitted, ["a", "b"])
    ours = [booster.probability({"a": r[0], "b": r[1]}, r[2]) for r in x[:100]]
    assert np.allclose(ours, fitted.predict_proba(x[:100])[:, 1], atol=1e-5)
