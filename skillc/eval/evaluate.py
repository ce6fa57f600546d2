"""`skillc eval`: run the conditions on a labelled dataset, score, price, sweep, and write eval.json + eval.png.

The conditions: teacher alone, raw student, the skill without and with escalation, and, where the skill's bank
allows, teacher + the skill's demos and the nearest-neighbour vote (`skillc.eval.conditions.default_conditions`).

Example:
    >>> from skillc.core.spec import SkillSpec
    >>> spec = SkillSpec.model_validate({"name": "mul", "task": "Multiply.", "entry": "total",
    ...     "input_schema": {"type": "object", "properties": {"a": {}, "b": {}}},
    ...     "output_schema": {"type": "object", "properties": {"total": {"type": "number"}}},
    ...     "steps": [{"id": "total", "primitive": "compute", "instruction": "a times b", "reads": ["a", "b"],
    ...                "writes": ["total"], "expression": "a * b", "next": "END",
    ...                "contract": {"type": "object", "properties": {"total": {"type": "number"}}}}]})
    >>> items = [Sample(input={"a": 6, "b": 7}, expected={"total": 42})]
    >>> report = evaluate_skill(Skill(spec), items, student=None, teacher=None, conditions=["skill"])
    >>> report.row("skill").accuracy
    1.0
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path
from typing import Any

from rich.console import Console

from skillc.adapters.pricing import PriceTable
from skillc.core.answers import TOLERANCE
from skillc.core.errors import InvalidInputError, SkillcError
from skillc.core.files import atomic_write_text
from skillc.core.manifest import verify_manifest, write_manifest
from skillc.core.report import (
    BaselineCheck,
    DatasetInfo,
    EvalReport,
    RunInfo,
    read_report,
)
from skillc.core.task import Sample, load_samples
from skillc.eval.conditions import EvalCache, EvalRun, run_conditions, score_run
from skillc.eval.metrics import METRICS, MetricName
from skillc.eval.plot import plot_curve
from skillc.eval.report import STRATA, build_report, check_regression
from skillc.eval.sweep import Confidence, SweepPoint, trace_confidence
from skillc.skills.skill import EVAL, EVAL_PNG, Skill

CACHE_DIR = ".skillc-eval-cache"


def evaluate_skill(
    skill: Skill | str | Path,
    dataset: str | Path | list[Sample],
    *,
    student: Any,
    teacher: Any,
    metric: MetricName = "numeric",
    tolerance: float = TOLERANCE,
    label: str | None = None,
    prices: PriceTable | None = None,
    priced_as: dict[str, str | None] | None = None,
    strata: tuple[str, ...] | list[str] = STRATA,
    confidence: Confidence = trace_confidence,
    calls_per_month: int = 100_000,
    compile_cost_usd: float | None = None,
    cache_dir: str | Path | None = None,
    fresh: bool = False,
    limit: int | None = None,
    console: Console | None = None,
    conditions: list[str] | None = None,
) -> EvalReport:
    """Evaluate a skill on a dataset and return the report (write it with `write_evaluation`).

    Args:
        skill: a `Skill` or its folder.
        dataset: a JSONL file of {"input", "expected", optional "id", "category", "difficulty"} or the samples.
        student, teacher: model URIs or chat models; the teacher also judges with `metric="judge"`.
        metric: exact, numeric (relative `tolerance`), f1 (field-level), label (`label` field) or judge.
        priced_as: role -> the API model whose prices the role's tokens get (local models default to the
            demo's assumption: teacher gpt-4o, student gpt-4o-mini), labelled as assumed in the report.
        cache_dir: where the per-item result cache goes (default: `.skillc-eval-cache/` beside the dataset;
            in memory only for a list of samples). `fresh` starts the cache over.
        conditions: which conditions to run (default: `default_conditions(skill)`).
        console: where the progress bar goes (default: none).
    """
    if metric not in METRICS:
        raise InvalidInputError(f"--metric must be one of {', '.join(METRICS)}")
    skill = skill if isinstance(skill, Skill) else Skill.load(skill)
    prices = prices or PriceTable()
    items, source = _dataset(dataset)
    items = items[:limit] if limit else items
    if not items:
        raise InvalidInputError("the dataset has no items")
    if cache_dir is None and source is not None:
        cache_dir = source.parent / CACHE_DIR
    cache = EvalCache.for_settings(Path(cache_dir), skill, student, teacher) if cache_dir is not None else EvalCache()
    if fresh and cache.path is not None:
        cache.path.unlink(missing_ok=True)
        cache = EvalCache(cache.path, cache.keys)
    started = time.perf_counter()
    run = run_conditions(skill, items, student=student, teacher=teacher, prices=prices, cache=cache, console=console,
                         conditions=conditions)
    scores, judged = score_run(run, metric=metric, task=skill.spec.task, output_schema=skill.spec.output_schema,
                               tolerance=tolerance, label=label, judge_model=teacher, prices=prices, cache=cache,
                               console=console)
    report = build_report(run, scores, skill=skill, prices=prices, metric=metric, tolerance=tolerance,
                          priced_as=priced_as, strata=strata, confidence=confidence, calls_per_month=calls_per_month,
                          compile_cost_usd=compile_cost_usd, judge_totals=judged)
    report.dataset = _dataset_info(items, source)
    report.run = RunInfo(model_calls_items=run.ran, cached_items=run.cached,
                         wall_seconds=round(time.perf_counter() - started, 1), cache=cache.path.name if cache.path else None)
    return report


def _dataset(dataset: str | Path | list[Sample]) -> tuple[list[Sample], Path | None]:
    if isinstance(dataset, list):
        return dataset, None
    path = Path(dataset)
    try:
        return load_samples(path), path
    except OSError as exc:
        raise InvalidInputError(f"cannot read the dataset {path}: {exc}") from None


def items_digest(items: list[Sample]) -> str:
    """The sha256 an eval report records for its items (`report.dataset.sha256`): which items, in which order."""
    return hashlib.sha256(b"".join(s.model_dump_json().encode() + b"\n" for s in items)).hexdigest()


def _dataset_info(items: list[Sample], source: Path | None) -> DatasetInfo:
    return DatasetInfo(name=source.name if source else None, items=len(items), sha256=items_digest(items))


def write_evaluation(skill: Skill, report: EvalReport, *, baseline: EvalReport | None = None,
                     max_drop: float = 2.0) -> tuple[Path, Path | None, str | None]:
    """Check against `baseline` first (a regression raises and writes nothing), then write eval.json and the
    cost–quality PNG into the skill folder and re-sign its manifest. Returns (eval.json, eval.png, check line)."""
    if skill.path is None:
        raise InvalidInputError("the skill has no folder to write eval.json into; save it first")
    line = check_regression(report, baseline, max_drop) if baseline is not None else None
    if line is not None:
        report.baseline_check = BaselineCheck(result=line, max_drop=max_drop)
    folder = Path(skill.path)
    verify_manifest(folder)  # never re-sign a folder that was modified since it was written
    png = None
    if report.sweep:
        series = {n: [SweepPoint.from_dict(p.model_dump()) for p in pts] for n, pts in (report.signals or {}).items() if n != "check"}
        png = plot_curve([SweepPoint.from_dict(p.model_dump()) for p in report.sweep], folder / EVAL_PNG, marks=_marks(report),
                         title=f"{skill.name}: cost–quality ({report.items} items, metric {report.metric})",
                         cost_label=_cost_label(report), series=series)
        report.plot = EVAL_PNG
    atomic_write_text(folder / EVAL, report.to_json())
    write_manifest(folder)
    skill.evaluation = report
    return folder / EVAL, png, line


def load_baseline(path: str | Path) -> EvalReport:
    """Read an earlier eval.json for `--baseline`."""
    try:
        return read_report(Path(path))
    except SkillcError as exc:
        raise InvalidInputError(f"cannot use the baseline: {exc}") from None


def _marks(report: EvalReport) -> dict[str, tuple[float, float]]:
    names = {"teacher_only": "teacher only", "teacher_demos": "teacher + demos", "raw_student": "raw student",
             "nn_vote": "nearest-neighbour vote", "skill_escalation": "skill + escalation (measured)"}
    rows = {k: report.row(k) for k in names}
    return {label: (row.cost_per_item_usd, row.accuracy) for k, label in names.items() if (row := rows[k]) is not None}


def _cost_label(report: EvalReport) -> str:
    assumed = [f"{role} as {p.priced_as}" for role, p in report.pricing.items() if p.assumed]
    return "cost per item (USD" + (f"; assumed: {', '.join(assumed)}" if assumed else "") + ")"


__all__ = ["EvalRun", "evaluate_skill", "load_baseline", "write_evaluation"]
