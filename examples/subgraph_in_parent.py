"""A compiled skill as a subgraph inside a two-node parent graph, offline on the local models.

Run from the repository (after `make install-local`):

    python examples/subgraph_in_parent.py [SKILL_FOLDER]

SKILL_FOLDER defaults to `skillc-demo/invoice-total` (what `make demo` writes). If it does not exist yet,
the bundled invoice task is compiled there first with `local:teacher` (about 1.5 minutes on 2 cores).

The parent is `invoice` (the skill, on `local:student`) → `approve` (plain Python). It runs on the
parent's `InMemorySaver` checkpointer, and `stream_mode="updates", subgraphs=True` shows each of the
skill's steps as it finishes.
"""

from __future__ import annotations

import operator
import sys
from pathlib import Path
from typing import Annotated, Any, TypedDict

from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import END, START, StateGraph

from skillc.demo import bundled_task, demo_skill


class Parent(TypedDict, total=False):
    text: str  # the skill's input
    vendor: str  # the skill's outputs …
    quantity: float
    unit_price: float
    discount_percent: float
    total: float
    decision: str  # … and the parent's own key
    skillc_trace: Annotated[list, operator.add]  # provenance and cost of every step
    skillc_error: Any  # a typed error when the skill gives up


def approve(state: Parent) -> dict[str, str]:
    """The parent's own node: approve small invoices, send big ones to a human."""
    if state.get("skillc_error"):
        return {"decision": f"manual review: the skill gave up ({state['skillc_error']['kind']})"}
    return {"decision": "approved" if state["total"] < 500 else "needs a second signature"}


def main() -> None:
    folder = Path(sys.argv[1] if len(sys.argv) > 1 else "skillc-demo/invoice-total")
    skill = demo_skill(folder)

    builder = StateGraph(Parent)
    builder.add_node("invoice", skill.as_subgraph(student="local:student", teacher="local:teacher"))
    builder.add_node("approve", approve)
    builder.add_edge(START, "invoice")
    builder.add_edge("invoice", "approve")
    builder.add_edge("approve", END)
    graph = builder.compile(checkpointer=InMemorySaver())

    _, invoices = bundled_task()
    for n, invoice in enumerate(invoices[:2], 1):
        config = {"configurable": {"thread_id": f"invoice-{n}"}}
        print(f"\n{invoice.input['text']}")
        for namespace, update in graph.stream(invoice.input, config, stream_mode="updates", subgraphs=True):
            where = "  skill step" if namespace else "parent node"
            for node, values in update.items():
                shown = {k: v for k, v in (values or {}).items() if not k.startswith("skillc_")}
                print(f"  {where:<12} {node:<26} {shown}")
        state = graph.get_state(config).values  # kept by the parent's checkpointer
        tokens = sum(r.get("input_tokens", 0) + r.get("output_tokens", 0) for r in state["skillc_trace"])
        print(f"  → total {state.get('total')} · {state['decision']} · {len(state['skillc_trace'])} trace records, {tokens} tokens")


if __name__ == "__main__":
    main()
