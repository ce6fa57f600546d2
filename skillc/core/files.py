"""Atomic file writes, and the one JSON reader (depth-limited, typed errors) for every file and input.

Example:
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> atomic_write_text(d / "a.json", '{"a": 1}')
    >>> read_json((d / "a.json").read_bytes(), d / "a.json")
    {'a': 1}
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from skillc.core.errors import SkillFolderError


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write to a temp file in the same folder, fsync, then rename over `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_jsonl(path: Path, records: list[dict[str, Any]]) -> None:
    atomic_write_text(path, "".join(json.dumps(r, ensure_ascii=False, default=str) + "\n" for r in records))


MAX_JSON_DEPTH = 64  # nesting deeper than this is refused, in every file and input skillc reads


def read_json(data: str | bytes, where: str | Path, error: type[Exception] = SkillFolderError,
              *, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """Parse JSON text or UTF-8 bytes; bad encoding, bad JSON or nesting deeper than `max_depth` raise `error`
    naming `where`, never a traceback.

    >>> read_json('{"a": [1]}', "x.json")
    {'a': [1]}
    >>> read_json("[" * 100 + "]" * 100, "x.json")
    Traceback (most recent call last):
    ...
    skillc.core.errors.SkillFolderError: x.json is JSON nested deeper than 64 levels
    """
    try:
        value = json.loads(data)
    except UnicodeDecodeError as exc:
        raise error(f"{where} is not UTF-8 text (bad byte at offset {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise error(f"{where} is not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})") from None
    except RecursionError:
        raise error(f"{where} is JSON nested deeper than {max_depth} levels") from None
    if _depth_over(value, max_depth):
        raise error(f"{where} is JSON nested deeper than {max_depth} levels")
    return value


def _depth_over(value: Any, limit: int) -> bool:
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            if depth > limit:
                return True
            stack.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
    return False


def json_lines(
    lines: Iterable[str | bytes], where: str | Path, error: type[Exception] = SkillFolderError, start: int = 1
) -> Iterator[Any]:
    """The JSON value of each non-blank line; a bad line raises `error` naming `where` and its number.

    >>> list(json_lines(['{"a": 1}', "", "[2]"], "x.jsonl"))
    [{'a': 1}, [2]]
    """
    for number, line in enumerate(lines, start):
        if not line.strip():
            continue
        yield read_json(line, f"{where}: line {number}", error)


def json_digest(value: Any) -> str:
    """The sha256 (hex) of `value` as canonical JSON (sorted keys; unknown types as their str).

    >>> json_digest({"b": 1, "a": 2}) == json_digest({"a": 2, "b": 1})
    True
    """
    return hashlib.sha256(json.dumps(value, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()
