"""The compact design format the teacher writes: typed `writes` instead of hand-written contracts.

A teacher writes `"writes": {"total": "number"}` (and `labels` for a classify step); skillc derives
each step's JSON Schema contract from it. That is two to three times fewer output tokens than
writing contracts, and a whole class of mistakes (a contract that misses a written value) cannot
happen. Designs with full contracts (the SkillDesign format) are accepted as they are.

Example:
    >>> step = {"id": "kind", "primitive": "classify", "instruction": "Invoice or not?",
    ...         "reads": ["text"], "writes": {"kind": "string"}, "labels": ["invoice", "other"]}
    >>> expand_plan({"steps": [step]})
    ['kind.contract from writes']
    >>> step["contract"]["properties"], step["writes"]
    ({'kind': {'enum': ['invoice', 'other']}}, ['kind'])
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from skillc.core.spec import MAX_STEPS, Decision, FailAction, Primitive

FieldType = Literal["string", "number", "integer", "boolean"]


class PlanStep(BaseModel):
    """One step as the teacher writes it."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")
    primitive: Primitive
    instruction: str
    reads: list[str] = Field(default_factory=list)
    writes: dict[str, FieldType] = Field(default_factory=dict, description="each value this step produces, with its type")
    labels: list[str] | None = Field(None, description="classify: the allowed labels")
    expression: str | None = Field(None, description="compute: one arithmetic expression over value names")
    check: str | None = Field(None, description="a condition over values that must hold after this step")
    on_fail: list[FailAction] = Field(default_factory=lambda: ["retry", "escalate", "give_up"])
    next: str | None = Field(None, description="the next step id, or END")


class Plan(BaseModel):
    """The teacher's design: steps, decisions and failure modes."""

    model_config = ConfigDict(extra="forbid")

    entry: str
    steps: list[PlanStep] = Field(min_length=1, max_length=MAX_STEPS)
    decisions: list[Decision] = Field(default_factory=list)


def plan_schema() -> dict[str, Any]:
    """JSON Schema of the compact format (what constrained decoding enforces on the teacher)."""
    return Plan.model_json_schema()


def expand_plan(data: dict[str, Any]) -> list[str]:
    """Turn compact steps into full steps in place (contracts from typed writes); list what changed."""
    changed = []
    for step in data.get("steps") or []:
        if not isinstance(step, dict):
            continue
        writes = step.get("writes")
        if isinstance(writes, list) and "contract" not in step and all(isinstance(w, str) for w in writes):
            step["writes"] = writes = {w: "any" for w in writes}  # untyped: any JSON value passes
        if not isinstance(writes, dict):
            continue
        typed: dict[str, Any] = step.pop("writes")
        labels = step.pop("labels", None)
        properties: dict[str, Any] = {}
        for name, kind in typed.items():
            properties[name] = {"type": kind} if kind in ("string", "number", "integer", "boolean") else {}
        if step.get("primitive") == "classify" and labels and properties:
            properties[next(iter(properties))] = {"enum": list(labels)}
        if step.get("primitive") == "ask":
            step["contract"] = {"type": "object", "properties": {"question": {"type": "string"}}, "required": ["question"]}
        elif "contract" not in step:
            step["contract"] = {"type": "object", "properties": properties, "required": list(properties)}
        step["writes"] = list(typed)
        if isinstance(step.get("check"), str):
            step["check"] = {"kind": "expr", "expr": step["check"]}
        changed.append(f"{step.get('id')}.contract from writes")
    return changed
