"""Fake chat models for unit tests (never used outside tests).

`ScriptedChatModel` subclasses langchain-core's `GenericFakeChatModel`. It answers from a script,
reports `usage_metadata` and `response_metadata["model_name"]`, supports `bind_tools` and structured
output, and keeps every prompt it saw. A script entry that is an exception is raised instead.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from typing import Any

from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import RunnableLambda
from pydantic import Field, PrivateAttr

Reply = str | AIMessage | BaseException
Responder = Callable[[list[BaseMessage]], Reply]

_STEP = re.compile(r"Step `([a-z0-9_]+)`")


def step_of(messages: list[BaseMessage]) -> str:
    """The step id a skillc executor prompt is about ("task" for a whole-task prompt, "design" for the architect)."""
    text = "\n".join(m.text for m in messages)
    if "architect of a skill" in text:
        return "design"
    if "Check the answer of step" in text:
        return "verify"
    found = _STEP.search(text)
    return found.group(1) if found else "task"


class ScriptedChatModel(GenericFakeChatModel):
    """Answers from `script`: a list (in order), a dict step id → list, or a function of the messages."""

    messages: Any = Field(default_factory=lambda: iter(()))
    script: Any = None
    model_label: str = "fake-model"
    tokens_per_char: float = 0.25
    _prompts: list[list[BaseMessage]] = PrivateAttr(default_factory=list)
    _tools: list[Any] = PrivateAttr(default_factory=list)
    _cursor: dict[str, int] = PrivateAttr(default_factory=dict)

    @property
    def model_name(self) -> str:
        """Like real chat models (`ChatOpenAI.model_name`), so skillc can price it before a call."""
        return self.model_label

    @property
    def prompts(self) -> list[list[BaseMessage]]:
        return self._prompts

    def steps_called(self) -> list[str]:
        return [step_of(p) for p in self._prompts]

    def _next(self, messages: list[BaseMessage]) -> Reply:
        if callable(self.script) and not isinstance(self.script, (list, dict)):
            return self.script(messages)
        key = step_of(messages) if isinstance(self.script, dict) else "*"
        queue: Sequence[Reply] = self.script[key] if isinstance(self.script, dict) else self.script
        i = self._cursor.get(key, 0)
        self._cursor[key] = i + 1
        if i >= len(queue):
            raise AssertionError(f"script for {key!r} exhausted after {len(queue)} replies")
        return queue[i]

    def _generate(self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kwargs: Any) -> ChatResult:
        self._prompts.append(list(messages))
        reply = self._next(messages)
        if isinstance(reply, BaseException):
            raise reply
        message = reply if isinstance(reply, AIMessage) else AIMessage(content=reply)
        prompt_chars = sum(len(m.text) for m in messages)
        message.usage_metadata = {
            "input_tokens": max(1, int(prompt_chars * self.tokens_per_char)),
            "output_tokens": max(1, int(len(message.text) * self.tokens_per_char)),
            "total_tokens": 0,
        }
        message.usage_metadata["total_tokens"] = message.usage_metadata["input_tokens"] + message.usage_metadata["output_tokens"]
        message.response_metadata = {**message.response_metadata, "model_name": self.model_label}
        return ChatResult(generations=[ChatGeneration(message=message)])

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> ScriptedChatModel:
        self._tools = list(tools)
        return self

    def with_structured_output(self, schema: Any, **kwargs: Any) -> Any:
        def parse(message: AIMessage) -> Any:
            data = json.loads(message.text)
            return schema.model_validate(data) if hasattr(schema, "model_validate") else data

        return self | RunnableLambda(parse)


def json_reply(**values: Any) -> str:
    return json.dumps(values)
