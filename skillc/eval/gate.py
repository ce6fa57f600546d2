"""A learned escalation gate: the confidence signals combined into one score by a logistic model.

One signal alone rarely separates a small student's right answers from its wrong ones (on the suite, agreement
among its own samples did not). Several cheap ones together can: whether the bank's nearest labelled items
carry the same answer (`neighbours`), whether a second cheap model agrees (`peer`), failed checks, the
student's self-consistency. `fit_logistic` fits P(right | signals) by Newton's method with an L2 penalty, in
numpy; the threshold is chosen on cross-validated scores (each item scored by a model that never saw it), so
the wrong-pass rate it promises is not the optimism of an in-sample fit. The result is a `LearnedGate`: plain
numbers in skill.json, no pickle, nothing to execute.

Example:
    >>> pairs = [({"neighbours": v}, v > 0.5) for v in (0.1, 0.2, 0.3, 0.4, 0.6, 0.7, 0.8, 0.9, 1.0, 0.05)]
    >>> gate, found = learn_gate(pairs, ["neighbours"], max_wrong_pass=0.0)
    >>> gate.weights[0] > 0, found.wrong_passed
    (True, 0)
"""

from __future__ import annotations

import math
import random

import numpy as np

from skillc.core.spec import LearnedGate
from skillc.eval.thresholds import ALWAYS, Calibration, threshold_for, threshold_for_retention
from skillc.graphs.confidence import gate_score

Features = dict[str, float]


def fit_logistic(x: np.ndarray, y: np.ndarray, *, l2: float = 1.0, iterations: int = 50) -> tuple[np.ndarray, float]:
    """(weights, bias) of P(y=1 | x) = sigmoid(bias + x @ weights), by Newton's method with an L2 penalty on the weights.

    >>> w, b = fit_logistic(np.array([[0.0], [0.2], [0.8], [1.0]]), np.array([0, 0, 1, 1]))
    >>> bool(w[0] > 0)
    True
    """
    n, d = x.shape
    design = np.hstack([np.ones((n, 1)), x])
    theta = np.zeros(d + 1)
    penalty = np.diag([0.0] + [l2] * d)
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-np.clip(design @ theta, -60, 60)))
        gradient = design.T @ (p - y) + penalty @ theta
        hessian = design.T @ (design * (p * (1 - p))[:, None]) + penalty + 1e-9 * np.eye(d + 1)
        step = np.linalg.solve(hessian, gradient)
        theta -= step
        if float(np.max(np.abs(step))) < 1e-8:
            break
    return theta[1:], float(theta[0])


def cross_validated(x: np.ndarray, y: np.ndarray, *, folds: int = 5, seed: int = 0, l2: float = 1.0) -> np.ndarray:
    """Each item's score from a model fitted on the other folds (leave-one-out below 2 * folds items)."""
    n = len(y)
    order = list(range(n))
    random.Random(seed).shuffle(order)
    k = n if n < 2 * folds else folds
    scores = np.zeros(n)
    for f in range(k):
        held = order[f::k]
        rest = [i for i in range(n) if i not in set(held)]
        if len(set(y[rest].tolist())) < 2:  # one class only: the base rate is all a model can say
            scores[held] = float(np.mean(y[rest])) if rest else 0.5
            continue
        w, b = fit_logistic(x[rest], y[rest], l2=l2)
        scores[held] = 1.0 / (1.0 + np.exp(-np.clip(b + x[held] @ w, -60, 60)))
    return scores


def learn_gate(pairs: list[tuple[Features, bool]], features: list[str], *, max_wrong_pass: float,
               l2: float = 1.0, seed: int = 0, teacher_right: list[bool] | None = None,
               target_retention: float | None = None) -> tuple[LearnedGate, Calibration]:
    """The gate fitted on every pair, with the threshold that lets at most `max_wrong_pass` of the wrong answers
    pass on cross-validated scores (or, with `teacher_right` and `target_retention`, the one that escalates the
    fewest items while keeping that share of the teacher's accuracy), and what it does there (signal `gate`)."""

    def choose(scored: list[tuple[float, bool]]) -> Calibration:
        if teacher_right is not None and target_retention is not None:
            return threshold_for_retention([(c, ok, t) for (c, ok), t in zip(scored, teacher_right, strict=True)],
                                           target=target_retention, signal="gate")
        return threshold_for(scored, max_wrong_pass=max_wrong_pass, signal="gate")

    defaults = [1.0] * len(features)  # a signal not measured on a run reads 1.0, as `signal_confidence` has it
    x = np.array([[float(f.get(name, d)) for name, d in zip(features, defaults, strict=True)] for f, _ in pairs])
    y = np.array([1.0 if ok else 0.0 for _, ok in pairs])
    if len(set(y.tolist())) < 2:
        everything_right = bool(y.size and y[0] == 1.0)
        gate = LearnedGate(features=features, weights=[0.0] * len(features), bias=20.0 if everything_right else -20.0,
                           defaults=defaults, threshold=0.0 if everything_right else ALWAYS)
        return gate, choose([(gate_score(gate, f), ok) for f, ok in pairs])
    cv = cross_validated(x, y, seed=seed, l2=l2)
    found = choose([(float(s), ok) for s, (_, ok) in zip(cv, pairs, strict=True)])
    weights, bias = fit_logistic(x, y, l2=l2)
    threshold = ALWAYS if math.isinf(found.threshold) else found.threshold
    gate = LearnedGate(features=features, weights=[round(float(w), 6) for w in weights], bias=round(bias, 6),
                       defaults=defaults, threshold=round(threshold, 6))
    return gate, found
