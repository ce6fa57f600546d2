"""Evaluation: run the conditions (teacher only, raw student, skill, skill + escalation), score, price, sweep.

The public surface of the evaluation; benchmarks and the CLI import from here, not from the modules.

- `evaluate_skill` → a typed `EvalReport`; `write_evaluation` writes `eval.json` + `eval.png`.
- `calibrate_skill`: escalation thresholds from held-out samples.
- `run_conditions` / `score_run` / `EvalCache`: the resumable per-item runner, for custom reports.
- `sweep`, `sweep_items`, `signal_confidence`, `measured_signals`: cost–quality curves from a recorded run.
"""

from skillc.eval.calibrate import calibrate_skill, student_for_signals
from skillc.eval.conditions import (
    ASSUMED_API,
    CONDITIONS,
    EvalCache,
    EvalRun,
    condition_keys,
    item_ids,
    model_label,
    run_conditions,
    score_run,
)
from skillc.eval.evaluate import evaluate_skill, items_digest, load_baseline, write_evaluation
from skillc.eval.metrics import METRICS, MetricName, Score, score
from skillc.eval.report import sweep_items
from skillc.eval.sweep import (
    SweepPoint,
    measured_signals,
    signal_confidence,
    sweep,
    trace_confidence,
)

__all__ = [
    "ASSUMED_API",
    "CONDITIONS",
    "METRICS",
    "EvalCache",
    "EvalRun",
    "MetricName",
    "Score",
    "SweepPoint",
    "calibrate_skill",
    "student_for_signals",
    "condition_keys",
    "evaluate_skill",
    "items_digest",
    "item_ids",
    "load_baseline",
    "measured_signals",
    "model_label",
    "run_conditions",
    "score",
    "score_run",
    "signal_confidence",
    "sweep",
    "sweep_items",
    "trace_confidence",
    "write_evaluation",
]
