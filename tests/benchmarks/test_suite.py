"""`skillc bench suite`: the conversion of the public sets, the item split, the table and figure from eval reports."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from skillc.benchmarks.suite import (
    SuiteSettings,
    majority_baseline,
    redraw_suite,
    split_items,
    suite_row,
)
from skillc.benchmarks.suite_data import SETS, convert_suite
from skillc.cli import app
from skillc.core.errors import InvalidInputError
from skillc.core.task import Sample, Task, load_samples
from skillc.eval.evaluate import evaluate_skill
from tests.eval.eval_fixtures import (
    save_skill,
    student_model,
    teacher_model,
    write_dataset,
)

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT.parent / "shared" / "data" / "evals"


@pytest.mark.skipif(not DATA.is_dir(), reason="the evals data is read from ../shared/data/evals")
def test_conversion_writes_the_committed_task_files_without_hints(tmp_path):
    convert_suite(DATA, tmp_path / "tasks", tmp_path / "items", say=lambda _: None)
    for name in SETS:
        written = (tmp_path / "tasks" / name / "task.yaml").read_text(encoding="utf-8")
        assert written == (ROOT / "bench" / "suite" / name / "task.yaml").read_text(encoding="utf-8")
        task = Task.from_file(tmp_path / "tasks" / name / "task.yaml")
        assert not task.hints and 3 <= len(task.samples) <= 5 and task.metric
        items = [json.loads(line) for line in (tmp_path / "items" / name / "items.jsonl").read_text().splitlines()]
        samples = {json.dumps(s.input, sort_keys=True) for s in task.samples}
        assert items and not any(json.dumps(i["input"], sort_keys=True) in samples for i in items)
        assert len({i["id"] for i in items}) == len(items)


def test_a_missing_set_is_a_clear_error(tmp_path):
    with pytest.raises(InvalidInputError, match="not the evals folder"):
        convert_suite(tmp_path, tmp_path / "tasks", tmp_path / "items")


def test_eval_and_calibration_items_are_disjoint_and_fill_a_small_set():
    items = [Sample(input={"i": i}, id=str(i)) for i in range(12)]
    evals, held = split_items(items, 20, 20)
    assert len(held) == 6 and len(evals) == 6 and not {s.id for s in evals} & {s.id for s in held}
    evals, held = split_items([Sample(input={"i": i}, id=str(i)) for i in range(100)], 20, 20)
    assert (len(evals), len(held)) == (20, 20) and not {s.id for s in evals} & {s.id for s in held}
    assert split_items(items, 5, 0) == (split_items(items, 5, 0)[0], [])


@pytest.fixture
def evaluated(tmp_path, invoice_spec):
    """Two sets' eval.json from a real evaluation on scripted models, as `run_suite` leaves them."""
    skills = tmp_path / "skills"
    skill = save_skill(invoice_spec, skills / invoice_spec.name)
    report = evaluate_skill(skill, write_dataset(tmp_path / "data" / "items.jsonl"), student=student_model(),
                            teacher=teacher_model())
    out = tmp_path / "out"
    for name in ("event_categories", "qa"):
        (out / name).mkdir(parents=True)
        (out / name / "eval.json").write_text(report.to_json(), encoding="utf-8")
    return out, skills, report


def test_redraw_builds_the_table_and_figure_from_the_eval_reports(evaluated):
    out, skills, report = evaluated
    summary = redraw_suite(out, skills=skills)
    rows = {r.key: r for r in report.conditions}
    row = summary["rows"][0]
    assert [r["set"] for r in summary["rows"]] == ["event_categories", "qa"]
    assert row["retention"] == pytest.approx(rows["skill_escalation"].accuracy / rows["teacher_only"].accuracy)
    assert row["teacher_touch"] == rows["skill_escalation"].escalation_rate
    assert row["cheaper"] == pytest.approx(rows["teacher_only"].cost_per_item_usd / rows["skill_escalation"].cost_per_item_usd)
    table = (out / "suite.md").read_text(encoding="utf-8")
    assert table.count("| event_categories |") == 1 and "Median retention" in table
    assert (out / "suite.png").read_bytes()[:4] == b"\x89PNG"
    assert json.loads((out / "suite.json").read_text())["sets"] == 2


def test_redraw_draws_the_evaluated_pick_again_for_the_majority_baseline(evaluated, tmp_path):
    """With no eval-items.jsonl (a new checkout), the pick is drawn again from items.jsonl with the run's settings
    and used only when its digest is the one the report recorded."""
    out, skills, report = evaluated
    (out / "qa" / "eval.json").write_text(report.model_copy(update={"metric": "label"}).to_json(), encoding="utf-8")
    shutil.copy(tmp_path / "data" / "items.jsonl", out / "qa" / "items.jsonl")
    items = load_samples(out / "qa" / "items.jsonl")
    expected = majority_baseline(items, "label")
    assert expected is not None
    same_pick = redraw_suite(out, skills=skills, settings=SuiteSettings(limit=None, calibrate=0))
    assert same_pick["rows"][1]["majority_baseline"] == expected
    assert json.loads((out / "suite.json").read_text())["settings"]["calibrate"] == 0
    recorded = redraw_suite(out, skills=skills)  # the settings come back from suite.json
    assert recorded["rows"][1]["majority_baseline"] == expected
    other_pick = redraw_suite(out, skills=skills, settings=SuiteSettings(limit=len(items) - 1, calibrate=0))
    assert other_pick["rows"][1]["majority_baseline"] is None


def test_the_goal_needs_retention_low_touch_and_a_teacher_worth_keeping(evaluated):
    _, _, report = evaluated
    row = suite_row("x", report)
    met = (row["retention"] >= 0.97 and row["teacher_touch"] <= 0.2 and row["cheaper"] >= 3
           and row["teacher_accuracy"] >= 0.5)
    assert row["goal_met"] == met
    weak = report.model_copy(deep=True)
    for r in weak.conditions:
        r.accuracy = 0.1
    assert suite_row("x", weak)["goal_met"] is False and suite_row("x", weak)["teacher_too_weak"] is True


def test_a_teacher_no_better_than_the_commonest_label_is_too_weak_to_judge(evaluated):
    _, _, report = evaluated
    strong = report.model_copy(deep=True)
    for r in strong.conditions:
        r.accuracy = 0.6
    assert suite_row("x", strong, baseline=0.5)["teacher_too_weak"] is False
    row = suite_row("x", strong, baseline=0.6)  # 60% is what always answering "No" gets: the teacher adds nothing
    assert row["teacher_too_weak"] is True and row["goal_met"] is False and row["majority_baseline"] == 0.6
    assert majority_baseline([Sample(input={}, expected={"a": "No"})] * 3, "includes") is None


def test_cli_redraw_and_unknown_sets(evaluated):
    out, skills, _ = evaluated
    for name in ("event_categories", "qa"):  # items already converted: --data is not read
        (out / name / "items.jsonl").write_text("", encoding="utf-8")
    runner = CliRunner()
    result = runner.invoke(app, ["bench", "suite", "--data", "unused", "--redraw", "--out", str(out), "--skills", str(skills)])
    assert result.exit_code == 0, result.output
    assert "goal met on" in result.output and "suite.png" in result.output
    result = runner.invoke(app, ["bench", "suite", "--data", "unused", "--redraw", "--out", str(out), "--sets", "nope"])
    assert result.exit_code != 0 and "unknown suite set" in result.output
    assert yaml.safe_load((ROOT / "bench" / "suite" / "qa" / "task.yaml").read_text())["name"] == "sales-call-question"


@pytest.mark.skipif(not DATA.is_dir(), reason="the evals data is read from ../shared/data/evals")
def test_redraw_in_a_new_checkout_converts_the_items_it_needs(evaluated, tmp_path):
    """A new checkout has the committed eval.json but no items.jsonl: --redraw converts them from --data first,
    so the majority baseline (and the "teacher too weak" verdict) is the same as where the run was made."""
    out, skills, report = evaluated
    runner = CliRunner()
    args = ["bench", "suite", "--redraw", "--out", str(out), "--skills", str(skills), "--tasks", str(tmp_path / "tasks")]
    wrong = runner.invoke(app, [*args, "--data", str(tmp_path / "nowhere")])
    assert wrong.exit_code != 0 and "is not the evals folder" in wrong.output
    assert not (out / "qa" / "items.jsonl").exists()
    result = runner.invoke(app, [*args, "--data", str(DATA)])
    assert result.exit_code == 0, result.output
    assert (out / "qa" / "items.jsonl").is_file() and (tmp_path / "tasks" / "qa" / "task.yaml").is_file()
    items = load_samples(out / "qa" / "items.jsonl")
    assert len(items) > 20 and "converting the evals sets" in result.output
