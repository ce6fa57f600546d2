"""`ModelHandle`: a chat model plus what skillc needs to know about it (name, kind, structured output).

Example:
    >>> from langchain_core.language_models import FakeListChatModel
    >>> ModelHandle(model=FakeListChatModel(responses=["hi"]), name="fake").kind
    'api'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from langchain_core.language_models import BaseChatModel

Structured = Literal["json_schema", "json_object", "none"]
Kind = Literal["api", "local", "replay"]


@dataclass(frozen=True)
class ModelHandle:
    """A chat model plus what skillc needs to know about it.

    Args:
        model: the LangChain chat model.
        name: the name used for prices and traces.
        kind: `api` (priced per token), `local` (priced per hour) or `replay` (priced as the recorded model).
        structured: how the backend constrains JSON output: `json_schema`, `json_object` or `none`.
        uri: the URI it came from, if any.
        logprobs: whether to ask the backend for token logprobs when a confidence signal needs them
            (a llama.cpp server only returns them when started with `logits_all`: `local:NAME?logprobs`).
        parallel: how many requests the backend serves at once: a step's consistency samples go out that many
            at a time (1: one after another, as on the embedded llama.cpp server, which serves one at a time).
    """

    model: BaseChatModel
    name: str
    kind: Kind = "api"
    structured: Structured = "none"
    uri: str = ""
    logprobs: bool = True
    parallel: int = 1
