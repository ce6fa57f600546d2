"""The teacher's prompt as architect: output the split, the conditions, the steps, the fallbacks.

Example:
    >>> from skillc.skills.task import Task
    >>> task = Task.model_validate({"name": "t", "description": "Add two numbers.",
    ...     "inputs": {"a": {"type": "number"}}, "output_schema": {"type": "object", "properties": {"s": {}}}})
    >>> "Add two numbers." in architect_messages(task)[1][1]
    True
"""

from __future__ import annotations

import json
from typing import Any

from skillc.skills.spec import SkillDesign
from skillc.skills.task import Sample, Task

ARCHITECT_SYSTEM = (
    "You are the architect of a skill. You design, once, how a task is solved, so that a much smaller "
    "model can execute it one step at a time without planning. Output the split, the conditions, the "
    "steps and the fallbacks; omit no intermediate logic. Every step uses exactly one primitive; there "
    "are no free-form 'think about it' steps. Answer with one JSON object and nothing else."
)

PRIMITIVE_GUIDE = {
    "extract": "copy values out of the inputs into fields",
    "classify": "choose one label; the contract gives the labels as an enum",
    "transform": "rewrite or restructure values (e.g. write an arithmetic expression from a word problem)",
    "compute": "deterministic arithmetic, no model: `expression` over values, or `expression_from` naming a value that holds a model-written expression",
    "verify": "judge whether values satisfy a condition; writes a boolean and a reason",
    "compare": "compare two values and report which/whether",
    "search": "find the answer inside a provided context value",
    "simplify": "rewrite a long or messy input more simply",
    "ask": "ask the user for missing input (pauses the run); contract {question}, writes the user's reply",
    "retry": "go back to `target` (bounded by the target's max_visits), else continue to `next`",
    "escalate": "a step done by the teacher, for what a small model cannot do",
}

RULES = [
    "Step ids are snake_case. `entry` is the first step's id.",
    "Each step has `next` (a step id or \"END\") unless a decision leaves it.",
    "A decision: {\"after\": step id, \"branches\": [{\"when\": condition, \"to\": step id or END}], \"default\": ...}.",
    "Conditions and compute expressions are Python-like arithmetic/comparisons over value names; no function calls except abs, min, max, round, sum, len, int, float, str.",
    "`reads` lists input fields or values written by earlier steps; `writes` lists the values a step produces.",
    "`contract` is a JSON Schema {\"type\": \"object\", \"properties\": {...}, \"required\": [...]} whose properties include every value in `writes`.",
    "`on_fail` is an ordered list from retry, simplify, ask, escalate, give_up.",
    "Every output field must be written by some step. Use compute for all arithmetic.",
    "A loop needs max_visits >= 2 on one of its steps.",
    "Keep steps few and small: each must be easy for a small model.",
]


def architect_messages(task: Task, samples: list[Sample] | None = None) -> list[tuple[str, str]]:
    """Messages that ask the teacher for a SkillDesign of `task`."""
    parts = [
        f"Task name: {task.name}",
        f"Task: {task.description}",
        f"Input fields (JSON Schema): {json.dumps(task.input_schema, ensure_ascii=False)}",
        f"Final output (JSON Schema): {json.dumps(task.output_schema, ensure_ascii=False)}",
        "Primitives:",
        *(f"- {name}: {what}" for name, what in PRIMITIVE_GUIDE.items()),
        "Rules:",
        *(f"- {rule}" for rule in RULES),
    ]
    for i, sample in enumerate((samples or [])[:3], 1):
        parts.append(f"Sample input {i}: {json.dumps(sample.input, ensure_ascii=False)}")
    parts.append("Answer with one JSON object matching this JSON Schema (a SkillDesign):")
    parts.append(json.dumps(design_schema(), ensure_ascii=False))
    return [("system", ARCHITECT_SYSTEM), ("user", "\n".join(parts))]


def repair_message(errors: list[str]) -> tuple[str, str]:
    """The follow-up that lists what was wrong with the teacher's last design."""
    listed = "\n".join(f"- {e}" for e in errors)
    return ("user", f"That design is not valid:\n{listed}\nReturn the corrected, complete JSON object.")


def design_schema() -> dict[str, Any]:
    return SkillDesign.model_json_schema()
