"""The cache a `--cache` option names: `memory`, `sqlite:PATH` or `redis://127.0.0.1:PORT[/DB]`, JSON-serialized.

Example:
    >>> type(open_cache("memory")).__name__
    'InMemoryCache'
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from skillc.cache.serde import JsonSerde
from skillc.core.errors import InvalidInputError


def open_cache(spec: str) -> Any:
    """A LangGraph `BaseCache` for `spec`, with the JSON-only serializer."""
    if spec == "memory":
        from langgraph.cache.memory import InMemoryCache

        return InMemoryCache(serde=JsonSerde())
    if spec.startswith("sqlite:"):
        from langgraph.cache.sqlite import SqliteCache

        path = Path(spec.removeprefix("sqlite:")).expanduser()
        if not path.name:
            raise InvalidInputError("--cache sqlite:PATH needs a file path")
        path.parent.mkdir(parents=True, exist_ok=True)
        return SqliteCache(path=str(path), serde=JsonSerde())
    if spec.startswith(("redis://", "rediss://")):
        try:
            import redis
        except ImportError:  # pragma: no cover - `redis` is a dependency
            raise InvalidInputError("--cache redis://… needs the `redis` package") from None
        from langgraph.cache.redis import RedisCache

        client = redis.Redis.from_url(spec)
        try:
            client.ping()
        except redis.RedisError as exc:
            raise InvalidInputError(f"cannot reach the Redis cache at {spec}: {exc}") from None
        return RedisCache(client, serde=JsonSerde(), prefix="skillc:cache:")
    raise InvalidInputError(f"unknown cache {spec!r}: use memory, sqlite:PATH or redis://HOST:PORT")
