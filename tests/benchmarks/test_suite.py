"""`skillc bench suite`: the conversion of the public sets, the item split, the table and figure from eval reports."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from skillc.benchmarks.suite import goals, redraw_suite, restore_bank
from skillc.benchmarks.suite_banks import read_skeleton, write_skeleton
from skillc.benchmarks.suite_data import SETS, SPLITS, convert_suite, split_set
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


def test_every_set_splits_once_into_disjoint_train_dev_and_test():
    items = [Sample(input={"i": i}, id=str(i)) for i in range(100)]
    train, dev, test = split_set(items, 30, 16)
    again = split_set(items, 30, 16)
    assert (len(train), len(dev), len(test)) == (54, 16, 30) and again == (train, dev, test)
    ids = [{s.id for s in part} for part in (train, dev, test)]
    assert not ids[0] & ids[1] and not ids[0] & ids[2] and not ids[1] & ids[2]
    with pytest.raises(InvalidInputError, match="leaves no trainset"):
        split_set(items[:10], 6, 4)
    assert SPLITS["event_categories"][0] >= 100 and SPLITS["brazilian_laws"][0] >= 100 and SPLITS["qa"][0] >= 30


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
        (out / name / "split.json").write_text(json.dumps({"sizes": {"train": 5, "dev": 2, "test": 3},
                                                           "commonest_label": "No", "commonest_label_accuracy": 0.6}))
    return out, skills, report


def test_redraw_builds_the_tables_and_figure_from_the_eval_reports(evaluated):
    out, skills, report = evaluated
    summary = redraw_suite(out, skills=skills)
    rows = {r.key: r for r in report.conditions}
    row = summary["rows"][0]
    assert [r["set"] for r in summary["rows"]] == ["event_categories", "qa"]
    assert row["retention"] == pytest.approx(rows["skill_escalation"].accuracy / rows["teacher_only"].accuracy)
    assert row["teacher_touch"] == rows["skill_escalation"].escalation_rate
    assert row["cheaper"] == pytest.approx(rows["teacher_only"].cost_per_item_usd / rows["skill_escalation"].cost_per_item_usd)
    assert row["commonest_label_accuracy"] == 0.6 and row["accuracy_ci"]["skill"][0] <= row["accuracy"]["skill"]
    table = (out / "suite.md").read_text(encoding="utf-8")
    assert table.count("| event_categories |") == 2 and "95% Wilson interval" in table and "(c) compile beats raw" in table
    assert (out / "suite.png").read_bytes()[:4] == b"\x89PNG"
    assert json.loads((out / "suite.json").read_text())["sets"] == 2


def test_the_goals_of_a_set():
    base = {"raw_student": 0.2, "skill": 0.6, "teacher_only": 0.5, "teacher_demos": 0.7, "nn_vote": 0.55,
            "skill_escalation": 0.69}
    ok = goals(base, touch=0.2, cheaper=5.0, dev=(0.6, 0.2))
    assert ok == {"student_does_the_teachers_job": True, "beats_the_vote": True, "escalation": True, "compile_beats_raw": True}
    assert not goals({**base, "skill": 0.34}, touch=0.2, cheaper=5.0, dev=(0.6, 0.2))["student_does_the_teachers_job"]
    assert not goals({**base, "nn_vote": 0.61}, touch=0.2, cheaper=5.0, dev=(0.6, 0.2))["beats_the_vote"]
    # retention is against the better teacher condition (teacher + demos, 70%): 0.67 < 97% of it
    assert not goals({**base, "skill_escalation": 0.67}, touch=0.2, cheaper=5.0, dev=(0.6, 0.2))["escalation"]
    assert not goals(base, touch=0.25, cheaper=5.0, dev=(0.6, 0.2))["escalation"]
    assert not goals(base, touch=0.2, cheaper=2.0, dev=(0.6, 0.2))["escalation"]
    assert not goals(base, touch=0.2, cheaper=5.0, dev=(0.2, 0.2))["compile_beats_raw"]


def test_a_suite_skills_bank_is_kept_as_a_skeleton_and_rebuilt_byte_for_byte(tmp_path):
    from skillc.compile.patterns import vote_design
    from skillc.compile.trainset import label_records
    from skillc.skills import Skill
    from skillc.skills.bank import ExampleBank

    task = Task.model_validate({"name": "level", "description": "Label it.", "metric": "label", "inputs": {"event": {"type": "string"}},
                                "output_schema": {"type": "object", "properties": {"level": {"enum": ["Info", "Error"]}}}})
    train = [Sample(input={"event": f"secret text {i}"}, expected={"level": ["Error"] if i % 2 else "Info"}, id=f"s-{i}")
             for i in range(6)]
    spec = vote_design(task)
    skill = Skill(spec)
    skill._bank = ExampleBank(grow=False)
    skill._bank.add(label_records(spec.steps[0], train), check=False)
    folder = skill.save(tmp_path / "skills" / "level")
    out = tmp_path / "out"
    write_skeleton(out / "bank.jsonl", skill.bank.records, {s.id: s for s in train})
    skeleton = (out / "bank.jsonl").read_text()
    assert "secret text" not in skeleton and '"$data": "input.event"' in skeleton and len(read_skeleton(out / "bank.jsonl")) == 6
    signed = (folder / "examples.jsonl").read_bytes()
    (folder / "examples.jsonl").unlink()
    assert restore_bank(folder, out, train) is True
    assert (folder / "examples.jsonl").read_bytes() == signed
    assert Skill.load(folder).run({"event": "secret text 1"}).ok  # the manifest accepts the rebuilt bank
    (folder / "examples.jsonl").unlink()
    with pytest.raises(InvalidInputError, match="does not hold"):
        restore_bank(folder, out, train[:2])


def test_cli_redraw_and_unknown_sets(evaluated):
    out, skills, _ = evaluated
    for name in ("event_categories", "qa"):  # items already converted: --data is not read
        (out / name / "items.jsonl").write_text("", encoding="utf-8")
    runner = CliRunner()
    result = runner.invoke(app, ["bench", "suite", "--data", "unused", "--redraw", "--out", str(out), "--skills", str(skills)])
    assert result.exit_code == 0, result.output
    assert "(c) compile beats the raw student" in result.output and "suite.png" in result.output
    result = runner.invoke(app, ["bench", "suite", "--data", "unused", "--redraw", "--out", str(out), "--sets", "nope"])
    assert result.exit_code != 0 and "unknown suite set" in result.output
    assert yaml.safe_load((ROOT / "bench" / "suite" / "qa" / "task.yaml").read_text())["name"] == "sales-call-question"


@pytest.mark.skipif(not DATA.is_dir(), reason="the evals data is read from ../shared/data/evals")
def test_redraw_in_a_new_checkout_converts_the_items_it_needs(evaluated, tmp_path):
    """A new checkout has the committed eval.json but no items.jsonl: --redraw converts them from --data first."""
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
