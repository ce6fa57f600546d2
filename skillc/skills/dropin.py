"""Drop a skill into an existing LangGraph app: as a subgraph, as a node with mapped keys, or as a tool.

Example:
    >>> from skillc.core.spec import SkillSpec
    >>> from skillc.skills.skill import Skill
    >>> spec = SkillSpec.model_validate({"name": "mul", "task": "Multiply two numbers.", "entry": "total",
    ...     "input_schema": {"type": "object", "properties": {"a": {"type": "number"}, "b": {"type": "number"}}},
    ...     "output_schema": {"type": "object", "properties": {"total": {"type": "number"}}},
    ...     "steps": [{"id": "total", "primitive": "compute", "instruction": "a times b", "reads": ["a", "b"],
    ...                "writes": ["total"], "expression": "a * b", "next": "END",
    ...                "contract": {"type": "object", "properties": {"total": {"type": "number"}}}}]})
    >>> as_tool(Skill(spec)).invoke({"a": 6, "b": 7})
    '{"total": 42}'
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from langchain_core.tools import StructuredTool
from pydantic import create_model

from skillc.core.trace import summarize, trace_records
from skillc.graphs.config import RunConfig
from skillc.graphs.state import ERROR, TRACE
from skillc.graphs.step_cache import run_marking_cached

if TYPE_CHECKING:
    from skillc.skills.skill import Skill

_JSON_TYPES: dict[str, type] = {"string": str, "number": float, "integer": int, "boolean": bool, "array": list, "object": dict}


def as_subgraph(skill: Skill, config: RunConfig | None = None) -> Any:
    """The skill compiled as a subgraph: add it with `parent.add_node("name", subgraph)`.

    Its input and output schemas are declared, so a parent whose state shares the skill's input and
    output keys passes them straight through; `skillc_trace` and `skillc_error` carry provenance and cost.
    The parent's checkpointer is used (the subgraph is compiled without one of its own). A parent's cache is
    not: LangGraph hands a subgraph its parent's checkpointer but not its cache (langgraph 1.2), so the step
    cache is the config's `cache` (give the parent's own cache object to share it).
    """
    cache = config.step_cache() if config is not None else None
    return skill.graph(config=config).compile(name=skill.name, cache=cache)


def as_node(
    skill: Skill,
    config: RunConfig | None = None,
    *,
    input_map: dict[str, str] | None = None,
    output_map: dict[str, str] | None = None,
) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """A node function for a parent whose state names things differently.

    `input_map` maps skill input → parent key, `output_map` maps skill output → parent key (unmapped
    names are used as they are). The node also writes `skillc_trace` and `skillc_error` (with a step cache in
    `config`, the steps it served are marked `cached` there).
    """
    graph = as_subgraph(skill, config)
    inputs = {name: (input_map or {}).get(name, name) for name in skill.spec.input_fields}
    outputs = {name: (output_map or {}).get(name, name) for name in skill.spec.output_fields}

    cached = config is not None and config.cache is not None

    def node(state: dict[str, Any]) -> dict[str, Any]:
        given = {name: state.get(key) for name, key in inputs.items()}
        result = run_marking_cached(graph, given, {}) if cached else graph.invoke(given)
        update = {key: result.get(name) for name, key in outputs.items()}
        return {**update, TRACE: result.get(TRACE) or [], ERROR: result.get(ERROR)}

    node.__name__ = skill.name.replace("-", "_")
    return node


def as_tool(skill: Skill, config: RunConfig | None = None, *, name: str | None = None) -> StructuredTool:
    """A LangChain `StructuredTool` for `create_agent` or a `ToolNode`.

    Its args schema comes from the skill's input schema and its description from SKILL.md's. The tool
    message holds the output as JSON (or the typed error); its artifact holds the whole `RunResult`
    (trace, tokens, cost, teacher baseline).
    """
    graph = as_subgraph(skill, config)
    fields = {
        key: (_JSON_TYPES.get(str(prop.get("type")), Any) if isinstance(prop, dict) else Any, ...)
        for key, prop in skill.spec.input_schema.get("properties", {}).items()
    }
    args_schema = create_model(f"{skill.name.replace('-', '_')}_args", **fields)  # type: ignore[call-overload]

    def run(**kwargs: Any) -> tuple[str, dict[str, Any]]:
        final = graph.invoke(kwargs)
        output = {k: final.get(k) for k in skill.spec.output_fields}
        result = summarize(trace_records(final.get(TRACE) or []), output=output, error=final.get(ERROR), baseline_usd=0.0)
        content = json.dumps(result.output if result.ok else {"error": result.error.model_dump()}, ensure_ascii=False)
        return content, result.model_dump()

    return StructuredTool.from_function(
        func=run,
        name=name or skill.name.replace("-", "_"),
        description=skill.spec.task,
        args_schema=args_schema,
        response_format="content_and_artifact",
    )
