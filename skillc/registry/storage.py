"""Where a registry's files live: a local directory or an S3-compatible bucket, behind one small interface.

Every write a registry needs is one of three kinds:
- `put`: an unconditional write (a version's files, written only by the publisher that claimed the version);
- `create`: create-only (S3's `If-None-Match: *`): of two writers of one key, exactly one succeeds;
- `replace`: compare-and-swap on the key's ETag (S3's `If-Match`), for `versions.json` and the index.
On a directory the same holds between processes on one machine (a hard link for create-only, a lock for the
swap); in a bucket it holds between any number of server processes behind a load balancer, because the bucket
enforces it (checked against SeaweedFS's S3 gateway in tests/registry/test_bucket.py).

`s3://BUCKET/PREFIX` is opened with obstore; credentials and the endpoint come from the usual AWS variables
(`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_REGION`, `AWS_ENDPOINT_URL` for a non-AWS gateway; plain HTTP is
allowed only to a loopback endpoint unless `AWS_ALLOW_HTTP=true`).

Example:
    >>> import tempfile
    >>> store = open_storage(tempfile.mkdtemp())
    >>> store.create("a/x.json", b"1"), store.create("a/x.json", b"2"), store.get("a/x.json")[0]
    (True, False, b'1')
    >>> data, etag = store.get("a/x.json"); store.replace("a/x.json", b"3", etag), store.replace("a/x.json", b"4", etag)
    (True, False)
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import Any, Protocol

from filelock import FileLock

from skillc.core.errors import SkillcError

LOOPBACK_HOSTS = ("http://127.0.0.1", "http://localhost", "http://[::1]")


class StorageError(SkillcError):
    """The storage could not be read or written (exit code 2)."""

    exit_code = 2


class Storage(Protocol):
    """A flat key space of immutable-or-swapped byte objects (see the module docstring)."""

    location: str

    def get(self, key: str) -> tuple[bytes, str] | None: ...
    def put(self, key: str, data: bytes) -> None: ...
    def create(self, key: str, data: bytes) -> bool: ...
    def replace(self, key: str, data: bytes, etag: str | None) -> bool: ...
    def list(self, prefix: str) -> list[str]: ...
    def local_path(self, key: str) -> Path | None: ...


def _check_key(key: str) -> str:
    parts = key.split("/")
    if not key or key.startswith("/") or any(p in ("", ".", "..") for p in parts) or "\\" in key:
        raise StorageError(f"{key!r} is not a storage key")
    return key


class DirectoryStorage:
    """Keys as files under `root`, written atomically (see the module docstring)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.location = str(root)

    def _path(self, key: str) -> Path:
        path = self.root / _check_key(key)
        if path.is_symlink() or (path.exists() and self.root.resolve() not in path.resolve().parents):
            raise StorageError(f"{key!r} is not a storage key (a link, or it leads out of {self.root})")
        return path

    def _lock(self) -> FileLock:
        self.root.mkdir(parents=True, exist_ok=True)
        return FileLock(str(self.root / ".storage.lock"))

    def _temp(self, path: Path, data: bytes) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        return Path(name)

    def get(self, key: str) -> tuple[bytes, str] | None:
        try:
            data = self._path(key).read_bytes()
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            return None
        return data, hashlib.sha256(data).hexdigest()

    def put(self, key: str, data: bytes) -> None:
        path = self._path(key)
        os.replace(self._temp(path, data), path)

    def create(self, key: str, data: bytes) -> bool:
        path = self._path(key)
        temp = self._temp(path, data)
        try:
            os.link(temp, path)  # atomic, and fails when the key exists: create-only between processes
            return True
        except FileExistsError:
            return False
        finally:
            temp.unlink(missing_ok=True)

    def replace(self, key: str, data: bytes, etag: str | None) -> bool:
        with self._lock():
            current = self.get(key)
            if (current[1] if current else None) != etag:
                return False
            self.put(key, data)
            return True

    def list(self, prefix: str) -> list[str]:
        base = self.root / prefix if prefix else self.root
        if not base.is_dir():
            return []
        return sorted(str(p.relative_to(self.root)) for p in base.rglob("*") if p.is_file() and not p.name.startswith("."))

    def local_path(self, key: str) -> Path | None:
        path = self._path(key)
        return path if path.is_file() else None


class BucketStorage:
    """Keys as objects under `s3://BUCKET/PREFIX`, through obstore (see the module docstring).

    Args:
        url: `s3://BUCKET[/PREFIX]`.
        options: obstore `S3Store` settings over the environment's (e.g. `endpoint`, `access_key_id`).
    """

    def __init__(self, url: str, **options: Any) -> None:
        from obstore.exceptions import BaseError
        from obstore.store import S3Store

        self.location = url.rstrip("/")
        endpoint = options.get("endpoint") or os.environ.get("AWS_ENDPOINT_URL") or ""
        client_options = {"allow_http": True} if endpoint.startswith(LOOPBACK_HOSTS) else None
        try:
            self.store = S3Store.from_url(self.location, client_options=client_options, **options)
        except (ValueError, OSError, BaseError) as exc:  # a malformed URL, an unknown setting
            raise StorageError(f"cannot open {url}: {type(exc).__name__}: {exc}") from None

    def _call(self, what: str, func: Any, *args: Any, **kwargs: Any) -> Any:
        """`func(*args)`, with obstore's failures other than the expected ones as a `StorageError` that says what."""
        from obstore.exceptions import (
            AlreadyExistsError,
            BaseError,
            NotFoundError,
            PreconditionError,
        )

        try:
            return func(*args, **kwargs)
        except (AlreadyExistsError, NotFoundError, PreconditionError, FileNotFoundError, FileExistsError):
            raise  # obstore raises FileNotFoundError and FileExistsError too
        except (BaseError, OSError) as exc:  # a refused credential, an unreachable endpoint, a missing bucket
            raise StorageError(f"{self.location}: {what} failed: {type(exc).__name__}: {str(exc)[:300]}") from None

    def get(self, key: str) -> tuple[bytes, str] | None:
        import obstore
        from obstore.exceptions import NotFoundError

        try:
            result = self._call(f"reading {key}", obstore.get, self.store, _check_key(key))
        except (NotFoundError, FileNotFoundError):
            return None
        return bytes(result.bytes()), str(result.meta.get("e_tag") or "")

    def put(self, key: str, data: bytes) -> None:
        import obstore

        self._call(f"writing {key}", obstore.put, self.store, _check_key(key), data)

    def create(self, key: str, data: bytes) -> bool:
        """Create-only (`If-None-Match: *`): False when the key exists."""
        import obstore
        from obstore.exceptions import AlreadyExistsError, PreconditionError

        try:
            self._call(f"creating {key}", obstore.put, self.store, _check_key(key), data, mode="create")
        except (AlreadyExistsError, PreconditionError, FileExistsError):
            return False
        return True

    def replace(self, key: str, data: bytes, etag: str | None) -> bool:
        """Compare-and-swap (`If-Match: ETAG`; create-only when `etag` is None): False when the key changed."""
        if etag is None:
            return self.create(key, data)
        import obstore
        from obstore.exceptions import (
            AlreadyExistsError,
            NotFoundError,
            PreconditionError,
        )

        try:
            self._call(f"replacing {key}", obstore.put, self.store, _check_key(key), data, mode={"e_tag": etag})
        except (AlreadyExistsError, NotFoundError, PreconditionError, FileNotFoundError, FileExistsError):
            return False
        return True

    def list(self, prefix: str) -> list[str]:
        import obstore

        chunks = self._call(f"listing {prefix}", lambda: obstore.list(self.store, prefix=prefix or None).collect())
        return sorted(str(meta["path"]) for meta in chunks)

    def local_path(self, key: str) -> Path | None:
        return None


def open_storage(location: str | Path) -> Storage:
    """A directory (a path) or a bucket (`s3://BUCKET/PREFIX`)."""
    text = str(location)
    if text.startswith("s3://"):
        return BucketStorage(text)
    if "://" in text:
        raise StorageError(f"{text}: registry storage is a directory or s3://BUCKET/PREFIX")
    return DirectoryStorage(Path(location))


__all__ = ["BucketStorage", "DirectoryStorage", "Storage", "StorageError", "open_storage"]
