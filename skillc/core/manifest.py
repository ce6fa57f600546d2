"""sha256 manifests of skill folders, written so that a writer killed at any instant leaves a loadable folder.

`manifest.json` lists every file's sha256. Three kinds of file get special rules:
- append-only (`examples.jsonl`): the manifest signs its first `bytes`; a reader uses only that prefix, and
  bytes past it (a writer killed between its append and its re-signing) are ignored, then cut by the next
  writer. A file shorter than its signed length is refused.
- derived (`index.faiss`, `index.json`): rebuilt from the bank when missing or not matching the manifest;
  a stale one is never loaded, and never makes the folder refuse to load.
- local state (the lock, the quarantine of unreviewed escalations, where a pulled skill came from and its
  signature, `.*.tmp` files of interrupted atomic writes): never hashed, never shipped; stale temp files
  are removed under the folder lock.

Example:
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> (d / "a.txt").write_text("hi")
    2
    >>> write_manifest(d)["files"]["a.txt"][:12]
    '8f434346648f'
    >>> verify_manifest(d)
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from pathlib import Path
from typing import Any

from skillc.core.errors import SkillFolderError
from skillc.core.files import atomic_write_text, read_json

MANIFEST = "manifest.json"
APPEND_ONLY = frozenset({"examples.jsonl"})  # signed by length: a tail past it is unsigned and ignored
REBUILDABLE = frozenset({"index.faiss", "index.json"})  # derived from examples.jsonl; rebuilt when missing or stale
LOCAL_STATE = frozenset({".examples.lock", "quarantine.jsonl", "origin.json", "manifest.sig"})  # never hashed, never shipped
TEMP_FILE = re.compile(r"^\..+\.tmp$")  # what `atomic_write_bytes` writes before its rename
STALE_TEMP_S = 60.0


def canonical_manifest(manifest: dict[str, Any]) -> bytes:
    """The bytes a published version's digest and signature cover: the manifest as sorted, compact JSON."""
    return json.dumps(manifest, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def manifest_digest(manifest: dict[str, Any]) -> str:
    """`sha256:<hex>` of the canonical manifest: the name of a published version."""
    return "sha256:" + hashlib.sha256(canonical_manifest(manifest)).hexdigest()


def is_local_state(name: str) -> bool:
    """Files a skill folder may hold that the manifest does not sign: locks, the quarantine, temp files."""
    return name in LOCAL_STATE or bool(TEMP_FILE.match(name))


def sha256_file(path: Path, length: int | None = None) -> str:
    """sha256 of the file, or of its first `length` bytes."""
    digest = hashlib.sha256()
    remaining = length
    with open(path, "rb") as fh:
        while remaining is None or remaining > 0:
            chunk = fh.read(1 << 20 if remaining is None else min(remaining, 1 << 20))
            if not chunk:
                break
            digest.update(chunk)
            if remaining is not None:
                remaining -= len(chunk)
    return digest.hexdigest()


def write_manifest(folder: Path) -> dict[str, Any]:
    """Hash every regular file in `folder` (not the manifest, not local state) into manifest.json, atomically."""
    files, lengths = {}, {}
    for p in sorted(folder.iterdir()):
        if not p.is_file() or p.is_symlink() or p.name == MANIFEST or is_local_state(p.name):
            continue
        if p.name in APPEND_ONLY:
            lengths[p.name] = p.stat().st_size
            files[p.name] = sha256_file(p, lengths[p.name])
        else:
            files[p.name] = sha256_file(p)
    manifest = {"skillc_format": 1, "algorithm": "sha256", "files": files, "append_only": lengths}
    atomic_write_text(folder / MANIFEST, json.dumps(manifest, indent=2) + "\n")
    return manifest


def read_manifest(folder: Path) -> dict[str, Any] | None:
    """The folder's manifest (validated in shape), or None when it has none."""
    path = folder / MANIFEST
    if not path.is_file():
        return None
    manifest = read_json(path.read_bytes(), path)
    listed = manifest.get("files") if isinstance(manifest, dict) else None
    if not isinstance(listed, dict) or not all(isinstance(v, str) for v in listed.values()):
        raise SkillFolderError(f"{path}: not a valid manifest (expected {{\"files\": {{name: sha256}}}})")
    lengths = manifest.get("append_only", {})
    if not isinstance(lengths, dict) or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0
                                                for v in lengths.values()):
        raise SkillFolderError(f"{path}: not a valid manifest (append_only must map names to byte counts)")
    return manifest


def signed_length(folder: Path, name: str) -> int | None:
    """How many leading bytes of an append-only file the manifest signs (None: no manifest, or not listed)."""
    try:
        manifest = read_manifest(folder)
    except SkillFolderError:
        return None
    if manifest is None or name not in manifest["files"]:
        return None
    return int(manifest.get("append_only", {}).get(name, (folder / name).stat().st_size if (folder / name).exists() else 0))


def signed_hashes(folder: Path) -> dict[str, str]:
    """The sha256 the manifest lists per file (empty when there is no valid manifest)."""
    try:
        manifest = read_manifest(folder)
    except SkillFolderError:
        return {}
    return {} if manifest is None else dict(manifest["files"])


def verify_manifest(folder: Path) -> None:
    """Raise `SkillFolderError` naming the file when anything differs from manifest.json."""
    path = folder / MANIFEST
    manifest = read_manifest(folder)
    if manifest is None:
        raise SkillFolderError(f"{folder}: no manifest.json; this is not a skill folder, or it is incomplete")
    listed, lengths = manifest["files"], manifest.get("append_only", {})
    for entry in folder.iterdir():
        if is_local_state(entry.name) and entry.is_file() and not entry.is_symlink():
            continue
        if entry.is_symlink() or not entry.is_file():
            raise SkillFolderError(f"{entry}: a skill folder holds only regular files")
        if entry.name != MANIFEST and entry.name not in listed:
            raise SkillFolderError(f"{entry}: not listed in manifest.json (was it added after signing?)")
    for name, expected in listed.items():
        if not isinstance(name, str) or "/" in name or "\\" in name or name.startswith("."):
            raise SkillFolderError(f"{path}: bad file name {name!r} in manifest")
        file = folder / name
        if name in REBUILDABLE:
            continue  # derived: checked against the manifest where it is loaded, rebuilt when it does not match
        if not file.is_file():
            raise SkillFolderError(f"{file}: listed in manifest.json but missing")
        length = lengths.get(name)
        if length is not None and file.stat().st_size < length:
            raise SkillFolderError(f"{file}: shorter than the {length} bytes manifest.json signs; it was truncated")
        actual = sha256_file(file, length)
        if actual != expected:
            raise SkillFolderError(
                f"{file}: sha256 {actual[:12]}… does not match the manifest ({expected[:12]}…); "
                "the folder was modified after it was written"
            )


def remove_stale_temp_files(folder: Path, older_than_s: float = STALE_TEMP_S) -> list[str]:
    """Delete temp files that interrupted atomic writes left behind (call under the folder lock)."""
    removed = []
    now = time.time()
    for entry in folder.iterdir():
        if TEMP_FILE.match(entry.name) and entry.is_file() and not entry.is_symlink():
            try:
                if now - entry.stat().st_mtime >= older_than_s:
                    entry.unlink()
                    removed.append(entry.name)
            except FileNotFoundError:  # another writer's rename got there first
                continue
    return removed
