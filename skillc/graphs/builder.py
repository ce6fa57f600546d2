"""SkillSpec → langgraph `StateGraph` builder (the caller compiles it with their own checkpointer).

One node per step, conditional edges for decisions, `RetryPolicy` for transport errors, and an
`error_handler` per node for failure edges. Two more nodes: `skillc_finish` validates the output
schema, `skillc_escalate_task` lets the teacher do the whole task.

Example:
    >>> from skillc.core.spec import SkillSpec
    >>> spec = SkillSpec.model_validate({"name": "mul", "task": "Multiply.", "entry": "total",
    ...     "input_schema": {"type": "object", "properties": {"a": {}, "b": {}}},
    ...     "output_schema": {"type": "object", "properties": {"total": {"type": "number"}}},
    ...     "steps": [{"id": "total", "primitive": "compute", "instruction": "a times b",
    ...                "reads": ["a", "b"], "writes": ["total"], "expression": "a * b", "next": "END",
    ...                "contract": {"type": "object", "properties": {"total": {"type": "number"}}}}]})
    >>> build_graph(spec).compile().invoke({"a": 6, "b": 7})["total"]
    42
"""

from __future__ import annotations

from typing import Any

from langgraph.graph import END, START, StateGraph
from langgraph.types import RetryPolicy

from skillc.core.errors import InvalidInputError, UnsafeExpressionError
from skillc.core.files import json_digest
from skillc.core.safe_eval import safe_eval
from skillc.core.spec import SkillSpec, Step
from skillc.graphs.config import DEFAULT_PEER, Escalation, RunConfig, step_compressor
from skillc.graphs.demos import DemoBank
from skillc.graphs.failure import (
    ESCALATE_TASK,
    FINISH,
    final_error_handler,
    step_error_handler,
    task_error_handler,
    transport_retry_policy,
)
from skillc.graphs.primitives import (
    Executors,
    compute_node,
    escalate_task_node,
    finish_node,
    llm_node,
    node_name,
    passages_node,
    retry_node,
    vote_node,
)
from skillc.graphs.state import state_schemas, value_keys, values_of
from skillc.graphs.step_cache import step_cache_policy


def whole_task_step(spec: SkillSpec) -> Step | None:
    """The step of a one-step skill that reads every input and writes every output field, else None.

    Such a skill escalates as the whole task (the prompt the teacher alone gets), not as its step: the
    step's compiled instruction can do worse than the task's own prompt (issue 14's event_categories:
    70% for the teacher alone, 25% for the same teacher on the escalated step). The teacher's answer is
    still recorded as a worked example of the step.
    """
    if len(spec.steps) != 1 or spec.steps[0].primitive == "escalate":
        return None
    if not (spec.steps[0].uses_model or spec.steps[0].primitive == "vote"):
        return None
    step = spec.steps[0]
    outputs = set(spec.output_schema.get("properties", {}))
    if set(spec.input_fields) <= set(step.reads) and outputs <= set(step.writes):
        return step
    return None

def build_graph(
    spec: SkillSpec,
    config: RunConfig | None = None,
    *,
    retry_policy: RetryPolicy | None = None,
    bank: DemoBank | None = None,
    cache_salt: str | None = None,
    **models: Any,
) -> StateGraph:
    """Build the skill's `StateGraph` for a `RunConfig` (or its fields as keywords: `student=`, `teacher=`, …).

    With a `bank`, each student step is shown its nearest worked examples (`spec.retrieval`), and
    validated teacher answers to escalated steps are added to it (`spec.growth`). Every LLM step carries a
    LangGraph `CachePolicy` (see `skillc.graphs.step_cache`), used when the graph is compiled with a cache;
    `cache_salt` names the skill version in its keys (default: the spec's digest).
    """
    problems = spec.problems()
    if problems:
        raise InvalidInputError(f"skill {spec.name!r} is not a valid graph: " + "; ".join(problems))
    config = RunConfig.of(config, **models)
    salt = cache_salt or "spec:" + json_digest(spec.model_dump(mode="json", exclude_none=True))
    mode: Escalation = config.escalation or spec.escalation.mode
    whole = whole_task_step(spec)
    if mode == "step" and whole is not None:
        mode = "task"  # one step doing the whole task: escalate it as the teacher alone would answer
    ex = Executors(
        task=spec.task,
        student=config.handle("student"),
        teacher=config.handle("teacher"),
        prices=config.prices,
        escalation=mode,
        bank=bank,
        retrieval=spec.retrieval,
        confidence=spec.escalation,
        compressor=step_compressor(spec, config.compressor),
        peer=peer_model(spec, config),
        semantic=semantic_store(spec, config, bank),
        cache_salt=salt,
    )
    policy = retry_policy or transport_retry_policy()
    state, inputs, outputs = state_schemas(spec)
    builder = StateGraph(state, input_schema=inputs, output_schema=outputs)
    for step in spec.steps:
        _add_step(builder, spec, step, ex, policy, salt)
    finish_edges = {END: "give up"} if mode == "off" else {ESCALATE_TASK: "escalate task", END: "give up"}
    builder.add_node(FINISH, finish_node(spec.output_schema), error_handler=final_error_handler(mode, ex.teacher is not None),
                     destinations=finish_edges)
    builder.add_node(ESCALATE_TASK, escalate_task_node(ex, spec.input_fields, spec.output_schema, learn_as=whole),
                     retry_policy=policy, error_handler=task_error_handler)
    builder.add_edge(START, spec.entry)
    builder.add_edge(FINISH, END)
    builder.add_edge(ESCALATE_TASK, END)
    for step in spec.steps:
        if step.next is not None and step.primitive != "retry":
            builder.add_edge(step.id, node_name(step.next))
    for decision in spec.decisions:
        targets = [b.to for b in decision.branches] + [decision.default]
        path_map = {t: node_name(t) for t in dict.fromkeys(targets)}
        router = _router(decision.branches, decision.default, value_keys(spec))
        builder.add_conditional_edges(decision.after, router, path_map)
    return builder


def semantic_store(spec: SkillSpec, config: RunConfig, bank: DemoBank | None) -> Any:
    """The semantic cache for the steps that opt in: the run's, a JSONL path's, or one in memory; None if no step does."""
    if not any(s.cache is not None and s.cache.semantic is not None for s in spec.steps):
        return None
    from skillc.cache.semantic import SemanticCache

    if isinstance(config.semantic_cache, SemanticCache):
        return config.semantic_cache
    embeddings = getattr(bank, "embeddings", None)
    if embeddings is None:
        from skillc.adapters.embeddings import default_embeddings

        embeddings = default_embeddings()
    return SemanticCache(embeddings, config.semantic_cache)


def peer_model(spec: SkillSpec, config: RunConfig) -> Any:
    """The second cheap model the `peer` signal asks: the run's, else the skill's `escalation.peer`, else
    `local:tiny`; None when no step measures `peer`."""
    if "peer" not in spec.escalation.signals:
        return None
    return config.handle("peer") or RunConfig(peer=spec.escalation.peer or DEFAULT_PEER).handle("peer")


def drawable(graph: Any, *, self_loops: bool = True) -> Any:
    """The compiled graph's drawing without langgraph's internal error-handler nodes.

    `self_loops=False` also drops retry/escalate loops, which the ASCII layout cannot draw.
    """
    drawing = graph.get_graph()
    for node_id in [n for n in drawing.nodes if n.startswith("__error_handler__")]:
        drawing.remove_node(drawing.nodes[node_id])
    if not self_loops:
        drawing.edges = [e for e in drawing.edges if e.source != e.target]
    return drawing


def _add_step(builder: StateGraph, spec: SkillSpec, step: Step, ex: Executors, policy: RetryPolicy, salt: str) -> None:
    failure_targets = _failure_edges(step, ex.escalation)
    if step.primitive == "retry":
        target_bound = spec.step(step.target or "").max_visits
        ends = tuple(dict.fromkeys([step.target or "", node_name(step.next) if step.next else END]))
        builder.add_node(step.id, retry_node(step, target_bound), destinations=ends)
        return
    if step.primitive == "compute":
        action = compute_node(step, ex)
    elif step.primitive == "vote":
        action = vote_node(step, ex)
    elif step.passages is not None:
        action = passages_node(step, ex)
    else:
        action = llm_node(step, ex)
    cached = step.uses_model and step.primitive not in ("compute", "ask")
    builder.add_node(
        step.id,
        action,
        retry_policy=policy,
        error_handler=step_error_handler(step, ex.escalation, ex.teacher is not None),
        destinations=failure_targets,
        metadata={"primitive": step.primitive},
        cache_policy=step_cache_policy(step, ex, salt) if cached else None,
    )


def _failure_edges(step: Step, escalation: str) -> dict[str, str]:
    """Where a failed attempt can go, labelled for drawings (rendering only)."""
    edges: dict[str, str] = {}
    again = [a for a in step.on_fail if a in ("retry", "simplify", "ask")]
    if "escalate" in step.on_fail and escalation == "step":
        again.append("escalate")
    if again:
        edges[step.id] = " / ".join(again)
    if "escalate" in step.on_fail and escalation == "task":
        edges[ESCALATE_TASK] = "escalate task"
    edges[END] = "give up"
    return edges


def _router(branches: list[Any], default: str, keys: list[str]) -> Any:
    """First branch whose condition holds; values not yet written read as None."""

    def route(state: dict[str, Any]) -> str:
        values = {**dict.fromkeys(keys), **values_of(state)}
        for branch in branches:
            try:
                if safe_eval(branch.when, values):
                    return branch.to
            except UnsafeExpressionError:
                continue
        return default

    return route


