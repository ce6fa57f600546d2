"""Several endpoints of one student model (vLLM or llama.cpp replicas) as one chat model that spreads calls and
fails over.

Each call goes to the live replica with the fewest calls in flight. A replica whose call fails in transport (refused
or reset connection, timeout, 5xx) is marked down for `cooldown_s` and the same call is sent to another one, so a
replica killed mid-batch loses no input and runs none twice: only the call that was in flight is sent again. When
every replica has failed this call, its last error propagates, and the step's failure ladder takes over as for any
dead backend. A replica whose cooldown ran out gets calls again.

It is a LangChain `BaseChatModel`, so `bind(...)`, structured output and langchain-core's `rate_limiter` work on it
as on the replicas themselves.

Example:
    >>> pool = replica_pool(["openai-compatible:http://127.0.0.1:8001/v1#qwen",
    ...                      "openai-compatible:http://127.0.0.1:8002/v1#qwen"])
    >>> pool.name, pool.parallel, pool.uri.count("|")
    ('qwen', 2, 1)
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Sequence
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage
from langchain_core.outputs import ChatResult
from pydantic import ConfigDict, PrivateAttr

from skillc.adapters.handle import ModelHandle
from skillc.core.errors import ModelURIError

COOLDOWN_S = 30.0


def is_replica_failure(exc: BaseException) -> bool:
    """A failure of the endpoint rather than of the request: another replica may well serve the same call."""
    import httpx

    try:
        import openai

        if isinstance(exc, (openai.APIConnectionError, openai.APITimeoutError, openai.InternalServerError)):
            return True
    except ImportError:  # pragma: no cover - langchain-openai brings it
        pass
    status = getattr(exc, "status_code", None)
    return isinstance(exc, (httpx.TransportError, ConnectionError, TimeoutError)) or (isinstance(status, int) and status >= 500)


class ReplicaPool(BaseChatModel):
    """Chat models that serve one model, used as one (see the module docstring)."""

    replicas: list[BaseChatModel]
    labels: list[str]
    cooldown_s: float = COOLDOWN_S
    request_timeout: float | None = None  # present, so per-request timeouts reach the replicas (ChatOpenAI's kwarg)
    extra_body: dict[str, Any] | None = None
    model_config = ConfigDict(arbitrary_types_allowed=True)

    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)
    _in_flight: list[int] = PrivateAttr(default_factory=list)
    _down_until: list[float] = PrivateAttr(default_factory=list)
    _served: list[int] = PrivateAttr(default_factory=list)
    _failovers: int = PrivateAttr(default=0)

    def model_post_init(self, context: Any) -> None:
        super().model_post_init(context)
        n = len(self.replicas)
        self._in_flight, self._down_until, self._served = [0] * n, [0.0] * n, [0] * n

    @property
    def _llm_type(self) -> str:
        return "skillc-replica-pool"

    def stats(self) -> dict[str, Any]:
        """Calls served per replica, failovers so far, and which replicas are down now."""
        now = time.monotonic()
        with self._lock:
            return {"served": dict(zip(self.labels, self._served, strict=True)), "failovers": self._failovers,
                    "down": [label for label, until in zip(self.labels, self._down_until, strict=True) if until > now]}

    def _pick(self, tried: set[int]) -> int | None:
        now = time.monotonic()
        with self._lock:
            left = [i for i in range(len(self.replicas)) if i not in tried]
            if not left:
                return None
            live = [i for i in left if self._down_until[i] <= now]
            # all left are down: try the one that comes back soonest rather than fail a call another could serve
            choice = min(live, key=lambda i: (self._in_flight[i], self._served[i])) if live else min(left, key=lambda i: self._down_until[i])
            self._in_flight[choice] += 1
            return choice

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> ChatResult:
        tried: set[int] = set()
        last: BaseException | None = None
        while (i := self._pick(tried)) is not None:
            tried.add(i)
            try:
                result = self.replicas[i]._generate(messages, stop=stop, run_manager=run_manager, **kwargs)
            except Exception as exc:
                if not is_replica_failure(exc):
                    raise
                last = exc
                with self._lock:
                    self._down_until[i] = time.monotonic() + self.cooldown_s
                    self._failovers += 1
                then = "the call goes to another replica" if len(tried) < len(self.replicas) else "no replica is left for this call"
                print(f"student replica {self.labels[i]} failed ({type(exc).__name__}); marked down for "
                      f"{self.cooldown_s:g} s, {then}", file=sys.stderr, flush=True)
                continue
            finally:
                with self._lock:
                    self._in_flight[i] -= 1
            with self._lock:
                self._served[i] += 1
            return result
        assert last is not None
        raise last


def replica_pool(uris: Sequence[str], *, cooldown_s: float = COOLDOWN_S) -> ModelHandle:
    """One handle over several URIs of the same model (`--student URI --student URI2`)."""
    from skillc.adapters.models import resolve_model

    if len(uris) < 2:
        raise ModelURIError("a replica pool needs two or more student URIs")
    handles = [resolve_model(uri) for uri in uris]
    names = {h.name for h in handles}
    if len(names) > 1:
        raise ModelURIError(f"replicas must serve one model, but these name {sorted(names)}: give one model's endpoints")
    first = handles[0]
    pool = ReplicaPool(replicas=[h.model for h in handles], labels=list(uris), cooldown_s=cooldown_s,
                       request_timeout=getattr(first.model, "request_timeout", None),
                       extra_body=getattr(first.model, "extra_body", None))
    return ModelHandle(model=pool, name=first.name, kind=first.kind, structured=first.structured, uri="|".join(uris),
                       logprobs=first.logprobs, parallel=sum(h.parallel for h in handles))


def student_model(uris: Sequence[str], rps: float | None = None) -> str | ModelHandle | None:
    """The student of `skillc run`: `--student` once (its URI), repeated (a replica pool over them), or not at all;
    with `rps`, at most that many calls per second (langchain-core's `InMemoryRateLimiter` on the model)."""
    if not uris:
        return None
    if len(uris) == 1 and rps is None:
        return uris[0]
    from dataclasses import replace

    from langchain_core.rate_limiters import InMemoryRateLimiter

    from skillc.adapters.models import resolve_model
    from skillc.core.errors import InvalidInputError

    handle = replica_pool(uris) if len(uris) > 1 else resolve_model(uris[0])
    if rps is not None:
        if rps <= 0:
            raise InvalidInputError(f"--rps must be above 0, not {rps}")
        limiter = InMemoryRateLimiter(requests_per_second=rps, check_every_n_seconds=min(0.1, 1 / rps), max_bucket_size=1)
        handle = replace(handle, model=handle.model.model_copy(update={"rate_limiter": limiter}))
    return handle


__all__ = ["ReplicaPool", "is_replica_failure", "replica_pool", "student_model"]
