"""Skill archives: a deterministic tar.gz of a verified folder, and extraction that trusts nothing in it.

`pack` archives exactly what the manifest signs (the signed prefix of the bank, no local state, no stale
index). `unpack` checks, in this order: the archive's sha256 against the one the registry lists → every
member (a flat regular file: no `..`, no absolute path, no link, no device, no folder, no `*.pkl`; size
and count capped, so a tar or gzip bomb stops early) → every file re-hashed against the manifest, unlisted
files refused → the manifest's digest against the version's → the signature → only then a rename into place.

Example:
    >>> import tempfile, pathlib
    >>> from skillc.core.manifest import write_manifest
    >>> src = pathlib.Path(tempfile.mkdtemp()) / "demo"; src.mkdir()
    >>> _ = (src / "skill.json").write_text("{}"); _ = write_manifest(src)
    >>> data = pack(src)
    >>> out = unpack(data, pathlib.Path(tempfile.mkdtemp()) / "demo", archive_sha256=sha256_hex(data))
    >>> sorted(p.name for p in out.iterdir())
    ['manifest.json', 'skill.json']
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import shutil
import tarfile
import tempfile
from pathlib import Path
from typing import Any

from skillc.core.errors import SkillFolderError
from skillc.core.files import read_json
from skillc.core.manifest import (
    APPEND_ONLY,
    MANIFEST,
    REBUILDABLE,
    canonical_manifest,
    is_local_state,
    manifest_digest,
    read_manifest,
    sha256_file,
    verify_manifest,
)

MAX_FILES = 64
MAX_FILE_BYTES = 256 * 2**20
MAX_TOTAL_BYTES = 512 * 2**20
FORBIDDEN_SUFFIXES = (".pkl", ".pickle", ".joblib")


class ArchiveError(SkillFolderError):
    """An archive that must not be unpacked: wrong digest, unsafe member, too big, or not matching its manifest."""


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def folder_digest(folder: Path) -> str:
    manifest = read_manifest(folder)
    if manifest is None:
        raise SkillFolderError(f"{folder}: no manifest.json")
    return manifest_digest(manifest)


def pack(folder: Path) -> bytes:
    """The folder's signed content as a deterministic tar.gz (the folder is verified first)."""
    folder = Path(folder)
    verify_manifest(folder)
    manifest = read_manifest(folder)
    assert manifest is not None
    lengths = manifest.get("append_only", {})
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0) as gz, tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name in sorted([*manifest["files"], MANIFEST]):
            path = folder / name
            if name in REBUILDABLE and (not path.exists() or sha256_file(path) != manifest["files"][name]):
                continue  # stale or missing derived file: the puller rebuilds it
            data = path.read_bytes()
            if name in APPEND_ONLY:
                data = data[: lengths.get(name, len(data))]
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime, info.uid, info.gid = len(data), 0o644, 0, 0, 0
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def unpack(data: bytes, dest: Path, *, archive_sha256: str, digest: str | None = None,
           check_signature: Any = None) -> Path:
    """Verify and extract an archive into `dest` (replacing it atomically). `check_signature(manifest_bytes)`
    is called with the canonical manifest once everything else has passed; it raises to refuse."""
    dest = Path(dest)
    actual = sha256_hex(data)
    if actual != archive_sha256.removeprefix("sha256:"):
        raise ArchiveError(f"archive sha256 {actual[:12]}… is not the {archive_sha256.removeprefix('sha256:')[:12]}… "
                           "the registry lists; it was changed or cut short on the way")
    members = _read_members(data)
    dest.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".pull", dir=dest.parent))
    try:
        for name, content in members.items():
            (staging / name).write_bytes(content)
        if MANIFEST not in members:
            raise ArchiveError("the archive has no manifest.json")
        try:
            verify_manifest(staging)
        except SkillFolderError as exc:
            raise ArchiveError(f"the archive does not match its manifest: {str(exc).replace(str(staging), dest.name)}") from None
        manifest = read_json(members[MANIFEST], f"{dest.name}/{MANIFEST}", ArchiveError)
        if digest is not None and manifest_digest(manifest) != digest:
            raise ArchiveError(f"the manifest's digest {manifest_digest(manifest)} is not the version's {digest}")
        if check_signature is not None:
            check_signature(canonical_manifest(manifest))
        _replace(staging, dest)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return dest


def _read_members(data: bytes) -> dict[str, bytes]:
    members: dict[str, bytes] = {}
    total = 0
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
            for info in tar:
                _check_member(info)
                if len(members) >= MAX_FILES:
                    raise ArchiveError(f"more than {MAX_FILES} files in the archive")
                total += info.size
                if info.size > MAX_FILE_BYTES or total > MAX_TOTAL_BYTES:
                    raise ArchiveError(f"{info.name}: the archive unpacks to more than the {MAX_TOTAL_BYTES >> 20} MB allowed")
                handle = tar.extractfile(info)
                content = handle.read(info.size + 1) if handle else b""
                if len(content) != info.size:
                    raise ArchiveError(f"{info.name}: the member is cut short")
                if info.name in members:
                    raise ArchiveError(f"{info.name}: appears twice in the archive")
                members[info.name] = content
    except (tarfile.TarError, EOFError, OSError, gzip.BadGzipFile, zlib_error()) as exc:
        raise ArchiveError(f"not a readable skill archive: {exc}") from None
    return members


def _check_member(info: tarfile.TarInfo) -> None:
    name = info.name
    if not info.isreg():
        kind = "link" if (info.issym() or info.islnk()) else "folder" if info.isdir() else "device or special file"
        raise ArchiveError(f"{name}: a {kind} in the archive; a skill holds only regular files")
    if name.startswith("/") or "\\" in name or "/" in name or name in ("", ".", "..") or ".." in name.split("/"):
        raise ArchiveError(f"{name!r}: a path outside the skill folder, or in a subfolder; refused")
    if name.startswith(".") or (is_local_state(name) and name != MANIFEST):
        raise ArchiveError(f"{name}: local state or a hidden file is not part of a skill")
    if name.lower().endswith(FORBIDDEN_SUFFIXES):
        raise ArchiveError(f"{name}: pickled data is never loaded; refused")


def zlib_error() -> type[Exception]:
    import zlib

    return zlib.error


def _replace(staging: Path, dest: Path) -> None:
    """Move the verified folder into place: the old one (if any) is renamed aside first, then removed."""
    old = None
    if dest.exists():
        old = dest.with_name(f".{dest.name}.old-{os.getpid()}")
        os.replace(dest, old)
    os.replace(staging, dest)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
