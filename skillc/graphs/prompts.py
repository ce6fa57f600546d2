"""The fixed prompt shapes: the student as executor, the teacher as escalation and as one-shot baseline.

Every LLM primitive has one shape: do this step only, add no steps, answer in the contract.

Example:
    >>> from skillc.core.spec import Step
    >>> step = Step(id="kind", primitive="classify", instruction="Is it an invoice?",
    ...             reads=["text"], writes=["label"], next="END",
    ...             contract={"type": "object", "properties": {"label": {"enum": ["invoice", "other"]}}})
    >>> messages = step_messages("Sort documents.", step, {"text": "Invoice #1"})
    >>> "Choose exactly one label" in messages[0][1], messages[1][1].splitlines()
    (True, ['Step `kind`. Inputs:', '{"text": "Invoice #1"}'])
"""

from __future__ import annotations

import json
from typing import Any

from skillc.core.spec import Step

EXECUTOR_SYSTEM = (
    "You are an executor. You carry out exactly one step of a fixed plan. "
    "Do this step only: add no steps, do not re-plan, do not solve other parts of the task. "
    "Answer with a single JSON object that matches the contract, and nothing else."
)

PRIMITIVE_LINES: dict[str, str] = {
    "extract": "Copy the requested values out of the inputs. Do not infer values that are not there; use null when a value is missing.",
    "classify": "Choose exactly one label from the allowed set.",
    "transform": "Transform the inputs as instructed.",
    "verify": "Check the inputs as instructed and say whether they pass, with a short reason.",
    "compare": "Compare the inputs as instructed and report the result.",
    "search": "Answer only from the provided context; quote the passage that supports the answer.",
    "simplify": "Rewrite the input more simply, keeping every fact the instruction needs.",
    "ask": "Write one short question to the user that asks for the missing information.",
    "escalate": "Do this step carefully; a smaller model could not.",
    "compute": "Compute the value as instructed.",
    "vote": "Choose exactly one label from the allowed set.",
}

VERIFY_CONTRACT: dict[str, Any] = {
    "type": "object",
    "properties": {"ok": {"type": "boolean"}, "reason": {"type": "string"}},
    "required": ["ok", "reason"],
}


def _dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def simplified_contract(contract: dict[str, Any]) -> dict[str, Any]:
    """The contract with only its required properties: the lowered bar of a `simplify` failure edge."""
    required = contract.get("required") or list(contract.get("properties", {}))
    props = {k: v for k, v in contract.get("properties", {}).items() if k in required}
    return {**contract, "properties": props, "required": list(props)}


def step_messages(
    task: str,
    step: Step,
    inputs: dict[str, Any],
    *,
    contract: dict[str, Any] | None = None,
    feedback: dict[str, Any] | None = None,
) -> list[tuple[str, str]]:
    """Messages for one LLM step: the stable part first, then the inputs, then any feedback from a failed attempt.

    The system message holds everything that is the same for every input of the step (role, task, step,
    instruction, labels, contract), so a server that caches prompt prefixes (llama.cpp) evaluates it once;
    demos go between it and the inputs (`skillc.graphs.demos`).
    """
    return ([("system", step_preamble(task, step, contract=contract)), ("user", inputs_message(step, inputs))]
            + feedback_messages(feedback))


def step_preamble(task: str, step: Step, *, contract: dict[str, Any] | None = None) -> str:
    """The part of a step's prompt that does not depend on the input: the prefix a prompt cache reuses."""
    contract = contract or step.contract
    lines = [
        f"Task: {task}",
        f"Step `{step.id}` ({step.primitive}). Do this step only.",
        PRIMITIVE_LINES.get(step.primitive, ""),
        f"Instruction: {step.instruction}",
    ]
    if step.primitive in ("classify", "vote"):
        lines.append(f"Allowed labels: {_dump(contract_labels(contract))}")
    if step.prompt:
        lines.append(f"Guidance: {step.prompt}")
    lines += ["Answer with one JSON object that matches this contract:", _dump(contract)]
    return EXECUTOR_SYSTEM + "\n\n" + "\n".join(x for x in lines if x)


def inputs_message(step: Step, inputs: dict[str, Any]) -> str:
    """The user turn that carries one input."""
    return f"Step `{step.id}`. Inputs:\n" + _dump(inputs)


def contract_labels(contract: dict[str, Any]) -> list[Any]:
    """Every label the contract's `enum` properties allow, in order."""
    return [v for p in contract.get("properties", {}).values() if isinstance(p, dict) for v in p.get("enum", [])]


def feedback_messages(feedback: dict[str, Any] | None) -> list[tuple[str, str]]:
    """The previous attempt and why it failed, shown on a retry or to the teacher on escalation."""
    if not feedback:
        return []
    out: list[tuple[str, str]] = []
    if feedback.get("attempt"):
        out.append(("assistant", str(feedback["attempt"])))
    note = f"That answer was rejected: {feedback.get('error', 'it failed its check')}."
    if feedback.get("by") == "student":
        note = f"A smaller model answered this step as above and was rejected: {feedback.get('error')}."
    if feedback.get("human"):
        note += f"\nThe user added this information: {feedback['human']}"
    out.append(("user", note + "\nDo the step again and answer with one JSON object that matches the contract."))
    return out


def verify_messages(task: str, step: Step, inputs: dict[str, Any], output: dict[str, Any]) -> list[tuple[str, str]]:
    """Messages for a `verify` check of a step's output."""
    user = "\n".join(
        [
            f"Task: {task}",
            f"Check the answer of step `{step.id}`. Instruction of that step: {step.instruction}",
            f"Inputs: {_dump(inputs)}",
            f"Answer: {_dump(output)}",
            "Is the answer correct and complete for the instruction? Answer with one JSON object: "
            + _dump(VERIFY_CONTRACT),
        ]
    )
    return [("system", EXECUTOR_SYSTEM), ("user", user)]


EXPERT_SYSTEM = "You are an expert. Solve the task completely and correctly."


def task_messages(task: str, inputs: dict[str, Any], output_schema: dict[str, Any],
                  demos: list[dict[str, Any]] | None = None) -> list[tuple[str, str]]:
    """The whole task in one prompt: whole-task escalation, and the teacher-only (or raw-student) baseline.

    `demos` (records with `input` and `output`) are shown as solved examples between the stable part (the
    task and its schema) and the input: the *teacher + demos* baseline, and escalation of a skill whose
    student saw the same demos.
    """
    system = "\n".join([EXPERT_SYSTEM, "", f"Task: {task}",
                        "Think it through, then answer with one JSON object that matches this schema:",
                        _dump(output_schema)])
    shown: list[tuple[str, str]] = []
    for demo in demos or []:
        shown += [("user", "Solved example. Input:\n" + _dump(demo.get("input", {}))), ("assistant", _dump(demo.get("output", {})))]
    return [("system", system), *shown, ("user", "Input:\n" + _dump(inputs))]
