"""A JSON-only serializer for LangGraph caches: a cache entry is data, never code or pickle.

LangGraph's default cache serializer decodes msgpack extension types by importing the class they name. A
shared cache (Redis) is input like any other, so skillc's caches use this one: plain JSON, which holds
everything a skill step writes.

Example:
    >>> serde = JsonSerde()
    >>> serde.loads_typed(serde.dumps_typed([["total", 13.5]]))
    [['total', 13.5]]
"""

from __future__ import annotations

import json
from typing import Any

from collections import deque

from skillc.core.errors import InvalidInputError

ENCODING = "skillc-json"


def _plain(value: Any) -> Any:
    if isinstance(value, (deque, set, frozenset)):
        return list(value)
    raise TypeError(f"a step cache entry holds only JSON data, not {type(value).__name__}")


class JsonSerde:
    """LangGraph's `SerializerProtocol` (`dumps_typed` / `loads_typed`) over plain JSON."""

    def dumps_typed(self, obj: Any) -> tuple[str, bytes]:
        return ENCODING, json.dumps(obj, ensure_ascii=False, separators=(",", ":"), default=_plain).encode("utf-8")

    def loads_typed(self, data: tuple[str, bytes]) -> Any:
        encoding, payload = data
        if encoding != ENCODING:
            raise InvalidInputError(f"cache entry encoded as {encoding!r}, not {ENCODING!r}: refused (only JSON loads)")
        return json.loads(payload)
