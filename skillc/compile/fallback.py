"""The simplest valid design, for when the architect stumbles: one step writes the whole output.

A user's task must never end with no skill because a small teacher could not design a graph. The fallback
reads every input field and writes every output field under the task's own output contract; a single
label with an `enum` becomes a `classify` step, anything else a `transform` step. Its demos are the
teacher's worked samples and the task's own samples with their expected outputs.

Example:
    >>> from skillc.core.task import Task
    >>> task = Task.model_validate({"name": "sentiment", "description": "Is the review positive?",
    ...     "inputs": {"review": {"type": "string"}},
    ...     "output_schema": {"type": "object", "properties": {"label": {"enum": ["pos", "neg"]}}}})
    >>> spec = fallback_spec(task)
    >>> [(s.id, s.primitive, s.reads, s.writes) for s in spec.steps], spec.problems()
    ([('answer', 'classify', ['review'], ['label'])], [])
"""

from __future__ import annotations

from typing import Any

from skillc.core.records import new_record
from skillc.core.spec import SkillSpec
from skillc.core.task import Task

STEP = "answer"


def fallback_spec(task: Task, escalation: str = "step") -> SkillSpec:
    """One step, the task's output schema as its contract, retry → escalate → give up."""
    props = task.output_schema.get("properties", {})
    label = len(props) == 1 and isinstance(next(iter(props.values())), dict) and "enum" in next(iter(props.values()))
    step: dict[str, Any] = {
        "id": STEP,
        "primitive": "classify" if label else "transform",
        "instruction": f"Do the whole task in one answer: {task.description}"[:1000],
        "reads": list(task.inputs),
        "writes": list(props),
        "contract": task.output_schema,
        "on_fail": ["retry", "escalate", "give_up"],
        "next": "END",
    }
    return SkillSpec.model_validate({
        "name": task.name, "task": task.description, "entry": STEP, "steps": [step],
        "input_schema": task.input_schema, "output_schema": task.output_schema,
        "escalation": {"mode": escalation},
    })


def sample_demos(task: Task) -> list[dict[str, Any]]:
    """The task's samples that carry an expected output, as worked examples of the fallback step."""
    return [new_record(STEP, dict(s.input), dict(s.expected), source="human",
                       reasoning="the expected output given with the task")
            for s in task.samples if s.expected]
