"""The registry's stored layout: static files that a directory, a bucket or a CDN can serve as they are.

```
ROOT/.well-known/agent-skills/index.json      Agent Skills discovery index (v0.2.0 shape): name, type
                                              "archive", description, url, digest of the latest version
ROOT/skills/NAME/versions.json                every version (digest, archive sha256, size, signer, time) and the tags
ROOT/skills/NAME/VERSION/skill.tar.gz         the archive
ROOT/skills/NAME/VERSION/manifest.json        its manifest (the digest is sha256 of its canonical form)
ROOT/skills/NAME/VERSION/manifest.sig         its detached signature, when published signed
ROOT/skills/NAME/VERSION/SKILL.md, skill.json, eval.json, eval.png   for the browsable index
```

A publish writes the version into a staging folder, renames it into place, then rewrites `versions.json` and
the index (each atomically), all under the skill's lock: a version becomes visible only through
`versions.json`, so a publisher killed at any point leaves no half-published version, and of two concurrent
publishes of one version exactly one wins.

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
import re
import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from filelock import FileLock

from skillc.core.errors import SkillcError
from skillc.core.files import atomic_write_text, read_json
from skillc.core.manifest import manifest_digest
from skillc.registry.archive import ArchiveError, sha256_hex, unpack

INDEX_PATH = ".well-known/agent-skills/index.json"
DISCOVERY_SCHEMA = "https://schemas.agentskills.io/discovery/0.2.0/schema.json"
ARCHIVE, MANIFEST, SIGNATURE, VERSIONS = "skill.tar.gz", "manifest.json", "manifest.sig", "versions.json"
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


def resolve_version(data: dict[str, Any], name: str, ref: str | None) -> VersionInfo:
    """The version `ref` names in a `versions.json`: a version, a digest (`sha256:…`), a tag, or None for `latest`."""
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
    else:
        known = ", ".join(sorted(versions)) or "none"
        raise NotFound(f"{name}: no version or tag {ref!r} (versions: {known}; tags: {', '.join(data.get('tags', {})) or 'none'})")
    info = versions[version]
    return VersionInfo(name, version, info["digest"], info["archive_sha256"], info["size"], info.get("signed_by"),
                       info["published_at"])


class RegistryStore:
    """A registry on a directory: the layout above, read and written with locks and atomic renames.

    Args:
        root: the registry directory (created on first publish).
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    # ---------- reading ----------
    def index(self) -> dict[str, Any]:
        path = self.root / INDEX_PATH
        if not path.exists():
            return {"$schema": DISCOVERY_SCHEMA, "skills": []}
        return read_json(path.read_bytes(), path, RegistryError)

    def versions(self, name: str) -> dict[str, Any]:
        path = self.root / "skills" / check_name(name) / VERSIONS
        if not path.exists():
            raise NotFound(f"no skill {name!r} in this registry")
        return read_json(path.read_bytes(), path, RegistryError)

    def resolve(self, name: str, ref: str | None = None) -> VersionInfo:
        """`ref`: a version (`1.2.0`), a digest (`sha256:…`), a tag (`prod`), or None for `latest`."""
        return resolve_version(self.versions(name), name, ref)

    def path_of(self, relative: str) -> Path:
        """The stored file at `relative` under the root; nothing outside the root is ever named."""
        path = (self.root / relative).resolve()
        if self.root.resolve() not in path.parents or not path.is_file():
            raise NotFound(f"{relative}: not found")
        return path

    def read(self, relative: str) -> bytes:
        """A stored file by its path under the root (what a static server would return)."""
        return self.path_of(relative).read_bytes()

    def search(self, query: str) -> list[dict[str, Any]]:
        return search_index(self.index(), query)

    # ---------- writing ----------
    def publish(self, archive: bytes, *, name: str, version: str, signature: dict[str, Any] | None = None,
                tags: list[str] | tuple[str, ...] = ()) -> VersionInfo:
        """Store a new immutable version (the archive is fully verified first); `latest` follows the newest publish."""
        check_name(name), check_version(version)
        for tag in tags:
            check_tag(tag)
        skill_dir = self.root / "skills" / name
        skill_dir.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=".publish-", dir=skill_dir))
        try:
            folder = unpack_published(archive, work / name, name=name, version=version)
            manifest = read_json((folder / MANIFEST).read_bytes(), MANIFEST, ArchiveError)
            staging = work / "version"
            staging.mkdir()
            (staging / ARCHIVE).write_bytes(archive)
            (staging / MANIFEST).write_bytes((folder / MANIFEST).read_bytes())
            if signature is not None:
                (staging / SIGNATURE).write_text(json.dumps(signature, indent=2) + "\n")
            for page in PAGE_FILES:
                if (folder / page).exists():
                    shutil.copyfile(folder / page, staging / page)
            info = VersionInfo(name, version, manifest_digest(manifest), sha256_hex(archive), len(archive),
                               signature.get("key_id") if signature else None,
                               datetime.now(UTC).isoformat(timespec="seconds"))
            with FileLock(str(skill_dir / ".lock")):
                data = self._versions_or_new(name)
                if version in data["versions"]:
                    raise VersionExists(f"{name}@{version} is already published ({data['versions'][version]['digest']}); "
                                        "published versions are immutable: bump the version")
                target = skill_dir / version
                if target.exists():  # debris of a publisher killed before versions.json named it
                    shutil.rmtree(target)
                staging.rename(target)
                data["versions"][version] = info.as_dict()
                data["description"] = skill_md_description(target / "SKILL.md") or data.get("description", "")
                data["tags"]["latest"] = version
                for tag in tags:
                    data["tags"][tag] = version
                atomic_write_text(skill_dir / VERSIONS, json.dumps(data, indent=2) + "\n")
                self._write_index()
            return info
        finally:
            shutil.rmtree(work, ignore_errors=True)

    def set_tag(self, name: str, tag: str, version: str) -> None:
        """Point `tag` at an existing version (tags are mutable; versions are not)."""
        check_tag(tag)
        skill_dir = self.root / "skills" / check_name(name)
        with FileLock(str(skill_dir / ".lock")):
            data = self.versions(name)
            if version not in data["versions"]:
                raise NotFound(f"{name}: no version {version!r} to tag")
            data["tags"][tag] = version
            atomic_write_text(skill_dir / VERSIONS, json.dumps(data, indent=2) + "\n")
            self._write_index()

    def _versions_or_new(self, name: str) -> dict[str, Any]:
        try:
            return self.versions(name)
        except NotFound:
            return {"name": name, "description": "", "versions": {}, "tags": {}}

    def _write_index(self) -> None:
        skills = []
        for versions_file in sorted((self.root / "skills").glob(f"*/{VERSIONS}")):
            data = read_json(versions_file.read_bytes(), versions_file, RegistryError)
            latest = data.get("tags", {}).get("latest")
            if latest is None:
                continue
            info = data["versions"][latest]
            skills.append({"name": data["name"], "type": "archive", "description": data.get("description", ""),
                           "url": f"../../skills/{data['name']}/{latest}/{ARCHIVE}",
                           "digest": f"sha256:{info['archive_sha256']}", "version": latest,
                           "manifest_digest": info["digest"], "tags": data.get("tags", {})})
        path = self.root / INDEX_PATH
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, json.dumps({"$schema": DISCOVERY_SCHEMA, "skills": skills}, indent=2) + "\n")


def unpack_published(archive: bytes, out: Path, *, name: str, version: str) -> Path:
    """Unpack an archive offered for publishing as `name@version` into `out`, and refuse anything that is not
    exactly that skill: every check of a pull, then it must load as a skill whose skill.json says `name@version`."""
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
