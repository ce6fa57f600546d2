"""Rich Jupyter display of a `Skill`: name, description, steps table, graph and last evaluation.

Everything is rendered offline: the graph is the ASCII drawing (grandalf) with the mermaid text
beside it, never a PNG fetched from a rendering service. Every value is escaped.

Example:
    >>> from skillc.skills.skill import Skill
    >>> from skillc.core.spec import SkillSpec
    >>> spec = SkillSpec.model_validate({"name": "mul", "task": "Multiply <two> numbers.", "entry": "total",
    ...     "input_schema": {"type": "object", "properties": {"a": {"type": "number"}, "b": {"type": "number"}}},
    ...     "output_schema": {"type": "object", "properties": {"total": {"type": "number"}}},
    ...     "steps": [{"id": "total", "primitive": "compute", "instruction": "a times b", "reads": ["a", "b"],
    ...                "writes": ["total"], "expression": "a * b", "next": "END",
    ...                "contract": {"type": "object", "properties": {"total": {"type": "number"}}}}]})
    >>> from skillc.core.report import EvalReport
    >>> report = EvalReport(skill="mul", items=12, metric="numeric", conditions=[], summary={"accuracy": 0.92})
    >>> html_text = skill_html(Skill(spec, evaluation=report))
    >>> "Multiply &lt;two&gt; numbers." in html_text and "accuracy" in html_text
    True
    >>> skill_markdown(Skill(spec)).splitlines()[0]
    '### skill `mul`'
"""

from __future__ import annotations

import html
import re
from typing import TYPE_CHECKING, Any

from skillc.core.report import EvalReport

if TYPE_CHECKING:
    from skillc.skills.skill import Skill

MAX_EVAL_ITEMS = 12


def step_rows(skill: Skill) -> list[dict[str, str]]:
    """One row per step: id, primitive (with its expression), reads → writes, check, on fail, next."""
    after = {d.after: d for d in skill.spec.decisions}
    rows = []
    for s in skill.spec.steps:
        check = f"{s.check.kind}: {s.check.expr or s.check.by}" if s.check else "contract"
        if s.id in after:
            d = after[s.id]
            nxt = "; ".join(f"{b.when} → {b.to}" for b in d.branches) + f"; else → {d.default}"
        else:
            nxt = s.next or "END"
        rows.append({
            "step": s.id,
            "primitive": s.primitive + (f" = {s.expression}" if s.expression else ""),
            "reads → writes": f"{', '.join(s.reads)} → {', '.join(s.writes)}",
            "check": check,
            "on fail": " → ".join(s.on_fail),
            "next": nxt,
        })
    return rows


def eval_summary(evaluation: Any) -> list[tuple[str, str]]:
    """Scalar entries of an eval report (dicts flattened with dots, 3 levels; lists counted), at most 12.

    An `EvalReport` shows its size, metric and summary (the few numbers worth reading first).
    """
    if isinstance(evaluation, EvalReport):
        evaluation = {"items": evaluation.items, "metric": evaluation.metric, **evaluation.summary}
    if not isinstance(evaluation, dict):
        return [] if evaluation is None else [("evaluation", _short(evaluation))]
    out: list[tuple[str, str]] = []

    def walk(prefix: str, value: Any, depth: int) -> None:
        if len(out) >= MAX_EVAL_ITEMS:
            return
        if isinstance(value, dict) and depth < 3:
            for key, inner in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), inner, depth + 1)
        elif isinstance(value, (list, tuple)):
            out.append((prefix, f"{len(value)} items"))
        elif isinstance(value, dict):
            out.append((prefix, f"{len(value)} keys"))
        else:
            out.append((prefix, _short(value)))

    walk("", evaluation, 0)
    return out


def graph_text(skill: Skill) -> tuple[str, str]:
    """The ASCII drawing and the mermaid text of the graph (offline); an error message if one fails."""
    texts = []
    for draw in (skill.ascii, skill.mermaid):
        try:
            texts.append(draw())
        except Exception as exc:  # noqa: BLE001 - a drawing problem must not hide the rest of the display
            texts.append(f"(could not draw the graph: {exc})")
    return texts[0], texts[1]


def skill_html(skill: Skill) -> str:
    """HTML for Jupyter: heading, description, steps table, graph (ASCII + mermaid text), last eval."""
    e = html.escape
    spec = skill.spec
    rows = step_rows(skill)
    head = "".join(f"<th style='text-align:left'>{e(k)}</th>" for k in (rows[0] if rows else {}))
    body = "".join(
        "<tr>" + "".join(f"<td style='text-align:left'><code>{e(v)}</code></td>" for v in row.values()) + "</tr>"
        for row in rows
    )
    ascii_text, mermaid_text = graph_text(skill)
    parts = [
        f"<div class='skillc-skill'><h3>skill <code>{e(skill.name)}</code></h3>",
        f"<p>{e(spec.task)}</p>",
        f"<p><small>{e(_meta_line(skill))}</small></p>",
        f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>",
        f"<details open><summary>graph</summary><pre>{e(ascii_text)}</pre></details>",
        f"<details><summary>mermaid</summary><pre>{e(mermaid_text)}</pre></details>",
    ]
    summary = eval_summary(skill.evaluation)
    if summary:
        items = "".join(f"<tr><td><code>{e(k)}</code></td><td>{e(v)}</td></tr>" for k, v in summary)
        parts.append(f"<p><b>last eval</b></p><table><tbody>{items}</tbody></table>")
    else:
        parts.append("<p><b>last eval</b>: none yet</p>")
    parts.append("</div>")
    return "".join(parts)


def skill_markdown(skill: Skill) -> str:
    """Markdown for Jupyter front-ends that prefer it; same content as `skill_html`."""
    rows = step_rows(skill)
    lines = [f"### skill `{_md(skill.name)}`", "", _md(skill.spec.task), "", f"*{_md(_meta_line(skill))}*", ""]
    if rows:
        lines.append("| " + " | ".join(rows[0]) + " |")
        lines.append("|" + " --- |" * len(rows[0]))
        lines += ["| " + " | ".join(_md(v) for v in row.values()) + " |" for row in rows]
    ascii_text, _ = graph_text(skill)
    lines += ["", "```", ascii_text.replace("```", "'''"), "```", ""]
    summary = eval_summary(skill.evaluation)
    lines.append("**last eval**: " + (", ".join(f"{_md(k)} = {_md(v)}" for k, v in summary) if summary else "none yet"))
    return "\n".join(lines)


def _meta_line(skill: Skill) -> str:
    spec = skill.spec
    bits = [f"version {spec.version}", f"{len(spec.steps)} steps",
            f"inputs: {', '.join(spec.input_fields)}", f"outputs: {', '.join(spec.output_fields)}"]
    if spec.provenance:
        bits.append(f"compiled by {spec.provenance.teacher}")
    return " · ".join(bits)


def _short(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    text = str(value)
    return text if len(text) <= 80 else text[:77] + "…"


def _md(text: Any) -> str:
    """Markdown-safe text on one line: markdown punctuation backslash-escaped, then HTML escaped."""
    text = re.sub(r"([\\`*_\[\]|#])", r"\\\1", str(text).replace("\n", " "))
    return html.escape(text, quote=False)
