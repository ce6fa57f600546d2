"""GSM8K with GPT-4's worked answers as demos: a fixed one-step skill and a bank from the recorded logs.

The skill is `solve` (transform: question -> {reasoning, answer}, then END), so only what the demos show
differs between conditions. The bank holds GPT-4's answers to test rows 0-499 (`teacher_logs.csv`,
column `gpt-4-1106-preview_response`), through the quality filter with the contaminated prompts blocked;
evaluation rows start at 500. Used by `bench/gsm8k_demos.py` (do demos help?) and `skillc bench
compression` (do compressed demos cost accuracy?).

Example:
    >>> from skillc.core.task import Task
    >>> spec = one_step_spec(Task.from_file(TASK_FILE), RetrievalPolicy(k=3))
    >>> [s.id for s in spec.steps], spec.steps[0].writes
    (['solve'], ['reasoning', 'answer'])
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from skillc.benchmarks.gsm8k import COLUMNS, TASK_FILE, TEACHER
from skillc.compile.logs import log_records, read_logs
from skillc.core.spec import RetrievalPolicy, SkillSpec
from skillc.core.task import Task
from skillc.skills.bank import ExampleBank
from skillc.skills.quality import QualityFilter, blocklist_from_jsonl

BANK_ROWS = slice(0, 500)

__all__ = ["BANK_ROWS", "TASK_FILE", "demo_bank", "one_step_spec"]


def one_step_spec(task: Task, retrieval: RetrievalPolicy) -> SkillSpec:
    """The fixed one-step skill: solve the problem, write the working and the final number; escalation off."""
    return SkillSpec.model_validate({
        "name": task.name,
        "task": task.description,
        "input_schema": task.input_schema,
        "output_schema": task.output_schema,
        "entry": "solve",
        "escalation": {"mode": "off"},
        "retrieval": retrieval.model_dump(),
        "steps": [{
            "id": "solve",
            "primitive": "transform",
            "instruction": "Solve the word problem step by step. Write the working in `reasoning`, "
                           "then the final answer as a single number (no units) in `answer`.",
            "reads": ["question"],
            "writes": ["reasoning", "answer"],
            "contract": {"type": "object",
                         "properties": {"reasoning": {"type": "string"}, "answer": {"type": "number"}},
                         "required": ["reasoning", "answer"]},
            "next": "END",
        }],
    })


def demo_bank(data: Path, spec: SkillSpec, embeddings: Any = None) -> tuple[ExampleBank, dict[str, Any]]:
    """The bank from rows 0-499 of the teacher logs, through the quality filter with the blocklist, and what
    became of the rows."""
    rows = read_logs(Path(data) / "teacher_logs.csv", COLUMNS, BANK_ROWS)
    records, unfilled = log_records(spec, rows, COLUMNS, model=TEACHER)
    bank = ExampleBank(quality=QualityFilter(blocklist=blocklist_from_jsonl(Path(data) / "contaminated_prompts.jsonl")),
                       **({"embeddings": embeddings} if embeddings is not None else {}))
    report = bank.add(records)
    return bank, {"rows": len(rows), "records": len(records), "not_filled": unfilled, "kept": report.kept,
                  "dropped_by_filter": dict(report.dropped)}
