"""The step cache on the caller's LangGraph cache: a `CachePolicy` per LLM step, and cached hits marked in the trace.

The key is `skillc.cache.step_cache_key` over the skill's digest, the step, the model and sampling settings
(and the step's ladder position: a retry with feedback is another question), the values the step reads and the
demos retrieval picks for them. A hit replays the step's writes without a model call; `run_marking_cached`
streams the run and marks the replayed trace records `cached`, with zero tokens, cost and latency.

Example:
    >>> model_settings(None)
    {}
"""

from __future__ import annotations

from typing import Any

from langgraph.types import CachePolicy

from skillc.cache import step_cache_key
from skillc.core.spec import Step
from skillc.graphs.demos import demo_records, teacher_policy
from skillc.graphs.state import ATTEMPTS, FEEDBACK, MODE, TRACE, VISITS, values_of

CACHED_FIELDS = {"input_tokens": 0, "output_tokens": 0, "cost_usd": 0.0, "latency_s": 0.0, "cached": True}


def model_settings(handle: Any) -> dict[str, Any]:
    """What of a model handle changes its answers: name, URI and the sampling settings its chat model holds."""
    if handle is None:
        return {}
    model = getattr(handle, "model", None)
    sampling = {k: getattr(model, k) for k in ("temperature", "top_p", "seed", "max_tokens", "model_kwargs")
                if getattr(model, k, None) not in (None, {})}
    return {"name": handle.name, "uri": handle.uri, **{k: v if isinstance(v, (int, float, str)) else repr(v)
                                                       for k, v in sampling.items()}}


def step_cache_policy(step: Step, ex: Any, salt: str, ttl: int | None = None) -> CachePolicy:
    """The `CachePolicy` of an LLM step node of `ex` (the graph's `Executors`) in the skill named by `salt`."""

    def key(state: dict[str, Any]) -> str:
        values = values_of(state)
        inputs = {k: values.get(k) for k in step.reads}
        mode = (state.get(MODE) or {}).get(step.id, "student")
        teacher = mode == "teacher" or step.primitive == "escalate"
        handle = ex.teacher if teacher else ex.student
        policy = ex.retrieval_of(step)
        demos = demo_records(ex.bank, step.bank_step, inputs, teacher_policy(policy) if teacher else policy)
        model = {"role": "teacher" if teacher else "student", **model_settings(handle),
                 "peer": model_settings(ex.peer), "mode": mode,
                 "feedback": (state.get(FEEDBACK) or {}).get(step.id),
                 "ladder": (state.get(ATTEMPTS) or {}).get(step.id, 0), "visits": (state.get(VISITS) or {}).get(step.id, 0)}
        return step_cache_key(salt, step.id, model, inputs, demos)

    return CachePolicy(key_func=key, ttl=ttl)


def run_marking_cached(graph: Any, inputs: dict[str, Any], config: dict[str, Any]) -> dict[str, Any]:
    """`graph.invoke(inputs, config)`, streamed so that the trace records of cache hits come back marked `cached`
    (tokens, cost and latency zero: no call was made). Interrupts come back under `__interrupt__` as with invoke."""
    final: dict[str, Any] = {}
    replayed: list[dict[str, Any]] = []
    interrupts: Any = None
    for mode, chunk in graph.stream(inputs, config, stream_mode=["updates", "values"]):
        if mode == "values":
            final = dict(chunk)
            continue
        if not isinstance(chunk, dict):
            continue
        if "__interrupt__" in chunk:
            interrupts = chunk["__interrupt__"]
        if (chunk.get("__metadata__") or {}).get("cached"):
            for node, update in chunk.items():
                if node != "__metadata__" and isinstance(update, dict):
                    replayed += update.get(TRACE) or []
    if replayed:
        final[TRACE] = mark_cached(final.get(TRACE) or [], replayed)
    if interrupts:
        final["__interrupt__"] = interrupts
    return final


def mark_cached(trace: list[dict[str, Any]], replayed: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`trace` with each record equal to a replayed one (once per replay) marked as a cache hit.

    >>> mark_cached([{"step": "a", "input_tokens": 9}, {"step": "b"}], [{"step": "a", "input_tokens": 9}])[0]["cached"]
    True
    """
    left = list(replayed)
    out = []
    for record in trace:
        if record in left:
            left.remove(record)
            record = {**record, **CACHED_FIELDS, "saved": {k: record.get(k) for k in CACHED_FIELDS if k != "cached"}}
        out.append(record)
    return out
