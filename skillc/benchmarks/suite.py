"""`skillc bench suite`: the public task suite, compiled without hints, each skill evaluated four ways.

For each set of the `evals` package (see `skillc.benchmarks.suite_data`):

1. Convert: `tasks/<set>/task.yaml` (no hints) and `OUT/<set>/items.jsonl`, when the items are not there yet.
2. Compile or reuse: `SKILLS/<skill>/` is loaded when it exists, else `skillc compile` runs with the teacher
   (the architect, its repairs and the fallback design; a line per stage on stderr) and saves it there.
3. Evaluate with `skillc eval`'s runner: teacher alone, raw student, the skill on the student without and
   with escalation, on `limit` items spread evenly over the set (`OUT/<set>/eval-items.jsonl` names them),
   scored by the task's own metric. Each finished (condition, item) pair is cached in `OUT/<set>/cache/`, so
   a killed run resumes; `eval.json` and `eval.png` go into the skill folder and `OUT/<set>/eval.json`.
4. Summarise: `OUT/suite.md` (the table), `OUT/suite.json` and `OUT/suite.png` (one cost–quality panel per
   set). `redraw_suite` rebuilds these three from the per-set `eval.json` files with no model call.

The goal of issue 14 is checked per set: the skill with escalation keeps ≥97% of the teacher-alone accuracy,
at most 20% of items touch the teacher, and it costs ≥3x less than the teacher alone (assumed API prices).

Example:
    >>> spread(list(range(10)), 4)
    [0, 2, 5, 7]
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console

from skillc.adapters.pricing import PriceTable
from skillc.benchmarks.suite_data import SETS, convert_suite
from skillc.compile import compile_skill
from skillc.core.errors import InvalidInputError
from skillc.core.files import atomic_write_text, json_digest, read_json
from skillc.core.report import EvalReport, read_report
from skillc.core.task import Sample, Task, load_samples
from skillc.eval import (
    ASSUMED_API,
    EvalCache,
    SweepPoint,
    calibrate_skill,
    evaluate_skill,
    items_digest,
    student_for_signals,
    write_evaluation,
)
from skillc.eval.plot import draw_curve, new_figure, save_figure
from skillc.skills import Skill

RETENTION_GOAL, TOUCH_GOAL, CHEAPER_GOAL = 0.97, 0.20, 3.0
TEACHER_FLOOR = 0.5  # below this teacher-alone accuracy, "keeping the teacher's quality" says nothing: not counted
# nor is it when the teacher does no better than always giving the commonest label (`majority_baseline`)
CONDITION_LABELS = {"teacher_only": "teacher only", "raw_student": "raw student", "skill": "skill, no escalation",
                    "skill_escalation": "skill + escalation"}


@dataclass(frozen=True)
class SuiteSettings:
    """What one suite run does: the models, the items per set (None = all) and the compile's repair budget."""

    student: str = "local:student"
    teacher: str = "local:teacher"
    limit: int | None = 20
    max_repairs: int = 2
    calibrate: int = 20
    signals: tuple[str, ...] = ("check", "consistency")  # logprobs needs a logits_all server: 5 GB on qa's 8k context
    max_wrong_pass: float = 0.1


def spread(items: list[Any], limit: int | None) -> list[Any]:
    """`limit` items spread evenly over `items` (all of them when `limit` is None or not smaller)."""
    if limit is None or limit >= len(items):
        return list(items)
    if limit < 1:
        raise InvalidInputError("--limit must be at least 1")
    return [items[i * len(items) // limit] for i in range(limit)]


def run_suite(
    data: str | Path,
    settings: SuiteSettings,
    *,
    tasks: str | Path = Path("bench/suite"),
    skills: str | Path = Path("skills"),
    out: str | Path = Path("bench/results/suite"),
    only: list[str] | None = None,
    console: Console | None = None,
) -> dict[str, Any]:
    """Convert, compile or reuse, and evaluate every set; returns the summary (see `summarise`)."""
    data, tasks, skills, out = Path(data), Path(tasks), Path(skills), Path(out)
    console = console or Console(stderr=True)
    names = _chosen_sets(only)
    _convert_when_missing(data, tasks, out, names, console.print)
    for n, name in enumerate(names, 1):
        console.print(f"[bold]suite {n}/{len(names)}: {name}[/]")
        task = Task.from_file(tasks / name / "task.yaml")
        skill = _compiled(task, skills / task.name, settings, out / name, console)
        items, held_out = split_items(load_samples(out / name / "items.jsonl"), settings.limit, settings.calibrate)
        picked = out / name / "eval-items.jsonl"
        atomic_write_text(picked, "".join(item.model_dump_json() + "\n" for item in items))
        skill = _calibrated(skill, held_out, task, settings, out / name, console)
        report = evaluate_skill(skill, picked, student=student_for_signals(settings.student, settings.signals), teacher=settings.teacher,
                                metric=task.metric or "exact", prices=PriceTable(), priced_as=dict(ASSUMED_API),
                                cache_dir=out / name / "cache", console=console)
        write_evaluation(skill, report)
        atomic_write_text(out / name / "eval.json", report.to_json())
        row = suite_row(name, report, skill, majority_baseline(items, report.metric))
        console.print(f"{name}: teacher {row['teacher_accuracy']:.0%}, skill + escalation {row['skill_escalation_accuracy']:.0%}"
                      f" (retention {_pct(row['retention'])}), {row['teacher_touch']:.0%} touch the teacher, "
                      f"{_ratio(row['cheaper'])} cheaper")
    return redraw_suite(out, tasks=tasks, skills=skills, settings=settings)  # every set with an eval.json


def split_items(items: list[Sample], limit: int | None, calibrate: int) -> tuple[list[Sample], list[Sample]]:
    """The eval items (`limit`, spread evenly) and the held-out calibration items, disjoint.

    Calibration takes `calibrate` items, at most half the set; a set too small for both gives the eval
    what calibration leaves.

    >>> evals, held = split_items([Sample(input={"i": i}, id=i) for i in range(10)], 8, 4)
    >>> [s.input["i"] for s in evals], [s.input["i"] for s in held]
    ([0, 1, 3, 5, 6, 8], [2, 4, 7, 9])
    """
    n_cal = min(calibrate, len(items) // 2)
    count = len(items) - n_cal if limit is None or limit + n_cal > len(items) else limit
    chosen = spread(items, count)
    taken = {id(s) for s in chosen}
    return chosen, spread([s for s in items if id(s) not in taken], n_cal) if n_cal else []


def _calibrated(skill: Skill, held_out: list[Sample], task: Task, settings: SuiteSettings, out: Path,
                console: Console) -> Skill:
    """The skill with its escalation gate calibrated on the held-out items, saved in its folder."""
    if not held_out:
        console.print(f"{task.name}: no held-out items to calibrate on; the gate stays on failed checks only")
        return skill
    signals = list(settings.signals)
    key = json_digest([skill.spec.model_copy(update={"escalation": None}).model_dump(mode="json"), signals,
                   settings.student, [s.model_dump(mode="json") for s in held_out]])
    cache = EvalCache(out / "cache" / f"calibration-{skill.name}-{key[:16]}.jsonl")
    console.print(f"calibrating the gate of {skill.name} on {len(held_out)} held-out item(s), signals {', '.join(signals)} …")
    tuned, found = calibrate_skill(skill, held_out, student=student_for_signals(settings.student, signals), signals=signals,
                                   max_wrong_pass=settings.max_wrong_pass, metric=task.metric or "exact",
                                   cache=cache, console=console)
    for c in found:
        console.print(f"  {c.signal}: threshold {c.threshold:.3g}, escalates {c.escalation_rate:.0%}, "
                      f"lets {c.wrong_pass_rate:.0%} of {c.wrong} wrong answer(s) pass")
    if tuned.spec != skill.spec:
        tuned.save(skill.path)
        return Skill.load(skill.path)
    return skill


def _chosen_sets(only: list[str] | None) -> list[str]:
    unknown = sorted(set(only or []) - set(SETS))
    if unknown:
        raise InvalidInputError(f"unknown suite set(s): {', '.join(unknown)}; the sets are {', '.join(SETS)}")
    return [name for name in SETS if not only or name in only]


def _compiled(task: Task, folder: Path, settings: SuiteSettings, out: Path, console: Console) -> Skill:
    """The skill in `folder` when there is one, else a fresh `skillc compile` saved there (timed)."""
    if folder.exists():
        skill = Skill.load(folder)
        console.print(f"reusing the compiled skill {folder} ({_design(skill)} design, {len(skill.spec.steps)} step(s))")
        return skill
    console.print(f"compiling {task.name} with {settings.teacher}, no hints …")
    started = time.perf_counter()
    skill = compile_skill(task, teacher=settings.teacher, max_repairs=settings.max_repairs, progress=console.print)
    seconds = round(time.perf_counter() - started, 1)
    skill.save(folder)
    atomic_write_text(out / "compile.json", _json({"skill": task.name, "seconds": seconds}))
    return Skill.load(folder)


def _design(skill: Skill) -> str:
    p = skill.spec.provenance
    return p.design if p else "unknown"


def majority_baseline(items: list[Sample], metric: str) -> float | None:
    """For a label set, the accuracy of always giving the commonest expected answer; None for other metrics.

    >>> majority_baseline([Sample(input={}, expected={"a": "Yes"})] * 3 + [Sample(input={}, expected={"a": "No"})], "label")
    0.75
    """
    if metric != "label" or not items:
        return None
    counts: dict[str, int] = {}
    for item in items:
        key = json.dumps(item.expected, sort_keys=True)
        counts[key] = counts.get(key, 0) + 1
    return max(counts.values()) / len(items)


def teacher_too_weak(teacher_accuracy: float, baseline: float | None) -> bool:
    """Whether the teacher alone is too weak for "keeps the teacher's quality" to mean anything: right on fewer
    than TEACHER_FLOOR of the items, or no better than the commonest label."""
    return teacher_accuracy < TEACHER_FLOOR or (baseline is not None and teacher_accuracy <= baseline + 1e-9)


def suite_row(name: str, report: EvalReport, skill: Skill | None = None, baseline: float | None = None) -> dict[str, Any]:
    """One set's line of the suite table, from its eval report (`baseline`: `majority_baseline` of its items)."""
    rows = {r.key: r for r in report.conditions}
    teacher, escalated = rows.get("teacher_only"), rows.get("skill_escalation")
    if teacher is None or escalated is None:
        raise InvalidInputError(f"{name}: the eval report lacks the teacher-only or the escalation condition")
    retention = escalated.accuracy / teacher.accuracy if teacher.accuracy else None
    cheaper = teacher.cost_per_item_usd / escalated.cost_per_item_usd if escalated.cost_per_item_usd else None
    weak = teacher_too_weak(teacher.accuracy, baseline)
    goal = (not weak and retention is not None and retention >= RETENTION_GOAL - 1e-9 and escalated.escalation_rate <= TOUCH_GOAL + 1e-9
            and (cheaper is None or cheaper >= CHEAPER_GOAL))
    row: dict[str, Any] = {
        "set": name, "skill": report.skill, "metric": report.metric, "items": report.items,
        "design": _design(skill) if skill else None, "steps": len(skill.spec.steps) if skill else None,
        "teacher_accuracy": teacher.accuracy, "retention": retention, "teacher_touch": escalated.escalation_rate,
        "cheaper": cheaper, "goal_met": goal, "teacher_too_weak": weak, "majority_baseline": baseline,
        "gate": _gate(skill) if skill else None,
    }
    for key in CONDITION_LABELS:
        if key in rows:
            row[f"{key}_accuracy"] = rows[key].accuracy
            row[f"{key}_cost_per_item_usd"] = rows[key].cost_per_item_usd
            row[f"{key}_seconds_per_item"] = rows[key].seconds / max(rows[key].items, 1)
            row[f"{key}_tokens_per_item"] = {role: [round(v / max(rows[key].items, 1)) for v in pair]
                                             for role, pair in rows[key].tokens.items()}
    return row


def _gate(skill: Skill) -> str:
    """The escalation gate in words: the calibrated signal and threshold, else failed checks only."""
    policy = skill.spec.escalation
    if not policy.thresholds:
        return "failed checks"
    return ", ".join(f"{signal} < {value:.3g}" for signal, value in policy.thresholds.items())


def summarise(rows: list[dict[str, Any]], settings: SuiteSettings | None = None) -> dict[str, Any]:
    """The suite's figures: the rows, the sets meeting the goal, median retention and teacher touch."""
    retentions = [r["retention"] for r in rows if r["retention"] is not None]
    return {
        "settings": settings.__dict__ if settings else None,
        "goal": {"retention": RETENTION_GOAL, "teacher_touch": TOUCH_GOAL, "cheaper": CHEAPER_GOAL,
                 "teacher_floor": TEACHER_FLOOR},
        "teacher_too_weak": [r["set"] for r in rows if r["teacher_too_weak"]],
        "sets": len(rows),
        "goal_met": [r["set"] for r in rows if r["goal_met"]],
        "median_retention": statistics.median(retentions) if retentions else None,
        "median_teacher_touch": statistics.median(r["teacher_touch"] for r in rows) if rows else None,
        "rows": rows,
    }


def redraw_suite(out: str | Path, *, tasks: str | Path = Path("bench/suite"), skills: str | Path = Path("skills"),
                 only: list[str] | None = None, settings: SuiteSettings | None = None,
                 data: str | Path | None = None, say: Callable[[str], None] = print) -> dict[str, Any]:
    """Rebuild `OUT/suite.md`, `suite.json` and `suite.png` from the per-set `eval.json` files (no model calls).

    With `data`, a set's items are converted first when missing (a new checkout): the majority baseline, and
    with it the "teacher too weak" verdict, needs the items the report was scored on.
    """
    out, tasks, skills = Path(out), Path(tasks), Path(skills)
    settings = settings or _recorded_settings(out)
    evaluated = [name for name in _chosen_sets(only) if (out / name / "eval.json").is_file()]
    if data is not None:
        _convert_when_missing(Path(data), tasks, out, evaluated, say)
    rows, reports = [], []
    for name in evaluated:
        report = read_report(out / name / "eval.json")
        folder = skills / report.skill
        skill = Skill.load(folder) if folder.is_dir() else None
        picked = _evaluated_items(out / name, report, settings)
        baseline = majority_baseline(picked, report.metric) if picked is not None else None
        rows.append(suite_row(name, report, skill, baseline))
        reports.append((name, report))
    if not rows:
        raise InvalidInputError(f"no set of the suite has an eval.json under {out}: run `skillc bench suite` first")
    summary = summarise(rows, settings)
    atomic_write_text(out / "suite.md", suite_markdown(summary))
    atomic_write_text(out / "suite.json", _json(summary))
    plot_suite(reports, out / "suite.png")
    summary["files"] = {"table": str(out / "suite.md"), "json": str(out / "suite.json"), "png": str(out / "suite.png")}
    return summary


def _convert_when_missing(data: Path, tasks: Path, out: Path, names: list[str], say: Callable[[str], None]) -> None:
    """Run the conversion when one of `names` lacks its `items.jsonl` or `task.yaml`."""
    if any(not (out / name / "items.jsonl").is_file() or not (tasks / name / "task.yaml").is_file() for name in names):
        say(f"converting the evals sets from {data} …")
        convert_suite(data, tasks, out, say=say)


def _recorded_settings(out: Path) -> SuiteSettings | None:
    """The settings of the run that wrote `OUT/suite.json`, when it recorded them."""
    path = out / "suite.json"
    recorded = read_json(path.read_bytes(), path).get("settings") if path.is_file() else None
    if not recorded:
        return None
    known = {k: v for k, v in recorded.items() if k in SuiteSettings.__dataclass_fields__}
    return SuiteSettings(**{**known, "signals": tuple(known.get("signals", ()))})


def _evaluated_items(folder: Path, report: EvalReport, settings: SuiteSettings | None) -> list[Sample] | None:
    """The items `report` was scored on: `eval-items.jsonl`, or the same pick drawn again from `items.jsonl`
    with the run's limit and calibration size; None unless their digest is the report's (`dataset.sha256`)."""
    candidates = []
    if (folder / "eval-items.jsonl").is_file():
        candidates.append(load_samples(folder / "eval-items.jsonl"))
    if settings is not None and (folder / "items.jsonl").is_file():
        candidates.append(split_items(load_samples(folder / "items.jsonl"), settings.limit, settings.calibrate)[0])
    wanted = report.dataset.sha256 if report.dataset else None
    return next((items for items in candidates if items_digest(items) == wanted), None)


def _json(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False) + "\n"


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0%}"


def _ratio(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f}x"


def suite_markdown(summary: dict[str, Any]) -> str:
    """The suite table as Markdown (what BENCHMARKS.md shows), with the medians and the goal line."""
    header = ("| set | skill (design, steps; gate) | metric | items | teacher alone | raw student | skill, no esc. "
              "| skill + esc. | retention | touch teacher | cost/item teacher → skill + esc. | cheaper "
              "| s/item teacher · skill + esc. | goal |")
    lines = [header, "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in summary["rows"]:
        lines.append(
            f"| {r['set']} | `{r['skill']}` ({r['design']}, {r['steps']}; {r.get('gate')}) | {r['metric']} | {r['items']} "
            f"| {r['teacher_only_accuracy']:.0%} | {r.get('raw_student_accuracy', 0):.0%} | {r.get('skill_accuracy', 0):.0%} "
            f"| {r['skill_escalation_accuracy']:.0%} | {_pct(r['retention'])} | {r['teacher_touch']:.0%} "
            f"| ${r['teacher_only_cost_per_item_usd']:.5f} → ${r['skill_escalation_cost_per_item_usd']:.5f} "
            f"| {_ratio(r['cheaper'])} | {r['teacher_only_seconds_per_item']:.0f} · {r['skill_escalation_seconds_per_item']:.0f} "
            f"| {_verdict(r)} |")
    goal = summary["goal"]
    lines.append("")
    lines.append(f"Goal per set: skill + escalation keeps ≥{goal['retention']:.0%} of the teacher-alone accuracy, "
                 f"≤{goal['teacher_touch']:.0%} of items touch the teacher, ≥{goal['cheaper']:.0f}x cheaper. "
                 f"Met on {len(summary['goal_met'])} of {summary['sets']} sets"
                 + (f" ({', '.join(summary['goal_met'])})" if summary["goal_met"] else "") + ". "
                 f"Median retention {_pct(summary['median_retention'])}, median teacher touch "
                 f"{_pct(summary['median_teacher_touch'])}. Sets where the teacher alone is right on fewer than "
                 f"{goal['teacher_floor']:.0%} of items, or no more often than always giving the commonest label, "
                 "are not counted as met: "
                 + (", ".join(summary["teacher_too_weak"]) or "none") + ".")
    return "\n".join(lines) + "\n"


def _verdict(row: dict[str, Any]) -> str:
    if row["goal_met"]:
        return "met"
    return "n/a: teacher too weak" if row.get("teacher_too_weak") else "missed"


def plot_suite(reports: list[tuple[str, EvalReport]], path: Path, columns: int = 4) -> Path:
    """One cost–quality panel per set: the four conditions and the skill's escalation-threshold curve."""
    fig = new_figure(len(reports), columns=columns)
    for ax, (name, report) in zip(fig.axes, reports, strict=False):
        rows = {r.key: r for r in report.conditions}
        marks = {CONDITION_LABELS[k]: (rows[k].cost_per_item_usd, rows[k].accuracy) for k in CONDITION_LABELS if k in rows}
        points = [SweepPoint.from_dict(p.model_dump()) for p in report.sweep or []]
        draw_curve(ax, points, marks=marks, title=f"{name} ({report.items} items, {report.metric})",
                   cost_label="API cost per item (USD, assumed prices)", label="skill, escalating below threshold t")
    for ax in fig.axes[len(reports):]:
        ax.set_visible(False)
    return save_figure(fig, path)

