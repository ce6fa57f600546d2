"""The eval report from a recorded run: accuracy per condition, per stratum, retention, cost, ROI and the sweep.

Nothing here calls a model: it folds `ItemRecord`s and their scores into `eval.json`'s content.

Example:
    >>> retention(0.9, 0.9)["points"], retention(0.9, 0.9, against="teacher + demos")["note"].split(" / ")[1]
    (100.0, 'teacher + demos accuracy (the better teacher condition)')
    >>> retention(0.5, 0.0)["points"] is None
    True
"""

from __future__ import annotations

from typing import Any

from skillc.adapters.pricing import PriceTable
from skillc.core.errors import RegressionError
from skillc.core.report import EvalReport
from skillc.eval.conditions import ASSUMED_API, CONDITIONS, TEACHER_CONDITIONS, EvalRun, ItemRecord, lone_label
from skillc.eval.metrics import Score, field_recall, label_pairs, macro_f1, macro_f1_interval
from skillc.eval.thresholds import wilson_interval
from skillc.eval.roi import roi
from skillc.eval.sweep import (
    Confidence,
    SweepItem,
    measured_signals,
    signal_confidence,
    sweep,
    trace_confidence,
)
from skillc.skills.skill import Skill

STRATA = ("category", "difficulty")


def pricing_plan(models: dict[str, str], prices: PriceTable, priced_as: dict[str, str | None] | None = None) -> dict[str, Any]:
    """Per role: the model, the API model its tokens are priced as, and whether that is an assumption.

    A `local:` model is priced as `ASSUMED_API[role]` unless `priced_as` names another model.

    >>> pricing_plan({"student": "local:student"}, PriceTable())["student"]["priced_as"]
    'gpt-4o-mini'
    """
    priced_as = priced_as or {}
    plan = {}
    for role, model in models.items():
        chosen = priced_as.get(role)
        assumed = bool(chosen) or model.startswith("local:")
        name = chosen or (ASSUMED_API.get(role, model) if model.startswith("local:") else None)
        plan[role] = {"model": model, "priced_as": name, "assumed": assumed,
                      "usd_per_1m": prices.lookup(name) if name else None}
    return plan


def item_cost(record: ItemRecord, plan: dict[str, Any], prices: PriceTable) -> dict[str, float]:
    """USD per role for one record, at the plan's prices (a role without a priced name: its recorded model's)."""
    out = {}
    for role, (tin, tout) in record.tokens.items():
        name = (plan.get(role) or {}).get("priced_as") or record.models.get(role, "")
        out[role] = prices.cost(name, tin, tout)
    return out


def summarize_condition(condition: str, records: list[ItemRecord], scores: list[Score],
                        expected: list[dict[str, Any]], plan: dict[str, Any], prices: PriceTable,
                        tolerance: float) -> dict[str, Any]:
    """One row of the report: accuracy, fields right, escalation, tokens and cost per item per model, time."""
    n = len(records)
    tokens: dict[str, list[int]] = {}
    cost: dict[str, float] = {}
    for record in records:
        for role, (tin, tout) in record.tokens.items():
            bucket = tokens.setdefault(role, [0, 0])
            bucket[0] += tin
            bucket[1] += tout
        for role, usd in item_cost(record, plan, prices).items():
            cost[role] = cost.get(role, 0.0) + usd
    seconds = sum(r.seconds for r in records)
    per_model = {
        role: {"model": plan.get(role, {}).get("model", role), "priced_as": plan.get(role, {}).get("priced_as"),
               "input_tokens": t[0] / n if n else 0.0, "output_tokens": t[1] / n if n else 0.0,
               "cost_usd": cost.get(role, 0.0) / n if n else 0.0}
        for role, t in tokens.items()
    }
    total = sum(cost.values())
    return {
        "key": condition,
        "condition": CONDITIONS.get(condition, condition),
        "items": n,
        "correct": sum(s.correct for s in scores),
        "accuracy": sum(s.value for s in scores) / n if n else 0.0,
        "field_accuracy": sum(field_recall(e, r.output, tolerance) for e, r in zip(expected, records, strict=True)) / n if n else 0.0,
        "escalation_rate": sum(r.escalated for r in records) / n if n else 0.0,
        "errors": sum(r.error is not None for r in records),
        "tokens": tokens,
        "per_item": per_model,
        "cost_usd": total,
        "cost_per_item_usd": total / n if n else 0.0,
        "seconds": round(seconds, 1),
        "local_cost_usd": prices.local_hourly_usd * seconds / 3600,
    }


def stratify(run: EvalRun, scores: dict[tuple[str, str], Score], fields: tuple[str, ...] | list[str] = STRATA) -> dict[str, Any]:
    """Accuracy per condition within each value of each stratification field the dataset has.

    Items without the field are grouped under "(none)"; a field no item has is left out.
    """
    out: dict[str, Any] = {}
    for name in fields:
        values = [(item.model_extra or {}).get(name) for item in run.items]
        if all(v is None for v in values):
            continue
        groups: dict[str, list[str]] = {}
        for item_id, value in zip(run.ids, values, strict=True):
            groups.setdefault("(none)" if value is None else str(value), []).append(item_id)
        out[name] = {
            value: {"items": len(ids), **{c: sum(scores[(c, i)].value for i in ids) / len(ids) for c in run.conditions}}
            for value, ids in sorted(groups.items())
        }
    return out


def retention(skill_accuracy: float, teacher_accuracy: float, against: str = "teacher only") -> dict[str, Any]:
    """Quality retention: skill-with-escalation accuracy over the best teacher condition's (points = ratio × 100)."""
    if teacher_accuracy <= 0:
        return {"ratio": None, "points": None, "note": f"undefined: the {against} condition got no item right"}
    ratio = skill_accuracy / teacher_accuracy
    return {"ratio": round(ratio, 6), "points": round(ratio * 100, 4),
            "note": f"skill + escalation accuracy / {against} accuracy (the better teacher condition)"}


def best_teacher(rows: dict[str, Any]) -> str:
    """The teacher condition retention is measured against: the more accurate of teacher alone and teacher + demos.

    >>> best_teacher({"teacher_only": {"accuracy": 0.5}, "teacher_demos": {"accuracy": 0.6}})
    'teacher_demos'
    """
    present = [k for k in TEACHER_CONDITIONS if k in rows]
    return max(present, key=lambda k: (_accuracy(rows[k]), -TEACHER_CONDITIONS.index(k)))


def _accuracy(row: Any) -> float:
    return float(row["accuracy"] if isinstance(row, dict) else row.accuracy)


def compile_cost(skill: Skill, plan: dict[str, Any], prices: PriceTable, given: float | None) -> dict[str, Any]:
    """The compile cost: `given`, else the provenance's tokens at the teacher's (assumed) price, else its recorded USD."""
    if given is not None:
        return {"usd": given, "source": "--compile-cost"}
    p = skill.spec.provenance
    if p is None:
        return {"usd": None, "source": "the skill has no provenance; pass --compile-cost"}
    teacher = plan.get("teacher") or {}
    if p.teacher.startswith("local:") and teacher.get("priced_as") and p.compile_tokens:
        usd = prices.cost(teacher["priced_as"], p.compile_tokens.get("input", 0), p.compile_tokens.get("output", 0))
        return {"usd": usd, "source": f"provenance tokens priced as {teacher['priced_as']} (assumed)"}
    return {"usd": p.compile_cost_usd, "source": f"provenance ({p.teacher})"}


def build_report(
    run: EvalRun,
    scores: dict[tuple[str, str], Score],
    *,
    skill: Skill,
    prices: PriceTable,
    metric: str,
    tolerance: float,
    priced_as: dict[str, str | None] | None = None,
    strata: tuple[str, ...] | list[str] = STRATA,
    confidence: Confidence = trace_confidence,
    calls_per_month: int = 100_000,
    compile_cost_usd: float | None = None,
    judge_totals: dict[str, Any] | None = None,
) -> EvalReport:
    """Everything `eval.json` holds, from the recorded run (no model calls)."""
    plan = pricing_plan(run.models, prices, priced_as)
    expected = [item.expected or {} for item in run.items]
    rows = [summarize_condition(c, run.by_condition(c), [scores[(c, i)] for i in run.ids], expected, plan, prices, tolerance)
            for c in run.conditions]
    label = lone_label(skill.spec)
    for row in rows:
        row["accuracy_ci"] = [round(x, 4) for x in wilson_interval(row["correct"], row["items"])]
        if label is not None:
            gold, pred = label_pairs(expected, [r.output for r in run.by_condition(row["key"])], label)
            row["macro_f1"] = round(macro_f1(gold, pred), 4)
            row["macro_f1_ci"] = [round(x, 4) for x in macro_f1_interval(gold, pred)]
    by_key = {r["key"]: r for r in rows}
    report: dict[str, Any] = {
        "skill": skill.name,
        "skill_version": skill.spec.version,
        "items": len(run.items),
        "metric": metric,
        "tolerance": tolerance,
        "models": run.models,
        "pricing": plan,
        "local_hourly_usd": prices.local_hourly_usd,
        "conditions": rows,
        "strata": stratify(run, scores, strata),
    }
    if "teacher_only" in by_key and "skill_escalation" in by_key:
        best = best_teacher(by_key)
        report["retention"] = retention(by_key["skill_escalation"]["accuracy"], by_key[best]["accuracy"],
                                        against=CONDITIONS[best])
        cost = compile_cost(skill, plan, prices, compile_cost_usd)
        report["compile_cost"] = cost
        report["roi"] = roi(compile_cost=cost["usd"], teacher_per_item=by_key["teacher_only"]["cost_per_item_usd"],
                            skill_per_item=by_key["skill_escalation"]["cost_per_item_usd"],
                            calls_per_month=calls_per_month).as_dict()
    if "teacher_only" in by_key and "skill" in by_key:
        report["sweep"] = [p.as_dict() for p in sweep(sweep_items(run, scores, plan, prices, confidence))]
        report["confidence"] = getattr(confidence, "__name__", type(confidence).__name__)
        results = [run.records[("skill", i)].run_result() for i in run.ids]
        signals = [n for n in measured_signals(results) if n != "check"]
        if signals:
            report["signals"] = {n: [p.as_dict() for p in sweep(sweep_items(run, scores, plan, prices, signal_confidence(n)))]
                                 for n in ["check", *signals]}
    if judge_totals and judge_totals.get("calls"):
        report["judge"] = judge_totals
    report["summary"] = _summary(report)
    return EvalReport.model_validate(report)


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


def sweep_items(run: EvalRun, scores: dict[tuple[str, str], Score], plan: dict[str, Any], prices: PriceTable,
                confidence: Confidence = trace_confidence) -> list[SweepItem]:
    """Per item: the skill's confidence, score and cost without escalation, and the teacher's score and cost (the
    *teacher + demos* condition where it ran: escalation shows the teacher the same demos)."""
    out = []
    teacher = "teacher_demos" if "teacher_demos" in run.conditions else "teacher_only"  # what escalation shows the teacher
    for item_id in run.ids:
        skill_rec, teacher_rec = run.records[("skill", item_id)], run.records[(teacher, item_id)]
        out.append(SweepItem(
            confidence=float(confidence(skill_rec.run_result())),
            skill_score=scores[("skill", item_id)].value,
            skill_cost=sum(item_cost(skill_rec, plan, prices).values()),
            teacher_score=scores[(teacher, item_id)].value,
            teacher_cost=sum(item_cost(teacher_rec, plan, prices).values()),
        ))
    return out


def check_regression(report: EvalReport, baseline: EvalReport, max_drop: float) -> str:
    """Raise `RegressionError` when retention fell by more than `max_drop` points against `baseline`.

    >>> from skillc.core.report import Retention
    >>> now = EvalReport(skill="x", items=1, metric="numeric", conditions=[], retention=Retention(points=97.0))
    >>> check_regression(now, now.model_copy(update={"retention": Retention(points=98.5)}), 2)
    'retention 97.0 vs baseline 98.5 (-1.5 points, allowed -2)'
    """
    now = report.retention.points if report.retention else None
    before = baseline.retention.points if baseline.retention else None
    if before is None:
        return "baseline retention is undefined; nothing to compare"
    if now is None:
        raise RegressionError(f"retention is undefined now (the teacher got nothing right) and was {before} in the baseline")
    drop = before - now
    line = f"retention {now} vs baseline {before} ({-drop:+.1f} points, allowed -{max_drop:g})"
    if drop > max_drop:
        raise RegressionError(f"quality regression: {line}")
    return line
