"""`skillc bench suite`: the public task suite, each set compiled for the student from a labelled split.

For each set of the `evals` package (see `skillc.benchmarks.suite_data`):

1. Convert: `tasks/<set>/task.yaml` (no hints) and `OUT/<set>/items.jsonl`, when not there yet.
2. Split once, seed 0, into train, dev and test (`SPLITS`); `OUT/<set>/split.json` names the items of each
   (ids only) and the commonest-label baseline.
3. Compile for the student, or reuse: `SKILLS/<skill>/` is reused when it was compiled on this split for this
   student (its bank, kept out of the repository, is rebuilt from the data and `OUT/<set>/bank.jsonl`); else
   `compile_for_student` searches designs and demo policies on dev with the student, the bank holds the
   train labels, and the gate is learned on dev. Each candidate's dev results are cached
   (`OUT/<set>/compile-cache/`), so a killed compile resumes.
4. Evaluate on test, per item cached (`OUT/<set>/cache/`): teacher alone, teacher + the skill's demos, raw
   student, nearest-neighbour vote (label sets), the skill without and with escalation; accuracy with 95%
   Wilson intervals, and macro-F1 for label sets. `eval.json` and `eval.png` go into the skill folder.
5. Summarise: `OUT/suite.md`, `OUT/suite.json`, `OUT/suite.png`; `redraw_suite` rebuilds them with no model call.

The goals of issue 26 are checked per set (`goals`): (a) the skill without escalation beats the raw student by
≥15 points and is at least as accurate as the teacher alone; it never loses to the neighbour vote; (b) with
escalation it keeps ≥97% of the better teacher condition with ≤20% of items touching the teacher, ≥3x cheaper
than the teacher alone at the assumed API prices; (c) compile kept a design whose dev accuracy on the student
is above the raw student's.

Example:
    >>> goals({"raw_student": 0.2, "skill": 0.5, "teacher_only": 0.4, "teacher_demos": 0.5, "nn_vote": 0.45,
    ...        "skill_escalation": 0.5}, touch=0.1, cheaper=10.0, dev=(0.6, 0.3))
    {'student_does_the_teachers_job': True, 'beats_the_vote': True, 'escalation': True, 'compile_beats_raw': True}
"""

from __future__ import annotations

import json
import statistics
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from rich.console import Console

from skillc.adapters.pricing import PriceTable
from skillc.benchmarks.suite_banks import attach, passages_of, read_skeleton, write_skeleton
from skillc.benchmarks.suite_data import SETS, SPLIT_SEED, SPLITS, convert_suite, split_set
from skillc.compile.for_student import DEFAULT_SIGNALS, compile_for_student, learn_gate_on_dev
from skillc.compile.trainset import split_digest
from skillc.core.errors import InvalidInputError
from skillc.core.files import atomic_write_text, read_json
from skillc.core.report import EvalReport, read_report
from skillc.core.spec import SkillSpec
from skillc.core.task import Sample, Task, load_samples
from skillc.eval import ASSUMED_API, SweepPoint, evaluate_skill, write_evaluation
from skillc.eval.conditions import default_conditions, lone_label
from skillc.eval.metrics import score
from skillc.eval.plot import draw_curve, new_figure, save_figure
from skillc.skills import Skill
from skillc.skills.skill import EXAMPLES, SKILL_JSON

LIFT_GOAL, RETENTION_GOAL, TOUCH_GOAL, CHEAPER_GOAL = 0.15, 0.97, 0.20, 3.0
CONDITION_LABELS = {"teacher_only": "teacher only", "teacher_demos": "teacher + demos", "raw_student": "raw student",
                    "nn_vote": "neighbour vote", "skill": "skill, no escalation", "skill_escalation": "skill + escalation"}
SPLIT_FILE, SKELETON = "split.json", "bank.jsonl"


@dataclass(frozen=True)
class SuiteSettings:
    """One suite run: the models, the compile's search and gate, and (for a quick look) a cap on test items."""

    student: str = "local:student"
    teacher: str = "local:teacher"
    limit: int | None = None
    signals: tuple[str, ...] = DEFAULT_SIGNALS
    max_wrong_pass: float = 0.1
    target_retention: float | None = RETENTION_GOAL  # the gate's target on dev: the goal's own (None: max_wrong_pass)
    search_budget: int = 600
    architect_samples: int = 1
    bootstrap: int = 4
    seed: int = SPLIT_SEED


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
    """Convert, split, compile (or reuse) and evaluate every set; returns the summary (see `summarise`)."""
    data, tasks, skills, out = Path(data), Path(tasks), Path(skills), Path(out)
    console = console or Console(stderr=True)
    names = _chosen_sets(only)
    _convert_when_missing(data, tasks, out, names, console.print)
    for n, name in enumerate(names, 1):
        console.print(f"[bold]suite {n}/{len(names)}: {name}[/]")
        task = Task.from_file(tasks / name / "task.yaml")
        train, dev, test = split_of(out / name, name, settings.seed, task)
        console.print(f"{name}: {len(train)} train · {len(dev)} dev · {len(test)} test items (seed {settings.seed})")
        skill = _compiled(task, skills / task.name, settings, out / name, train, dev, console)
        test = test[: settings.limit] if settings.limit else test
        report = evaluate_skill(skill, test, student=settings.student, teacher=settings.teacher,
                                metric=task.metric or "exact", prices=PriceTable(), priced_as=dict(ASSUMED_API),
                                cache_dir=out / name / "cache", console=console, conditions=default_conditions(skill))
        write_evaluation(skill, report)
        atomic_write_text(out / name / "eval.json", report.to_json())
        row = suite_row(name, report, skill.spec, read_json((out / name / SPLIT_FILE).read_bytes(), out / name / SPLIT_FILE))
        console.print(f"{name}: " + _row_line(row))
    return redraw_suite(out, tasks=tasks, skills=skills, settings=settings)


def split_of(folder: Path, name: str, seed: int, task: Task) -> tuple[list[Sample], list[Sample], list[Sample]]:
    """The set's (train, dev, test) from `items.jsonl`; writes `split.json` (ids, sizes, commonest-label baseline)."""
    items = load_samples(folder / "items.jsonl")
    test_n, dev_n = SPLITS[name]
    train, dev, test = split_set(items, test_n, dev_n, seed)
    info = {"seed": seed, "sizes": {"train": len(train), "dev": len(dev), "test": len(test)},
            "ids": {part: [(s.model_extra or {}).get("id") for s in items_] for part, items_ in
                    (("train", train), ("dev", dev), ("test", test))}}
    info.update(commonest_label(train, test, task))
    atomic_write_text(folder / SPLIT_FILE, _json(info))
    return train, dev, test


def commonest_label(train: list[Sample], test: list[Sample], task: Task) -> dict[str, Any]:
    """For a lone label output: the commonest label of the trainset, and how often it is right on test.

    >>> t = Task.model_validate({"name": "l", "description": "d", "inputs": {"x": {}}, "metric": "label",
    ...     "output_schema": {"type": "object", "properties": {"y": {"enum": ["a", "b"]}}}})
    >>> commonest_label([Sample(input={}, expected={"y": "a"})] * 2, [Sample(input={}, expected={"y": "b"})], t)
    {'commonest_label': 'a', 'commonest_label_accuracy': 0.0}
    """
    props = task.output_schema.get("properties", {})
    if len(props) != 1 or "enum" not in next(iter(props.values())):
        return {}
    field = next(iter(props))
    counts = Counter(_first((s.expected or {}).get(field)) for s in train)
    label = counts.most_common(1)[0][0]
    right = [score(task.metric or "exact", s.expected or {}, {field: label}, output_schema=task.output_schema).correct
             for s in test]
    return {"commonest_label": label, "commonest_label_accuracy": sum(right) / len(right) if right else None}


def _first(value: Any) -> Any:
    return value[0] if isinstance(value, list) and value else value


def _compiled(task: Task, folder: Path, settings: SuiteSettings, out: Path, train: list[Sample], dev: list[Sample],
              console: Console) -> Skill:
    """The skill in `folder` when it was compiled on this split for this student (its bank rebuilt from the data
    when missing), else a fresh compile for the student saved there (timed; its bank's skeleton written)."""
    if compiled_on(folder, settings, train, dev):
        restore_bank(folder, out, train)
        skill = Skill.load(folder)
        console.print(f"reusing the compiled skill {folder} ({skill.spec.provenance.design}, "  # type: ignore[union-attr]
                      f"{len(skill.spec.steps)} step(s)): compiled on this split for {settings.student}")
        if gate_target(skill.spec) != _wanted_target(settings):
            console.print(f"the gate was learned for {gate_target(skill.spec)}; learning it again for {_wanted_target(settings)}")
            skill = learn_gate_on_dev(skill, dev, student=settings.student, teacher=settings.teacher, signals=settings.signals,
                                      metric=task.metric or "exact", max_wrong_pass=settings.max_wrong_pass,
                                      target_retention=settings.target_retention, cache=out / "compile-cache",
                                      say=console.print, console=console)
            skill.save(folder)
            skill = Skill.load(folder)
        return skill
    console.print(f"compiling {task.name} for {settings.student} (teacher {settings.teacher}) on {len(train)} train, "
                  f"{len(dev)} dev items …")
    started = time.perf_counter()
    skill = compile_for_student(task, teacher=settings.teacher, student=settings.student, trainset=train, dev=dev,
                                seed=settings.seed, search_budget=settings.search_budget, signals=settings.signals,
                                max_wrong_pass=settings.max_wrong_pass, target_retention=settings.target_retention,
                                architect_samples=settings.architect_samples,
                                bootstrap=settings.bootstrap, cache_dir=out / "compile-cache", progress=console.print,
                                console=console)
    seconds = round(time.perf_counter() - started, 1)
    skill.save(folder)
    write_skeleton(out / SKELETON, skill.bank.records, _by_id(train), passages_of(skill.spec))
    atomic_write_text(out / "compile.json", _json({"skill": task.name, "seconds": seconds}))
    return Skill.load(folder)


def gate_target(spec: SkillSpec) -> dict[str, Any] | None:
    """The target the skill's gate was learned for (`escalation.calibration.target`), or None."""
    calibration = spec.escalation.calibration or {}
    target = calibration.get("target")
    return {"kind": target.get("kind"), "value": target.get("value")} if isinstance(target, dict) else None


def _wanted_target(settings: SuiteSettings) -> dict[str, Any]:
    if settings.target_retention is not None:
        return {"kind": "retention", "value": settings.target_retention}
    return {"kind": "max_wrong_pass", "value": settings.max_wrong_pass}


def compiled_on(folder: Path, settings: SuiteSettings, train: list[Sample], dev: list[Sample]) -> bool:
    """Whether the skill in `folder` was compiled by this teacher for this student on exactly this split."""
    if not (folder / SKILL_JSON).is_file():
        return False
    spec = SkillSpec.model_validate_json((folder / SKILL_JSON).read_bytes())
    search = spec.provenance.search if spec.provenance else None
    if not search or spec.provenance is None or spec.provenance.student != settings.student:
        return False
    splits = search.get("splits") or {}
    return (splits.get("items") == split_digest(train, dev) and splits.get("seed") == settings.seed
            and spec.provenance.teacher == settings.teacher)


def restore_bank(folder: Path, out: Path, train: list[Sample]) -> bool:
    """Rebuild a suite skill's `examples.jsonl` from its committed skeleton and the data; True when it was missing."""
    if (folder / EXAMPLES).is_file():
        return False
    if not (out / SKELETON).is_file():
        raise InvalidInputError(f"{folder} has no examples.jsonl and {out / SKELETON} is missing: compile the set again")
    spec = SkillSpec.model_validate_json((folder / SKILL_JSON).read_bytes())
    records = attach(read_skeleton(out / SKELETON), _by_id(train), passages_of(spec))
    text = "".join(json.dumps(r, ensure_ascii=False, default=str) + "\n" for r in records)
    atomic_write_text(folder / EXAMPLES, text)  # the manifest, checked when the skill loads, says whether it is the same
    return True


def _by_id(items: list[Sample]) -> dict[str, Sample]:
    return {str((s.model_extra or {}).get("id")): s for s in items}


def _chosen_sets(only: list[str] | None) -> list[str]:
    unknown = sorted(set(only or []) - set(SETS))
    if unknown:
        raise InvalidInputError(f"unknown suite set(s): {', '.join(unknown)}; the sets are {', '.join(SETS)}")
    return [name for name in SETS if not only or name in only]


def goals(accuracy: dict[str, float | None], *, touch: float, cheaper: float | None,
          dev: tuple[float | None, float | None]) -> dict[str, bool]:
    """Issue 26's goals for one set, from its test accuracies, teacher touch, cost ratio and (kept, raw) dev accuracy."""
    raw, skill, teacher = accuracy.get("raw_student") or 0.0, accuracy.get("skill") or 0.0, accuracy.get("teacher_only") or 0.0
    best = max(teacher, accuracy.get("teacher_demos") or 0.0)
    escalated = accuracy.get("skill_escalation") or 0.0
    vote = accuracy.get("nn_vote")
    kept, raw_dev = dev
    return {
        "student_does_the_teachers_job": skill >= raw + LIFT_GOAL - 1e-9 and skill >= teacher - 1e-9,
        "beats_the_vote": vote is None or skill >= vote - 1e-9,
        "escalation": (best > 0 and escalated >= RETENTION_GOAL * best - 1e-9 and touch <= TOUCH_GOAL + 1e-9
                       and (cheaper is None or cheaper >= CHEAPER_GOAL)),
        "compile_beats_raw": kept is not None and raw_dev is not None and kept > raw_dev,
    }


def suite_row(name: str, report: EvalReport, spec: SkillSpec | None, split: dict[str, Any] | None = None) -> dict[str, Any]:
    """One set's line of the suite tables, from its eval report, the skill's spec and its `split.json`."""
    rows = {r.key: r for r in report.conditions}
    if "skill" not in rows or "skill_escalation" not in rows or "teacher_only" not in rows:
        raise InvalidInputError(f"{name}: the eval report lacks the skill, escalation or teacher-only condition")
    accuracy = {k: (rows[k].accuracy if k in rows else None) for k in CONDITION_LABELS}
    teacher, escalated = rows["teacher_only"], rows["skill_escalation"]
    best = max((k for k in ("teacher_only", "teacher_demos") if k in rows), key=lambda k: rows[k].accuracy)
    retention = escalated.accuracy / rows[best].accuracy if rows[best].accuracy else None
    cheaper = teacher.cost_per_item_usd / escalated.cost_per_item_usd if escalated.cost_per_item_usd else None
    search = (spec.provenance.search if spec and spec.provenance else None) or {}
    kept = next((c for c in search.get("candidates", []) if c.get("candidate") == search.get("kept")), {})
    dev = (kept.get("dev_accuracy"), (search.get("raw_student") or {}).get("dev_accuracy"))
    row: dict[str, Any] = {
        "set": name, "skill": report.skill, "metric": report.metric, "items": report.items,
        "design": search.get("kept") or (spec.provenance.design if spec and spec.provenance else None),
        "steps": len(spec.steps) if spec else None, "gate": _gate(spec) if spec else None,
        "label_set": spec is not None and lone_label(spec) is not None,
        "accuracy": accuracy,
        "accuracy_ci": {k: rows[k].accuracy_ci for k in rows},
        "macro_f1": {k: rows[k].macro_f1 for k in rows if rows[k].macro_f1 is not None},
        "macro_f1_ci": {k: rows[k].macro_f1_ci for k in rows if rows[k].macro_f1_ci is not None},
        "best_teacher": best, "retention": retention, "teacher_touch": escalated.escalation_rate, "cheaper": cheaper,
        "cost_per_item_usd": {k: rows[k].cost_per_item_usd for k in rows},
        "seconds_per_item": {k: rows[k].seconds / max(rows[k].items, 1) for k in rows},
        "dev": {"kept": dev[0], "raw_student": dev[1], "items": (search.get("splits") or {}).get("dev")},
        "sizes": (split or {}).get("sizes"),
        "commonest_label": (split or {}).get("commonest_label"),
        "commonest_label_accuracy": (split or {}).get("commonest_label_accuracy"),
    }
    row["goals"] = goals(accuracy, touch=escalated.escalation_rate, cheaper=cheaper, dev=dev)
    row["search"] = [{k: c.get(k) for k in ("candidate", "status", "dev_correct", "dev_items", "student_calls", "seconds")}
                     for c in [{**(search.get("raw_student") or {}), "candidate": "raw student (one call)"},
                               *search.get("candidates", [])] if c.get("status")]
    calibration = (spec.escalation.calibration if spec else None) or {}
    row["gate_figures"] = {name: {k: c.get(k) for k in ("threshold", "escalation_rate", "wrong_passed", "wrong", "kept_accuracy")}
                           for name, c in (calibration.get("signals") or {}).items()}
    row["gate_target"] = calibration.get("target")
    return row


def _gate(spec: SkillSpec) -> str:
    """The escalation gate in words: the learned gate, the calibrated signal and threshold, else failed checks only."""
    policy = spec.escalation
    if policy.gate is not None:
        return f"learned gate on {', '.join(policy.gate.features)} < {policy.gate.threshold:.3g}"
    if policy.thresholds:
        return ", ".join(f"{signal} < {value:.3g}" for signal, value in policy.thresholds.items())
    return "failed checks"


def summarise(rows: list[dict[str, Any]], settings: SuiteSettings | None = None,
              compile_seconds: dict[str, float] | None = None) -> dict[str, Any]:
    """The suite's figures: the rows, which sets meet each goal, and the compile time per set."""
    met = {g: [r["set"] for r in rows if r["goals"][g]] for g in (rows[0]["goals"] if rows else {})}
    retentions = [r["retention"] for r in rows if r["retention"] is not None]
    return {
        "settings": asdict(settings) if settings else None,
        "goal": {"lift": LIFT_GOAL, "retention": RETENTION_GOAL, "teacher_touch": TOUCH_GOAL, "cheaper": CHEAPER_GOAL},
        "sets": len(rows),
        "met": met,
        "median_retention": statistics.median(retentions) if retentions else None,
        "median_teacher_touch": statistics.median(r["teacher_touch"] for r in rows) if rows else None,
        "compile_seconds": compile_seconds or {},
        "rows": rows,
    }


def redraw_suite(out: str | Path, *, tasks: str | Path = Path("bench/suite"), skills: str | Path = Path("skills"),
                 only: list[str] | None = None, settings: SuiteSettings | None = None,
                 data: str | Path | None = None, say: Callable[[str], None] = print) -> dict[str, Any]:
    """Rebuild `OUT/suite.md`, `suite.json` and `suite.png` from the per-set `eval.json` files (no model calls).

    With `data`, a new checkout's suite skills also get their banks back (converted items, split, skeleton).
    """
    out, tasks, skills = Path(out), Path(tasks), Path(skills)
    settings = settings or _recorded_settings(out)
    evaluated = [name for name in _chosen_sets(only) if (out / name / "eval.json").is_file()]
    if data is not None:
        _convert_when_missing(Path(data), tasks, out, evaluated, say)
        for name in evaluated:
            _restore_from_data(name, tasks, skills, out, settings, say)
    rows, reports, seconds = [], [], {}
    for name in evaluated:
        report = read_report(out / name / "eval.json")
        spec_file = skills / report.skill / SKILL_JSON
        spec = SkillSpec.model_validate_json(spec_file.read_bytes()) if spec_file.is_file() else None
        split_file = out / name / SPLIT_FILE
        split = read_json(split_file.read_bytes(), split_file) if split_file.is_file() else None
        rows.append(suite_row(name, report, spec, split))
        reports.append((name, report))
        compiled = out / name / "compile.json"
        if compiled.is_file():
            seconds[name] = read_json(compiled.read_bytes(), compiled).get("seconds")
    if not rows:
        raise InvalidInputError(f"no set of the suite has an eval.json under {out}: run `skillc bench suite` first")
    summary = summarise(rows, settings, seconds)
    atomic_write_text(out / "suite.md", suite_markdown(summary))
    atomic_write_text(out / "suite.json", _json(summary))
    plot_suite(reports, out / "suite.png")
    summary["files"] = {"table": str(out / "suite.md"), "json": str(out / "suite.json"), "png": str(out / "suite.png")}
    return summary


def _restore_from_data(name: str, tasks: Path, skills: Path, out: Path, settings: SuiteSettings | None,
                       say: Callable[[str], None]) -> None:
    task = Task.from_file(tasks / name / "task.yaml")
    folder = skills / task.name
    if not (folder / SKILL_JSON).is_file() or (folder / EXAMPLES).is_file():
        return
    if not (out / name / SKELETON).is_file():
        say(f"{name}: {folder} has no bank and {out / name / SKELETON} is missing; compile the set again to rebuild it")
        return
    train, _, _ = split_of(out / name, name, (settings or SuiteSettings()).seed, task)
    if restore_bank(folder, out / name, train):
        Skill.load(folder)  # the manifest checks the rebuilt bank is the one the skill was signed with
        say(f"{name}: rebuilt the bank of {folder} from the data")


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


def _json(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False) + "\n"


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.0%}"


def _ratio(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f}x"


def _with_ci(value: float | None, ci: list[float] | None) -> str:
    if value is None:
        return "–"
    return f"{value:.0%} [{ci[0]:.0%}–{ci[1]:.0%}]" if ci else f"{value:.0%}"


def _row_line(row: dict[str, Any]) -> str:
    a = row["accuracy"]
    return (f"raw student {_pct(a['raw_student'])}, skill {_pct(a['skill'])}, teacher {_pct(a['teacher_only'])}, "
            f"teacher + demos {_pct(a.get('teacher_demos'))}, vote {_pct(a.get('nn_vote'))}, skill + escalation "
            f"{_pct(a['skill_escalation'])} ({row['teacher_touch']:.0%} touch the teacher, {_ratio(row['cheaper'])} cheaper)")


def suite_markdown(summary: dict[str, Any]) -> str:
    """The suite tables as Markdown (what BENCHMARKS.md shows): accuracy per condition, then the goals."""
    order = list(CONDITION_LABELS)
    lines = ["| set | metric | test items | " + " | ".join(CONDITION_LABELS.values()) + " | commonest label |",
             "| --- | --- | --- | " + " | ".join("---" for _ in order) + " | --- |"]
    for r in summary["rows"]:
        cells = [_with_ci(r["accuracy"].get(k), r["accuracy_ci"].get(k)) for k in order]
        lines.append(f"| {r['set']} | {r['metric']} | {r['items']} | " + " | ".join(cells)
                     + f" | {_pct(r.get('commonest_label_accuracy'))} |")
    labelled = [r for r in summary["rows"] if r.get("macro_f1")]
    if labelled:
        lines += ["", "Macro-F1 (label sets):", "", "| set | " + " | ".join(CONDITION_LABELS.values()) + " |",
                  "| --- | " + " | ".join("---" for _ in order) + " |"]
        for r in labelled:
            lines.append(f"| {r['set']} | " + " | ".join(
                (f"{r['macro_f1'][k]:.2f} [{r['macro_f1_ci'][k][0]:.2f}–{r['macro_f1_ci'][k][1]:.2f}]" if k in r["macro_f1"] else "–")
                for k in order) + " |")
    lines += ["", "| set | kept design (gate) | dev: kept · raw student | (a) skill ≥ raw + 15 and ≥ teacher | never loses to vote "
              "| retention vs better teacher | touch teacher | cheaper | (b) escalation goal | (c) compile beats raw |",
              "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in summary["rows"]:
        g = r["goals"]
        lines.append(f"| {r['set']} | {r['design']} ({r['gate']}) | {_pct(r['dev']['kept'])} · {_pct(r['dev']['raw_student'])} "
                     f"| {_yes(g['student_does_the_teachers_job'])} | {_yes(g['beats_the_vote'])} | {_pct(r['retention'])} "
                     f"| {r['teacher_touch']:.0%} | {_ratio(r['cheaper'])} | {_yes(g['escalation'])} | {_yes(g['compile_beats_raw'])} |")
    lines += ["", "How each skill was chosen: every candidate's dev score on the student, and the gate learned on dev.", ""]
    for r in summary["rows"]:
        seconds = (summary.get("compile_seconds") or {}).get(r["set"])
        target = r.get("gate_target") or {}
        searched = sum(c.get("seconds") or 0 for c in r.get("search", []))
        lines += [f"**{r['set']}** (`{r['skill']}`; dev {r['dev'].get('items')} items; compile "
                  f"{'%.0f s' % seconds if seconds else 'time not recorded'}, its candidates {searched:.0f} s when "
                  f"first scored (a resumed compile replays them from its cache); kept **{r['design']}**)", "",
                  "| candidate | dev right | student calls | s |", "| --- | --- | --- | --- |"]
        for c in r.get("search", []):
            right = (f"{c['dev_correct']}/{c['dev_items']}" if c.get("dev_items") else "–") + (
                "" if c.get("status") == "scored" else f" ({c.get('status')})")
            lines.append(f"| {c['candidate']} | {right} | {c.get('student_calls') or 0} | {c.get('seconds') or 0:.0f} |")
        figures = "; ".join(f"{name}: escalates {g['escalation_rate']:.0%}, {g['wrong_passed']} of {g['wrong']} wrong pass"
                            for name, g in (r.get("gate_figures") or {}).items() if g.get("escalation_rate") is not None)
        lines += ["", f"Gate ({target.get('kind', '?')} {target.get('value', '')}): {figures or 'none'}; chosen: {r['gate']}.", ""]
    met, n = summary["met"], summary["sets"]
    lines += ["", f"(a) met on {len(met.get('student_does_the_teachers_job', []))} of {n} sets; never losing to the vote "
              f"on {len(met.get('beats_the_vote', []))} of {n}; (b) on {len(met.get('escalation', []))} of {n}; "
              f"(c) on {len(met.get('compile_beats_raw', []))} of {n}. Accuracy in brackets: 95% Wilson interval; "
              "macro-F1: 95% bootstrap interval. Costs at assumed API prices (teacher as gpt-4o, student as gpt-4o-mini)."]
    return "\n".join(lines) + "\n"


def _yes(value: bool) -> str:
    return "yes" if value else "no"


def plot_suite(reports: list[tuple[str, EvalReport]], path: Path, columns: int = 4) -> Path:
    """One cost–quality panel per set: every condition and the skill's escalation-threshold curve."""
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
