"""Compile from recorded teacher logs, and export the bank for fine-tuning."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from skillc.cli import app
from skillc.compile.compiler import compile_skill
from skillc.compile.logs import LogColumns, fill_contract, label_verdict, read_logs
from skillc.core.errors import InvalidInputError
from skillc.core.task import Task
from skillc.skills.quality import QualityFilter, blocklist_of
from skillc.skills.skill import Skill
from tests.fakes import ScriptedChatModel

MATH_TASK = {
    "name": "word-math",
    "description": "Solve a grade-school math word problem; give the final number.",
    "inputs": {"question": {"type": "string"}},
    "output_schema": {"type": "object", "properties": {"answer": {"type": "number"}}, "required": ["answer"]},
}
MATH_DESIGN = {
    "entry": "solve",
    "steps": [{
        "id": "solve", "primitive": "transform", "instruction": "Work it out step by step, then give the number.",
        "reads": ["question"], "writes": ["reasoning", "answer"], "next": "END",
        "contract": {"type": "object", "properties": {"reasoning": {"type": "string"}, "answer": {"type": "number"}},
                     "required": ["reasoning", "answer"]},
    }],
}
CONTAMINATED = "Janet has 16 eggs and eats 3 of them for breakfast every single morning. How many are left?"
ROWS = [
    ("Tom has 3 apples and buys 4 more. How many apples?", "He has 3 + 4 = 7 apples.\n#### 7", "True"),
    ("A box holds 6 pens. How many pens in 5 boxes?", "5 boxes times 6 pens is 30 pens.", "True"),
    ("Sara reads 10 pages a day for 3 days. Pages?", "10 * 3 = 31 pages.", "False"),
    ("What is the capital of the moon?", "I'm sorry, I can't help with question 4.", "True"),
    (CONTAMINATED, "16 - 3 = 13 eggs are left.", "True"),
    ("How many legs do 2 cats have?", "Cats have legs, quite a few of them.", "True"),
]


def write_logs(path: Path) -> Path:
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["prompt", "gpt-4_response", "gpt-4"])
        writer.writerows(ROWS)
    return path


def test_fill_contract_reads_json_or_free_text():
    contract = MATH_DESIGN["steps"][0]["contract"]
    assert fill_contract(contract, '{"reasoning": "2+2", "answer": 4}') == {"reasoning": "2+2", "answer": 4}
    assert fill_contract(contract, "It costs $1,250.50 in total.")["answer"] == 1250.5
    assert fill_contract(contract, "no number at all") is None
    labels = {"type": "object", "properties": {"kind": {"enum": ["invoice", "other"]}}, "required": ["kind"]}
    assert fill_contract(labels, "Not an invoice at first sight, but in the end: other.") == {"kind": "other"}


def test_label_column_is_a_verdict_or_a_reference():
    assert label_verdict("True", {"answer": 7}) is None
    assert label_verdict("false", {"answer": 7}) == "labelled wrong"
    assert label_verdict("#### 7", {"answer": 7.0}) is None
    assert label_verdict("8", {"answer": 7}) == "answer differs from the label"


def test_missing_column_names_the_columns(tmp_path):
    with pytest.raises(InvalidInputError, match=r"no column 'response'.*'gpt-4_response'"):
        read_logs(write_logs(tmp_path / "l.csv"), LogColumns("prompt", "response"))


def test_compile_from_logs_asks_the_teacher_only_for_the_graph(tmp_path):
    teacher = ScriptedChatModel(script={"design": [json.dumps(MATH_DESIGN)]})
    rows = read_logs(write_logs(tmp_path / "l.csv"), LogColumns("prompt", "gpt-4_response", "gpt-4"))
    skill = compile_skill(
        Task.model_validate(MATH_TASK), teacher=teacher, logs=rows,
        log_columns=LogColumns("prompt", "gpt-4_response", "gpt-4"),
        quality=QualityFilter(blocklist=blocklist_of([CONTAMINATED])),
    )
    assert teacher.steps_called() == ["design"]
    assert [r["output"]["answer"] for r in skill.bank.records] == [7, 30]
    assert {r["source"] for r in skill.bank.records} == {"log"}
    traces = skill.spec.provenance.traces
    assert traces["kept"] == 2 and traces["rows"] == 6
    assert traces["dropped"] == {"cross_check: labelled wrong": 1, "refusal": 1, "blocklisted_input": 1, "schema_invalid": 1}


runner = CliRunner()


def test_cli_compile_from_logs_then_export_every_format(tmp_path):
    task = tmp_path / "task.yaml"
    task.write_text(yaml.safe_dump(MATH_TASK))
    design = tmp_path / "design.csv"
    with open(design, "w", newline="") as fh:
        csv.writer(fh).writerows([["prompt", "response"], ["Task name: word-math", json.dumps(MATH_DESIGN)]])
    blocked = tmp_path / "contaminated.jsonl"
    blocked.write_text(json.dumps({"train_prompt": CONTAMINATED}) + "\n")
    out = tmp_path / "skills" / "word-math"
    result = runner.invoke(app, [
        "compile", str(task), "--teacher", f"replay:{design}#response", "--out", str(out),
        "--logs", str(write_logs(tmp_path / "logs.csv")), "--prompt-col", "prompt",
        "--response-col", "gpt-4_response", "--label-col", "gpt-4", "--rows", "0:5", "--blocklist", str(blocked),
    ])
    assert result.exit_code == 0, result.output
    assert "kept: 2 from 5 logged calls" in result.output

    skill = Skill.load(out)
    skill.bank.add([{**skill.bank.records[0], "id": "e1", "source": "escalation",
                     "input": {"question": "Ann has 2 dogs and 2 cats. How many pets?"},
                     "output": {"reasoning": "2 + 2 = 4 pets", "answer": 4}, "reasoning": "2 + 2 = 4 pets"}])
    for fmt in ("openai", "sharegpt", "alpaca"):
        target = tmp_path / f"{fmt}.jsonl"
        result = runner.invoke(app, ["export", str(out), "--format", fmt, "--out", str(target), "--with-reasoning"])
        assert result.exit_code == 0, result.output
        assert "exported 3" in result.stderr and "log: 2" in result.stderr and "escalation: 1" in result.stderr
        rows = [json.loads(line) for line in target.read_text().splitlines()]
        assert len(rows) == 3
        for row in rows:
            validate_row(fmt, row)
    only = runner.invoke(app, ["export", str(out), "--source", "escalation", "--with-reasoning"])
    assert only.exit_code == 0 and len(only.stdout.splitlines()) == 1
    answer = json.loads(only.stdout)["messages"][2]["content"]
    assert answer.startswith("2 + 2 = 4 pets\n\n") and json.loads(answer.split("\n\n", 1)[1])["answer"] == 4
    bad = runner.invoke(app, ["export", str(out), "--format", "csv"])
    assert bad.exit_code == 2 and "openai, sharegpt, alpaca" in bad.stderr


def validate_row(fmt: str, row: dict) -> None:
    """The shape each trainer accepts."""
    if fmt == "openai":
        assert list(row) == ["messages"]
        assert [m["role"] for m in row["messages"]] == ["system", "user", "assistant"]
        assert all(isinstance(m["content"], str) and m["content"] for m in row["messages"])
    elif fmt == "sharegpt":
        assert list(row) == ["conversations"]
        assert [m["from"] for m in row["conversations"]] == ["system", "human", "gpt"]
        assert all(isinstance(m["value"], str) and m["value"] for m in row["conversations"])
    else:
        assert set(row) == {"instruction", "input", "output"} and all(isinstance(v, str) and v for v in row.values())
        assert "Step `solve`" in row["instruction"] and row["input"].startswith("Step `solve`. Inputs:\n{")


def test_fill_contract_writes_the_final_number_into_an_expression_field():
    contract = {"type": "object", "properties": {"reasoning": {"type": "string"}, "expression": {"type": "string"}},
                "required": ["reasoning", "expression"]}
    assert fill_contract(contract, "3 boxes of 4 make 12.\n#### 12") == {
        "reasoning": "3 boxes of 4 make 12.\n#### 12", "expression": "12"}
    assert fill_contract(contract, "no number here") is None
