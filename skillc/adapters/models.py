"""Model URIs → LangChain chat models (one string names a model anywhere).

- `replay:path/to/logs.csv#column[?fill]`: recorded outputs (`ReplayChatModel`); `?fill` reads free-text
  records into the JSON contract a request asks for.
- `openai-compatible:http://host:port/v1#model-name[?structured=json_object]`: vLLM, SGLang,
  llama.cpp, Ollama, LM Studio through `ChatOpenAI(base_url=...)`.
- `local:teacher|student|tiny`: the embedded llama.cpp server (the `skillc[local]` extra).
- anything else, e.g. `openai:gpt-4o`: `langchain.chat_models.init_chat_model`.

Example:
    >>> handle = resolve_model("openai-compatible:http://127.0.0.1:8000/v1#qwen")
    >>> handle.name, handle.structured
    ('qwen', 'json_schema')
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Literal
from urllib.parse import parse_qs

from langchain_core.language_models import BaseChatModel

from skillc.errors import ModelURIError

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
    """

    model: BaseChatModel
    name: str
    kind: Kind = "api"
    structured: Structured = "none"
    uri: str = ""
    logprobs: bool = True


def resolve_model(spec: str | BaseChatModel | ModelHandle) -> ModelHandle:
    """Turn a URI, a chat model or a handle into a `ModelHandle`."""
    if isinstance(spec, ModelHandle):
        return spec
    if isinstance(spec, BaseChatModel):
        return ModelHandle(model=spec, name=_model_name(spec), uri="")
    if not isinstance(spec, str) or ":" not in spec:
        raise ModelURIError(
            f"not a model URI: {spec!r}; expected e.g. local:student, openai:gpt-4o, "
            "openai-compatible:http://127.0.0.1:8000/v1#model or replay:logs.csv#column"
        )
    scheme, rest = spec.split(":", 1)
    if scheme == "replay":
        return _replay(spec, rest)
    if scheme == "openai-compatible":
        return _openai_compatible(spec, rest)
    if scheme == "local":
        from skillc.adapters.local import local_model

        return local_model(rest)
    return _init_chat_model(spec)


def _replay(uri: str, rest: str) -> ModelHandle:
    from skillc.adapters.replay import ReplayChatModel

    path, _, fragment = rest.partition("#")
    column, _, option = fragment.partition("?")
    if not path or not column or option not in ("", "fill"):
        raise ModelURIError(f"{uri}: expected replay:path/to/logs.csv#response_column (optionally ?fill)")
    model = ReplayChatModel(path=path, column=column, fill=option == "fill")
    model.records()
    structured = "json_schema" if model.fill else "none"  # with ?fill the JSON contract reaches the replay
    return ModelHandle(model=model, name=model.name_for_pricing, kind="replay", structured=structured, uri=uri,
                       logprobs=False)


def _openai_compatible(uri: str, rest: str) -> ModelHandle:
    from langchain_openai import ChatOpenAI

    base_url, _, fragment = rest.partition("#")
    name, _, query = fragment.partition("?")
    if not base_url.startswith(("http://", "https://")) or not name:
        raise ModelURIError(f"{uri}: expected openai-compatible:http://host:port/v1#model-name")
    structured = parse_qs(query).get("structured", ["json_schema"])[0]
    if structured not in ("json_schema", "json_object", "none"):
        raise ModelURIError(f"{uri}: structured must be json_schema, json_object or none")
    model = ChatOpenAI(
        base_url=base_url,
        model=name,
        api_key=os.environ.get("OPENAI_API_KEY", "not-needed"),  # type: ignore[arg-type]
        max_retries=0,
        timeout=600,
    )
    return ModelHandle(model=model, name=name, kind="api", structured=structured, uri=uri)  # type: ignore[arg-type]


def _init_chat_model(uri: str) -> ModelHandle:
    from langchain.chat_models import init_chat_model

    try:
        model = init_chat_model(uri, max_retries=0)
    except (ImportError, ValueError) as exc:
        raise ModelURIError(f"cannot make a chat model from {uri!r}: {exc}") from None
    except Exception as exc:  # provider SDKs raise their own errors, e.g. a missing API key
        raise ModelURIError(f"cannot make a chat model from {uri!r}: {type(exc).__name__}: {exc}") from None
    provider = uri.split(":", 1)[0]
    structured: Structured = "json_schema" if provider in ("openai", "azure_openai") else "none"
    return ModelHandle(model=model, name=uri.split(":", 1)[1], kind="api", structured=structured, uri=uri)


def _model_name(model: BaseChatModel) -> str:
    for attr in ("name_for_pricing", "model_name", "model", "model_id"):
        value = getattr(model, attr, None)
        if isinstance(value, str) and value:
            return value
    return type(model).__name__
