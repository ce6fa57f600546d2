"""A skill dropped into existing LangGraph apps: subgraph, mapped node, agent tool, interrupt, streaming."""

from __future__ import annotations

import json
import operator
from typing import Annotated, Any, TypedDict

from langchain.agents import create_agent
from langchain_core.messages import AIMessage, ToolMessage
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import END, START, StateGraph
from langgraph.types import Command

from skillc.skills.skill import Skill
from tests.conftest import INVOICE_TEXT
from tests.fakes import ScriptedChatModel, json_reply
from tests.graphs.test_failure_edges import ask_spec

GOOD = {"kind": [json_reply(kind="invoice")], "fields": [json_reply(quantity=3, unit_price=4.5, stated_total=13.5)]}


class Parent(TypedDict, total=False):
    text: str
    kind: str
    total: float
    summary: str
    skillc_trace: Annotated[list, operator.add]
    skillc_error: Any


def test_subgraph_in_a_parent_with_its_checkpointer(invoice_spec):
    skill = Skill(invoice_spec)
    builder = StateGraph(Parent)
    builder.add_node("prepare", lambda s: {"text": s["text"].strip()})
    builder.add_node("invoice", skill.as_subgraph(ScriptedChatModel(script=GOOD)))
    builder.add_node("report", lambda s: {"summary": f"{s['kind']}: {s['total']}"})
    builder.add_edge(START, "prepare")
    builder.add_edge("prepare", "invoice")
    builder.add_edge("invoice", "report")
    builder.add_edge("report", END)
    graph = builder.compile(checkpointer=InMemorySaver())
    config = {"configurable": {"thread_id": "p1"}}
    final = graph.invoke({"text": f"  {INVOICE_TEXT}  "}, config)
    assert final["summary"] == "invoice: 13.5"
    assert [r["step"] for r in final["skillc_trace"]] == ["kind", "fields", "total"]
    assert graph.get_state(config).values["total"] == 13.5


class Renamed(TypedDict, total=False):
    document: str
    amount: float
    skillc_trace: Annotated[list, operator.add]
    skillc_error: Any


def test_node_with_mapped_keys(invoice_spec):
    node = Skill(invoice_spec).as_node(ScriptedChatModel(script=GOOD), input_map={"text": "document"},
                                       output_map={"total": "amount"})
    builder = StateGraph(Renamed)
    builder.add_node("invoice", node)
    builder.add_edge(START, "invoice")
    builder.add_edge("invoice", END)
    final = builder.compile().invoke({"document": INVOICE_TEXT})
    assert final["amount"] == 13.5 and final["skillc_error"] is None
    assert sum(r.get("input_tokens", 0) for r in final["skillc_trace"]) > 0


def test_tool_called_by_an_agent(invoice_spec):
    tool = Skill(invoice_spec).as_tool(ScriptedChatModel(script=GOOD), name="invoice_total")
    assert set(tool.args) == {"text"} and "invoices" in tool.description
    call = AIMessage(content="", tool_calls=[{"name": "invoice_total", "args": {"text": INVOICE_TEXT}, "id": "c1"}])
    agent_model = ScriptedChatModel(script=[call, AIMessage(content="The total is 13.5.")])
    agent = create_agent(agent_model, tools=[tool])
    final = agent.invoke({"messages": [("user", "What is the total of this invoice? " + INVOICE_TEXT)]})
    tool_message = next(m for m in final["messages"] if isinstance(m, ToolMessage))
    assert json.loads(tool_message.content) == {"kind": "invoice", "total": 13.5}
    assert [r["step"] for r in tool_message.artifact["trace"]] == ["kind", "fields", "total"]
    assert final["messages"][-1].content == "The total is 13.5."


class AskParent(TypedDict, total=False):
    order: str
    date: str
    skillc_trace: Annotated[list, operator.add]
    skillc_error: Any


def test_ask_interrupts_the_parent_and_resumes():
    student = ScriptedChatModel(script=[json_reply(question="When did it ship?")] * 2)
    builder = StateGraph(AskParent)
    builder.add_node("ship", Skill(ask_spec()).as_subgraph(student))
    builder.add_edge(START, "ship")
    builder.add_edge("ship", END)
    graph = builder.compile(checkpointer=InMemorySaver())
    config = {"configurable": {"thread_id": "ask"}}
    first = graph.invoke({"order": "#12"}, config)
    assert first["__interrupt__"][0].value["question"] == "When did it ship?"
    final = graph.invoke(Command(resume="2026-11-20"), config)
    assert final["date"] == "2026-11-20"


def test_streaming_shows_step_progress(invoice_spec):
    builder = StateGraph(Parent)
    builder.add_node("invoice", Skill(invoice_spec).as_subgraph(ScriptedChatModel(script=GOOD)))
    builder.add_edge(START, "invoice")
    builder.add_edge("invoice", END)
    seen = [list(update) for _, update in builder.compile().stream(
        {"text": INVOICE_TEXT}, stream_mode="updates", subgraphs=True)]
    steps = [name for names in seen for name in names]
    assert steps[:3] == ["kind", "fields", "total"] and "invoice" in steps
