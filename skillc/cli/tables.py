"""The rich tables the CLI prints: an eval report, a GSM8K benchmark report.

Example:
    >>> from skillc.core.report import ConditionRow, EvalReport
    >>> report = EvalReport(skill="mul", items=1, metric="numeric",
    ...                     conditions=[ConditionRow(key="skill", condition="skill on student", items=1, accuracy=1.0)])
    >>> [t.title for t in eval_tables(report)]
    ['mul: 1 items, metric numeric']
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from skillc.benchmarks.gsm8k import ROUTELLM
from skillc.core.report import EvalReport, RoleUsage


def eval_tables(report: EvalReport) -> list[Table]:
    """The conditions, then accuracy per stratum."""
    assumed = any(p.assumed for p in report.pricing.values())
    usd = "$/item" + (" (assumed)" if assumed else "")
    labelled = any(row.macro_f1 is not None for row in report.conditions)
    main = Table("condition", "accuracy [95% CI]", *(["macro-F1"] if labelled else []), "fields", "escalated",
                 "student tok/item in/out", "teacher tok/item in/out", usd, "wall s",
                 title=f"{report.skill}: {report.items} items, metric {report.metric}")

    def tokens(usage: RoleUsage | None) -> str:
        return f"{usage.input_tokens:.0f}/{usage.output_tokens:.0f}" if usage else "-"

    for row in report.conditions:
        ci = f" [{row.accuracy_ci[0]:.0%}–{row.accuracy_ci[1]:.0%}]" if row.accuracy_ci else ""
        f1 = [f"{row.macro_f1:.2f}" if row.macro_f1 is not None else "-"] if labelled else []
        main.add_row(row.condition, f"{row.accuracy:.0%}{ci}", *f1, f"{row.field_accuracy:.0%}", f"{row.escalation_rate:.0%}",
                     tokens(row.per_item.get("student")), tokens(row.per_item.get("teacher")),
                     f"{row.cost_per_item_usd:.6f}", f"{row.seconds:.0f}")
    tables = [main]
    keys = [r.key for r in report.conditions]
    for name, groups in report.strata.items():
        table = Table(name, "items", *[r.condition for r in report.conditions], title=f"accuracy by {name}")
        for value, cell in groups.items():
            table.add_row(value, str(cell["items"]), *[f"{cell[k]:.0%}" for k in keys])
        tables.append(table)
    return tables


def print_eval_report(console: Console, report: EvalReport) -> None:
    """The tables, then retention, ROI, pricing assumptions and the sweep, in words."""
    for table in eval_tables(report):
        console.print(table)
    notes = [f"{role} {p.model} priced as {p.priced_as or p.model}" + (" (ASSUMED)" if p.assumed else "")
             for role, p in report.pricing.items()]
    console.print(f"[dim]prices: {'; '.join(notes)} (USD per 1M tokens, list prices).[/]")
    console.print(report.summary_line())
    if report.roi and report.compile_cost:
        r, c = report.roi, report.compile_cost
        compile_usd = "unknown" if c.usd is None else f"${c.usd:.4f}"
        console.print(f"compile cost {compile_usd} ({c.source}) · saving/call ${r.saving_per_call_usd:.6f} · "
                      f"{r.note} · at {r.calls_per_month:,} calls/month: ${r.monthly_saving_usd:,.2f}/month")
    if report.sweep:
        pts = ", ".join(f"t={'∞' if p.threshold is None else format(p.threshold, '.2g')}: {p.accuracy:.0%} "
                        f"at ${p.cost_per_item:.6f}" for p in report.sweep)
        console.print(f"threshold sweep ({report.confidence}): {pts}")
    if report.judge:
        j = report.judge
        console.print(f"judge: {j['calls']} calls, tokens in/out {j['tokens'][0]}/{j['tokens'][1]}, "
                      f"{j['failures']} malformed verdict(s) counted wrong")
    if report.run:
        console.print(f"ran {report.run.model_calls_items} item runs, {report.run.cached_items} from the cache · "
                      f"{report.run.wall_seconds:.0f}s")


def print_gsm8k_report(console: Console, report: dict[str, Any]) -> None:
    """`skillc bench gsm8k`: the table in the terminal, then the gate and the goal."""
    table = Table("condition", "accuracy", "% of GPT-4", "items touching GPT-4", "GPT-4 $/item", "student s/item (median)",
                  title=f"GSM8K rows {report['rows']} · student {report['settings']['student']}")
    g = report["gpt4_accuracy"] or 1.0
    s = report["student_seconds_per_item"]
    table.add_row("GPT-4 only (recorded)", f"{report['gpt4_accuracy']:.1%}", "100%", "100%",
                  f"{report['gpt4_cost_per_item_usd']:.5f}", "-")
    table.add_row("raw student", f"{report['raw_student_accuracy']:.1%}", f"{report['raw_student_accuracy'] / g:.0%}",
                  "0%", "0", f"{s['raw_student']:.1f}")
    table.add_row("skill, no escalation", f"{report['skill_accuracy']:.1%}", f"{report['skill_accuracy'] / g:.0%}",
                  "0%", "0", f"{s['skill']:.1f}")
    table.add_row("skill + escalation", f"{report['skill_escalation_accuracy']:.1%}",
                  f"{report['skill_escalation_accuracy'] / g:.0%}", f"{report['escalation_share']:.0%}",
                  f"{report['skill_cost_per_item_usd']:.5f}", f"{s['skill']:.1f}")
    oracle = report.get("oracle")
    if oracle:
        table.add_row("oracle bound (escalate exactly the wrong ones)", f"{oracle['accuracy']:.1%}",
                      f"{oracle['accuracy'] / g:.0%}", f"{oracle['escalation_share']:.0%}",
                      f"{(oracle['cost_ratio'] or 0) * report['gpt4_cost_per_item_usd']:.5f}", "-")
    console.print(table)
    gate = report["gate"]
    threshold = "∞" if gate["threshold"] is None else f"{gate['threshold']:.3g}"
    console.print(f"gate: {gate['signal']} < {threshold} escalates (calibrated on "
                  f"{(gate['calibration'] or {}).get('items', 0)} held-out problems, ≤{report['settings']['max_wrong_pass']:.0%} "
                  "of wrong answers passing)")
    console.print(f"goal (≥95% of GPT-4, ≤50% touching GPT-4): {'met' if report['goal_met'] else 'not met'}; "
                  f"moonshot (≥97%, ≤30%): {'met' if report.get('moonshot_met') else 'not met'} · {ROUTELLM}")


def print_suite_summary(console: Console, summary: dict[str, Any]) -> None:
    """The suite table: per set, every condition's accuracy, the kept design, retention, teacher touch and the goals."""
    table = Table("set", "kept design", "test", "raw student", "skill", "teacher", "teacher + demos", "vote",
                  "skill + esc.", "touch", "cheaper", "goals a · b · c", title="public task suite (API prices assumed)")

    def pct(value: float | None) -> str:
        return "-" if value is None else f"{value:.0%}"

    for r in summary["rows"]:
        a, g = r["accuracy"], r["goals"]
        marks = " · ".join("✓" if g[k] else "✗" for k in ("student_does_the_teachers_job", "escalation", "compile_beats_raw"))
        table.add_row(r["set"], str(r["design"]), str(r["items"]), pct(a.get("raw_student")), pct(a.get("skill")),
                      pct(a.get("teacher_only")), pct(a.get("teacher_demos")), pct(a.get("nn_vote")),
                      pct(a.get("skill_escalation")), f"{r['teacher_touch']:.0%}",
                      "n/a" if r["cheaper"] is None else f"{r['cheaper']:.1f}x", marks)
    console.print(table)
    met, n = summary["met"], summary["sets"]
    console.print(f"(a) the skill beats the raw student by ≥15 points and matches the teacher: {len(met.get('student_does_the_teachers_job', []))}"
                  f" of {n} · never loses to the vote: {len(met.get('beats_the_vote', []))} of {n} · (b) escalation goal: "
                  f"{len(met.get('escalation', []))} of {n} · (c) compile beats the raw student on dev: "
                  f"{len(met.get('compile_beats_raw', []))} of {n}")
