"""The rich Jupyter display of a Skill: content, escaping, offline graph, defensive eval summary."""

from __future__ import annotations

import re

import pytest
from IPython.core.interactiveshell import InteractiveShell
from langchain_core.runnables.graph import Graph

from skillc.core.report import EvalReport
from skillc.skills.display import (
    MAX_EVAL_ITEMS,
    eval_summary,
    skill_html,
    skill_markdown,
    step_rows,
)
from skillc.skills.skill import Skill


@pytest.fixture
def no_network_png(monkeypatch):
    """Drawing a PNG would reach a rendering service; fail loudly if the display ever tries."""

    def refuse(*args, **kwargs):
        raise AssertionError("draw_mermaid_png called")

    monkeypatch.setattr(Graph, "draw_mermaid_png", refuse)


def test_jupyter_formatter_gets_html_and_markdown(invoice_spec, no_network_png):
    data, _ = InteractiveShell.instance().display_formatter.format(Skill(invoice_spec))
    assert {"text/html", "text/markdown", "text/plain"} <= set(data)
    page = data["text/html"]
    assert "<h3>skill <code>invoice-total</code></h3>" in page
    assert "Tell invoices from other documents" in page
    for step in ("kind", "fields", "total"):
        assert f"<td style='text-align:left'><code>{step}</code></td>" in page
    assert page.count("<tr>") == 1 + 3  # the header and three steps; no eval table yet
    assert "last eval</b>: none yet" in page


def test_graph_is_the_offline_ascii_drawing_and_mermaid_text(invoice_spec, no_network_png):
    skill = Skill(invoice_spec)
    page = skill._repr_html_()
    pre = re.findall(r"<pre>(.*?)</pre>", page, re.DOTALL)
    assert len(pre) == 2
    assert "| __start__ |" in pre[0] and "| fields |" in pre[0]
    assert pre[1].startswith("---") and "graph TD;" in pre[1] and "&lt;" in pre[1]  # mermaid's <hr/> escaped
    text = skill._repr_markdown_()
    drawing = text.split("```\n")[1]  # the fenced block holds the same offline ASCII drawing
    assert "| __start__ |" in drawing and "| fields |" in drawing and "graph TD" not in drawing


def test_steps_table_shows_expressions_checks_failure_edges_and_decisions(invoice_spec):
    rows = {row["step"]: row for row in step_rows(Skill(invoice_spec))}
    assert rows["total"]["primitive"] == "compute = quantity * unit_price"
    assert rows["fields"]["check"] == "compute: quantity * unit_price"
    assert rows["fields"]["on fail"] == "retry → escalate → give_up"
    assert rows["kind"]["next"] == "kind == 'invoice' → fields; else → END"
    assert rows["fields"]["reads → writes"] == "text → quantity, unit_price, stated_total"


def report_with(summary: dict) -> EvalReport:
    return EvalReport(skill="invoice-total", items=12, metric="numeric", conditions=[], summary=summary)


def test_everything_is_escaped(invoice_spec):
    spec = invoice_spec.model_copy(update={"task": "Read <script>alert('x')</script> & total | sum *now*"})
    page = skill_html(Skill(spec, evaluation=report_with({"<b>note</b>": "<img src=x onerror=alert(1)>"})))
    assert "<script>" not in page and "<img" not in page and "<b>note</b>" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; total" in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    text = skill_markdown(Skill(spec, evaluation=report_with({"<b>note</b>": "<img src=x>"})))
    assert "<script>" not in text and "<img" not in text and "<b>" not in text
    assert r"&lt;script&gt;alert('x')&lt;/script&gt; &amp; total \| sum \*now\*" in text
    assert "kind == 'invoice' → fields" in text


def test_last_eval_summary_is_compact_and_defensive(invoice_spec):
    report = {
        "accuracy": 0.916666666,
        "items": 12,
        "settings": {"student": "local:student", "escalation": "step"},
        "per_category": {"easy": {"accuracy": 1.0}},
        "rows": [1, 2, 3],
        "note": "x" * 200,
    }
    summary = dict(eval_summary(report))
    assert summary["accuracy"] == "0.9167" and summary["items"] == "12"
    assert summary["settings.student"] == "local:student"
    assert summary["per_category.easy.accuracy"] == "1"
    assert summary["rows"] == "3 items"
    assert dict(eval_summary({"a": {"b": {"c": {"d": 1}}}})) == {"a.b.c": "1 keys"}
    assert len(summary["note"]) == 78 and summary["note"].endswith("…")
    assert len(eval_summary({f"k{i}": i for i in range(50)})) == MAX_EVAL_ITEMS
    assert eval_summary(None) == [] and eval_summary({}) == []
    assert eval_summary([0.5, 0.7]) == [("evaluation", "[0.5, 0.7]")]
    typed = report_with({"accuracy": 0.916666666, "settings": {"escalation": "step"}})
    page = Skill(invoice_spec, evaluation=typed)._repr_html_()
    assert "<td><code>settings.escalation</code></td><td>step</td>" in page
    assert "last eval: none" not in page
    assert "**last eval**: items = 12, metric = numeric, accuracy = 0.9167" in Skill(invoice_spec, evaluation=typed)._repr_markdown_()


def test_saved_eval_is_shown_after_load(tmp_path, invoice_spec):
    folder = Skill(invoice_spec, evaluation=report_with({"accuracy": 0.75})).save(tmp_path / "invoice-total")
    assert "<td><code>accuracy</code></td><td>0.75</td>" in Skill.load(folder)._repr_html_()


def test_a_graph_that_cannot_be_drawn_still_displays(invoice_spec, monkeypatch):
    skill = Skill(invoice_spec)

    def broken() -> str:
        raise RuntimeError("grandalf <missing>")

    monkeypatch.setattr(skill, "ascii", broken)
    page = skill._repr_html_()
    assert "(could not draw the graph: grandalf &lt;missing&gt;)" in page
    assert "graph TD;" in page and "<code>fields</code>" in page
