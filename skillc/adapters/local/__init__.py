"""`local:` models: the embedded teacher, student and tiny model on a managed llama.cpp server.

All traffic goes through `langchain_openai.ChatOpenAI(base_url=...)`, the same path as any other
OpenAI-compatible backend.

Example:
    >>> sorted(MODELS)
    ['student', 'teacher', 'tiny']
"""

from __future__ import annotations

from collections.abc import Callable

from skillc.adapters.handle import ModelHandle
from skillc.adapters.local.server import LocalServer, shared_server, stop_all
from skillc.adapters.local.weights import MODELS, LocalModel, ensure_weights
from skillc.core.errors import ModelURIError

MAX_TOKENS = {"teacher": 2048, "student": 768, "tiny": 512}

__all__ = ["MODELS", "LocalModel", "LocalServer", "ensure_weights", "local_model", "register_models", "stop_all"]


def local_model(name: str) -> ModelHandle:
    """A `ModelHandle` for `local:<alias>`, starting (or reusing) its server.

    `local:<alias>?logprobs` runs the model on its own server that returns token logprobs (for the
    `logprobs` confidence signal); plain `local:<alias>` does not, and is asked for none.
    """
    from langchain_openai import ChatOpenAI

    alias, _, query = name.partition("?")
    if query not in ("", "logprobs"):
        raise ModelURIError(f"local:{name}: the only option is ?logprobs (e.g. local:student?logprobs)")
    model = MODELS.get(alias)
    if model is None:
        raise ModelURIError(f"unknown local model {alias!r}; choose one of: {', '.join('local:' + m for m in MODELS)}")
    logprobs = query == "logprobs"
    server = shared_server(model, logprobs=logprobs)
    chat = ChatOpenAI(
        base_url=server.base_url,
        api_key="local",  # type: ignore[arg-type]
        model=alias,
        temperature=0,
        extra_body={"max_tokens": MAX_TOKENS[alias]},  # llama.cpp reads max_tokens, not max_completion_tokens
        max_retries=0,
        timeout=900,
        stream_usage=True,
    )
    return ModelHandle(model=chat, name=f"local:{alias}", kind="local", structured="json_object", uri=f"local:{name}",
                       logprobs=logprobs)


def register_models(register: Callable[[str, Callable[[str, str], ModelHandle]], None]) -> None:
    """The `skillc.models` plug-in hook: makes `local:NAME` URIs resolve here."""
    register("local", lambda uri, rest: local_model(rest))
