"""The teacher's prompt as architect: output the split, the conditions, the steps, the fallbacks.

Example:
    >>> from skillc.core.task import Task
    >>> task = Task.model_validate({"name": "t", "description": "Add two numbers.",
    ...     "inputs": {"a": {"type": "number"}}, "output_schema": {"type": "object", "properties": {"s": {}}}})
    >>> "Add two numbers." in architect_messages(task)[1][1]
    True
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import ValidationError

from skillc.adapters.calls import call_model
from skillc.adapters.json_output import close_truncated_json, parse_json_object
from skillc.adapters.models import ModelHandle
from skillc.adapters.pricing import PriceTable
from skillc.compile.normalize import normalize_design
from skillc.compile.plan import expand_plan, plan_schema
from skillc.core.errors import MalformedOutputError
from skillc.core.spec import SkillDesign, SkillSpec
from skillc.core.task import Sample, Task
from skillc.core.trace import StepRecord
from skillc.graphs.config import Escalation

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
    "Only when the path really depends on a value, add a decision instead of `next`: "
    "{\"after\": step id, \"branches\": [{\"when\": \"kind == 'refund'\", \"to\": step id or END}], \"default\": step id or END}.",
    "Conditions and compute expressions are Python-like arithmetic/comparisons over value names; no function calls except abs, min, max, round, sum, len, int, float, str.",
    "`reads` lists input fields or values written by earlier steps; `writes` maps each value a step produces to its type (string, number, integer, boolean); a classify step also lists its `labels`.",
    "A compute step has one `expression`: a single arithmetic formula over value names, e.g. \"price * qty * (1 - rate / 100)\".",
    "`on_fail` is an ordered list from retry, simplify, ask, escalate, give_up.",
    "Every output field must be written by some step. Use compute for all arithmetic.",
    "A loop needs max_visits >= 2 on one of its steps.",
    "Keep steps few and small: each must be easy for a small model. List each step once; stop after the last step.",
]


EXAMPLE_TASK = "Shipping quote: read a parcel description and return the carrier, the weight, the distance and the cost."
EXAMPLE_DESIGN: dict[str, Any] = {
    "entry": "read_parcel",
    "steps": [
        {
            "id": "read_parcel", "primitive": "extract",
            "instruction": "Extract the carrier name, the weight in kg and the distance in km.",
            "reads": ["text"], "writes": {"carrier": "string", "weight_kg": "number", "distance_km": "number"},
            "check": "weight_kg > 0 and distance_km > 0", "on_fail": ["retry", "escalate", "give_up"], "next": "cost",
        },
        {
            "id": "cost", "primitive": "compute", "instruction": "Price: 0.8 per kg plus 0.05 per km.",
            "reads": ["weight_kg", "distance_km"], "writes": {"cost": "number"},
            "expression": "weight_kg * 0.8 + distance_km * 0.05", "on_fail": ["escalate", "give_up"], "next": "END",
        },
    ],
    "decisions": [],
}


EXAMPLE_TASK_2 = "Discount: read a shopping question in words and return the amount paid."
EXAMPLE_DESIGN_2: dict[str, Any] = {
    "entry": "formula",
    "steps": [
        {
            "id": "formula", "primitive": "transform",
            "instruction": "Work out the calculation in words, then write it as one arithmetic expression over plain numbers.",
            "reads": ["request"], "writes": {"working": "string", "expression": "string"},
            "on_fail": ["retry", "escalate", "give_up"], "next": "paid",
        },
        {
            "id": "paid", "primitive": "compute", "instruction": "Evaluate the expression.",
            "reads": ["expression"], "writes": {"paid": "number"}, "expression_from": "expression",
            "on_fail": ["escalate", "give_up"], "next": "END",
        },
    ],
    "decisions": [],
}


def architect_messages(
    task: Task, samples: list[Sample] | None = None, *, include_schema: bool = True
) -> list[tuple[str, str]]:
    """Messages that ask the teacher for a SkillDesign of `task`.

    `include_schema=False` leaves the SkillDesign JSON Schema out of the text, for backends that
    enforce it by constrained decoding anyway (it is about 1,000 tokens).
    """
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
    parts.append(f"Example 1. For the task {EXAMPLE_TASK!r}, whose input field is `text`, a good design is "
                 "(use your task's own field names, not an example's):")
    parts.append(json.dumps(EXAMPLE_DESIGN, ensure_ascii=False))
    parts.append(f"Example 2. For the task {EXAMPLE_TASK_2!r}, whose input field is `request`, where the model writes "
                 "the formula and compute evaluates it, a good design is:")
    parts.append(json.dumps(EXAMPLE_DESIGN_2, ensure_ascii=False))
    if task.hints:  # last, next to the request: small architects follow what they read last
        parts.append(f"Guidance from the task's author (follow it): {task.hints}")
    parts.append(f"Now design the skill for the task {task.name!r}.")
    for i, sample in enumerate((samples or [])[:3], 1):
        parts.append(f"Sample input {i}: {json.dumps(shortened(sample.input), ensure_ascii=False)}")
    if include_schema:
        parts.append("Answer with one JSON object matching this JSON Schema:")
        parts.append(json.dumps(design_schema(), ensure_ascii=False))
    else:
        parts.append("Answer with one JSON object shaped like the example.")
    return [("system", ARCHITECT_SYSTEM), ("user", "\n".join(parts))]


SAMPLE_CHARS = 600  # of each text field: the architect needs the shape of an input, not all of a transcript


def shortened(value: Any, limit: int = SAMPLE_CHARS) -> Any:
    """A sample input with long texts cut (the design prompt must fit a small teacher's context).

    >>> shortened({"transcript": "x" * 1000, "n": 3}, limit=5)
    {'transcript': 'xxxxx… [995 more characters]', 'n': 3}
    """
    if isinstance(value, str) and len(value) > limit:
        return f"{value[:limit]}… [{len(value) - limit} more characters]"
    if isinstance(value, dict):
        return {k: shortened(v, limit) for k, v in value.items()}
    if isinstance(value, list):
        return [shortened(v, limit) for v in value]
    return value


def repair_message(errors: list[str]) -> tuple[str, str]:
    """The follow-up that lists what was wrong with the teacher's last design."""
    listed = "\n".join(f"- {e}" for e in errors)
    return ("user", f"That design is not valid:\n{listed}\nReturn the corrected, complete JSON object.")


def sample_repair_message(mistakes: list[dict[str, Any]]) -> tuple[str, str]:
    """The follow-up that shows the teacher samples its design got wrong."""
    lines = ["That design runs, but gives wrong results on these samples:"]
    for m in mistakes:
        outcome = f"got {json.dumps(m['got'], ensure_ascii=False)}" if "got" in m else f"failed: {m.get('error')}"
        lines.append(f"- input {json.dumps(shortened(m['input']), ensure_ascii=False)}: expected "
                     f"{json.dumps(m['expected'], ensure_ascii=False)}, {outcome}")
    lines.append("Fix the steps (instructions, expressions, decisions) so the skill gives the expected outputs. "
                 "Return the corrected, complete JSON object.")
    return ("user", "\n".join(lines))


def design_schema() -> dict[str, Any]:
    """What the teacher's reply must match: the compact plan format."""
    return plan_schema()


def ask_design(
    teacher: ModelHandle,
    messages: list[tuple[str, str]],
    task: Task,
    escalation: Escalation,
    prices: PriceTable,
    calls: list[StepRecord],
    *,
    constrained: bool = True,
    **call_kwargs: Any,
) -> tuple[str, SkillSpec | None, list[str]]:
    """One architect call: (reply, spec or None, fixes applied or problems found)."""
    schema = design_schema() if constrained else None
    call = call_model(teacher, messages, prices=prices, json_schema=schema, **call_kwargs)
    calls.append(StepRecord(step="design", primitive="design", role="teacher", model=call.model, ok=True,
                            input_tokens=call.input_tokens, output_tokens=call.output_tokens, cost_usd=call.cost_usd,
                            latency_s=call.latency_s))
    text = close_truncated_json(call.text) if call.truncated else call.text
    spec, notes = spec_from_reply(text, task, escalation)
    if call.truncated and spec is None:
        notes = [f"the reply was cut off at {call.output_tokens} tokens; give a smaller design", *notes[:3]]
    return call.text, spec, notes


def spec_from_reply(text: str, task: Task, escalation: Escalation) -> tuple[SkillSpec | None, list[str]]:
    """(spec, fixes applied) when the reply is a valid design, else (None, problems)."""
    try:
        data = parse_json_object(text)
    except MalformedOutputError as exc:
        return None, [str(exc)]
    expand_plan(data)
    fixes = normalize_design(data, set(task.inputs), set(task.output_schema.get("properties") or {}))
    try:
        design = SkillDesign.model_validate(data)
    except ValidationError as exc:
        return None, [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:10]]
    spec = SkillSpec(
        **design.model_dump(),
        name=task.name,
        task=task.description,
        input_schema=task.input_schema,
        output_schema=task.output_schema,
        escalation={"mode": escalation},
    )
    problems = spec.problems()
    if problems:
        return None, problems
    return spec, fixes
