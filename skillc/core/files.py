"""Atomic file writes and sha256 manifests for skill folders.

Example:
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> atomic_write_text(d / "a.txt", "hi")
    >>> write_manifest(d)["files"]["a.txt"][:12]
    '8f434346648f'
    >>> verify_manifest(d)
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

MANIFEST = "manifest.json"
REBUILDABLE = frozenset({"index.faiss", "index.json"})  # derived from examples.jsonl; rebuilt when missing
LOCAL_STATE = frozenset({".examples.lock"})  # lock files: never hashed, never shipped


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


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def write_manifest(folder: Path) -> dict[str, Any]:
    """Hash every regular file in `folder` (not the manifest itself) into manifest.json."""
    files = {
        p.name: sha256_file(p)
        for p in sorted(folder.iterdir())
        if p.is_file() and p.name != MANIFEST and p.name not in LOCAL_STATE
    }
    manifest = {"skillc_format": 1, "algorithm": "sha256", "files": files}
    atomic_write_text(folder / MANIFEST, json.dumps(manifest, indent=2) + "\n")
    return manifest


def verify_manifest(folder: Path) -> None:
    """Raise `SkillFolderError` naming the file when anything differs from manifest.json."""
    path = folder / MANIFEST
    if not path.is_file():
        raise SkillFolderError(f"{folder}: no manifest.json; this is not a skill folder, or it is incomplete")
    manifest = read_json(path.read_bytes(), path)
    listed = manifest.get("files") if isinstance(manifest, dict) else None
    if not isinstance(listed, dict) or not all(isinstance(v, str) for v in listed.values()):
        raise SkillFolderError(f"{path}: not a valid manifest (expected {{\"files\": {{name: sha256}}}})")
    for entry in folder.iterdir():
        if entry.name in LOCAL_STATE and entry.is_file() and not entry.is_symlink():
            continue
        if entry.is_symlink() or not entry.is_file():
            raise SkillFolderError(f"{entry}: a skill folder holds only regular files")
        if entry.name != MANIFEST and entry.name not in listed:
            raise SkillFolderError(f"{entry}: not listed in manifest.json (was it added after signing?)")
    for name, expected in listed.items():
        if "/" in name or "\\" in name or name.startswith("."):
            raise SkillFolderError(f"{path}: bad file name {name!r} in manifest")
        file = folder / name
        if name in REBUILDABLE and not file.exists():
            continue
        if not file.is_file():
            raise SkillFolderError(f"{file}: listed in manifest.json but missing")
        actual = sha256_file(file)
        if actual != expected:
            raise SkillFolderError(
                f"{file}: sha256 {actual[:12]}… does not match the manifest ({expected[:12]}…); "
                "the folder was modified after it was written"
            )
