"""`skillc run --cache / --budget` and `skillc budget show`, with replay models (see tests/cli/test_app.py)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from skillc.cli import app
from tests.cli.test_app import OTHER_INVOICE, compile_skill_folder, project  # noqa: F401 - the fixture
from tests.conftest import INVOICE_TEXT

runner = CliRunner()


def test_run_with_a_sqlite_cache_serves_the_repeat_from_the_cache(project, tmp_path: Path) -> None:  # noqa: F811
    folder = compile_skill_folder(project)
    inputs = tmp_path / "inputs.jsonl"
    inputs.write_text(json.dumps({"text": INVOICE_TEXT}) + "\n" + json.dumps({"text": INVOICE_TEXT}) + "\n")
    out = tmp_path / "out.jsonl"
    result = runner.invoke(app, ["run", str(folder), "--inputs", str(inputs), "--out", str(out),
                                 "--student", project["student"], "--cache", f"sqlite:{tmp_path / 'cache.sqlite'}"])
    assert result.exit_code == 0, result.output
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    assert lines[0]["output"] == lines[1]["output"] == {"kind": "invoice", "total": 13.5}
    assert "2 step(s) from the cache" in result.stderr  # the second input's two LLM steps
    assert lines[1]["cached_steps"] == 2 and [s.get("cached") for s in lines[1]["provenance"]["steps"]][:2] == [True, True]
    assert "cached_steps" not in lines[0]


def test_a_batch_budget_refuses_the_escalation_past_it_and_names_it(project, tmp_path: Path) -> None:  # noqa: F811
    folder = compile_skill_folder(project)
    inputs = tmp_path / "inputs.jsonl"
    inputs.write_text((json.dumps({"text": OTHER_INVOICE}) + "\n") * 2)  # each escalates its `fields` step
    out = tmp_path / "out.jsonl"
    result = runner.invoke(app, ["run", str(folder), "--inputs", str(inputs), "--out", str(out),
                                 "--student", project["student"], "--teacher", project["teacher"],
                                 "--budget", "max_teacher_calls=1"])
    assert result.exit_code == 3, result.output
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    assert lines[0]["output"]["total"] == 20 and lines[0]["escalated"]
    assert lines[1]["error"]["kind"] == "budget" and "max_teacher_calls_per_run" in lines[1]["error"]["message"]
    bad = runner.invoke(app, ["run", str(folder), "--inputs", str(inputs), "--student", project["student"],
                              "--budget", "max_dollars=3"])
    assert bad.exit_code == 2 and "the budgets are" in bad.output


def test_budget_show_prints_the_days_spend_from_the_ledger(project, tmp_path: Path) -> None:  # noqa: F811
    folder = compile_skill_folder(project)
    ledger = tmp_path / "ledger.sqlite"
    result = runner.invoke(app, ["run", str(folder), "--input", json.dumps({"text": OTHER_INVOICE}),
                                 "--student", project["student"], "--teacher", project["teacher"],
                                 "--budget", "max_usd_per_day=5", "--ledger", str(ledger),
                                 "--cache", f"sqlite:{ledger}"])  # one SQLite file for the cache and the ledger
    assert result.exit_code == 0, result.output
    shown = runner.invoke(app, ["budget", "show", str(folder), "--ledger", str(ledger)])
    assert shown.exit_code == 0, shown.output
    assert "invoice-total" in shown.output and "│ 1 " in shown.output.replace("┃", "│")
    missing = runner.invoke(app, ["budget", "show", "invoice-total", "--ledger", str(tmp_path / "none.sqlite")])
    assert missing.exit_code == 2 and "no ledger" in missing.output
