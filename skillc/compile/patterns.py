"""Candidate designs read off the task's schemas, with no model call.

The architect's one design is a thin space to search (a 1.5B architect wrote a valid design that was right on
its samples 0 of 7 times). These patterns are the designs a skill author would try first:

- `classify`: one step choosing the lone `enum` output; the backend's grammar or JSON schema makes every
  answer a valid label.
- `extract`: one step writing every output field under the task's typed contract (`transform` when the output
  carries working, e.g. `reasoning`).
- `program`: for a lone numeric output, a `transform` step writes working and one arithmetic expression and a
  `compute` step evaluates it: the model never does the arithmetic.
- `values`: `extract` named numeric values, then one `compute` step per numeric output with an expression the
  teacher proposed and compile verified on labelled items (`skillc.compile.expressions` builds it).
- `passages`: for a long text input, a `search` step finds the passages most like the question by embedding
  (no model), then the answer step reads those instead of the whole text.
- `vote`: for a label output with a labelled bank, the majority label of the k nearest labelled items, no
  model; `vote_then` sends the items the vote is unsure of on to a `classify` step.

Example:
    >>> from skillc.core.task import Task
    >>> task = Task.model_validate({"name": "level", "description": "Label the event's level.",
    ...     "inputs": {"event": {"type": "string"}},
    ...     "output_schema": {"type": "object", "properties": {"level": {"enum": ["Info", "Error"]}}}})
    >>> [s.primitive for s in classify_design(task).steps], [s.primitive for s in vote_then_design(task, 0.8).steps]
    (['classify'], ['vote', 'classify'])
"""

from __future__ import annotations

import statistics
from typing import Any

from skillc.core.contracts import TEXT_FIELDS
from skillc.core.spec import Passages, RetrievalPolicy, SkillSpec
from skillc.core.task import Sample, Task

ANSWER, VOTE, FIND, FORMULA, VALUES = "answer", "vote", "find", "formula", "read_values"
LONG_TEXT_CHARS = 3000  # a string input whose typical length passes this is searched instead of read whole
PASSAGE = "passage"


def label_field(task: Task) -> str | None:
    """The lone output field when it is a label (an `enum`), else None."""
    props = task.output_schema.get("properties", {})
    if len(props) == 1:
        name, schema = next(iter(props.items()))
        if isinstance(schema, dict) and "enum" in schema:
            return name
    return None


def numeric_outputs(task: Task) -> list[str]:
    """The output fields that are numbers (working-like text fields aside); empty if any other field is not."""
    props = task.output_schema.get("properties", {})
    answers = {k: v for k, v in props.items() if k.lower() not in TEXT_FIELDS}
    numeric = [k for k, v in answers.items() if isinstance(v, dict) and v.get("type") in ("number", "integer")]
    return numeric if numeric and len(numeric) == len(answers) else []


def long_text_input(task: Task, items: list[Sample]) -> str | None:
    """The string input whose median length over `items` passes `LONG_TEXT_CHARS` (the longest such), else None."""
    best, best_len = None, LONG_TEXT_CHARS
    for name, schema in task.inputs.items():
        if schema.get("type") not in (None, "string"):
            continue
        lengths = [len(str(i.input.get(name) or "")) for i in items]
        typical = statistics.median(lengths) if lengths else 0
        if typical > best_len:
            best, best_len = name, typical
    return best


def _spec(task: Task, steps: list[dict[str, Any]], decisions: list[dict[str, Any]] | None = None,
          entry: str | None = None) -> SkillSpec:
    return SkillSpec.model_validate({
        "name": task.name, "task": task.description, "entry": entry or steps[0]["id"], "steps": steps,
        "decisions": decisions or [], "input_schema": task.input_schema, "output_schema": task.output_schema,
    })


def _answer_step(task: Task, reads: list[str], primitive: str, instruction: str) -> dict[str, Any]:
    props = task.output_schema.get("properties", {})
    return {"id": ANSWER, "primitive": primitive, "instruction": instruction, "reads": reads, "writes": list(props),
            "contract": task.output_schema, "on_fail": ["retry", "escalate", "give_up"], "next": "END"}


def classify_design(task: Task, reads: list[str] | None = None) -> SkillSpec:
    """One `classify` step over every input, choosing the lone enum output."""
    return _spec(task, [_answer_step(task, reads or list(task.inputs), "classify", task.description)])


def extract_design(task: Task, reads: list[str] | None = None) -> SkillSpec:
    """One step writing every output field under the task's contract: `extract`, or `transform` with working."""
    props = task.output_schema.get("properties", {})
    primitive = "transform" if any(k.lower() in TEXT_FIELDS for k in props) else "extract"
    return _spec(task, [_answer_step(task, reads or list(task.inputs), primitive, task.description)])


def answer_design(task: Task, reads: list[str] | None = None) -> SkillSpec:
    """`classify_design` for a lone label output, else `extract_design`."""
    return classify_design(task, reads) if label_field(task) else extract_design(task, reads)


def program_design(task: Task) -> SkillSpec | None:
    """`transform` (working + one expression) → `compute`, for a lone numeric output; None for other tasks."""
    numeric = numeric_outputs(task)
    if len(numeric) != 1:
        return None
    field = numeric[0]
    props = task.output_schema.get("properties", {})
    working = next((k for k in props if k.lower() in TEXT_FIELDS), "working")
    formula = {
        "id": FORMULA, "primitive": "transform", "reads": list(task.inputs), "writes": [working, "expression"],
        "instruction": (f"{task.description} Work it out step by step in `{working}`, then write `expression`: one "
                        f"arithmetic expression over plain numbers whose value is the {field}."),
        "contract": {"type": "object", "properties": {working: {"type": "string"}, "expression": {"type": "string"}},
                     "required": [working, "expression"]},
        "check": {"kind": "states", "expr": "value(expression)", "equals": working},
        "on_fail": ["retry", "escalate", "give_up"], "next": field,
    }
    evaluate = {
        "id": field, "primitive": "compute", "instruction": "Evaluate the expression.", "reads": ["expression"],
        "writes": [field], "expression_from": "expression", "contract": {"type": "object", "properties": {field: props[field]}},
        "on_fail": ["escalate", "give_up"], "next": "END",
    }
    return _spec(task, [formula, evaluate])


def values_design(task: Task, values: dict[str, str], expressions: dict[str, str]) -> SkillSpec:
    """`extract` the named numeric values, then one `compute` step per output field with its expression.

    An output field for working (`reasoning`, …) is written by the extract step, as a short note of where each
    number stands in the input, so a task whose schema asks for working still gets a valid design."""
    props = task.output_schema.get("properties", {})
    working = [k for k in props if k.lower() in TEXT_FIELDS and k not in expressions and k not in values]
    described = "; ".join(f"`{name}`: {what}" for name, what in values.items())
    instruction = f"Copy these numbers out of the input, as plain numbers: {described}."
    if working:
        instruction += f" In `{working[0]}`, say in one short sentence where each number stands in the input."
    properties: dict[str, Any] = {v: {"type": "number"} for v in values}
    properties.update({w: {"type": "string"} for w in working})
    extract = {
        "id": VALUES, "primitive": "extract", "reads": list(task.inputs), "writes": [*values, *working],
        "instruction": instruction,
        "contract": {"type": "object", "properties": properties, "required": [*values, *working]},
        "on_fail": ["retry", "escalate", "give_up"], "next": None,
    }
    steps = [extract]
    for field, expression in expressions.items():
        steps.append({"id": f"compute_{field}"[:64], "primitive": "compute", "instruction": f"{field} = {expression}",
                      "reads": list(values), "writes": [field], "expression": expression,
                      "contract": {"type": "object", "properties": {field: props.get(field, {})}},
                      "on_fail": ["escalate", "give_up"], "next": None})
    for step, following in zip(steps, [*(s["id"] for s in steps[1:]), "END"], strict=True):
        step["next"] = following
    return _spec(task, steps)


def passages_design(task: Task, source: str, *, top: int = 3, window: int = 4) -> SkillSpec:
    """`search` the long input `source` for the passages most like the other inputs (no model), then answer
    from those passages."""
    others = [k for k in task.inputs if k != source]
    find = {
        "id": FIND, "primitive": "search", "reads": [source, *others], "writes": [PASSAGE],
        "instruction": f"Find the passages of `{source}` that answer the question.",
        "passages": Passages(source=source, top=top, window=window).model_dump(),
        "contract": {"type": "object", "properties": {PASSAGE: {"type": "string"}}, "required": [PASSAGE]},
        "on_fail": ["give_up"], "next": ANSWER,
    }
    base = answer_design(task, reads=[PASSAGE, *others])
    answer = base.steps[0].model_dump(exclude_none=True)
    answer["instruction"] = f"{task.description} Answer from `{PASSAGE}`: the parts of the {source} that matter here."
    return _spec(task, [find, answer])


def vote_design(task: Task, k: int = 8) -> SkillSpec:
    """One `vote` step: the majority label of the k nearest labelled items (its share is its confidence)."""
    field = label_field(task)
    assert field is not None, "a vote design needs a lone label output"
    step = _answer_step(task, list(task.inputs), "vote", f"The label most of the {k} nearest labelled items carry.")
    step["retrieval"] = RetrievalPolicy(k=k).model_dump()
    return _spec(task, [step])


def vote_then_design(task: Task, min_share: float, k: int = 8) -> SkillSpec:
    """A `vote` step first; when fewer than `min_share` of its k neighbours agree, a `classify` step answers."""
    field = label_field(task)
    assert field is not None, "a vote design needs a lone label output"
    vote = {"id": VOTE, "primitive": "vote", "reads": list(task.inputs), "writes": [field],
            "instruction": f"The label most of the {k} nearest labelled items carry.",
            "contract": task.output_schema, "retrieval": RetrievalPolicy(k=k).model_dump(), "min_share": min_share,
            "examples_from": ANSWER, "on_fail": ["escalate", "give_up"]}
    answer = _answer_step(task, list(task.inputs), "classify", task.description)
    decision = {"after": VOTE, "branches": [{"when": f"{field} is not None", "to": "END"}], "default": ANSWER}
    return _spec(task, [vote, answer], [decision])
