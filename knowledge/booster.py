"""Boosted trees stacked on the logistic decision: interactions the linear weights cannot say.

The logistic model (``knowledge.decide.DecisionModel``) adds each signal on its own. Some signals
only mean something together: a high similarity to the labelled questions of a candidate matters
less when a question to decline is closer still, a lexical lead means more for a short question
than for a chatty one. A small ensemble of regression trees (fitted by ``benchmarks/fit_decision``
with scikit-learn's histogram gradient boosting, on the same training rows) reads the candidate's
features and the logistic model's own logit, and gives the probability that the candidate answers.

Only the prediction lives here: scikit-learn is needed to fit, never to answer. Reading the file
needs nothing; predicting needs numpy, which the semantic channel brings (the trees are fitted
only for the model that reads the question memory, which runs with that channel). Every tree is
walked at once, one level per step, so a candidate costs a dozen small array operations whatever
the number of trees.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

#: The name of the booster's last input: the logistic model's logit for the candidate.
LOGIT = "logit"
#: At most this many levels are walked (a tree deeper than this is refused when read).
MAX_DEPTH = 32


@dataclass(frozen=True)
class Booster:
    """Trees over ``features`` (candidate feature names, then :data:`LOGIT`), flattened.

    Node lists are indexed by a global node number; ``roots`` holds each tree's first node.
    A split sends ``x[feature] <= threshold`` left; a leaf's ``value`` is added to ``baseline``.
    Reading the file needs no numpy (a lexical-only ``ask`` never imports it); the first
    prediction turns the lists into arrays.
    """

    features: tuple[str, ...]
    baseline: float
    roots: tuple[int, ...]
    feature: tuple[int, ...]
    threshold: tuple[float, ...]
    left: tuple[int, ...]
    right: tuple[int, ...]
    value: tuple[float, ...]
    leaf: tuple[bool, ...]
    depth: int

    @cached_property
    def _arrays(self) -> tuple[Any, ...]:
        import numpy as np

        return (np, np.array(self.roots, dtype=np.int64), np.array(self.feature, dtype=np.int64),
                np.array(self.threshold, dtype=float), np.array(self.left, dtype=np.int64),
                np.array(self.right, dtype=np.int64), np.array(self.value, dtype=float),
                np.array(self.leaf, dtype=bool))

    def raw(self, row: Sequence[float]) -> float:
        """The ensemble's log-odds for one input row (one value per feature)."""
        np, roots, feature, threshold, left, right, value, leaf = self._arrays
        x = np.asarray(row, dtype=float)
        node = roots
        for _ in range(self.depth):
            step = np.where(x[feature[node]] <= threshold[node], left[node], right[node])
            node = np.where(leaf[node], node, step)
        return self.baseline + float(value[node].sum())

    def probability(self, feats: Mapping[str, float], logit: float) -> float:
        """Probability that the candidate with these features answers the question."""
        row = [feats.get(name, 0.0) for name in self.features[:-1]] + [logit]
        z = max(-50.0, min(50.0, self.raw(row)))
        return 1.0 / (1.0 + math.exp(-z))

    def to_json(self) -> dict[str, Any]:
        """JSON-ready data: per tree, its nodes as [feature, threshold, left, right, value].

        A leaf's feature is -1; child numbers count from the tree's own first node.
        """
        trees = []
        roots = [*self.roots, len(self.feature)]
        for start, end in zip(roots, roots[1:], strict=False):
            trees.append([[-1 if self.leaf[n] else int(self.feature[n]),
                           round(float(self.threshold[n]), 6),
                           int(self.left[n] - start), int(self.right[n] - start),
                           round(float(self.value[n]), 6)] for n in range(start, end)])
        return {"features": list(self.features), "baseline": round(self.baseline, 6),
                "trees": trees}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Booster:
        """Read :meth:`to_json`'s data; raise ValueError on a malformed ensemble."""
        features = tuple(str(f) for f in data["features"])
        if not features or features[-1] != LOGIT:
            raise ValueError(f"booster: the last input must be {LOGIT!r}")
        feature: list[int] = []
        left: list[int] = []
        right: list[int] = []
        roots: list[int] = []
        threshold: list[float] = []
        value: list[float] = []
        leaf: list[bool] = []
        depth = 0
        for tree in data["trees"]:
            start = len(feature)
            roots.append(start)
            for node in tree:
                f, t, lo, hi, v = node
                is_leaf = int(f) < 0
                if not is_leaf and not (0 <= int(f) < len(features)
                                        and 0 < int(lo) < len(tree) and 0 < int(hi) < len(tree)):
                    raise ValueError("booster: a split points outside its tree")
                feature.append(0 if is_leaf else int(f))
                threshold.append(float(t))
                left.append(start + (0 if is_leaf else int(lo)))
                right.append(start + (0 if is_leaf else int(hi)))
                value.append(float(v))
                leaf.append(is_leaf)
            depth = max(depth, _depth(tree))
        if not roots or depth > MAX_DEPTH:
            raise ValueError("booster: no trees, or a tree too deep")
        return cls(features, float(data["baseline"]), tuple(roots), tuple(feature),
                   tuple(threshold), tuple(left), tuple(right), tuple(value), tuple(leaf), depth)


def _depth(tree: Sequence[Sequence[float]]) -> int:
    """Levels from the root to the deepest leaf of one tree (children after their parent)."""
    levels = [0] * len(tree)
    for n, (f, _t, lo, hi, _v) in enumerate(tree):
        if int(f) >= 0:
            for child in (int(lo), int(hi)):
                if child <= n:
                    raise ValueError("booster: a child must come after its parent")
                levels[child] = levels[n] + 1
    return max(levels)


def from_sklearn(model: Any, features: Sequence[str]) -> Booster:
    """A fitted ``HistGradientBoostingClassifier`` (binary, numeric inputs) as a :class:`Booster`."""
    trees = []
    for (predictor,) in model._predictors:  # one predictor per iteration for a binary task
        nodes = predictor.nodes
        trees.append([[-1 if node["is_leaf"] else int(node["feature_idx"]),
                       float(node["num_threshold"]), int(node["left"]), int(node["right"]),
                       float(node["value"])] for node in nodes])
    baseline = float(model._baseline_prediction.ravel()[0])
    return Booster.from_json({"features": [*features, LOGIT], "baseline": baseline,
                              "trees": trees})
