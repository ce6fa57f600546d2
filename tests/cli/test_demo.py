"""`skillc demo` runs its four conditions through `skillc eval`'s runner and keeps its report.json shape."""

from __future__ import annotations

import json

from rich.console import Console

from skillc.adapters.models import resolve_model
from skillc.cli import demo as demo_runner
from skillc.skills.skill import Skill
from tests.fakes import ScriptedChatModel, json_reply, step_of


def fake(label: str) -> ScriptedChatModel:
    def reply(messages):
        step = step_of(messages)
        if step == "kind":
            return json_reply(kind="invoice")
        if step == "fields":
            return json_reply(quantity=2, unit_price=3, stated_total=6)
        return json_reply(kind="invoice", total=6)

    return ScriptedChatModel(script=reply, model_label=label)


def test_demo_report_and_eval_json(tmp_path, monkeypatch, invoice_spec):
    handles = {"t": resolve_model(fake("gpt-4o")), "s": resolve_model(fake("gpt-4o-mini"))}
    monkeypatch.setattr(demo_runner, "resolve_model", lambda uri: handles[uri])
    monkeypatch.setattr(demo_runner, "compile_skill", lambda task, **kw: Skill(invoice_spec.model_copy(update={"name": task.name})))
    console = Console(record=True, width=220)
    report = demo_runner.run_demo(teacher="t", student="s", out=tmp_path / "demo", limit=3, console=console)
    assert [r["condition"] for r in report["conditions"]] == [
        "teacher only", "raw student", "skill on student, no escalation", "skill on student + escalation"]
    for row in report["conditions"]:
        assert set(row) == {"condition", "accuracy", "field_accuracy", "items", "escalation_rate", "tokens", "seconds",
                            "assumed_api_cost_usd", "local_cost_usd"}
        assert row["items"] == 3 and row["accuracy"] == 0.0  # the fakes never get a bundled invoice right
    assert report["conditions"][0]["tokens"]["teacher"][0] > 0 and report["conditions"][0]["assumed_api_cost_usd"] > 0
    saved = json.loads((tmp_path / "demo" / "report.json").read_text())
    assert saved["conditions"] == report["conditions"]
    folder = tmp_path / "demo" / "invoice-total"
    assert Skill.load(folder).evaluation.strata["category"].keys() == {"discount", "no discount"}
    assert (folder / "eval.png").exists()
    assert "teacher only: 0/3 right" in console.export_text()
