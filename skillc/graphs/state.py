"""The state schema of a skill graph, built from its spec.

Every input field, every value a step writes and every output field is a top-level key, so a parent
graph that shares those keys can add the skill as a subgraph. Bookkeeping keys start with `skillc_`.

Example:
    >>> from skillc.core.spec import SkillSpec
    >>> spec = SkillSpec.model_validate({"name": "s", "task": "t", "entry": "a",
    ...     "input_schema": {"type": "object", "properties": {"x": {}}},
    ...     "output_schema": {"type": "object", "properties": {"y": {}}},
    ...     "steps": [{"id": "a", "primitive": "compute", "instruction": "i", "writes": ["y"],
    ...                "expression": "x", "contract": {"type": "object", "properties": {"y": {}}}, "next": "END"}]})
    >>> state, inp, out = state_schemas(spec)
    >>> sorted(inp.__annotations__), "skillc_trace" in out.__annotations__
    (['x'], True)
"""

from __future__ import annotations

import operator
from typing import Annotated, Any, TypedDict

from skillc.core.spec import SkillSpec

TRACE = "skillc_trace"
ERROR = "skillc_error"
ATTEMPTS = "skillc_ladder"
MODE = "skillc_mode"
FEEDBACK = "skillc_feedback"
VISITS = "skillc_visits"


def merge(left: dict[str, Any] | None, right: dict[str, Any] | None) -> dict[str, Any]:
    """Reducer: later keys win."""
    return {**(left or {}), **(right or {})}


def value_keys(spec: SkillSpec) -> list[str]:
    """Input fields, step writes and output fields, in that order, without repeats."""
    keys = [*spec.input_fields, *(w for s in spec.steps for w in s.writes), *spec.output_fields]
    return list(dict.fromkeys(keys))


def state_schemas(spec: SkillSpec) -> tuple[type, type, type]:
    """(state, input, output) TypedDicts for `StateGraph(state, input_schema=..., output_schema=...)`."""
    prefix = "".join(part.title() for part in spec.name.split("-"))
    bookkeeping: dict[str, Any] = {
        TRACE: Annotated[list, operator.add],
        ERROR: dict | None,
        ATTEMPTS: Annotated[dict, merge],
        MODE: Annotated[dict, merge],
        FEEDBACK: Annotated[dict, merge],
        VISITS: Annotated[dict, merge],
    }
    state = TypedDict(f"{prefix}State", {**{k: Any for k in value_keys(spec)}, **bookkeeping}, total=False)  # type: ignore[misc]
    inputs = TypedDict(f"{prefix}Input", {k: Any for k in spec.input_fields}, total=False)  # type: ignore[misc]
    outputs = TypedDict(  # type: ignore[misc]
        f"{prefix}Output",
        {**{k: Any for k in spec.output_fields}, TRACE: Annotated[list, operator.add], ERROR: dict | None},
        total=False,
    )
    return state, inputs, outputs


def values_of(state: dict[str, Any]) -> dict[str, Any]:
    """The task values in a state, without bookkeeping."""
    return {k: v for k, v in state.items() if not k.startswith("skillc_")}
