"""Recorded teacher calls (a CSV of prompts and responses) turned into example-bank records.

Each row becomes a record of the skill's first LLM step that reads only the task's input, with its
contract filled from the response: the response as JSON if it fits, otherwise free-text fields
(`reasoning`, `explanation`, ...) take the response text and a number or label field takes the final
number or label stated in it. A label column either marks rows right/wrong (true/false) or holds the
reference answer; either way it cross-checks the record. Records then pass the bank's quality filter.

Example:
    >>> from skillc.core.spec import Step
    >>> step = Step(id="solve", primitive="transform", instruction="Solve.", reads=["question"],
    ...     writes=["reasoning", "answer"], next="END", contract={"type": "object",
    ...     "properties": {"reasoning": {"type": "string"}, "answer": {"type": "number"}}})
    >>> fill_contract(step.contract, "3 + 4 = 7 apples, minus 2 is 5.\\n#### 5")
    {'reasoning': '3 + 4 = 7 apples, minus 2 is 5.\\n#### 5', 'answer': 5}
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from skillc.adapters.free_text import NUMBER, fill_contract, final_number
from skillc.core.answers import answers_equal
from skillc.core.contracts import TEXT_FIELDS
from skillc.core.errors import InvalidInputError
from skillc.core.records import new_record
from skillc.core.spec import LLM_PRIMITIVES, SkillSpec, Step

_TRUE = {"true", "1", "yes", "correct", "right", "y", "t"}
_FALSE = {"false", "0", "no", "incorrect", "wrong", "n", "f"}


@dataclass(frozen=True)
class LogColumns:
    """Which CSV columns hold the prompt, the teacher's response and (optionally) a label."""

    prompt: str
    response: str
    label: str | None = None


def read_logs(path: str | Path, columns: LogColumns, rows: slice | None = None) -> list[dict[str, str]]:
    """The CSV's rows (optionally a slice of them), after checking that the named columns exist."""
    path = Path(path)
    if not path.is_file():
        raise InvalidInputError(f"logs file not found: {path}")
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        header = reader.fieldnames or []
        wanted = [c for c in (columns.prompt, columns.response, columns.label) if c]
        missing = [c for c in wanted if c not in header]
        if missing:
            raise InvalidInputError(f"{path}: no column {missing[0]!r}; the columns are {header}")
        data = list(reader)
    return data[rows] if rows is not None else data


def log_step(spec: SkillSpec) -> Step:
    """The step log records belong to: the first LLM step (entry first) that reads only task inputs."""
    inputs = set(spec.input_fields)
    ordered = sorted(spec.steps, key=lambda s: s.id != spec.entry)
    for step in ordered:
        if step.primitive in LLM_PRIMITIVES and step.reads and set(step.reads) <= inputs:
            return step
    raise InvalidInputError(
        f"skill {spec.name!r} has no LLM step that reads only the task input {sorted(inputs)}; "
        "recorded whole-task answers cannot be mapped onto its steps"
    )


def label_verdict(label: str | None, output: dict[str, Any]) -> str | None:
    """A cross-check reason from the label column, or None when the record agrees with it."""
    if label is None or not str(label).strip():
        return None
    text = str(label).strip()
    if text.lower() in _TRUE:
        return None
    if text.lower() in _FALSE:
        return "labelled wrong"
    reference = final_number(text) if NUMBER.search(text) else text
    answers = [v for k, v in output.items() if k not in TEXT_FIELDS]
    return None if any(answers_equal(reference, a, tolerance=1e-6) for a in answers) else "answer differs from the label"


def log_records(spec: SkillSpec, rows: list[dict[str, str]], columns: LogColumns, *, model: str) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """Bank records from log rows, and the count of rows that could not become one, by reason."""
    step = log_step(spec)
    field_name = step.reads[0]
    if len(step.reads) != 1:
        raise InvalidInputError(f"step {step.id!r} reads {step.reads}; logs can fill a step with one text input")
    records: list[dict[str, Any]] = []
    dropped: dict[str, int] = {}
    for n, row in enumerate(rows):
        output = fill_contract(step.contract, row[columns.response] or "")
        if output is None:
            dropped["schema_invalid"] = dropped.get("schema_invalid", 0) + 1
            continue
        verdict = label_verdict(row.get(columns.label) if columns.label else None, output)
        if verdict:
            key = f"cross_check: {verdict}"
            dropped[key] = dropped.get(key, 0) + 1
            continue
        reasoning = next((str(output[k]) for k in TEXT_FIELDS if k in output), row[columns.response])
        records.append(new_record(step.id, {field_name: row[columns.prompt]}, output, reasoning=reasoning,
                                  source="log", model=model, raw=row[columns.response], row=n))
    return records, dropped
