"""Pull the JSON object out of a model's reply, however it was wrapped.

Example:
    >>> parse_json_object('Sure! ```json\\n{"a": 1}\\n```')
    {'a': 1}
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from itertools import chain
from typing import Any

from skillc.core.errors import MalformedOutputError

_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL | re.IGNORECASE)


def parse_json_object(text: str, *, prefer: str = "first") -> dict[str, Any]:
    """Return the JSON object in `text` (the first, or with `prefer="last"` the last, e.g. after
    reasoning), or raise `MalformedOutputError` saying why."""
    if not isinstance(text, str) or not text.strip():
        raise MalformedOutputError("the reply was empty")
    fenced = [m.strip() for m in _FENCE.findall(text)]
    objects = _balanced_objects(text)
    if prefer == "last":
        fenced, objects = fenced[::-1], objects[::-1]
    whole = [text.strip(), *fenced]
    # lazily: the comment-stripping passes run only when every plain candidate failed
    candidates = chain(whole, _uncommented(whole), objects, _uncommented(objects))
    for candidate in candidates:
        try:
            value = json.loads(candidate)
        except json.JSONDecodeError:
            continue
        if isinstance(value, dict):
            return value
    snippet = text.strip().replace("\n", " ")[:120]
    raise MalformedOutputError(f"the reply holds no JSON object: {snippet!r}")


def _uncommented(texts: list[str]) -> Iterator[str]:
    return (c for c in map(_without_comments, texts) if c is not None)


def _without_comments(text: str) -> str | None:
    """`text` with `// ...` line comments outside strings removed (small models annotate JSON), or None if it has none."""
    cuts: list[tuple[int, int]] = []
    skip_to = -1
    for i, ch in _structural(text, 0):
        if i < skip_to:
            continue
        if ch == "/" and text.startswith("//", i):
            end = text.find("\n", i)
            end = len(text) if end < 0 else end
            cuts.append((i, end))
            skip_to = end
    if not cuts:
        return None
    out, last = [], 0
    for a, b in cuts:
        out.append(text[last:a])
        last = b
    return "".join(out) + text[last:]


def _structural(text: str, start: int) -> Iterator[tuple[int, str]]:
    """(index, char) of every character at or after `start` that is outside a JSON string."""
    in_string = escaped = False
    for i in range(start, len(text)):
        ch = text[i]
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
            continue
        if ch == '"':
            in_string = True
            continue
        yield i, ch


def close_truncated_json(text: str) -> str:
    """Cut a JSON text that stopped mid-way back to its last complete element and close it.

    Example:
        >>> close_truncated_json('{"steps": [{"id": "a"}, {"id": "b", "na')
        '{"steps": [{"id": "a"}]}'
    """
    start = text.find("{")
    if start == -1:
        return text
    stack: list[str] = []
    cut, cut_stack = -1, []  # position just after the last complete element, and the stack there
    for i, ch in _structural(text, start):
        if ch in "{[":
            stack.append("}" if ch == "{" else "]")
        elif ch in "}]" and stack:
            stack.pop()
            if not stack:
                return text[start : i + 1]
            cut, cut_stack = i + 1, list(stack)
    if cut == -1:
        return text
    body = text[start:cut].rstrip().rstrip(",")
    return body + "".join(reversed(cut_stack))


def _balanced_objects(text: str) -> list[str]:
    """Substrings that start at a `{` and end at its matching `}` (string-aware)."""
    found: list[str] = []
    start = text.find("{")
    while start != -1 and len(found) < 20:
        depth = 0
        for i, ch in _structural(text, start):
            if ch == "{":
                depth += 1
            elif ch == "}":
                depth -= 1
                if depth == 0:
                    found.append(text[start : i + 1])
                    break
        start = text.find("{", start + 1)
    return found
