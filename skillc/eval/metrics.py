"""Comparing an output with a reference output: exact, numeric (tolerance), field-level F1, label.

Every metric returns a `Score`: a value in [0, 1] (accuracy averages it) and whether the item counts as
fully right. The LLM-as-judge metric needs a model; it lives in `skillc.eval.judge`.

Example:
    >>> outputs_match({"total": 18}, {"total": "18.0"})
    True
    >>> score("f1", {"a": 1, "b": 2}, {"a": 1, "b": 3}).value
    0.5
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from skillc.core.answers import TOLERANCE, answers_equal, outputs_match
from skillc.core.errors import InvalidInputError

MetricName = Literal["exact", "numeric", "f1", "label", "includes", "set_f1", "judge"]
METRICS: tuple[MetricName, ...] = ("exact", "numeric", "f1", "label", "includes", "set_f1", "judge")


@dataclass(frozen=True)
class Score:
    """One item's score: `value` in [0, 1] and `correct` when the item is fully right."""

    value: float
    correct: bool
    detail: str = ""


def exact_match(expected: dict[str, Any], actual: dict[str, Any] | None) -> bool:
    """Every expected field is equal: numbers exactly (18 == 18.0, not "18"), strings after trimming.

    >>> exact_match({"n": 18, "s": "Acme"}, {"n": 18.0, "s": " Acme "}), exact_match({"n": 18}, {"n": "18"})
    (True, False)
    """
    if actual is None:
        return False
    return all(_exact(v, actual.get(k)) for k, v in expected.items())


def _exact(expected: Any, actual: Any) -> bool:
    if isinstance(expected, str) and isinstance(actual, str):
        return expected.strip() == actual.strip()
    if isinstance(expected, bool) or isinstance(actual, bool):
        return expected is actual
    return bool(type(expected) is type(actual) or {type(expected), type(actual)} <= {int, float}) and expected == actual


def field_f1(expected: dict[str, Any], actual: dict[str, Any] | None, tolerance: float = TOLERANCE) -> float:
    """Field-level F1: precision over the fields the output gives (non-null), recall over the expected ones.

    >>> field_f1({"a": 1, "b": 2}, {"a": 1, "b": 2, "c": 3})
    0.8
    >>> field_f1({"a": 1}, None)
    0.0
    """
    if not expected:
        return 1.0 if not actual else 0.0
    given = {k: v for k, v in (actual or {}).items() if v is not None}
    right = sum(k in given and answers_equal(v, given[k], tolerance) for k, v in expected.items())
    if right == 0:
        return 0.0
    precision, recall = right / len(given), right / len(expected)
    return round(2 * precision * recall / (precision + recall), 10)


def field_recall(expected: dict[str, Any], actual: dict[str, Any] | None, tolerance: float = TOLERANCE) -> float:
    """The share of expected fields the output got right (the demo's `fields` column)."""
    if not expected:
        return 1.0
    return sum(outputs_match({k: v}, actual, tolerance) for k, v in expected.items()) / len(expected)


def includes(expected: dict[str, Any], actual: dict[str, Any] | None) -> bool:
    """Every expected value appears in the output's value of that field, case- and space-insensitively
    (the `evals` package's `Includes`); a list of expected values means any one of them.

    >>> includes({"year": "2030"}, {"year": "The first year is 2030."}), includes({"area": ["Saúde", "Educação"]}, {"area": "educação"})
    (True, True)
    """
    if actual is None:
        return False
    def norm(value: Any) -> str:
        return " ".join(str(value).lower().split())
    for key, want in expected.items():
        got = norm(actual.get(key, ""))
        options = want if isinstance(want, list) else [want]
        if not any(norm(option) in got for option in options if norm(option)):
            return False
    return True


def set_f1(expected: dict[str, Any], actual: dict[str, Any] | None, tolerance: float = TOLERANCE) -> float:
    """Entity-level F1 of list fields (as sets; items equal by the answer rule), averaged over the expected
    fields; a scalar field counts as a one-item list.

    >>> set_f1({"entities": ["Acme - ORG", "Paris - LOC"]}, {"entities": ["paris - loc", "Bob - PER"]})
    0.5
    """
    if actual is None:
        return 0.0
    scores = []
    for key, want in expected.items():
        gold = want if isinstance(want, list) else [want]
        got = actual.get(key)
        pred = got if isinstance(got, list) else ([] if got is None else [got])
        if not gold and not pred:
            scores.append(1.0)
            continue
        hits = sum(any(answers_equal(g, p, tolerance) for p in pred) for g in gold)
        right = sum(any(answers_equal(p, g, tolerance) for g in gold) for p in pred)
        precision, recall = (right / len(pred) if pred else 0.0), (hits / len(gold) if gold else 0.0)
        scores.append(0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall))
    return round(sum(scores) / len(scores), 10) if scores else 1.0


def label_field(expected: dict[str, Any], output_schema: dict[str, Any] | None = None, name: str | None = None) -> str:
    """The field that holds the label: `name`, else the first output property with an `enum`, else the only field.

    >>> label_field({"kind": "a", "total": 3}, {"properties": {"kind": {"enum": ["a", "b"]}, "total": {}}})
    'kind'
    """
    if name:
        return name
    for key, prop in ((output_schema or {}).get("properties") or {}).items():
        if isinstance(prop, dict) and "enum" in prop and key in expected:
            return key
    if len(expected) == 1:
        return next(iter(expected))
    raise InvalidInputError("the label metric needs --label-field: the output has no enum field and several expected fields")


def label_match(expected: dict[str, Any], actual: dict[str, Any] | None, field: str) -> bool:
    """The label field matches, case- and space-insensitively.

    >>> label_match({"kind": "Invoice"}, {"kind": "invoice "}, "kind")
    True
    """
    if actual is None or field not in expected:
        return False
    return answers_equal(str(expected[field]), str(actual.get(field)), 0.0) if actual.get(field) is not None else False


def score(
    metric: MetricName,
    expected: dict[str, Any],
    actual: dict[str, Any] | None,
    *,
    tolerance: float = TOLERANCE,
    output_schema: dict[str, Any] | None = None,
    label: str | None = None,
) -> Score:
    """Score one output against its reference with a model-free metric.

    >>> score("numeric", {"total": 91.8}, {"total": 91.80001}).correct, score("exact", {"total": 91.8}, {"total": 91.80001}).correct
    (True, False)
    """
    if metric == "exact":
        ok = exact_match(expected, actual)
    elif metric == "numeric":
        ok = outputs_match(expected, actual, tolerance)
    elif metric == "f1":
        value = field_f1(expected, actual, tolerance)
        return Score(value, value == 1.0)
    elif metric == "label":
        ok = label_match(expected, actual, label_field(expected, output_schema, label))
    elif metric == "includes":
        ok = includes(expected, actual)
    elif metric == "set_f1":
        value = set_f1(expected, actual, tolerance)
        return Score(value, value == 1.0)
    else:
        raise InvalidInputError(f"metric {metric!r} needs a model (judge) or is unknown; choose one of {', '.join(METRICS)}")
    return Score(float(ok), ok)


def label_pairs(expected: list[dict[str, Any]], outputs: list[dict[str, Any] | None], field: str) -> tuple[list[str], list[str]]:
    """(gold, predicted) labels for macro-F1. A reference that accepts several labels counts the prediction's
    class when it is one of them (else the first); no answer is the class `(none)`.

    >>> label_pairs([{"a": ["X", "Y"]}, {"a": "Z"}], [{"a": "y"}, None], "a")
    (['y', 'z'], ['y', '(none)'])
    """
    def norm(value: Any) -> str:
        return " ".join(str(value).lower().split())

    gold, pred = [], []
    for want, got in zip(expected, outputs, strict=True):
        options = [norm(o) for o in (want.get(field) if isinstance(want.get(field), list) else [want.get(field)])]
        guess = norm(got.get(field)) if isinstance(got, dict) and got.get(field) is not None else "(none)"
        gold.append(guess if guess in options else (options[0] if options else "(none)"))
        pred.append(guess)
    return gold, pred


def macro_f1(gold: list[str], pred: list[str]) -> float:
    """The mean F1 over every label the references use (a label only predicted counts too, with F1 0).

    >>> round(macro_f1(["a", "a", "b", "b"], ["a", "b", "b", "b"]), 4)
    0.7333
    """
    labels = sorted(set(gold) | (set(pred) - {"(none)"}))
    if not labels:
        return 0.0
    scores = []
    for label in labels:
        tp = sum(g == label and p == label for g, p in zip(gold, pred, strict=True))
        fp = sum(g != label and p == label for g, p in zip(gold, pred, strict=True))
        fn = sum(g == label and p != label for g, p in zip(gold, pred, strict=True))
        scores.append(0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn))
    return sum(scores) / len(scores)


def macro_f1_interval(gold: list[str], pred: list[str], *, resamples: int = 1000, seed: int = 0) -> tuple[float, float]:
    """95% percentile-bootstrap interval of `macro_f1` (items resampled with replacement, `seed` fixed).

    >>> lo, hi = macro_f1_interval(["a", "b"] * 20, ["a", "b"] * 15 + ["b", "a"] * 5)
    >>> 0 < lo < hi <= 1
    True
    """
    import numpy as np

    if not gold:
        return 0.0, 0.0
    labels = sorted(set(gold) | set(pred))
    index = {label: i for i, label in enumerate(labels)}
    g, p = np.array([index[x] for x in gold]), np.array([index[x] for x in pred])
    counted = np.array([label != "(none)" for label in labels])
    rng = np.random.default_rng(seed)
    values = []
    n, k = len(g), len(labels)
    for _ in range(resamples):
        pick = rng.integers(0, n, n)
        gs, ps = g[pick], p[pick]
        tp = np.bincount(gs[gs == ps], minlength=k)
        fp = np.bincount(ps, minlength=k) - tp
        fn = np.bincount(gs, minlength=k) - tp
        present = (np.bincount(gs, minlength=k) > 0) | ((np.bincount(ps, minlength=k) > 0) & counted)
        f1 = np.where(tp > 0, 2 * tp / np.maximum(2 * tp + fp + fn, 1), 0.0)
        values.append(float(f1[present].mean()) if present.any() else 0.0)
    return float(np.percentile(values, 2.5)), float(np.percentile(values, 97.5))
