"""The registry's stored layout: static files that a directory, a bucket or a CDN can serve as they are.

```
ROOT/.well-known/agent-skills/index.json      Agent Skills discovery index (v0.2.0 shape): name, type
                                              "archive", description, url, digest of the latest version
ROOT/skills/NAME/versions.json                every version (digest, archive sha256, size, signer, time) and the tags
ROOT/skills/NAME/VERSION/skill.tar.gz         the archive
ROOT/skills/NAME/VERSION/manifest.json        its manifest (the digest is sha256 of its canonical form)
ROOT/skills/NAME/VERSION/manifest.sig         its detached signature, when published signed
ROOT/skills/NAME/VERSION/SKILL.md, skill.json, eval.json, eval.png   for the browsable index
ROOT/skills/NAME/VERSION/version.json         the version's claim (written create-only, before its files)
```

ROOT is a directory or `s3://BUCKET/PREFIX` (`skillc.registry.storage`). A publish claims the version with a
create-only write, writes its files, then swaps `versions.json` and the index in by compare-and-swap: a version
becomes visible only through `versions.json`, so a publisher killed at any point leaves no half-published version,
and of concurrent publishes of one version, on one machine or through several servers on one bucket, exactly one
wins.

Example:
    >>> import tempfile, pathlib
    >>> store = RegistryStore(pathlib.Path(tempfile.mkdtemp()))
    >>> store.versions("nothing")
    Traceback (most recent call last):
    ...
    skillc.registry.layout.NotFound: no skill 'nothing' in this registry
"""

from __future__ import annotations

import json
import random
import re
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from skillc.core.errors import SkillcError
from skillc.core.files import read_json
from skillc.core.manifest import manifest_digest
from skillc.registry.archive import ArchiveError, sha256_hex, unpack
from skillc.registry.storage import Storage, StorageError, open_storage

INDEX_PATH = ".well-known/agent-skills/index.json"
DISCOVERY_SCHEMA = "https://schemas.agentskills.io/discovery/0.2.0/schema.json"
ARCHIVE, MANIFEST, SIGNATURE, VERSIONS = "skill.tar.gz", "manifest.json", "manifest.sig", "versions.json"
CLAIM = "version.json"  # a version's claim, written create-only before its files
CLAIM_LEASE_S = 120.0  # an unlisted claim older than this is a publish that was cut short
PAGE_FILES = ("SKILL.md", "skill.json", "eval.json", "eval.png")
NAME = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
SEMVER = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$")
TAG = re.compile(r"^[a-z][a-z0-9._-]{0,31}$")


class RegistryError(SkillcError):
    """A registry request that cannot be served (exit code 2 unless a subclass says otherwise)."""

    exit_code = 2
    status = 400


class NotFound(RegistryError):
    status = 404


class VersionExists(RegistryError):
    """A published version is immutable: publishing it again is refused."""

    status = 409


@dataclass(frozen=True)
class VersionInfo:
    name: str
    version: str
    digest: str
    archive_sha256: str
    size: int
    signed_by: str | None
    published_at: str
    yanked: str | None = None  # the reason, when the version was yanked

    def as_dict(self) -> dict[str, Any]:
        return {"digest": self.digest, "archive_sha256": self.archive_sha256, "size": self.size,
                "signed_by": self.signed_by, "published_at": self.published_at}


def check_name(name: str) -> str:
    if not NAME.match(name or "") or len(name) > 64:
        raise RegistryError(f"{name!r} is not a skill name (lowercase letters, digits, single hyphens, ≤64)")
    return name


def check_version(version: str) -> str:
    if not SEMVER.match(version or ""):
        raise RegistryError(f"{version!r} is not a semantic version (MAJOR.MINOR.PATCH)")
    return version


def check_tag(tag: str) -> str:
    if not TAG.match(tag or "") or SEMVER.match(tag):
        raise RegistryError(f"{tag!r} is not a tag name (a lowercase word such as latest or prod)")
    return tag


def search_index(index: dict[str, Any], query: str) -> list[dict[str, Any]]:
    """The discovery index's entries whose name and description hold every word of `query`."""
    words = query.lower().split()
    return [s for s in index.get("skills", []) if all(w in f"{s['name']} {s.get('description', '')}".lower() for w in words)]


def semver_key(version: str) -> tuple[int, int, int, int, str]:
    """Sort key of a semantic version: a pre-release sorts before its release.

    >>> sorted(["1.10.0", "1.2.0", "1.2.0-rc1"], key=semver_key)
    ['1.2.0-rc1', '1.2.0', '1.10.0']
    """
    core, _, pre = version.split("+")[0].partition("-")
    major, minor, patch = (int(x) for x in core.split("."))
    return major, minor, patch, 0 if pre else 1, pre


def resolve_version(data: dict[str, Any], name: str, ref: str | None) -> VersionInfo:
    """The version `ref` names in a `versions.json`: a version, a digest (`sha256:…`), a tag, or None for `latest`.

    Yanked versions (PEP 592's rule): a pin, an exact version or a digest, still resolves to one (its `yanked`
    says why it was yanked); `latest` skips it, to the newest version not yanked; another tag on it is refused.
    """
    versions: dict[str, dict[str, Any]] = data.get("versions", {})
    ref = ref or "latest"
    if ref.startswith("sha256:"):
        found = [v for v, info in versions.items() if info["digest"] == ref]
        if not found:
            raise NotFound(f"{name}: no version has digest {ref}")
        version = found[0]
    elif ref in versions:
        version = ref
    elif ref in data.get("tags", {}):
        version = data["tags"][ref]
        if versions[version].get("yanked"):
            if ref != "latest":
                raise NotFound(f"{name}:{ref} points at {version}, which was yanked ({versions[version]['yanked']['reason']}); "
                               f"pin it ({name}@{version}) to pull it anyway, or move the tag")
            usable = sorted((v for v, info in versions.items() if not info.get("yanked")), key=semver_key)
            if not usable:
                raise NotFound(f"{name}: every version was yanked (pin one, e.g. {name}@{version}, to pull it anyway)")
            version = usable[-1]
    else:
        known = ", ".join(sorted(versions)) or "none"
        raise NotFound(f"{name}: no version or tag {ref!r} (versions: {known}; tags: {', '.join(data.get('tags', {})) or 'none'})")
    info = versions[version]
    return VersionInfo(name, version, info["digest"], info["archive_sha256"], info["size"], info.get("signed_by"),
                       info["published_at"], (info.get("yanked") or {}).get("reason"))


class RegistryStore:
    """A registry on a `Storage` (a directory or a bucket): the layout above, with create-only and swapped writes.

    A publish first claims the version: `skills/NAME/VERSION/version.json` is written create-only, so of two
    publishers of one version (two threads, two processes, two servers on one bucket) exactly one claims it and the
    others get `VersionExists`. The claimant then writes the version's files, and last swaps `versions.json` and
    the index in (compare-and-swap on their ETags, retried on a lost race), which is when readers see the version.
    A publisher killed after its claim leaves a claim that no `versions.json` names: publishing the same archive
    again once the claim is older than `CLAIM_LEASE_S` completes it; any other archive for that version is refused.

    Args:
        root: a directory, `s3://BUCKET/PREFIX`, or a `Storage`.
    """

    def __init__(self, root: Path | str | Storage) -> None:
        self.storage: Storage = root if hasattr(root, "create") else open_storage(root)  # type: ignore[assignment]
        self.location = self.storage.location

    # ---------- reading ----------
    def index(self) -> dict[str, Any]:
        found = self.storage.get(INDEX_PATH)
        if found is None:
            return {"$schema": DISCOVERY_SCHEMA, "skills": []}
        return read_json(found[0], f"{self.location}/{INDEX_PATH}", RegistryError)

    def _versions_and_etag(self, name: str) -> tuple[dict[str, Any], str | None]:
        key = f"skills/{check_name(name)}/{VERSIONS}"
        found = self.storage.get(key)
        if found is None:
            return {"name": name, "description": "", "versions": {}, "tags": {}}, None
        return read_json(found[0], f"{self.location}/{key}", RegistryError), found[1]

    def versions(self, name: str) -> dict[str, Any]:
        data, etag = self._versions_and_etag(name)
        if etag is None:
            raise NotFound(f"no skill {name!r} in this registry")
        return data

    def resolve(self, name: str, ref: str | None = None) -> VersionInfo:
        """`ref`: a version (`1.2.0`), a digest (`sha256:…`), a tag (`prod`), or None for `latest`."""
        return resolve_version(self.versions(name), name, ref)

    def path_of(self, relative: str) -> Path | None:
        """The file behind `relative` when the storage is a directory (to stream it), else None."""
        try:
            return self.storage.local_path(relative)
        except StorageError:
            raise NotFound(f"{relative}: not found") from None

    def read(self, relative: str) -> bytes:
        """A stored file by its key (what a static server would return)."""
        try:
            found = self.storage.get(relative)
        except StorageError as exc:
            if "not a storage key" in str(exc):
                raise NotFound(f"{relative}: not found") from None
            raise
        if found is None:
            raise NotFound(f"{relative}: not found")
        return found[0]

    def search(self, query: str) -> list[dict[str, Any]]:
        return search_index(self.index(), query)

    # ---------- writing ----------
    def publish(self, archive: bytes, *, name: str, version: str, signature: dict[str, Any] | None = None,
                tags: list[str] | tuple[str, ...] = ()) -> VersionInfo:
        """Store a new immutable version (the archive is fully verified first); `latest` follows the newest publish."""
        with tempfile.TemporaryDirectory(prefix="skillc-publish-") as work:
            folder = unpack_published(archive, Path(work) / name, name=name, version=version, tags=tags)
            manifest_bytes = (folder / MANIFEST).read_bytes()
            manifest = read_json(manifest_bytes, MANIFEST, ArchiveError)
            pages = {page: (folder / page).read_bytes() for page in PAGE_FILES if (folder / page).exists()}
            description = skill_md_description(folder / "SKILL.md")
        info = VersionInfo(name, version, manifest_digest(manifest), sha256_hex(archive), len(archive),
                           signature.get("key_id") if signature else None, datetime.now(UTC).isoformat(timespec="seconds"))
        base = f"skills/{name}/{version}"
        if not self.storage.create(f"{base}/{CLAIM}", json.dumps(info.as_dict(), indent=2).encode()):
            info = self._finish_or_refuse(name, version, info)
        elif version in self._versions_and_etag(name)[0]["versions"]:  # published before claims existed
            raise VersionExists(f"{name}@{version} is already published; published versions are immutable: bump the version")
        self.storage.put(f"{base}/{ARCHIVE}", archive)
        self.storage.put(f"{base}/{MANIFEST}", manifest_bytes)
        if signature is not None:
            self.storage.put(f"{base}/{SIGNATURE}", (json.dumps(signature, indent=2) + "\n").encode())
        for page, data in pages.items():
            self.storage.put(f"{base}/{page}", data)

        def add(data: dict[str, Any]) -> dict[str, Any]:
            data["versions"].setdefault(version, info.as_dict())
            data["description"] = description or data.get("description", "")
            data["tags"]["latest"] = version
            for tag in tags:
                data["tags"][tag] = version
            return data

        self._swap_versions(name, add)
        return info

    def _finish_or_refuse(self, name: str, version: str, info: VersionInfo) -> VersionInfo:
        """The version is claimed already. A claim of this very archive that no `versions.json` names and that is
        older than `CLAIM_LEASE_S` is a publish that was cut short: go on with its record. Anything else is refused
        (a younger claim may be a publisher still at work)."""
        listed = self._versions_and_etag(name)[0]["versions"].get(version)
        claim = read_json(self.read(f"skills/{name}/{version}/{CLAIM}"), CLAIM, RegistryError)
        age = (datetime.now(UTC) - datetime.fromisoformat(str(claim.get("published_at")))).total_seconds()
        if listed is None and claim.get("archive_sha256") == info.archive_sha256 and age > CLAIM_LEASE_S:
            return VersionInfo(name, version, claim["digest"], claim["archive_sha256"], claim["size"],
                               claim.get("signed_by"), claim["published_at"])
        raise VersionExists(f"{name}@{version} is already published ({(listed or claim).get('digest')}); "
                            "published versions are immutable: bump the version")

    def set_tag(self, name: str, tag: str, version: str) -> None:
        """Point `tag` at an existing version (tags are mutable; versions are not)."""
        check_tag(tag)

        def move(data: dict[str, Any]) -> dict[str, Any]:
            if version not in data["versions"]:
                raise NotFound(f"{name}: no version {version!r} to tag")
            data["tags"][tag] = version
            return data

        self.versions(name)
        self._swap_versions(name, move)

    def yank(self, name: str, version: str, reason: str) -> None:
        """Mark a version yanked (PEP 592): unpinned pulls skip it, pins still resolve it. Its files stay."""
        if not reason.strip():
            raise RegistryError("a yank needs a reason (--reason), so that those who pinned the version know why")

        def mark(data: dict[str, Any]) -> dict[str, Any]:
            if version not in data["versions"]:
                raise NotFound(f"{name}: no version {version!r} to yank")
            data["versions"][version]["yanked"] = {"reason": reason.strip(), "at": datetime.now(UTC).isoformat(timespec="seconds")}
            return data

        self.versions(name)
        self._swap_versions(name, mark)

    def _swap_versions(self, name: str, change: Any, attempts: int = 50) -> None:
        """Apply `change` to `versions.json` by compare-and-swap (retried when another writer got in first), then
        rewrite the index the same way."""
        key = f"skills/{name}/{VERSIONS}"
        for attempt in range(attempts):
            data, etag = self._versions_and_etag(name)
            if self.storage.replace(key, (json.dumps(change(data), indent=2) + "\n").encode(), etag):
                break
            time.sleep(min(0.5, 0.01 * 2 ** attempt) * random.random())
        else:
            raise RegistryError(f"{name}: {VERSIONS} kept changing under this publish ({attempts} tries); try again")
        self._write_index()

    def _write_index(self, attempts: int = 50) -> None:
        for attempt in range(attempts):
            found = self.storage.get(INDEX_PATH)
            skills = []
            for key in self.storage.list("skills/"):
                if key.count("/") != 2 or not key.endswith(f"/{VERSIONS}"):
                    continue
                data = read_json(self.read(key), key, RegistryError)
                if data.get("tags", {}).get("latest") is None:
                    continue
                try:
                    latest = resolve_version(data, data["name"], "latest").version
                except NotFound:  # every version yanked: not offered
                    continue
                info = data["versions"][latest]
                skills.append({"name": data["name"], "type": "archive", "description": data.get("description", ""),
                               "url": f"../../skills/{data['name']}/{latest}/{ARCHIVE}",
                               "digest": f"sha256:{info['archive_sha256']}", "version": latest,
                               "manifest_digest": info["digest"], "tags": data.get("tags", {})})
            body = (json.dumps({"$schema": DISCOVERY_SCHEMA, "skills": skills}, indent=2) + "\n").encode()
            if found is not None and found[0] == body:
                return
            if self.storage.replace(INDEX_PATH, body, found[1] if found else None):
                return
            time.sleep(min(0.5, 0.01 * 2 ** attempt) * random.random())
        raise RegistryError(f"the index kept changing under this publish ({attempts} tries); try again")


def unpack_published(archive: bytes, out: Path, *, name: str, version: str, tags: Any = ()) -> Path:
    """Unpack an archive offered for publishing as `name@version` (with `tags`) into `out`, and refuse anything that
    is not exactly that skill: a bad name, version or tag, every check of a pull, then it must load as a skill whose
    skill.json says `name@version`."""
    check_name(name), check_version(version)
    for tag in tags:
        check_tag(tag)
    folder = unpack(archive, out, archive_sha256=sha256_hex(archive))
    _load_as_skill(folder)
    spec = read_json((folder / "skill.json").read_bytes(), "skill.json", ArchiveError)
    if spec.get("name") != name or str(spec.get("version")) != version:
        raise RegistryError(f"the archive holds {spec.get('name')}@{spec.get('version')}, not {name}@{version}; "
                            "set the version in skill.json (skillc publish --version) and publish again")
    return folder


def _load_as_skill(folder: Path) -> None:
    """A published archive must load as a skill (data only: loading executes nothing)."""
    from skillc.skills.skill import Skill

    try:
        Skill.load(folder)
    except SkillcError as exc:
        raise ArchiveError(f"the archive is not a valid skill: {str(exc).replace(str(folder.parent), '')}") from None


def skill_md_description(skill_md: Path) -> str:
    """The `description` in a SKILL.md's front matter ("" when it has none or cannot be read)."""
    from skillc.skills.skill_md import read_front_matter

    try:
        return str(read_front_matter(skill_md.read_text(encoding="utf-8")).get("description", ""))
    except (OSError, SkillcError, UnicodeDecodeError):
        return ""


__all__ = ["NotFound", "RegistryError", "RegistryStore", "VersionExists", "VersionInfo"]
