"""The cost–quality curve: sweep the escalation threshold over a recorded run, with no new model calls.

Each item carries the skill's answer without escalation (its score and cost), the teacher-only answer
(its score and cost) and a confidence derived from the skill run's trace. For a threshold t, items with
confidence < t take the teacher's answer and add the teacher's cost. `confidence` is pluggable: any
function of a `RunResult` to [0, 1]. `trace_confidence` reads failed attempts and checks (the `check`
signal); `signal_confidence(name)` reads one measured signal (`consistency`, `logprobs`, `verify`), so
each signal gets its own curve.

Example:
    >>> items = [SweepItem(1.0, 1.0, 0.1, 1.0, 1.0), SweepItem(0.5, 0.0, 0.1, 1.0, 1.0)]
    >>> [(p.threshold, p.accuracy, p.cost_per_item) for p in sweep(items)]
    [(0.5, 0.5, 0.1), (1.0, 1.0, 0.6), (inf, 1.0, 1.1)]
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from skillc.core.trace import RunResult

Confidence = Callable[[RunResult], float]


def trace_confidence(result: RunResult) -> float:
    """Confidence from the trace: 0 when the run gave up; else 1 / (1 + failed attempts and failed checks).

    A step record whose output carries a `confidence` number in [0, 1] caps the score at that value.

    >>> from skillc.core.trace import StepRecord
    >>> ok = StepRecord(step="a", primitive="extract", role="student", ok=True)
    >>> bad = StepRecord(step="a", primitive="extract", role="student", ok=False, action="retry")
    >>> trace_confidence(RunResult(output={}, trace=[bad, ok]))
    0.5
    """
    if result.error is not None:
        return 0.0
    failures = sum(not r.ok for r in result.trace) + sum(not c.ok for r in result.trace if r.ok for c in r.checks)
    value = 1.0 / (1.0 + failures)
    for record in result.trace:
        stated = (record.output or {}).get("confidence")
        if isinstance(stated, (int, float)) and not isinstance(stated, bool) and 0.0 <= stated <= 1.0:
            value = min(value, float(stated))
    return value


def signal_confidence(name: str) -> Confidence:
    """Confidence from one signal alone: its lowest value over the run's steps (0 when the run gave up).

    `check` is `trace_confidence`. A run where the signal was never measured gets 1.0 (no evidence against).

    >>> from skillc.core.trace import StepRecord
    >>> rec = StepRecord(step="a", primitive="transform", role="student", ok=True, confidence={"consistency": 0.5})
    >>> signal_confidence("consistency")(RunResult(output={}, trace=[rec]))
    0.5
    """
    if name == "check":
        return trace_confidence

    def confidence(result: RunResult) -> float:
        if result.error is not None:
            return 0.0
        values = [r.confidence[name] for r in result.trace if r.confidence and name in r.confidence]
        return min(values) if values else 1.0

    confidence.__name__ = f"{name}_confidence"
    return confidence


def measured_signals(results: list[RunResult]) -> list[str]:
    """`check`, then every signal measured in any of the runs, in a fixed order."""
    from skillc.graphs.confidence import STEP_SIGNALS

    seen = {k for r in results for rec in r.trace for k in (rec.confidence or {})}
    return ["check", *[s for s in STEP_SIGNALS if s in seen]]


@dataclass(frozen=True)
class SweepItem:
    """One item: the skill's confidence, score and cost without escalation; the teacher's score and cost."""

    confidence: float
    skill_score: float
    skill_cost: float
    teacher_score: float
    teacher_cost: float


@dataclass(frozen=True)
class SweepPoint:
    """At threshold t: accuracy, cost per item and the share of items sent to the teacher."""

    threshold: float
    accuracy: float
    cost_per_item: float
    escalation_rate: float

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["threshold"] = None if math.isinf(self.threshold) else self.threshold  # JSON has no infinity
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SweepPoint:
        """The point back from `as_dict` (a None threshold is +inf)."""
        return cls(math.inf if d["threshold"] is None else d["threshold"], d["accuracy"], d["cost_per_item"],
                   d["escalation_rate"])


def sweep(items: list[SweepItem]) -> list[SweepPoint]:
    """One point per distinct confidence value (the lowest sends nothing to the teacher), plus +inf (everything)."""
    if not items:
        return []
    thresholds = sorted({i.confidence for i in items}) + [math.inf]
    points = []
    for t in thresholds:
        escalated = [i.confidence < t for i in items]
        accuracy = sum(i.teacher_score if e else i.skill_score for i, e in zip(items, escalated, strict=True))
        cost = sum(i.skill_cost + (i.teacher_cost if e else 0.0) for i, e in zip(items, escalated, strict=True))
        n = len(items)
        points.append(SweepPoint(t, round(accuracy / n, 10), round(cost / n, 12), sum(escalated) / n))
    return points
