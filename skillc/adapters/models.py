"""Model URIs → LangChain chat models (one string names a model anywhere).

- `replay:path/to/logs.csv#column[?fill]`: recorded outputs (`ReplayChatModel`); `?fill` reads free-text
  records into the JSON contract a request asks for.
- `openai-compatible:http://host:port/v1#model-name[?structured=json_object][&parallel=N]`: vLLM, SGLang,
  llama.cpp, Ollama, LM Studio through `ChatOpenAI(base_url=...)`; `parallel`: requests it serves at once.
- `local:teacher|student|tiny`: the embedded llama.cpp server (the `skillc[local]` extra), a plug-in that
  registers its scheme through the `skillc.models` entry point, as any third-party backend can.
- anything else, e.g. `openai:gpt-4o`: `langchain.chat_models.init_chat_model`.

Example:
    >>> handle = resolve_model("openai-compatible:http://127.0.0.1:8000/v1#qwen")
    >>> handle.name, handle.structured, handle.parallel
    ('qwen', 'json_schema', 1)
    >>> resolve_model("openai-compatible:http://127.0.0.1:8080/v1#q?structured=json_object&parallel=4").parallel
    4
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from importlib.metadata import entry_points
from urllib.parse import parse_qs

from langchain_core.language_models import BaseChatModel

from skillc.adapters.handle import ModelHandle, Structured
from skillc.core.errors import ModelURIError

log = logging.getLogger(__name__)

SchemeFactory = Callable[[str, str], ModelHandle]
"""Makes a handle from (the whole URI, the part after `scheme:`)."""

_SCHEMES: dict[str, SchemeFactory] = {}
_PLUGINS_LOADED = False
# consistency samples in flight at once: an API serves many (4 keeps clear of most rate limits); an
# OpenAI-compatible server says how many it batches with `?parallel=N` (llama.cpp's `llama-server --parallel N`)
API_PARALLEL, COMPATIBLE_PARALLEL, MAX_PARALLEL = 4, 1, 16
PLUGIN_GROUP = "skillc.models"  # entry points: `name = "pkg.module:register_models"`


def register_scheme(scheme: str, factory: SchemeFactory) -> None:
    """Make `scheme:...` URIs resolve through `factory` (plug-ins call this from `register_models`).

    >>> {"replay", "openai-compatible"} <= set(schemes())
    True
    """
    _SCHEMES[scheme] = factory


def schemes() -> list[str]:
    """Every URI scheme known, the plug-ins' included (anything else goes to `init_chat_model`)."""
    _load_plugins()
    return sorted(_SCHEMES)


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
    if scheme not in _SCHEMES:
        _load_plugins()
    factory = _SCHEMES.get(scheme)
    return factory(spec, rest) if factory else _init_chat_model(spec)


def _load_plugins() -> None:
    """Let every installed `skillc.models` plug-in register its schemes (once per process)."""
    global _PLUGINS_LOADED
    if _PLUGINS_LOADED:
        return
    _PLUGINS_LOADED = True
    for entry in entry_points(group=PLUGIN_GROUP):
        try:
            entry.load()(register_scheme)
        except ImportError as exc:  # a plug-in whose extra is not installed: its scheme stays unknown
            log.warning("model plug-in %s could not load: %s", entry.name, exc)


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
    parallel = parse_qs(query).get("parallel", [str(COMPATIBLE_PARALLEL)])[0]
    if not parallel.isdigit() or not 1 <= int(parallel) <= MAX_PARALLEL:
        raise ModelURIError(f"{uri}: parallel must be a whole number from 1 to {MAX_PARALLEL}")
    model = ChatOpenAI(
        base_url=base_url,
        model=name,
        api_key=os.environ.get("OPENAI_API_KEY", "not-needed"),  # type: ignore[arg-type]
        max_retries=0,
        timeout=600,
    )
    return ModelHandle(model=model, name=name, kind="api", structured=structured, uri=uri,  # type: ignore[arg-type]
                       parallel=int(parallel))


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
    return ModelHandle(model=model, name=uri.split(":", 1)[1], kind="api", structured=structured, uri=uri,
                       parallel=API_PARALLEL)


def _model_name(model: BaseChatModel) -> str:
    for attr in ("name_for_pricing", "model_name", "model", "model_id"):
        value = getattr(model, attr, None)
        if isinstance(value, str) and value:
            return value
    return type(model).__name__


register_scheme("replay", _replay)
register_scheme("openai-compatible", _openai_compatible)
