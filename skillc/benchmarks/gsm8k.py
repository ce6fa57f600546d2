"""`skillc bench gsm8k`: a math skill on a local student, against the recorded GPT-4 teacher.

1. Compile: the architect (`local:teacher` by default) designs the graph from `gsm8k_task.yaml`; the bank is
   GPT-4's recorded answers to rows 0-499 of `teacher_logs.csv` (kept when GPT-4 was right) plus the GSM8K
   train split (its `<<a*b=c>>` annotations give each worked answer its final expression), through the
   quality filter with `contaminated_prompts.jsonl` as the blocklist. Cached in `OUT/gsm8k-math`; the design is
   pinned in `OUT/design.json`, so a new checkout rebuilds the same skill without the architect.
2. Calibrate: the skill runs on `calibrate` held-out train problems (never in the bank, picked with `seed`)
   on the student, measuring the confidence signals; each signal gets the lowest threshold at which at
   most `max_wrong_pass` of the wrong answers pass, and the cheapest of them becomes the gate.
3. Evaluate rows `start`..`start+limit` of the test rows: GPT-4 only (the recorded answer, `replay:`), the
   raw student (zero-shot, same output contract) and the skill on the student without escalation, which
   records every signal. The escalated figures come from that recorded run with no new calls: an item
   below the calibrated threshold (or whose run failed) takes GPT-4's recorded answer and cost, which is
   what whole-task escalation to the deterministic `replay:` teacher returns. The same records give one
   cost–quality curve per signal.

Costs are API costs at GPT-4-1106 list prices (10 / 30 USD per 1M tokens, tiktoken counts of the prompt
and of the recorded answer); the local student's time is reported apart. Results are cached per item in
`OUT/<student>/`, so a killed run resumes.

Example:
    >>> strip_annotations("48/2 = <<48/2=24>>24 clips.\\n#### 24")
    ('48/2 = 24 clips.\\nThe answer is 24.', ['48/2'])
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import re
import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console

from skillc.adapters.free_text import EXPRESSION_FIELDS, fill_contract, final_number
from skillc.adapters.pricing import PriceTable
from skillc.compile import LogColumns, bank_from_logs, compile_skill, log_step, read_logs
from skillc.core.answers import answers_equal
from skillc.core.errors import InvalidInputError, UnsafeExpressionError
from skillc.core.files import atomic_write_text, json_lines
from skillc.core.records import new_record
from skillc.core.safe_eval import safe_eval
from skillc.core.spec import SkillSpec
from skillc.core.task import Sample, Task
from skillc.eval import (
    EvalCache,
    SweepPoint,
    calibrate_skill,
    item_ids,
    measured_signals,
    model_label,
    run_conditions,
    score_run,
    signal_confidence,
    student_for_signals,
    sweep,
    sweep_items,
)
from skillc.eval.plot import draw_curve, new_figure, save_figure
from skillc.graphs.confidence import SIGNALS
from skillc.skills import QualityFilter, Skill, blocklist_from_jsonl

TASK_FILE = Path(__file__).with_name("gsm8k_task.yaml")
DESIGN_FILE = "design.json"  # the compiled spec, committed so that a new checkout resumes with the same skill
TEACHER = "gpt-4-1106-preview"
COLUMNS = LogColumns(prompt="prompt", response=f"{TEACHER}_response", label=TEACHER)
BANK_ROWS = 500  # test rows 0-499 feed the bank (never past --start)
HELDOUT = 100  # train rows kept out of the bank for calibration
FILES = ("teacher_logs.csv", "test.jsonl", "train.jsonl", "contaminated_prompts.jsonl")
ROUTELLM = "RouteLLM (Ong et al., 2024), GSM8K: 95% of GPT-4's quality at 35% lower cost, Mixtral-8x7B as the weak model"
_ANNOTATION = re.compile(r"<<([^=<>]*)=([^<>]*)>>")


@dataclass(frozen=True)
class Settings:
    """What one benchmark run does (see the module docstring)."""

    student: Any = "local:student"  # a model URI, or a chat model from Python
    teacher: Any = "local:teacher"
    start: int = 500
    limit: int = 20
    seed: int = 0
    # logprobs needs a logits_all server: measured on the 1.5B, its first `solve` call took 77-97 s against 42 s
    signals: tuple[str, ...] = ("check", "consistency")
    samples: int = 4  # with the answer itself, k = 5 answers per item
    calibrate: int = 50
    max_wrong_pass: float = 0.1
    vote: bool = True  # the majority expression (by value) answers; its share is the consistency signal


def check_settings(settings: Settings) -> Settings:
    """Refuse settings that cannot run, with the reason."""
    if settings.calibrate < 1 or settings.calibrate > HELDOUT:
        raise InvalidInputError(f"--calibrate takes 1 to {HELDOUT} held-out problems")
    if settings.limit < 1 or settings.start < 0:
        raise InvalidInputError("--limit must be at least 1 and --start at least 0")
    unknown = set(settings.signals) - set(SIGNALS)
    if unknown or not settings.signals:
        raise InvalidInputError(f"--signals takes check, consistency, logprobs, verify (got {', '.join(settings.signals)})")
    return settings


def check_data(data: Path) -> Path:
    """The data folder, after checking it has the four GSM8K files."""
    data = Path(data)
    missing = [f for f in FILES if not (data / f).is_file()]
    if missing:
        raise InvalidInputError(f"{data} is not the GSM8K data folder: missing {', '.join(missing)}")
    return data


def strip_annotations(answer: str) -> tuple[str, list[str]]:
    """A GSM8K train answer without its calculator annotations, ending in a sentence; and the annotated expressions."""
    expressions = [m.group(1).strip() for m in _ANNOTATION.finditer(answer)]
    text = _ANNOTATION.sub("", answer)
    body, _, final = text.rpartition("####")
    text = f"{body.rstrip()}\nThe answer is {final.strip()}." if _ else text
    return text, expressions


def final_expression(expressions: list[str], answer: float) -> str:
    """The last annotated expression when it gives the final answer, else the answer itself."""
    if expressions:
        try:
            if answers_equal(safe_eval(expressions[-1].replace(",", "")), answer, 1e-6):
                return expressions[-1]
        except (UnsafeExpressionError, ZeroDivisionError, OverflowError, TypeError, ValueError, RecursionError):
            pass
    return str(int(answer) if float(answer).is_integer() else answer)


def train_records(skill: Skill, rows: list[dict[str, str]], skip: set[int]) -> list[dict[str, Any]]:
    """Bank records (source `human`) from GSM8K train rows, for the step that logs fill."""
    step = log_step(skill.spec)
    field_name = step.reads[0]
    expression_fields = [w for w in step.writes if w.lower() in EXPRESSION_FIELDS]
    out = []
    for i, row in enumerate(rows):
        if i in skip:
            continue
        text, expressions = strip_annotations(row["answer"])
        answer = final_number(row["answer"])
        output = fill_contract(step.contract, text)
        if output is None or answer is None:
            continue
        for name in expression_fields:
            output[name] = final_expression(expressions, answer)
        out.append(new_record(step.id, {field_name: row["question"]}, output, reasoning=text, source="human",
                              model="gsm8k-train", row=i))
    return out


def _jsonl(path: Path) -> list[dict[str, Any]]:
    return list(json_lines(path.read_text(encoding="utf-8").splitlines(), path, InvalidInputError))


def build_skill(data: Path, settings: Settings, out: Path, console: Console) -> tuple[Skill, dict[str, Any]]:
    """Compile the math skill (the teacher designs, GPT-4 logs + train split fill the bank), or load it from `out`.

    The design is pinned in `out/design.json` (committed with the results): a new checkout rebuilds the same
    skill from it and the data without asking the architect, so the per-item caches keyed by the design stay valid.
    """
    task = Task.from_file(TASK_FILE)
    folder = out / task.name  # a saved skill is named after its folder
    info_path, design_path = out / "skill-info.json", out / DESIGN_FILE
    if (folder / "skill.json").exists() and info_path.exists():
        return Skill.load(folder), json.loads(info_path.read_text(encoding="utf-8"))
    quality = QualityFilter(blocklist=blocklist_from_jsonl(data / "contaminated_prompts.jsonl"))
    logs = read_logs(data / "teacher_logs.csv", COLUMNS, slice(0, min(BANK_ROWS, settings.start)))
    started = time.perf_counter()
    if design_path.exists():
        spec = SkillSpec.model_validate_json(design_path.read_text(encoding="utf-8"))
        console.print(f"{task.name}: the design pinned in {design_path} (no architect call); the bank from GPT-4's logs "
                      f"(rows 0-499) and the train split")
        bank, _ = bank_from_logs(spec, logs, COLUMNS, quality)
        skill = Skill(spec, examples=bank.records, license=task.license)
        skill.bank.quality = quality  # the train answers pass the same filter as in a compile
    else:
        console.print(f"compiling {task.name}: {model_label(settings.teacher)} designs the graph; the bank comes from "
                      f"GPT-4's logs (rows 0-499) and the train split")
        skill = compile_skill(task, teacher=settings.teacher, logs=logs, log_columns=COLUMNS, quality=quality,
                              repair_temperature=0.7, progress=console.print)
        atomic_write_text(design_path, skill.spec.model_dump_json(indent=2) + "\n")
    train = _jsonl(data / "train.jsonl")
    held = heldout_rows(train, settings)
    console.print(f"{task.name}: adding {len(train) - len(held)} GSM8K train answers to the bank (embedding them takes minutes)")
    records = train_records(skill, train, set(held))
    added = skill.bank.add(records)
    skill.examples = skill.bank.records
    skill.save(folder)
    info = {"teacher": model_label(settings.teacher), "design_seconds": round(time.perf_counter() - started, 1),
            "steps": [f"{s.id} ({s.primitive})" for s in skill.spec.steps],
            "bank": {"logs": skill.spec.provenance.traces if skill.spec.provenance else {},
                     "train": {"rows": len(train), "held_out": len(held), "kept": added.kept, "dropped": dict(added.dropped)},
                     "records": len(skill.bank.records)},
            "heldout_rows": held}
    atomic_write_text(info_path, json.dumps(info, indent=2) + "\n")
    return Skill.load(folder), info


def heldout_rows(train: list[dict[str, Any]], settings: Settings) -> list[int]:
    """The train rows kept out of the bank for calibration: a fixed draw of `HELDOUT` rows (fewer for a tiny
    train file), in draw order, so the bank does not depend on `--calibrate`."""
    return random.Random(settings.seed).sample(range(len(train)), k=min(HELDOUT, len(train) // 2))


def eval_samples(data: Path, start: int, limit: int) -> list[Sample]:
    """The evaluation rows: the logs' prompt as the question, the reference number from test.jsonl."""
    logs = read_logs(data / "teacher_logs.csv", COLUMNS)
    answers = _jsonl(data / "test.jsonl")
    rows = range(start, min(start + limit, len(logs)))
    if not rows:
        raise InvalidInputError(f"no test rows from {start} (the logs have {len(logs)})")
    return [Sample.model_validate({"input": {"question": logs[i]["prompt"]},
                                   "expected": {"answer": final_number(answers[i]["answer"])}, "id": f"test-{i}"})
            for i in rows]


def calibration_samples(data: Path, rows: list[int], n: int) -> list[Sample]:
    train = _jsonl(data / "train.jsonl")
    return [Sample.model_validate({"input": {"question": train[i]["question"]},
                                   "expected": {"answer": final_number(train[i]["answer"])}, "id": f"train-{i}"})
            for i in rows[:n]]


def run_benchmark(data: str | Path, settings: Settings, out: str | Path, console: Console | None = None) -> dict[str, Any]:
    """Compile (or load), calibrate and evaluate; write `gsm8k.json` and `gsm8k.png` under `out/<student>/`."""
    console = console or Console(stderr=True)
    data, out = check_data(Path(data)), Path(out)
    check_settings(settings)
    out.mkdir(parents=True, exist_ok=True)
    skill, info = build_skill(data, settings, out, console)
    student = student_for_signals(settings.student, settings.signals)  # `?logprobs` for a local student
    slug = re.sub(r"[^a-z0-9]+", "-", model_label(settings.student).lower()).strip("-")
    where = out / slug
    key = hashlib.sha256(json.dumps([skill.spec.model_dump(mode="json"), model_label(student), list(settings.signals),
                                     settings.samples, settings.seed] + ([True] if settings.vote else []),
                                    sort_keys=True).encode()).hexdigest()[:12]
    measured = [s for s in settings.signals if s != "check"]
    policy = skill.spec.escalation.model_copy(update={"signals": measured, "samples": settings.samples, "thresholds": {},
                                                      "vote": settings.vote or None})
    probe = skill.replace(spec=skill.spec.model_copy(update={"escalation": policy}), evaluation=None)

    held = calibration_samples(data, info["heldout_rows"], settings.calibrate)
    console.print(f"calibrating on {len(held)} held-out train problems ({student}; signals {', '.join(settings.signals)})")
    calibration_cache = EvalCache(where / f"calibration-{key}.jsonl")
    calibrated, found = calibrate_skill(probe, held, student=student, signals=list(settings.signals),
                                        max_wrong_pass=settings.max_wrong_pass, cache=calibration_cache, console=console)
    # the student time the calibration items took when they ran (a cached rerun takes none)
    held_ids = set(item_ids(held))
    calibration_seconds = sum(r.seconds for (_, i), r in calibration_cache.runs.items() if i in held_ids)
    where.mkdir(parents=True, exist_ok=True)
    atomic_write_text(where / "skill.json", calibrated.spec.model_dump_json(indent=2) + "\n")

    items = eval_samples(data, settings.start, settings.limit)
    teacher = f"replay:{data / 'teacher_logs.csv'}#{COLUMNS.response}?fill"
    cache = EvalCache(where / f"eval-{key}.jsonl")
    console.print(f"evaluating rows {settings.start}-{settings.start + len(items) - 1}: GPT-4 (recorded), raw student, skill")
    run = run_conditions(probe, items, student=student, teacher=teacher, cache=cache, console=console,
                         conditions=["teacher_only", "raw_student", "skill"])
    scores, _ = score_run(run, metric="numeric", task=skill.spec.task, output_schema=skill.spec.output_schema,
                          tolerance=1e-4)
    labels = read_logs(data / "teacher_logs.csv", COLUMNS)[settings.start:settings.start + len(items)]
    recorded = sum(r[TEACHER].strip().lower() == "true" for r in labels) / len(labels)
    report = make_report(run, scores, calibrated, found, settings, info, student, recorded)
    report["calibration_seconds"] = round(calibration_seconds, 1)
    atomic_write_text(where / "gsm8k.json", json.dumps(report, indent=2) + "\n")
    plot_students([report], where / "gsm8k.png")
    report["files"] = {"json": str(where / "gsm8k.json"), "png": str(where / "gsm8k.png")}
    return report


def make_report(run: Any, scores: dict[tuple[str, str], Any], calibrated: Skill, found: list[Any], settings: Settings,
                info: dict[str, Any], student: str, recorded_accuracy: float | None = None) -> dict[str, Any]:
    """The benchmark's figures from the recorded run (`recorded_accuracy`: the logs' own True/False column)."""
    prices = PriceTable()  # a local student has no price: the cost is the API cost, student time is reported apart
    plan = {"teacher": {"priced_as": TEACHER}, "student": {"priced_as": None}}
    n = len(run.ids)

    def acc(condition: str) -> float:
        return sum(scores[(condition, i)].value for i in run.ids) / n

    def seconds(condition: str) -> float:
        return statistics.median(run.records[(condition, i)].seconds for i in run.ids)

    gpt4 = [run.records[("teacher_only", i)] for i in run.ids]
    gpt4_cost = sum(prices.cost(TEACHER, *r.tokens.get("teacher", [0, 0])) for r in gpt4) / n
    gate = calibrated.spec.escalation
    chosen = (gate.calibration or {}).get("chosen", "check")
    threshold = gate.thresholds.get(chosen, 0.0) if chosen != "check" else next(c.threshold for c in found if c.signal == "check")
    conf = signal_confidence(chosen)
    results = {i: run.records[("skill", i)].run_result() for i in run.ids}
    escalated = {i: conf(results[i]) < threshold for i in run.ids}
    with_escalation = sum(scores[("teacher_only" if escalated[i] else "skill", i)].value for i in run.ids) / n
    escalated_cost = sum(prices.cost(TEACHER, *run.records[("teacher_only", i)].tokens.get("teacher", [0, 0]))
                         for i in run.ids if escalated[i]) / n
    signals = measured_signals(list(results.values()))
    curves = {s: [p.as_dict() for p in sweep(sweep_items(run, scores, plan, prices, signal_confidence(s)))]
              for s in signals}
    gpt4_acc = acc("teacher_only")
    retention = (with_escalation / gpt4_acc * 100) if gpt4_acc else None
    share = sum(escalated.values()) / n
    # the bound: escalate exactly the items the skill gets wrong
    oracle = {i: not scores[("skill", i)].correct for i in run.ids}
    oracle_cost = sum(prices.cost(TEACHER, *run.records[("teacher_only", i)].tokens.get("teacher", [0, 0]))
                      for i in run.ids if oracle[i]) / n
    oracle_acc = sum(scores[("teacher_only" if oracle[i] else "skill", i)].value for i in run.ids) / n
    return {
        "settings": {**settings.__dict__, "student": model_label(settings.student), "teacher": model_label(settings.teacher),
                     "signals": list(settings.signals), "student_uri": model_label(student)},
        "skill": info,
        "rows": f"{settings.start}-{settings.start + n - 1}",
        "items": n,
        "gpt4_accuracy": gpt4_acc,
        "gpt4_recorded_accuracy": recorded_accuracy,
        "raw_student_accuracy": acc("raw_student"),
        "skill_accuracy": acc("skill"),
        "skill_escalation_accuracy": with_escalation,
        "retention_percent": retention,
        "escalation_share": share,
        "gate": {"signal": chosen, "threshold": None if math.isinf(threshold) else threshold,  # None: escalate all
                 "calibration": gate.calibration},
        "gpt4_cost_per_item_usd": gpt4_cost,
        "skill_cost_per_item_usd": escalated_cost,
        "cost_ratio": (escalated_cost / gpt4_cost) if gpt4_cost else None,
        "student_seconds_per_item": {"raw_student": seconds("raw_student"), "skill": seconds("skill")},
        "student_calls_per_item": statistics.mean(sum(1 for r in results[i].trace if r.role == "student") for i in run.ids),
        "oracle": {"accuracy": oracle_acc, "escalation_share": sum(oracle.values()) / n,
                   "cost_ratio": (oracle_cost / gpt4_cost) if gpt4_cost else None,
                   "retention_percent": (oracle_acc / gpt4_acc * 100) if gpt4_acc else None},
        "wrong_answers": [wrong_answer(i, item, results[i], escalated[i]) for i, item in zip(run.ids, run.items, strict=True)
                          if not scores[("skill", i)].correct],
        "goal_met": bool(retention is not None and retention >= 95 and share <= 0.50),
        "moonshot_met": bool(retention is not None and retention >= 97 and share <= 0.30),
        "curves": curves,
        "routellm": ROUTELLM,
    }


def wrong_answer(item_id: str, item: Sample, result: Any, escalated: bool) -> dict[str, Any]:
    """What the skill said on an item it got wrong: its answer, the expression, the failure, if escalated."""
    written = next((r.output for r in reversed(result.trace)
                    if r.role == "student" and "." not in r.step and r.ok and r.output), None) or {}
    return {"id": item_id, "expected": (item.expected or {}).get("answer"), "answer": (result.output or {}).get("answer"),
            "expression": written.get("expression"), "error": result.error.kind if result.error else None,
            "escalated": escalated}


def plot_students(reports: list[dict[str, Any]], path: Path) -> Path:
    """One panel per student's report, side by side on a shared accuracy axis; saved as a PNG at `path`.

    Each panel has one cost–quality curve per signal, with GPT-4 only, the raw student and the calibrated
    gate marked.
    """
    fig = new_figure(len(reports))
    for ax, report in zip(fig.axes, reports, strict=True):
        series = {s: [SweepPoint.from_dict(p) for p in pts] for s, pts in report["curves"].items()}
        first, *rest = series
        marks = {"teacher only": (report["gpt4_cost_per_item_usd"], report["gpt4_accuracy"]),
                 "raw student": (0.0, report["raw_student_accuracy"]),
                 f"skill + escalation ({report['gate']['signal']}, calibrated)": (report["skill_cost_per_item_usd"],
                                                                                  report["skill_escalation_accuracy"])}
        if report.get("oracle"):
            marks["oracle bound"] = ((report["oracle"]["cost_ratio"] or 0) * report["gpt4_cost_per_item_usd"],
                                     report["oracle"]["accuracy"])
        draw_curve(ax, series[first], marks=marks, series={s: series[s] for s in rest},
                   label=f"escalating on {first} below t (annotated)",
                   title=f"GSM8K rows {report['rows']}: {report['settings']['student']} + recorded GPT-4",
                   cost_label="GPT-4-1106 API cost per item (USD); local student time not included")
    return save_figure(fig, path)


def cheapest_point(report: dict[str, Any], retention: float = 0.97) -> tuple[str, SweepPoint] | None:
    """The curve point that escalates fewest items while keeping `retention` of GPT-4's accuracy, with its signal.

    The thresholds here are chosen on the test items themselves (hindsight), so this is the best any gate
    built on these signals could do on them, not what the calibrated gate does.

    >>> r = {"gpt4_accuracy": 1.0, "curves": {"check": [
    ...     {"threshold": 0.5, "accuracy": 0.5, "cost_per_item": 0.0, "escalation_rate": 0.0},
    ...     {"threshold": None, "accuracy": 1.0, "cost_per_item": 1.0, "escalation_rate": 1.0}]}}
    >>> cheapest_point(r)
    ('check', SweepPoint(threshold=inf, accuracy=1.0, cost_per_item=1.0, escalation_rate=1.0))
    """
    target = retention * report["gpt4_accuracy"] - 1e-9
    found = [(p.escalation_rate, p.cost_per_item, signal, p) for signal, pts in report["curves"].items()
             for p in map(SweepPoint.from_dict, pts) if p.accuracy >= target]
    if not found:
        return None
    _, _, signal, point = min(found, key=lambda f: f[:2])
    return signal, point


def summary_markdown(reports: list[dict[str, Any]]) -> str:
    """The benchmark table for every student run, as Markdown (what BENCHMARKS.md shows)."""
    header = ("| student | rows | GPT-4 alone | raw student | skill, no escalation | skill + escalation (calibrated gate) "
              "| items touching GPT-4 | API cost vs GPT-4 alone | student time / item | fewest escalations for ≥97% of GPT-4 "
              "(hindsight) |")
    lines = [header, "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in reports:
        n, g = r["items"], r["gpt4_accuracy"] or 1.0
        best = cheapest_point(r)
        hindsight = "none" if best is None else f"{best[1].escalation_rate:.0%} on `{best[0]}`"
        gate = r["gate"]
        lines.append(
            f"| `{r['settings']['student']}` | {r['rows']} | {r['gpt4_accuracy']:.0%} ({round(r['gpt4_accuracy'] * n)}/{n}) "
            f"| {r['raw_student_accuracy']:.0%} | {r['skill_accuracy']:.0%} "
            f"| {r['skill_escalation_accuracy']:.0%} ({r['skill_escalation_accuracy'] / g:.0%} of GPT-4; gate `{gate['signal']}`) "
            f"| {r['escalation_share']:.0%} | {r['cost_ratio']:.2f}x (${r['skill_cost_per_item_usd']:.5f}/item) "
            f"| {r['student_seconds_per_item']['skill']:.0f} s ({r['student_calls_per_item']:.2f} calls) | {hindsight} |")
        oracle = r.get("oracle")
        if oracle:
            lines.append(f"| oracle bound for `{r['settings']['student']}` (escalate exactly its wrong answers) | {r['rows']} | | | "
                         f"| {oracle['accuracy']:.0%} ({oracle['accuracy'] / g:.0%} of GPT-4) | {oracle['escalation_share']:.0%} "
                         f"| {oracle['cost_ratio']:.2f}x | | |")
    lines.append("| RouteLLM, Mixtral-8x7B as weak model (published) | | | | | 95% of GPT-4 | | 35% lower cost | | |")
    return "\n".join(lines) + "\n" + calibration_markdown(reports)


def calibration_markdown(reports: list[dict[str, Any]]) -> str:
    """Per student and signal: the calibrated threshold and its wrong-pass rate with a 95% Wilson interval."""
    lines = ["", "| student | signal | held-out items (wrong) | threshold | escalates | wrong answers passing [95% CI] "
             "| wrong share of passed answers [95% CI] | chosen |", "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in reports:
        calibration = r["gate"].get("calibration") or {}
        for signal, c in (calibration.get("signals") or {}).items():
            lo, hi = c.get("wrong_pass_ci", [0.0, 1.0])
            klo, khi = c.get("kept_error_ci", [0.0, 1.0])
            threshold = "escalate all" if c.get("threshold") is None else f"{c['threshold']:.3g}"
            kept = c.get("kept", 0)
            lines.append(f"| `{r['settings']['student']}` | {signal} | {c['items']} ({c['wrong']}) | {threshold} "
                         f"| {c['escalation_rate']:.0%} | {c['wrong_pass_rate']:.0%} [{lo:.0%}–{hi:.0%}] "
                         f"| {c.get('wrong_passed', 0)}/{kept} [{klo:.0%}–{khi:.0%}] "
                         f"| {'yes' if signal == calibration.get('chosen') else ''} |")
    return "\n".join(lines) + "\n"


def write_summary(reports: list[dict[str, Any]], out: Path) -> dict[str, str]:
    """`OUT/gsm8k.md` (the table) and `OUT/gsm8k.png` (one panel per student) for the reports of one command."""
    out = Path(out)
    table = out / "gsm8k.md"
    atomic_write_text(table, summary_markdown(reports))
    return {"table": str(table), "png": str(plot_students(reports, out / "gsm8k.png"))}
