"""`skillc eval`: run the four conditions on a labelled dataset, score, price, sweep, and write eval.json + eval.png.

Example:
    >>> rows = [{"key": "teacher_only", "cost_per_item_usd": 0.01}, {"key": "skill_escalation", "cost_per_item_usd": 0.002}]
    >>> summary_line({"items": 12, "conditions": rows, "retention": {"points": 95.0}})
    '12 items · retention 95.0 points · skill $0.002000/item vs teacher $0.010000/item (5.0x cheaper)'
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from skillc.adapters.pricing import PriceTable
from skillc.errors import InvalidInputError
from skillc.skills.eval_report import STRATA, build_report, check_regression
from skillc.skills.evaluate import EvalCache, EvalRun, run_conditions, score_run
from skillc.skills.files import atomic_write_text, verify_manifest, write_manifest
from skillc.skills.metrics import METRICS, TOLERANCE, MetricName
from skillc.skills.skill import EVAL, EVAL_PNG, Skill
from skillc.skills.sweep import Confidence, SweepPoint, plot_curve, trace_confidence
from skillc.skills.task import Sample, load_samples

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
) -> dict[str, Any]:
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
        cache = EvalCache(cache.path)
    started = time.perf_counter()
    run = run_conditions(skill, items, student=student, teacher=teacher, prices=prices, cache=cache, console=console)
    scores, judged = score_run(run, metric=metric, task=skill.spec.task, output_schema=skill.spec.output_schema,
                               tolerance=tolerance, label=label, judge_model=teacher, prices=prices, cache=cache,
                               console=console)
    report = build_report(run, scores, skill=skill, prices=prices, metric=metric, tolerance=tolerance,
                          priced_as=priced_as, strata=strata, confidence=confidence, calls_per_month=calls_per_month,
                          compile_cost_usd=compile_cost_usd, judge_totals=judged)
    report = {"summary": _summary(report), **report}
    report["dataset"] = _dataset_info(items, source)
    report["run"] = {"model_calls_items": run.ran, "cached_items": run.cached, "wall_seconds": round(time.perf_counter() - started, 1),
                     "cache": cache.path.name if cache.path else None}
    return report


def _dataset(dataset: str | Path | list[Sample]) -> tuple[list[Sample], Path | None]:
    if isinstance(dataset, list):
        return dataset, None
    path = Path(dataset)
    try:
        return load_samples(path), path
    except OSError as exc:
        raise InvalidInputError(f"cannot read the dataset {path}: {exc}") from None


def _dataset_info(items: list[Sample], source: Path | None) -> dict[str, Any]:
    digest = hashlib.sha256(b"".join(s.model_dump_json().encode() + b"\n" for s in items)).hexdigest()
    return {"name": source.name if source else None, "items": len(items), "sha256": digest}


def _summary(report: dict[str, Any]) -> dict[str, Any]:
    """The few numbers worth reading first (shown by the skill's notebook display)."""
    rows = {r["key"]: r for r in report["conditions"]}
    out: dict[str, Any] = {f"{k}_accuracy": round(r["accuracy"], 4) for k, r in rows.items()}
    out["retention_points"] = (report.get("retention") or {}).get("points")
    if "skill_escalation" in rows:
        out["skill_cost_per_item_usd"] = rows["skill_escalation"]["cost_per_item_usd"]
        out["escalation_rate"] = rows["skill_escalation"]["escalation_rate"]
    if "teacher_only" in rows:
        out["teacher_cost_per_item_usd"] = rows["teacher_only"]["cost_per_item_usd"]
    if report.get("roi"):
        out["break_even_calls"] = report["roi"]["break_even_calls"]
    return out


def write_evaluation(skill: Skill, report: dict[str, Any], *, baseline: dict[str, Any] | None = None,
                     max_drop: float = 2.0) -> tuple[Path, Path | None, str | None]:
    """Check against `baseline` first (a regression raises and writes nothing), then write eval.json and the
    cost–quality PNG into the skill folder and re-sign its manifest. Returns (eval.json, eval.png, check line)."""
    if skill.path is None:
        raise InvalidInputError("the skill has no folder to write eval.json into; save it first")
    line = check_regression(report, baseline, max_drop) if baseline is not None else None
    if line is not None:
        report["baseline_check"] = {"result": line, "max_drop": max_drop}
    folder = Path(skill.path)
    verify_manifest(folder)  # never re-sign a folder that was modified since it was written
    png = None
    if report.get("sweep"):
        png = plot_curve([SweepPoint.from_dict(p) for p in report["sweep"]], folder / EVAL_PNG, marks=_marks(report),
                         title=f"{skill.name}: cost–quality ({report['items']} items, metric {report['metric']})",
                         cost_label=_cost_label(report),
                         series={n: [SweepPoint.from_dict(p) for p in pts] for n, pts in (report.get("signals") or {}).items() if n != "check"})
        report["plot"] = EVAL_PNG
    atomic_write_text(folder / EVAL, json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    write_manifest(folder)
    skill.evaluation = report
    return folder / EVAL, png, line


def load_baseline(path: str | Path) -> dict[str, Any]:
    """Read an earlier eval.json for `--baseline`."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InvalidInputError(f"cannot read the baseline {path}: {exc}") from None
    if not isinstance(data, dict):
        raise InvalidInputError(f"{path}: not an eval.json report")
    return data


def _marks(report: dict[str, Any]) -> dict[str, tuple[float, float]]:
    rows = {r["key"]: r for r in report["conditions"]}
    names = {"teacher_only": "teacher only", "raw_student": "raw student", "skill_escalation": "skill + escalation (measured)"}
    return {label: (rows[k]["cost_per_item_usd"], rows[k]["accuracy"]) for k, label in names.items() if k in rows}


def _cost_label(report: dict[str, Any]) -> str:
    assumed = [f"{role} as {p['priced_as']}" for role, p in report["pricing"].items() if p.get("assumed")]
    return "cost per item (USD" + (f"; assumed: {', '.join(assumed)}" if assumed else "") + ")"


def summary_line(report: dict[str, Any]) -> str:
    """One line: items, retention, cost per item of skill vs teacher."""
    rows = {r["key"]: r for r in report["conditions"]}
    parts = [f"{report['items']} items"]
    ret = report.get("retention") or {}
    if ret:
        parts.append(f"retention {ret['points']:.1f} points" if ret.get("points") is not None else f"retention {ret['note']}")
    if "skill_escalation" in rows and "teacher_only" in rows:
        s, t = rows["skill_escalation"]["cost_per_item_usd"], rows["teacher_only"]["cost_per_item_usd"]
        parts.append(f"skill ${s:.6f}/item vs teacher ${t:.6f}/item" + (f" ({t / s:.1f}x cheaper)" if s > 0 else ""))
    return " · ".join(parts)


def report_tables(report: dict[str, Any]) -> list[Table]:
    """Rich tables: the conditions, then accuracy per stratum."""
    assumed = any(p.get("assumed") for p in report["pricing"].values())
    usd = "$/item" + (" (assumed)" if assumed else "")
    main = Table("condition", "accuracy", "fields", "escalated", "student tok/item in/out", "teacher tok/item in/out",
                 usd, "wall s", title=f"{report['skill']}: {report['items']} items, metric {report['metric']}")
    for row in report["conditions"]:
        s, t = row["per_item"].get("student"), row["per_item"].get("teacher")
        tok = (lambda u: f"{u['input_tokens']:.0f}/{u['output_tokens']:.0f}" if u else "-")
        main.add_row(row["condition"], f"{row['accuracy']:.0%}", f"{row['field_accuracy']:.0%}",
                     f"{row['escalation_rate']:.0%}", tok(s), tok(t), f"{row['cost_per_item_usd']:.6f}", f"{row['seconds']:.0f}")
    tables = [main]
    for name, groups in (report.get("strata") or {}).items():
        keys = [r["key"] for r in report["conditions"]]
        table = Table(name, "items", *[r["condition"] for r in report["conditions"]], title=f"accuracy by {name}")
        for value, cell in groups.items():
            table.add_row(value, str(cell["items"]), *[f"{cell[k]:.0%}" for k in keys])
        tables.append(table)
    return tables


def print_report(console: Console, report: dict[str, Any]) -> None:
    """The tables, then retention, ROI, pricing assumptions and the sweep, in words."""
    for table in report_tables(report):
        console.print(table)
    plan = report["pricing"]
    notes = [f"{role} {p['model']} priced as {p['priced_as'] or p['model']}" + (" (ASSUMED)" if p.get("assumed") else "")
             for role, p in plan.items()]
    console.print(f"[dim]prices: {'; '.join(notes)} (USD per 1M tokens, list prices).[/]")
    console.print(summary_line(report))
    if report.get("roi"):
        r, c = report["roi"], report["compile_cost"]
        compile_usd = "unknown" if c["usd"] is None else f"${c['usd']:.4f}"
        console.print(f"compile cost {compile_usd} ({c['source']}) · saving/call ${r['saving_per_call_usd']:.6f} · "
                      f"{r['note']} · at {r['calls_per_month']:,} calls/month: ${r['monthly_saving_usd']:,.2f}/month")
    if report.get("sweep"):
        pts = ", ".join(f"t={'∞' if p['threshold'] is None else format(p['threshold'], '.2g')}: {p['accuracy']:.0%} "
                        f"at ${p['cost_per_item']:.6f}" for p in report["sweep"])
        console.print(f"threshold sweep ({report.get('confidence')}): {pts}")
    if report.get("judge"):
        j = report["judge"]
        console.print(f"judge: {j['calls']} calls, tokens in/out {j['tokens'][0]}/{j['tokens'][1]}, "
                      f"{j['failures']} malformed verdict(s) counted wrong")
    run = report.get("run") or {}
    if run:
        console.print(f"ran {run['model_calls_items']} item runs, {run['cached_items']} from the cache · {run['wall_seconds']:.0f}s")


__all__ = ["EvalRun", "evaluate_skill", "load_baseline", "print_report", "report_tables", "write_evaluation"]
