"""One accounted model call: text out, tokens, latency and cost in.

Tokens come from the reply's `usage_metadata`; when a backend reports none, they are counted with
tiktoken and marked `estimated`. Cost comes from the `PriceTable`.

Example:
    >>> from langchain_core.language_models import FakeListChatModel
    >>> from skillc.adapters.models import ModelHandle
    >>> handle = ModelHandle(model=FakeListChatModel(responses=["{}"]), name="gpt-4o")
    >>> result = call_model(handle, [("user", "hi")])
    >>> result.text, result.estimated
    ('{}', True)
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, convert_to_messages

from skillc.adapters.models import ModelHandle
from skillc.adapters.pricing import PriceTable
from skillc.adapters.tokens import count_tokens, estimate_messages_tokens
from skillc.core.errors import BackendUnavailable, RequestRefused


@dataclass
class CallResult:
    """What one model call returned and cost."""

    text: str
    model: str
    input_tokens: int
    output_tokens: int
    estimated: bool
    latency_s: float
    cost_usd: float
    logprobs: list[float] | None = None
    truncated: bool = False
    tokens: list[str] | None = None


def call_model(
    handle: ModelHandle,
    messages: list[Any],
    *,
    prices: PriceTable | None = None,
    json_schema: dict[str, Any] | None = None,
    timeout: float | None = None,
    deadline: float | None = None,
    max_tokens: int | None = None,
    **call_kwargs: Any,
) -> CallResult:
    """Invoke `handle.model` and account for the call. Transport errors propagate unchanged.

    `timeout` (seconds) bounds this request, and `max_tokens` its reply, on OpenAI-protocol backends (a
    llama.cpp server gets `max_tokens`, never more than its own cap). A 429/503 that says `Retry-After`
    is waited out here (at most `MAX_RETRY_AFTER_S`, never past `deadline`, a `time.time()` value) before
    the error propagates, so the caller's retry comes no sooner than the server asked.
    """
    prices = prices or PriceTable()
    msgs = convert_to_messages(messages)
    model: Any = handle.model
    response_format = _response_format(handle, json_schema)
    if response_format is not None:
        model = model.bind(response_format=response_format)
    if timeout is not None and hasattr(handle.model, "request_timeout"):  # ChatOpenAI: a per-request timeout
        call_kwargs = {**call_kwargs, "timeout": max(timeout, 0.001)}
    if max_tokens is not None and hasattr(handle.model, "request_timeout"):
        call_kwargs = {**call_kwargs, **_token_limit(handle, max_tokens)}
    if call_kwargs:
        model = model.bind(**call_kwargs)
    started = time.perf_counter()
    truncated = False
    try:
        reply = model.invoke(msgs)
    except (AttributeError, KeyError, TypeError, json.JSONDecodeError) as exc:  # the client could not read the reply
        raise BackendUnavailable(f"{handle.name}: the backend's reply is not a chat completion the client can read "
                                 f"({type(exc).__name__}: {str(exc)[:200]}); is the URL an OpenAI-compatible /v1 endpoint?") from exc
    except Exception as exc:  # a reply cut at the token limit is an answer, not a transport error
        if getattr(exc, "status_code", None) == 400:  # the backend refuses the request itself (e.g. too long)
            raise RequestRefused(f"{handle.name} refused the request: {str(getattr(exc, 'message', exc))[:300]}") from exc
        if type(exc).__name__ != "LengthFinishReasonError":
            _wait_retry_after(exc, deadline)
            raise
        reply = _truncated_reply(exc)
        truncated = True
    latency = time.perf_counter() - started
    text = reply.text if isinstance(reply, BaseMessage) else str(reply)
    input_tokens, output_tokens, estimated = _usage(reply, msgs, text)
    reported = (getattr(reply, "response_metadata", None) or {}).get("model_name")
    name = reported if (not handle.uri and isinstance(reported, str) and reported) else handle.name
    price_name = name if prices.is_priced(name) or not isinstance(reported, str) else reported
    cost = prices.cost(price_name, input_tokens, output_tokens, latency_s=latency, local=handle.kind == "local")
    tokens, logprobs = _logprobs(reply)
    return CallResult(
        text=text,
        model=name,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        estimated=estimated,
        latency_s=latency,
        cost_usd=cost,
        logprobs=logprobs,
        truncated=truncated,
        tokens=tokens,
    )


def _token_limit(handle: ModelHandle, max_tokens: int) -> dict[str, Any]:
    """The request field that caps the reply: llama.cpp reads `max_tokens` from the body, OpenAI the parameter."""
    extra = dict(getattr(handle.model, "extra_body", None) or {})
    if handle.kind == "local" or "max_tokens" in extra:
        extra["max_tokens"] = min(max_tokens, int(extra.get("max_tokens", max_tokens)))
        return {"extra_body": extra}
    return {"max_tokens": max_tokens}


MAX_RETRY_AFTER_S = 60.0


def retry_after_s(exc: BaseException) -> float | None:
    """The delay a 429/503 response asks for (`Retry-After` seconds or `retry-after-ms`), if any.

    >>> class R: headers = {"retry-after": "3"}
    >>> class E(Exception): response = R()
    >>> retry_after_s(E())
    3.0
    """
    headers = getattr(getattr(exc, "response", None), "headers", None)
    if not headers:
        return None
    try:
        if headers.get("retry-after-ms") is not None:
            return float(headers["retry-after-ms"]) / 1000
        if headers.get("retry-after") is not None:
            return float(headers["retry-after"])
    except (TypeError, ValueError):  # an HTTP date: not worth parsing, the retry policy's backoff applies
        return None
    return None


def _wait_retry_after(exc: BaseException, deadline: float | None) -> None:
    wait = retry_after_s(exc)
    if wait is None or wait <= 0:
        return
    wait = min(wait, MAX_RETRY_AFTER_S)
    if deadline is not None:
        wait = min(wait, max(deadline - time.time(), 0.0))
    time.sleep(wait)


def _truncated_reply(exc: Exception) -> AIMessage:
    """The partial reply inside openai's `LengthFinishReasonError`; anything else is re-raised."""
    completion = getattr(exc, "completion", None)
    if type(exc).__name__ != "LengthFinishReasonError" or completion is None:
        raise exc
    text = completion.choices[0].message.content or ""
    usage = completion.usage
    message = AIMessage(content=text, response_metadata={"finish_reason": "length"})
    if usage is not None:
        message.usage_metadata = {
            "input_tokens": usage.prompt_tokens,
            "output_tokens": usage.completion_tokens,
            "total_tokens": usage.total_tokens,
        }
    return message


def _usage(reply: Any, msgs: list[BaseMessage], text: str) -> tuple[int, int, bool]:
    usage = getattr(reply, "usage_metadata", None)
    if usage and (usage.get("input_tokens") or usage.get("output_tokens")):
        return int(usage.get("input_tokens", 0)), int(usage.get("output_tokens", 0)), False
    return estimate_messages_tokens(msgs), count_tokens(text), True


def _response_format(handle: ModelHandle, schema: dict[str, Any] | None) -> dict[str, Any] | None:
    if schema is None or handle.structured == "none":
        return None
    if handle.structured == "json_object":
        return {"type": "json_object", "schema": schema}
    return {"type": "json_schema", "json_schema": {"name": "contract", "schema": schema}}


def _logprobs(reply: Any) -> tuple[list[str] | None, list[float] | None]:
    """The reply's tokens and their logprobs, from OpenAI-style `response_metadata["logprobs"]["content"]`."""
    if not isinstance(reply, AIMessage):
        return None, None
    content = (reply.response_metadata or {}).get("logprobs") or {}
    items = content.get("content") if isinstance(content, dict) else None
    items = [i for i in items or [] if isinstance(i, dict) and isinstance(i.get("logprob"), (int, float))]
    if not items:
        return None, None
    return [str(i.get("token", "")) for i in items], [float(i["logprob"]) for i in items]
