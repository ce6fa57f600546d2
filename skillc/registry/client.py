"""Publishing and pulling skills, against a registry server (`http://…`), an OCI registry (`oci://HOST/NAMESPACE`,
see `skillc.registry.oci`) or a registry directory (a path).

References: `NAME` (the `latest` tag), `NAME@1.2.0`, `NAME@sha256:…` (a manifest digest), `NAME:prod` (a tag).
With a lock file (`skills.lock`), every pull must match what it pins, as pip's hash-checking mode does: a
skill the lock does not name, or a version or digest other than the pinned one, is refused.

Example:
    >>> parse_ref("invoice-total@1.2.0"), parse_ref("invoice-total:prod"), parse_ref("invoice-total")
    (('invoice-total', '1.2.0'), ('invoice-total', 'prod'), ('invoice-total', None))
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import httpx
import platformdirs

from skillc.core.errors import InvalidInputError, SkillFolderError
from skillc.core.files import atomic_write_text, read_json
from skillc.core.manifest import (
    MANIFEST,
    canonical_manifest,
    manifest_digest,
    read_manifest,
)
from skillc.registry.archive import pack, sha256_hex, unpack
from skillc.registry.layout import (
    ARCHIVE,
    SIGNATURE,
    NotFound,
    RegistryError,
    RegistryStore,
    VersionExists,
    VersionInfo,
    check_name,
    resolve_version,
    search_index,
)
from skillc.registry.oci import PREFIX as OCI_PREFIX
from skillc.registry.oci import OciRegistry, split_oci_ref
from skillc.registry.signing import SignatureError, TrustStore, read_signature, sign
from skillc.skills.skill import ORIGIN, Skill

LOCK_FILE = "skills.lock"
TOKEN_ENV, REGISTRY_ENV, TRUST_ENV, REQUIRE_SIGNED_ENV = ("SKILLC_REGISTRY_TOKEN", "SKILLC_REGISTRY", "SKILLC_TRUST",
                                                          "SKILLC_REQUIRE_SIGNED")
TIMEOUT_S = 60.0


class Registry(Protocol):
    """What publish and pull need of a registry (a directory or a server)."""

    location: str

    def resolve(self, name: str, ref: str | None) -> VersionInfo: ...
    def versions(self, name: str) -> dict[str, Any]: ...
    def fetch(self, name: str, version: str, file: str) -> bytes | None: ...
    def publish(self, archive: bytes, *, name: str, version: str, signature: dict[str, Any] | None,
                tags: list[str]) -> VersionInfo: ...
    def set_tag(self, name: str, tag: str, version: str) -> None: ...
    def yank(self, name: str, version: str, reason: str) -> None: ...
    def search(self, query: str) -> list[dict[str, Any]]: ...


class LocalRegistry:
    """A registry directory or bucket (`s3://BUCKET/PREFIX`), read and written in place (no server)."""

    def __init__(self, root: Path | str) -> None:
        self.store = RegistryStore(root)
        self.location = self.store.location

    def resolve(self, name: str, ref: str | None) -> VersionInfo:
        return self.store.resolve(name, ref)

    def versions(self, name: str) -> dict[str, Any]:
        return self.store.versions(name)

    def fetch(self, name: str, version: str, file: str) -> bytes | None:
        try:
            return self.store.read(f"skills/{name}/{version}/{file}")
        except NotFound:
            return None

    def publish(self, archive: bytes, *, name: str, version: str, signature: dict[str, Any] | None,
                tags: list[str]) -> VersionInfo:
        return self.store.publish(archive, name=name, version=version, signature=signature, tags=tags)

    def set_tag(self, name: str, tag: str, version: str) -> None:
        self.store.set_tag(name, tag, version)

    def yank(self, name: str, version: str, reason: str) -> None:
        self.store.yank(name, version, reason)

    def search(self, query: str) -> list[dict[str, Any]]:
        return self.store.search(query)


class HttpRegistry:
    """A registry server: reads are anonymous GETs of the static layout; writes send the bearer token."""

    def __init__(self, url: str, token: str | None = None) -> None:
        self.location = url.rstrip("/")
        self.token = token
        self._client = httpx.Client(timeout=TIMEOUT_S)  # one client: a new one per request costs ~40 ms (its SSL context)

    def _get(self, path: str) -> httpx.Response:
        try:
            return self._client.get(f"{self.location}/{path}")
        except httpx.HTTPError as exc:
            raise RegistryError(f"{self.location}: cannot reach the registry: {type(exc).__name__}: {exc}") from None

    def _json(self, path: str) -> Any:
        response = self._get(path)
        _raise_for(response, path)
        return read_json(response.content, f"{self.location}/{path}", RegistryError)

    def resolve(self, name: str, ref: str | None) -> VersionInfo:
        return resolve_version(self.versions(name), name, ref)

    def versions(self, name: str) -> dict[str, Any]:
        return self._json(f"skills/{check_name(name)}/versions.json")

    def fetch(self, name: str, version: str, file: str) -> bytes | None:
        response = self._get(f"skills/{name}/{version}/{file}")
        if response.status_code == 404:
            return None
        _raise_for(response, file)
        return response.content

    def _write(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        if not self.token:
            raise RegistryError(f"publishing to {self.location} needs a token: set {TOKEN_ENV} or pass --token-file")
        headers = {"authorization": f"Bearer {self.token}", **kwargs.pop("headers", {})}
        try:
            response = self._client.request(method, f"{self.location}/{path}", headers=headers, **kwargs)
        except httpx.HTTPError as exc:
            raise RegistryError(f"{self.location}: cannot reach the registry: {type(exc).__name__}: {exc}") from None
        _raise_for(response, path)
        return response

    def publish(self, archive: bytes, *, name: str, version: str, signature: dict[str, Any] | None,
                tags: list[str]) -> VersionInfo:
        headers = {"content-type": "application/gzip", "x-skillc-archive-sha256": sha256_hex(archive)}
        if signature is not None:
            headers["x-skillc-signature"] = json.dumps(signature)
        response = self._write("PUT", f"api/skills/{name}/{version}", content=archive, headers=headers,
                               params=[("tag", t) for t in tags])
        return VersionInfo(name=name, version=version, **response.json()["version"])

    def set_tag(self, name: str, tag: str, version: str) -> None:
        self._write("PUT", f"api/skills/{name}/tags/{tag}", json={"version": version})

    def yank(self, name: str, version: str, reason: str) -> None:
        self._write("PUT", f"api/skills/{check_name(name)}/{version}/yank", json={"reason": reason})

    def search(self, query: str) -> list[dict[str, Any]]:
        return search_index(self._json(".well-known/agent-skills/index.json"), query)


def _raise_for(response: httpx.Response, what: str) -> None:
    if response.status_code < 400:
        return
    try:
        detail = response.json().get("detail", response.text)
    except ValueError:
        detail = response.text[:200]
    error = {404: NotFound, 409: VersionExists}.get(response.status_code, RegistryError)
    if response.status_code in (401, 403):
        raise RegistryError(f"{what}: {response.status_code} {detail}")
    raise error(f"{what}: {detail}")


def open_registry(location: str | None = None, token: str | None = None) -> Registry:
    """A registry from a URL (`http(s)://…`, `oci://HOST/NAMESPACE`) or a directory (default: `SKILLC_REGISTRY`)."""
    location = location or os.environ.get(REGISTRY_ENV)
    if not location:
        raise InvalidInputError(f"no registry given: pass --registry URL|PATH or set {REGISTRY_ENV}")
    token = token if token is not None else os.environ.get(TOKEN_ENV)
    if location.startswith(("http://", "https://")):
        return HttpRegistry(location, token)
    if location.startswith(OCI_PREFIX):
        return OciRegistry(location, token)
    return LocalRegistry(location if location.startswith("s3://") else Path(location))


def read_token(token_file: Path | None) -> str | None:
    """The publish token: `--token-file`, else `SKILLC_REGISTRY_TOKEN`."""
    if token_file is not None:
        try:
            return token_file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise InvalidInputError(f"cannot read the token file {token_file}: {exc}") from None
    return os.environ.get(TOKEN_ENV)


def default_trust() -> TrustStore:
    return TrustStore(Path(os.environ.get(TRUST_ENV) or Path(platformdirs.user_config_dir("skillc")) / "trust.json"))


def parse_ref(ref: str) -> tuple[str, str | None]:
    """(name, version | digest | tag | None) from `NAME[@VERSION|@sha256:…][:TAG]`."""
    if "@" in ref:
        name, _, wanted = ref.partition("@")
    elif ":" in ref:
        name, _, wanted = ref.partition(":")
    else:
        name, wanted = ref, ""
    return check_name(name), wanted or None


def publish(skill_dir: str | Path, registry: Registry | str, *, version: str | None = None, tags: list[str] | None = None,
            sign_key: Path | None = None, token: str | None = None) -> VersionInfo:
    """Publish a skill folder as `NAME@VERSION` (its skill.json's version unless `version` is given, which is
    then written into the folder and re-signed), optionally signed with an Ed25519 key."""
    registry = open_registry(registry, token) if isinstance(registry, str) else registry
    folder = Path(skill_dir)
    skill = Skill.load(folder)
    if version and version != skill.spec.version:
        skill = skill.replace(spec=skill.spec.model_copy(update={"version": version}))
        skill.save(folder)
    manifest = read_manifest(folder)
    assert manifest is not None
    signature = sign(canonical_manifest(manifest), sign_key) if sign_key else None
    return registry.publish(pack(folder), name=skill.name, version=skill.spec.version, signature=signature,
                            tags=list(tags or []))


def pull(ref: str, registry: Registry | str | None, out: str | Path, *, lock: Path | None = None, update_lock: bool = False,
         require_signed: bool | None = None, trust: TrustStore | None = None) -> Path:
    """Fetch, verify and unpack `ref` into `out/NAME`; returns the folder. See the module docstring for refs and locks.
    A whole OCI reference (`oci://HOST/NAMESPACE/NAME:1.2.0`) names its registry itself. A yanked version is pulled
    only when pinned (by version, digest or the lock), and its origin.json then says `yanked` with the reason. A
    signature by a key the trust store revoked is refused, whether or not signatures are required."""
    if ref.startswith(OCI_PREFIX):
        location, ref = split_oci_ref(ref)
        registry = registry if registry is not None and not isinstance(registry, str) else open_registry(location)
    registry = open_registry(registry) if isinstance(registry, str) or registry is None else registry
    name, wanted = parse_ref(ref)
    pins = _read_lock(lock) if lock is not None and lock.exists() else None
    if pins is not None and name not in pins and not update_lock:
        raise SkillFolderError(f"{lock} does not pin {name}; every pull must match the lock (pull with --update-lock to add it)")
    pin = (pins or {}).get(name)
    info = registry.resolve(name, wanted)
    if pin is not None and not update_lock and wanted in (None, "latest") and info.version != pin.get("version"):
        pinned = registry.resolve(name, str(pin.get("version")))
        if pinned.yanked:  # `latest` skipped the yanked version the lock pins: the lock still resolves it
            info = pinned
    if pin is not None and not update_lock and (pin.get("version") != info.version or pin.get("digest") != info.digest):
        raise SkillFolderError(f"{lock} pins {name}@{pin.get('version')} ({pin.get('digest')}), but {ref} is "
                               f"{info.version} ({info.digest}); pull the pinned version or --update-lock")
    require = require_signed if require_signed is not None else os.environ.get(REQUIRE_SIGNED_ENV, "") not in ("", "0")
    archive = registry.fetch(name, info.version, ARCHIVE)
    if archive is None:
        raise NotFound(f"{name}@{info.version}: the registry lists it but has no archive")
    raw_signature = registry.fetch(name, info.version, SIGNATURE)
    signature = read_signature(raw_signature, f"{name}@{info.version}/{SIGNATURE}") if raw_signature else None
    trust = trust or default_trust()
    signer: dict[str, str | None] = {"key_id": None}

    def check(manifest_bytes: bytes) -> None:
        if signature is not None:
            trust.refuse_revoked(name, signature)
        if signature is None:
            if require:
                raise SignatureError(f"{name}@{info.version} is not signed, and signed skills are required")
            return
        if require or signature.get("key_id") in trust.trusted_for(name):
            signer["key_id"] = trust.verify(name, manifest_bytes, signature)

    folder = unpack(archive, Path(out) / name, archive_sha256=info.archive_sha256, digest=info.digest,
                    check_signature=check)
    origin = {"registry": registry.location, "name": name, "version": info.version, "digest": info.digest,
              "signed_by": signer["key_id"], "pulled_at": datetime.now(UTC).isoformat(timespec="seconds"),
              **({"yanked": info.yanked} if info.yanked else {})}
    atomic_write_text(folder / ORIGIN, json.dumps(origin, indent=2) + "\n")
    if raw_signature:
        (folder / SIGNATURE).write_bytes(raw_signature)
    if lock is not None and (update_lock or pins is None):
        _write_lock(lock, {**(pins or {}), name: {"version": info.version, "digest": info.digest}})
    return folder


def verify(skill_dir: str | Path, *, require_signed: bool = False, trust: TrustStore | None = None) -> dict[str, Any]:
    """Check a skill folder: every file against its manifest, and its signature when it has one (or must)."""
    folder = Path(skill_dir)
    skill = Skill.load(folder)
    manifest = read_manifest(folder)
    assert manifest is not None
    result: dict[str, Any] = {"name": skill.name, "version": skill.spec.version, "digest": manifest_digest(manifest),
                              "files": len(manifest["files"]), "signed_by": None, "origin": skill.origin}
    sig_path = folder / SIGNATURE
    if sig_path.exists():
        signature = read_signature(sig_path.read_bytes(), str(sig_path))
        result["signed_by"] = (trust or default_trust()).verify(skill.name, canonical_manifest(manifest), signature)
    elif require_signed:
        raise SignatureError(f"{folder}: no signature ({SIGNATURE}), and signed skills are required")
    return result


def _read_lock(path: Path) -> dict[str, dict[str, str]]:
    data = read_json(path.read_bytes(), path, SkillFolderError)
    skills = data.get("skills") if isinstance(data, dict) else None
    if not isinstance(skills, dict):
        raise SkillFolderError(f"{path}: not a skills.lock (expected {{\"skills\": {{name: {{version, digest}}}}}})")
    return skills


def _write_lock(path: Path, skills: dict[str, dict[str, str]]) -> None:
    atomic_write_text(path, json.dumps({"skills": dict(sorted(skills.items()))}, indent=2) + "\n")


__all__ = ["MANIFEST", "open_registry", "publish", "pull", "verify"]
