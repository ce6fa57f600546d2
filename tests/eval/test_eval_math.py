"""Stratification, retention, ROI, the threshold sweep and its plot, the baseline check — no model calls."""

from __future__ import annotations

import math

import pytest

from skillc.core.errors import RegressionError
from skillc.core.report import EvalReport, Retention
from skillc.core.task import Sample
from skillc.core.trace import CheckResult, RunError, RunResult, StepRecord
from skillc.eval.conditions import EvalRun, ItemRecord
from skillc.eval.metrics import Score
from skillc.eval.plot import plot_curve
from skillc.eval.report import check_regression, retention, stratify
from skillc.eval.roi import roi
from skillc.eval.sweep import SweepItem, sweep, trace_confidence


def test_stratify_by_dataset_fields():
    items = [Sample(input={"i": n}, expected={}, category=c, difficulty=d)
             for n, (c, d) in enumerate([("a", "easy"), ("a", "hard"), ("b", "easy"), ("b", None)])]
    ids = [str(n) for n in range(4)]
    right = {("teacher_only", "0"): 1, ("teacher_only", "1"): 1, ("teacher_only", "2"): 0, ("teacher_only", "3"): 1,
             ("skill", "0"): 1, ("skill", "1"): 0, ("skill", "2"): 0, ("skill", "3"): 0}
    scores = {k: Score(float(v), bool(v)) for k, v in right.items()}
    run = EvalRun(items, ids, {}, {}, conditions=["teacher_only", "skill"])
    out = stratify(run, scores, ["category", "difficulty", "absent"])
    assert out["category"] == {"a": {"items": 2, "teacher_only": 1.0, "skill": 0.5},
                               "b": {"items": 2, "teacher_only": 0.5, "skill": 0.0}}
    assert out["difficulty"]["easy"] == {"items": 2, "teacher_only": 0.5, "skill": 0.5}
    assert out["difficulty"]["(none)"] == {"items": 1, "teacher_only": 1.0, "skill": 0.0}
    assert "absent" not in out


def test_retention_points_and_undefined_when_teacher_gets_nothing():
    assert retention(0.9, 0.95)["points"] == pytest.approx(94.7368, abs=1e-3)
    assert retention(1.0, 0.8)["points"] == 125.0
    undefined = retention(0.5, 0.0)
    assert undefined["ratio"] is None and undefined["points"] is None and "undefined" in undefined["note"]


def test_roi_break_even_and_monthly_saving():
    r = roi(compile_cost=0.30, teacher_per_item=0.0010, skill_per_item=0.0004, calls_per_month=100_000)
    assert r.saving_per_call_usd == pytest.approx(0.0006)
    assert r.break_even_calls == 500  # 0.30 / 0.0006
    assert r.monthly_saving_usd == pytest.approx(60.0)
    assert roi(compile_cost=0.31, teacher_per_item=0.001, skill_per_item=0.0004, calls_per_month=1).break_even_calls == 517


def test_roi_without_saving_or_compile_cost_says_why():
    never = roi(compile_cost=1.0, teacher_per_item=0.001, skill_per_item=0.001, calls_per_month=10)
    assert never.break_even_calls is None and "never pays back" in never.note and never.monthly_saving_usd == 0
    unknown = roi(compile_cost=None, teacher_per_item=0.002, skill_per_item=0.001, calls_per_month=10)
    assert unknown.break_even_calls is None and "--compile-cost" in unknown.note
    assert unknown.monthly_saving_usd == pytest.approx(0.01)
    assert roi(compile_cost=0.0, teacher_per_item=0.002, skill_per_item=0.001, calls_per_month=1).break_even_calls == 0


def test_sweep_sends_low_confidence_items_to_the_teacher_and_adds_its_cost():
    items = [
        SweepItem(confidence=1.0, skill_score=1.0, skill_cost=0.1, teacher_score=1.0, teacher_cost=1.0),
        SweepItem(confidence=0.5, skill_score=0.0, skill_cost=0.1, teacher_score=1.0, teacher_cost=1.0),
        SweepItem(confidence=0.0, skill_score=0.0, skill_cost=0.1, teacher_score=0.0, teacher_cost=1.0),
        SweepItem(confidence=0.5, skill_score=1.0, skill_cost=0.1, teacher_score=0.0, teacher_cost=1.0),
    ]
    points = sweep(items)
    assert [p.threshold for p in points] == [0.0, 0.5, 1.0, math.inf]
    assert [p.escalation_rate for p in points] == [0.0, 0.25, 0.75, 1.0]
    assert [p.accuracy for p in points] == [0.5, 0.5, 0.5, 0.5]
    assert [p.cost_per_item for p in points] == pytest.approx([0.1, 0.35, 0.85, 1.1])
    assert points[-1].as_dict()["threshold"] is None
    assert sweep([]) == []


def test_sweep_accuracy_rises_when_the_teacher_fixes_low_confidence_items():
    items = [SweepItem(0.2, 0.0, 0.01, 1.0, 0.1), SweepItem(1.0, 1.0, 0.01, 1.0, 0.1)]
    assert [(p.accuracy, p.escalation_rate) for p in sweep(items)] == [(0.5, 0.0), (1.0, 0.5), (1.0, 1.0)]


def test_trace_confidence_from_failures_give_up_and_stated_confidence():
    ok = StepRecord(step="a", primitive="extract", role="student", ok=True)
    failed = StepRecord(step="a", primitive="extract", role="student", ok=False, action="retry")
    checked = StepRecord(step="b", primitive="verify", role="student", ok=True, checks=[CheckResult(name="c", ok=False)])
    stated = StepRecord(step="c", primitive="classify", role="student", ok=True, output={"label": "x", "confidence": 0.3})
    assert trace_confidence(RunResult(output={}, trace=[ok])) == 1.0
    assert trace_confidence(RunResult(output={}, trace=[failed, failed, ok])) == pytest.approx(1 / 3)
    assert trace_confidence(RunResult(output={}, trace=[ok, checked])) == 0.5
    assert trace_confidence(RunResult(output={}, trace=[ok, stated])) == 0.3
    assert trace_confidence(RunResult(output=None, error=RunError(kind="check", message="x"), trace=[ok])) == 0.0


def test_confidence_is_recomputed_from_a_recorded_trace():
    failed = StepRecord(step="a", primitive="extract", role="student", ok=False).model_dump()
    record = ItemRecord(condition="skill", item="1", output={"x": 1}, trace=[failed])
    assert trace_confidence(record.run_result()) == 0.5


def test_plot_writes_a_png_without_a_display(tmp_path):
    points = sweep([SweepItem(0.5, 0.0, 0.01, 1.0, 0.1), SweepItem(1.0, 1.0, 0.01, 1.0, 0.1)])
    path = plot_curve(points, tmp_path / "eval.png", marks={"teacher only": (0.1, 1.0), "raw student": (0.001, 0.2)})
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 5000


def at(points: float | None) -> EvalReport:
    return EvalReport(skill="x", items=1, metric="numeric", conditions=[], retention=Retention(points=points))


def test_baseline_check_fails_on_a_drop_of_more_than_max_points():
    assert "allowed" in check_regression(at(96.5), at(98.0), 2)
    assert "allowed" in check_regression(at(96.0), at(98.0), 2)
    with pytest.raises(RegressionError, match="quality regression") as info:
        check_regression(at(95.9), at(98.0), 2)
    assert info.value.exit_code == 7
    with pytest.raises(RegressionError, match="undefined"):
        check_regression(at(None), at(98.0), 2)
    assert "nothing to compare" in check_regression(at(90), at(None), 2)
