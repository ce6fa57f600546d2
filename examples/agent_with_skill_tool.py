"""A compiled skill added as a tool to an existing `create_agent` agent, offline on the local models.

Run from the repository (after `make install-local`):

    python examples/agent_with_skill_tool.py [SKILL_FOLDER]

SKILL_FOLDER defaults to `skillc-demo/invoice-total` (what `make demo` writes). If it does not exist yet,
the bundled invoice task is compiled there first with `local:teacher` (about 1.5 minutes on 2 cores).

The skill's steps run on the real `local:student`. The agent's own model is a deterministic stand-in
(`StandInAgentModel` below): the embedded 0.5B/1.5B models do not emit reliable tool calls, so the
stand-in always calls the skill's tool and then reports its answer. In your app, pass a real
tool-calling model instead, e.g. `create_agent("openai:gpt-4o", tools=[tool])`.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from langchain.agents import create_agent
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, ToolMessage
from langchain_core.outputs import ChatGeneration, ChatResult

from skillc.demo import bundled_task, demo_skill


class StandInAgentModel(BaseChatModel):
    """NOT an LLM: calls `tool_name` on the user's message, then answers with the tool's result."""

    tool_name: str

    @property
    def _llm_type(self) -> str:
        return "stand-in-agent-model"

    def bind_tools(self, tools: Any, **kwargs: Any) -> StandInAgentModel:
        return self

    def _generate(self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kwargs: Any) -> ChatResult:
        last = messages[-1]
        if isinstance(last, ToolMessage):
            reply = AIMessage(content=f"The invoice skill answered: {last.content}")
        else:
            reply = AIMessage(content="", tool_calls=[{"name": self.tool_name, "args": {"text": last.text}, "id": "call_1"}])
        return ChatResult(generations=[ChatGeneration(message=reply)])


def main() -> None:
    folder = Path(sys.argv[1] if len(sys.argv) > 1 else "skillc-demo/invoice-total")
    skill = demo_skill(folder)
    tool = skill.as_tool(student="local:student", teacher="local:teacher", name="invoice_total")
    agent = create_agent(StandInAgentModel(tool_name=tool.name), tools=[tool],
                         system_prompt="Use invoice_total for anything about an invoice.")

    _, invoices = bundled_task()
    final = agent.invoke({"messages": [("user", invoices[0].input["text"])]})
    for message in final["messages"]:
        print(f"[{message.type}] {message.text or message.tool_calls}")
    run = next(m for m in final["messages"] if isinstance(m, ToolMessage)).artifact  # the whole RunResult
    print("\nthe skill's trace (the tool message's artifact):")
    for step in run["trace"]:
        print(f"  {step['step']:<26} {step['role']:<8} {step['model'] or '-':<14} {step['input_tokens']}/{step['output_tokens']} tokens")
    print(f"expected: {invoices[0].expected}")


if __name__ == "__main__":
    main()
