"""Calibrate the escalation thresholds on held-out samples, and store them in the skill's spec.

The skill runs on labelled held-out samples with escalation off while it measures the chosen confidence
signals. For each signal, the threshold is the lowest one at which at most `max_wrong_pass` of the wrong
answers would pass unescalated (confidence ≥ threshold); the lowest threshold escalates the fewest items.
The signal that meets the target with the lowest escalation rate becomes the skill's gate
(`escalation.signals`, `escalation.thresholds`), and every signal's figures go to `escalation.calibration`.

With `target_retention` and a teacher, each threshold is instead the lowest that keeps that share of the
teacher's accuracy on the held-out items (`skillc.eval.thresholds`, where the examples are). A logistic gate
over all the measured signals (`skillc.eval.gate`) competes with the single signals.

Example:
    >>> calibrate_skill.__name__, threshold_for.__module__
    ('calibrate_skill', 'skillc.eval.thresholds')
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from rich.console import Console

from skillc.core.answers import TOLERANCE
from skillc.core.errors import InvalidInputError
from skillc.core.task import Sample
from skillc.eval.conditions import EvalCache, condition_keys, default_conditions, run_conditions, score_run
from skillc.eval.metrics import MetricName
from skillc.eval.sweep import signal_confidence
from skillc.core.spec import LearnedGate
from skillc.eval.gate import learn_gate
from skillc.eval.thresholds import ALWAYS, Calibration, threshold_for, threshold_for_retention, wilson_interval
from skillc.graphs.confidence import SIGNALS
from skillc.skills.skill import Skill

__all__ = ["ALWAYS", "Calibration", "calibrate_skill", "student_for_signals", "threshold_for", "wilson_interval"]


def calibrate_skill(
    skill: Skill,
    samples: list[Sample],
    *,
    student: Any,
    signals: list[str],
    max_wrong_pass: float = 0.1,
    metric: MetricName = "numeric",
    tolerance: float = TOLERANCE,
    cache: EvalCache | None = None,
    console: Console | None = None,
    peer: Any = None,
    learn: bool = True,
    teacher: Any = None,
    target_retention: float | None = None,
) -> tuple[Skill, list[Calibration]]:
    """Run the skill on `samples` (escalation off), measure `signals`, and return the skill with its gate set.

    `signals` may name `check` (failed attempts and checks, free), `consistency`, `logprobs`, `verify`,
    `neighbours` (the bank's nearest labelled items agree, free) and `peer` (a second cheap model agrees;
    `peer` names it, default the skill's `escalation.peer`, else `local:tiny`). With `learn` and at least one
    measured signal, a logistic gate over all of them (`skillc.eval.gate`, threshold on cross-validated scores)
    competes with each single signal: whichever meets the target escalating the fewest items becomes the gate.
    With `target_retention` (and a `teacher`), the target is the overall quality instead: each threshold is the
    lowest at which the skill, taking the teacher's answer (shown the skill's demos, as escalation does) on the
    items it escalates, keeps that share of the teacher's accuracy on `samples`.
    The returned skill is a copy; save it to keep the gate.
    """
    if target_retention is not None and teacher is None:
        raise InvalidInputError("a retention target needs the teacher, whose answers on the held-out items it compares with")
    unknown = sorted(set(signals) - set(SIGNALS))
    if unknown:
        raise InvalidInputError(f"unknown confidence signal(s) {unknown}; use {', '.join(SIGNALS)}")
    measured = [s for s in signals if s != "check"]
    policy = skill.spec.escalation.model_copy(update={"signals": measured, "thresholds": {}, "gate": None})
    probe = skill.replace(spec=skill.spec.model_copy(update={"escalation": policy}))
    if cache is not None and cache.path is not None and not cache.keys:  # a result is reused only for this very probe
        cache = EvalCache(cache.path, condition_keys(probe, student, teacher, peer))
    run = run_conditions(probe, samples, student=student, teacher=None, cache=cache, console=console,
                         conditions=["skill"], peer=peer)
    scores, _ = score_run(run, metric=metric, task=skill.spec.task, output_schema=skill.spec.output_schema,
                          tolerance=tolerance)
    results = [(run.records[("skill", i)].run_result(), scores[("skill", i)].correct) for i in run.ids]
    teacher_right, reference = None, None
    if target_retention is not None:
        reference = "teacher_demos" if "teacher_demos" in default_conditions(probe) else "teacher_only"
        taught = run_conditions(probe, samples, student=student, teacher=teacher, cache=cache, console=console,
                                conditions=[reference])
        marks, _ = score_run(taught, metric=metric, task=skill.spec.task, output_schema=skill.spec.output_schema,
                             tolerance=tolerance)
        teacher_right = [marks[(reference, i)].correct for i in taught.ids]

    def calibrated(values: list[float], name: str) -> Calibration:
        if teacher_right is not None and target_retention is not None:
            return threshold_for_retention([(v, ok, t) for v, (_, ok), t in zip(values, results, teacher_right, strict=True)],
                                           target=target_retention, signal=name)
        return threshold_for([(v, ok) for v, (_, ok) in zip(values, results, strict=True)], max_wrong_pass=max_wrong_pass,
                             signal=name)

    found = [calibrated([signal_confidence(s)(r) for r, _ in results], s) for s in signals]
    gate: LearnedGate | None = None
    if learn and measured:
        features = ["check", *measured]
        pairs = [({f: signal_confidence(f)(r) for f in features}, ok) for r, ok in results]
        gate, learned = learn_gate(pairs, features, max_wrong_pass=max_wrong_pass, teacher_right=teacher_right,
                                   target_retention=target_retention)
        found.append(learned)
    order = [*signals, "gate"]
    best = min(found, key=lambda c: (c.escalation_rate, order.index(c.signal)))
    if best.signal == "check" and math.isinf(best.threshold) and measured:
        # failed checks alone cannot hold the target: only escalating every item does, which a measured signal
        # expresses (threshold above its range); dropping the gate would escalate on failed checks only
        best = next(c for c in found if c.signal == measured[0])
    chosen_gate = gate if best.signal == "gate" else None
    gate_signals = measured if best.signal == "gate" else ([] if best.signal == "check" else [best.signal])
    thresholds = {} if best.signal in ("check", "gate") else {best.signal: min(best.threshold, ALWAYS)}
    target: dict[str, Any] = ({"kind": "retention", "value": target_retention, "reference": reference,
                               "teacher_accuracy": sum(teacher_right) / len(teacher_right) if teacher_right else None}
                              if target_retention is not None else {"kind": "max_wrong_pass", "value": max_wrong_pass})
    calibration = {"max_wrong_pass": max_wrong_pass, "target": target, "items": len(samples), "metric": metric,
                   "student": run.models["student"], "chosen": best.signal,
                   "signals": {c.signal: c.as_dict() | {"threshold": _json_number(c.threshold)} for c in found}}
    if gate is not None:
        calibration["learned_gate"] = gate.model_dump()
    measured_kept = [s for s in gate_signals if s in measured]
    tuned = skill.spec.escalation.model_copy(update={"signals": measured_kept, "thresholds": thresholds,
                                                     "gate": chosen_gate, "calibration": calibration})
    spec = skill.spec.model_copy(update={"escalation": tuned})
    return skill.replace(spec=spec), found


def student_for_signals(student: Any, signals: Iterable[str]) -> Any:
    """The student URI that can measure `signals`: a plain `local:` student gets `?logprobs` when they name logprobs.

    >>> student_for_signals("local:student", ["check", "logprobs"]), student_for_signals("local:student", ["check"])
    ('local:student?logprobs', 'local:student')
    """
    if isinstance(student, str) and "logprobs" in signals and student.startswith("local:") and "?" not in student:
        return student + "?logprobs"
    return student


def _json_number(value: float) -> float | None:
    return None if math.isinf(value) else value
