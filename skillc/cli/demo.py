"""The demo's orchestration and its rich report.

The conditions are `skillc eval`'s runner (`skillc.eval.evaluate.evaluate_skill`), in memory.

Example:
    >>> INTRO.format(teacher="T", student="S", n=3).split(".")[0]
    'The teacher (T) compiles the bundled invoice task into a skill: an explicit graph of steps with contracts, checks and failure edges'
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.panel import Panel
from rich.table import Table

from skillc.adapters.models import resolve_model
from skillc.adapters.pricing import PriceTable
from skillc.compile.compiler import compile_skill
from skillc.demo import ASSUMED, TOLERANCE, bundled_task, demo_row, save_report
from skillc.eval.evaluate import evaluate_skill, write_evaluation

INTRO = (
    "The teacher ({teacher}) compiles the bundled invoice task into a skill: an explicit graph of steps "
    "with contracts, checks and failure edges. The student ({student}) then runs every step on {n} invoices "
    "it has never seen; arithmetic goes to a `compute` step, and failed steps escalate to the teacher."
)


def run_demo(
    *,
    teacher: str = "local:teacher",
    student: str = "local:student",
    out: Path = Path("skillc-demo"),
    limit: int | None = None,
    hourly_usd: float = 0.10,
    max_repairs: int = 4,
    console: Console | None = None,
) -> dict[str, Any]:
    """Compile, evaluate the conditions side by side (teacher + demos among them), print the report and write report.json."""
    console = console or Console()
    prices = PriceTable(local_hourly_usd=hourly_usd)
    task, items = bundled_task()
    items = items[:limit] if limit else items
    console.print(Panel(INTRO.format(teacher=teacher, student=student, n=len(items)), title="skillc demo"))
    wall = time.perf_counter()
    with console.status("starting the local models (sha256 of the weights is verified first)…"):
        started = time.perf_counter()
        teacher_h, student_h = resolve_model(teacher), resolve_model(student)
    console.print(f"models ready in {time.perf_counter() - started:.0f}s")
    with console.status(f"compiling: {teacher} designs the graph and works {len(task.samples)} samples…"):
        started = time.perf_counter()
        skill = compile_skill(task, teacher=teacher_h, max_repairs=max_repairs, repair_temperature=0.3, prices=prices)
        compile_s = time.perf_counter() - started
    folder = skill.save(Path(out) / task.name)
    _print_skill(console, skill, folder, compile_s)
    evaluation = evaluate_skill(skill, items, student=student_h, teacher=teacher_h, metric="numeric", tolerance=TOLERANCE,
                                prices=prices, priced_as=dict(ASSUMED), console=console)
    rows = [demo_row(row) for row in evaluation.conditions]
    report = {
        "task": task.name,
        "teacher": teacher,
        "student": student,
        "items": len(items),
        "compile_seconds": round(compile_s, 1),
        "compile_repairs": skill.spec.provenance.repairs if skill.spec.provenance else 0,
        "wall_seconds": round(time.perf_counter() - wall, 1),
        "price_assumption": {role: {"model": m, "usd_per_1m": prices.lookup(m)} for role, m in ASSUMED.items()},
        "local_hourly_usd": hourly_usd,
        "conditions": rows,
    }
    _print_report(console, report)
    save_report(Path(out) / "report.json", report)
    write_evaluation(skill, evaluation)  # eval.json and the cost–quality curve eval.png, in the skill folder
    console.print(f"skill folder: {folder} · report: {Path(out) / 'report.json'}")
    return report


def _print_skill(console: Console, skill: Any, folder: Path, seconds: float) -> None:
    p = skill.spec.provenance
    table = Table("step", "primitive", "reads → writes", "check", "on fail", title=f"compiled in {seconds:.0f}s → {folder}")
    for s in skill.spec.steps:
        check = f"{s.check.kind}: {s.check.expr or s.check.by}" if s.check else "contract"
        detail = f" = {s.expression}" if s.expression else ""
        table.add_row(s.id, s.primitive + detail, f"{', '.join(s.reads)} → {', '.join(s.writes)}", check, " → ".join(s.on_fail))
    console.print(table)
    if p:
        fixes = f" · gaps filled: {len(p.normalized)}" if p.normalized else ""
        console.print(f"teacher repairs: {p.repairs}{fixes} · worked examples kept {p.traces.get('kept', 0)}, "
                      f"dropped {sum(p.traces.get('dropped', {}).values())}")


def _print_report(console: Console, report: dict[str, Any]) -> None:
    assumed = report["price_assumption"]
    label = (f"API cost if teacher = {assumed['teacher']['model']} and student = {assumed['student']['model']} "
             "(list prices, per 1M tokens)")
    table = Table("condition", "accuracy", "fields", "escalated", "student tok in/out", "teacher tok in/out",
                  "wall s", "API $ (assumed)", "local $", title=f"{report['items']} unseen invoices")
    for row in report["conditions"]:
        s, t = row["tokens"].get("student", [0, 0]), row["tokens"].get("teacher", [0, 0])
        table.add_row(row["condition"], f"{row['accuracy']:.0%}", f"{row['field_accuracy']:.0%}",
                      f"{row['escalation_rate']:.0%}", f"{s[0]}/{s[1]}", f"{t[0]}/{t[1]}", f"{row['seconds']:.0f}",
                      f"{row['assumed_api_cost_usd']:.5f}", f"{row['local_cost_usd']:.5f}")
    console.print(table)
    console.print(f"[dim]{label}; local $ = measured wall time × ${report['local_hourly_usd']:.2f}/h machine cost (assumed).[/]")
    rows = {r["condition"]: r for r in report["conditions"]}
    teacher, skill = rows["teacher only"], rows["skill on student + escalation"]
    n = report["items"]
    line = (f"skill + escalation: {round(skill['accuracy'] * n)}/{n} right at ${skill['assumed_api_cost_usd']:.5f} · "
            f"teacher only: {round(teacher['accuracy'] * n)}/{n} right at ${teacher['assumed_api_cost_usd']:.5f}")
    if skill["assumed_api_cost_usd"] > 0:
        line += f" · {teacher['assumed_api_cost_usd'] / skill['assumed_api_cost_usd']:.1f}x cheaper"
    if teacher["accuracy"] > 0:
        line += f" · quality retention {skill['accuracy'] / teacher['accuracy']:.0%}"
    console.print(line)
    console.print(f"compile {report['compile_seconds']:.0f}s · whole demo {report['wall_seconds']:.0f}s")
