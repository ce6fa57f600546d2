"""Thresholds on a confidence signal: the lowest one that lets at most a share of the wrong answers pass.

Example:
    >>> pairs = [(0.9, True), (0.8, True), (0.6, False), (0.95, False), (0.3, False)]
    >>> c = threshold_for(pairs, max_wrong_pass=0.34)
    >>> c.threshold, round(c.wrong_pass_rate, 2), c.escalation_rate
    (0.8, 0.33, 0.4)

On few held-out items a rate is uncertain: `wrong_pass_ci` is the 95% Wilson interval of the wrong-pass
rate, and `kept_error_ci` that of the share of passed (unescalated) answers that are wrong.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from skillc.core.errors import InvalidInputError

ALWAYS = 1.01  # a threshold above every signal value in [0, 1]: escalate every item


@dataclass(frozen=True)
class Calibration:
    """One signal's threshold and what it does on the held-out samples."""

    signal: str
    threshold: float
    wrong_pass_rate: float  # share of the wrong answers that pass unescalated
    escalation_rate: float  # share of all items sent to the teacher
    kept_accuracy: float  # accuracy of the items that are not escalated
    items: int
    wrong: int
    wrong_passed: int = 0  # wrong answers that pass unescalated
    kept: int = 0  # answers that pass unescalated
    wrong_pass_ci: tuple[float, float] = (0.0, 1.0)  # 95% Wilson interval of wrong_pass_rate
    kept_error_ci: tuple[float, float] = (0.0, 1.0)  # 95% Wilson interval of the wrong share of passed answers

    def as_dict(self) -> dict[str, Any]:
        def rounded(v: Any) -> Any:
            return round(v, 4) if isinstance(v, float) else [rounded(x) for x in v] if isinstance(v, tuple) else v
        return {k: rounded(v) for k, v in asdict(self).items()}


def wilson_interval(successes: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """The Wilson score interval of a rate `successes / n` (95% by default); (0, 1) when n is 0.

    >>> [round(x, 3) for x in wilson_interval(1, 10)]
    [0.018, 0.404]
    """
    if n <= 0:
        return 0.0, 1.0
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def threshold_for(pairs: list[tuple[float, bool]], *, max_wrong_pass: float, signal: str = "") -> Calibration:
    """The lowest threshold at which at most `max_wrong_pass` of the wrong answers have confidence ≥ it."""
    if not pairs:
        raise InvalidInputError("calibration needs at least one held-out sample")
    if not 0.0 <= max_wrong_pass <= 1.0:
        raise InvalidInputError("max_wrong_pass is a share of the wrong answers, between 0 and 1")
    wrong = [c for c, ok in pairs if not ok]
    for t in sorted({c for c, _ in pairs}) + [math.inf]:
        passed = sum(c >= t for c in wrong)
        if not wrong or passed / len(wrong) <= max_wrong_pass + 1e-12:
            break
    kept = [ok for c, ok in pairs if c >= t]
    return Calibration(
        signal=signal,
        threshold=t,
        wrong_pass_rate=(passed / len(wrong)) if wrong else 0.0,
        escalation_rate=sum(c < t for c, _ in pairs) / len(pairs),
        kept_accuracy=(sum(kept) / len(kept)) if kept else 0.0,
        items=len(pairs),
        wrong=len(wrong),
        wrong_passed=passed,
        kept=len(kept),
        wrong_pass_ci=wilson_interval(passed, len(wrong)),
        kept_error_ci=wilson_interval(len(kept) - sum(kept), len(kept)),
    )


def threshold_for_retention(triples: list[tuple[float, bool, bool]], *, target: float, signal: str = "") -> Calibration:
    """The lowest threshold (the fewest items escalated) at which the skill keeps `target` of the teacher's accuracy:
    items below it take the teacher's answer, the rest keep the skill's. `triples` are (confidence, skill right,
    teacher right) per held-out item; the teacher's accuracy on them is the reference.

    >>> c = threshold_for_retention([(0.9, True, True), (0.8, False, True), (0.2, False, True), (0.95, True, False)],
    ...                             target=0.97)
    >>> c.threshold, c.escalation_rate, c.wrong_passed
    (0.8, 0.25, 1)
    """
    if not triples:
        raise InvalidInputError("calibration needs at least one held-out sample")
    if not 0.0 < target <= 2.0:
        raise InvalidInputError("the retention target is a share of the teacher's accuracy, e.g. 0.97")
    n = len(triples)
    reference = sum(t for _, _, t in triples) / n
    for t in sorted({c for c, _, _ in triples}) + [math.inf]:
        accuracy = sum((ok if c >= t else teacher) for c, ok, teacher in triples) / n
        if accuracy >= target * reference - 1e-12:
            break
    kept = [ok for c, ok, _ in triples if c >= t]
    wrong = [c for c, ok, _ in triples if not ok]
    passed = sum(c >= t for c in wrong)
    return Calibration(
        signal=signal, threshold=t, wrong_pass_rate=(passed / len(wrong)) if wrong else 0.0,
        escalation_rate=sum(c < t for c, _, _ in triples) / n, kept_accuracy=(sum(kept) / len(kept)) if kept else 0.0,
        items=n, wrong=len(wrong), wrong_passed=passed, kept=len(kept),
        wrong_pass_ci=wilson_interval(passed, len(wrong)), kept_error_ci=wilson_interval(len(kept) - sum(kept), len(kept)),
    )
