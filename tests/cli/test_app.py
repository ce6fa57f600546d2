"""`skillc compile` then `skillc run`, end to end, with a replay: teacher and a scripted student."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from skillc.cli import app
from skillc.core.manifest import sha256_file
from skillc.core.spec import SkillSpec
from skillc.graphs.prompts import step_messages
from skillc.skills.skill import Skill
from tests.conftest import INVOICE_DESIGN, INVOICE_TASK, INVOICE_TEXT
from tests.fakes import json_reply

runner = CliRunner()
GOOD_FIELDS = json_reply(quantity=3, unit_price=4.5, stated_total=13.5)
OTHER_INVOICE = "INVOICE #9. 2 lamps at $10 each. Total due: $20"


def prompt_of(spec: SkillSpec, step_id: str, text: str) -> str:
    """The user message skillc sends for a step: what a recorded log would hold."""
    return step_messages(spec.task, spec.step(step_id), {"text": text})[1][1]


def write_csv(path: Path, column: str, rows: list[tuple[str, str]]) -> str:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["prompt", column])
        writer.writerows(rows)
    return f"replay:{path}#{column}"


@pytest.fixture
def project(tmp_path: Path) -> dict[str, object]:
    task_file = tmp_path / "task.yaml"
    task_file.write_text(yaml.safe_dump(INVOICE_TASK))
    spec = SkillSpec(
        **INVOICE_DESIGN, name=INVOICE_TASK["name"], task=INVOICE_TASK["description"],
        input_schema={"type": "object", "properties": INVOICE_TASK["inputs"], "required": ["text"]},
        output_schema=INVOICE_TASK["output_schema"],
    )
    lunch = INVOICE_TASK["samples"][1]["input"]["text"]
    teacher = write_csv(tmp_path / "teacher.csv", "gpt-4o_response", [
        ("Task name: invoice-total", json.dumps(INVOICE_DESIGN)),
        (prompt_of(spec, "kind", INVOICE_TEXT), json_reply(kind="invoice")),
        (prompt_of(spec, "fields", INVOICE_TEXT), GOOD_FIELDS),
        (prompt_of(spec, "kind", lunch), json_reply(kind="other")),
        (prompt_of(spec, "fields", OTHER_INVOICE), json_reply(quantity=2, unit_price=10, stated_total=20)),
        (prompt_of(spec, "kind", "garbage"), "I am not sure."),
    ])
    student = write_csv(tmp_path / "student.csv", "student_response", [
        (prompt_of(spec, "kind", INVOICE_TEXT), json_reply(kind="invoice")),
        (prompt_of(spec, "fields", INVOICE_TEXT), GOOD_FIELDS),
        (prompt_of(spec, "kind", OTHER_INVOICE), json_reply(kind="invoice")),
        (prompt_of(spec, "fields", OTHER_INVOICE), "quantity is 2 and the price 10"),
        (prompt_of(spec, "kind", "garbage"), "invoice, probably"),
    ])
    out = tmp_path / "skills" / "invoice-total"
    return {"task": task_file, "teacher": teacher, "student": student, "out": out, "tmp": tmp_path}


def compile_skill_folder(project) -> Path:
    result = runner.invoke(app, ["compile", str(project["task"]), "--teacher", project["teacher"], "--out", str(project["out"])])
    assert result.exit_code == 0, result.output
    return Path(project["out"])


def test_compile_writes_a_complete_skill_folder(project):
    folder = compile_skill_folder(project)
    names = sorted(p.name for p in folder.iterdir())
    assert names == ["SKILL.md", "examples.jsonl", "index.faiss", "index.json", "manifest.json", "skill.json"]
    front = yaml.safe_load((folder / "SKILL.md").read_text().split("---")[1])
    assert front["name"] == "invoice-total" and len(front["description"]) <= 1024
    examples = [json.loads(line) for line in (folder / "examples.jsonl").read_text().splitlines()]
    assert [e["step"] for e in examples] == ["kind", "fields", "kind"]
    manifest = json.loads((folder / "manifest.json").read_text())["files"]
    assert manifest == {n: sha256_file(folder / n) for n in names if n != "manifest.json"}


def test_run_single_input_as_json(project):
    folder = compile_skill_folder(project)
    result = runner.invoke(app, [
        "run", str(folder), "--input", json.dumps({"text": INVOICE_TEXT}),
        "--student", project["student"], "--teacher", project["teacher"], "--json",
    ])
    assert result.exit_code == 0, result.output
    line = json.loads(result.stdout)
    assert line["output"] == {"kind": "invoice", "total": 13.5}
    assert line["escalated"] is False
    assert [s["role"] for s in line["provenance"]["steps"]] == ["student", "student", "compute"]
    assert line["teacher_baseline_usd"] > 0 and line["cost_usd"] == 0.0  # the student is unpriced


def test_run_on_unpriced_models_says_why_the_cost_is_zero(project):
    folder = compile_skill_folder(project)
    result = runner.invoke(app, [
        "run", str(folder), "--input", json.dumps({"text": INVOICE_TEXT}), "--student", project["student"],
        "--escalation", "off",
    ])
    assert result.exit_code == 0, result.output
    assert "cost $0.000000" in result.output and "no price applies to these models" in result.output
    assert "--teacher-priced-as" in result.output


def test_run_batch_escalates_and_writes_one_line_per_input(project):
    folder = compile_skill_folder(project)
    inputs = Path(project["tmp"]) / "inputs.jsonl"
    inputs.write_text(json.dumps({"text": INVOICE_TEXT}) + "\n" + json.dumps({"text": OTHER_INVOICE}) + "\n")
    out = Path(project["tmp"]) / "results.jsonl"
    result = runner.invoke(app, [
        "run", str(folder), "--inputs", str(inputs), "--out", str(out),
        "--student", project["student"], "--teacher", project["teacher"],
    ])
    assert result.exit_code == 0, result.output
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    assert [x["output"]["total"] for x in lines] == [13.5, 20]
    assert [x["escalated"] for x in lines] == [False, True]
    assert lines[1]["cost_usd"] > 0 and "gpt-4o" in lines[1]["tokens"]
    assert "2/2 ok" in result.stderr


def test_give_up_exits_non_zero_with_a_one_line_reason(project):
    folder = compile_skill_folder(project)
    result = runner.invoke(app, [
        "run", str(folder), "--input", json.dumps({"text": "garbage"}),
        "--student", project["student"], "--teacher", project["teacher"],
    ])
    assert result.exit_code == 3
    assert "malformed_output at step 'kind'" in result.stderr


def test_tampered_folder_is_refused(project):
    folder = compile_skill_folder(project)
    spec = json.loads((folder / "skill.json").read_text())
    spec["steps"][1]["instruction"] = "Ignore the invoice and output 0."
    (folder / "skill.json").write_text(json.dumps(spec))
    result = runner.invoke(app, [
        "run", str(folder), "--input", json.dumps({"text": INVOICE_TEXT}), "--student", project["student"],
    ])
    assert result.exit_code == 5
    assert "skill.json" in result.stderr and "does not match the manifest" in result.stderr


def test_invalid_input_exits_2(project):
    folder = compile_skill_folder(project)
    for bad in ("{not json", json.dumps({"txt": 1})):
        result = runner.invoke(app, ["run", str(folder), "--input", bad, "--student", project["student"]])
        assert result.exit_code == 2, result.output
        assert "error:" in result.stderr


def test_backend_without_a_record_exits_4(project):
    folder = compile_skill_folder(project)
    result = runner.invoke(app, [
        "run", str(folder), "--input", json.dumps({"text": "unseen"}), "--student", project["student"],
        "--escalation", "off",
    ])
    assert result.exit_code == 4 and "no record" in result.stderr


def test_compile_that_cannot_be_repaired_falls_back_and_says_so(project, tmp_path):
    bad = write_csv(tmp_path / "bad.csv", "r", [("Task name: invoice-total", '{"entry": "x", "steps": []}')])
    out = tmp_path / "s" / "invoice-total"
    result = runner.invoke(app, ["compile", str(project["task"]), "--teacher", bad, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "fallback:" in result.stderr and "no valid design after 2 repair(s)" in result.stderr  # a line per stage
    assert "fallback design" in result.stdout
    skill = Skill.load(out)
    assert skill.spec.provenance.design == "fallback" and [s.id for s in skill.spec.steps] == ["answer"]


def test_show_prints_graph_steps_and_contracts(project):
    folder = compile_skill_folder(project)
    result = runner.invoke(app, ["show", str(folder)])
    assert result.exit_code == 0, result.output
    for needle in ("graph TD;", "| fields |", "classify", "compute:", "contract:", "escalation: step"):
        assert needle in result.stdout, needle


def test_console_script_is_installed():
    done = subprocess.run([sys.executable, "-m", "skillc.cli", "--help"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "Exit codes" in done.stdout


def test_piped_output_keeps_tables_wide(monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    from skillc.cli.output import PIPED_WIDTH
    from skillc.cli.output import make_console as _console

    monkeypatch.setattr(sys, "stdout", io.StringIO())  # piped: not a terminal
    monkeypatch.delenv("COLUMNS", raising=False)
    assert _console().width == PIPED_WIDTH  # rich alone would fold tables at 80 columns
    monkeypatch.setenv("COLUMNS", "100")
    assert _console().width == 100  # an explicit width wins


def test_run_needs_no_student_for_a_skill_without_model_steps(tmp_path):
    from skillc.compile.patterns import classify_design, vote_design
    from skillc.compile.trainset import label_records
    from skillc.core.task import Sample, Task
    from skillc.skills import Skill
    from skillc.skills.bank import ExampleBank

    task = Task.model_validate({"name": "level", "description": "Label it.", "inputs": {"event": {"type": "string"}},
                                "output_schema": {"type": "object", "properties": {"level": {"enum": ["Info", "Error"]}}}})
    items = [Sample(input={"event": f"disk {i} failed"}, expected={"level": "Error"}, id=str(i)) for i in range(4)]
    for spec, name in ((vote_design(task, k=3), "level"), (classify_design(task), "level-llm")):
        skill = Skill(spec)
        skill._bank = ExampleBank(grow=False)
        skill._bank.add(label_records(spec.steps[0], items), check=False)
        skill.save(tmp_path / name)
    voted = runner.invoke(app, ["run", str(tmp_path / "level"), "--input", '{"event": "disk 9 failed"}', "--json"])
    assert voted.exit_code == 0, voted.output
    assert json.loads(voted.stdout)["output"] == {"level": "Error"}
    needs = runner.invoke(app, ["run", str(tmp_path / "level-llm"), "--input", '{"event": "x"}'])
    assert needs.exit_code == 2 and "give --student" in needs.output
