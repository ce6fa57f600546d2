"""Skills as OCI artifacts: publish to and pull from any OCI distribution registry (GHCR, ECR, Harbor, zot,
the CNCF `registry`), over the distribution API with httpx.

A skill `NAME@VERSION` in `oci://HOST/NAMESPACE` is the repository `NAMESPACE/NAME`, tagged `VERSION`, whose OCI
image manifest has:
- `artifactType` `application/vnd.skillc.skill.v1`;
- a config blob of media type `application/vnd.skillc.manifest.v1+json`: the skill's `manifest.json`;
- one layer, `application/vnd.skillc.skill.v1.tar+gzip`: the same deterministic archive the HTTP registry stores;
- annotations: the version (`org.opencontainers.image.version`), the name, the publish time, the skill's manifest
  digest (`dev.skillc.manifest.digest`) and, when signed, the detached signature (`dev.skillc.signature`). An
  annotation rather than a referrer, because registries without the OCI 1.1 referrers API (the CNCF registry 2.8)
  would drop a referrer's link.

Pulling trusts nothing the registry says: the manifest is re-hashed against the digest asked for (by digest) or
against the `Docker-Content-Digest` the registry answered (by tag), every blob is re-hashed against the manifest,
the config must be the manifest digest the annotation names, and then the archive goes through the same unpacking
as any pull (safe members, every file against the manifest, the signature). Tags other than versions (`latest`,
`prod`) are ordinary OCI tags. An OCI tag can be moved by anyone who may push; publish refuses a version whose
tag exists, but only the registry's tag immutability (ECR, Harbor, zot) makes that hold against a racing writer.

Example:
    >>> split_oci_ref("oci://127.0.0.1:5000/team/invoice-total:1.2.0")
    ('oci://127.0.0.1:5000/team', 'invoice-total:1.2.0')
    >>> OciRegistry("oci://127.0.0.1:5000/team").base_url
    'http://127.0.0.1:5000'
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from skillc.core.files import read_json
from skillc.core.manifest import manifest_digest
from skillc.registry.archive import ArchiveError, sha256_hex
from skillc.registry.layout import (
    ARCHIVE,
    MANIFEST,
    SEMVER,
    SIGNATURE,
    NotFound,
    RegistryError,
    VersionExists,
    VersionInfo,
    check_name,
    check_tag,
    check_version,
    resolve_version,
    search_index,
    skill_md_description,
    unpack_published,
)
from skillc.registry.oci_auth import RegistryAuth

PREFIX = "oci://"
PLAIN_HTTP_ENV = "SKILLC_OCI_PLAIN_HTTP"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
ARTIFACT_TYPE = "application/vnd.skillc.skill.v1"
CONFIG_TYPE = "application/vnd.skillc.manifest.v1+json"
LAYER_TYPE = "application/vnd.skillc.skill.v1.tar+gzip"
A_VERSION, A_TITLE, A_CREATED, A_DESCRIPTION = ("org.opencontainers.image.version", "org.opencontainers.image.title",
                                                "org.opencontainers.image.created", "org.opencontainers.image.description")
A_DIGEST, A_SIGNATURE = "dev.skillc.manifest.digest", "dev.skillc.signature"
LOOPBACK = ("127.0.0.1", "localhost", "[::1]")
TIMEOUT_S = 60.0


class BlobMismatch(ArchiveError):
    """A blob or manifest whose bytes do not hash to the digest that names it: refused, nothing is written."""


def split_oci_ref(ref: str) -> tuple[str, str]:
    """`oci://HOST/NAMESPACE/NAME[:TAG|@sha256:…]` → (`oci://HOST/NAMESPACE`, `NAME[:TAG|@sha256:…]`)."""
    if not ref.startswith(PREFIX) or "/" not in ref[len(PREFIX):]:
        raise RegistryError(f"{ref!r} is not an OCI reference (oci://HOST/NAMESPACE/NAME:VERSION)")
    location, _, short = ref.rpartition("/")
    return location, short


def _sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


class OciRegistry:
    """An OCI distribution registry as a skillc registry (the `Registry` protocol of `skillc.registry.client`).

    Args:
        location: `oci://HOST[:PORT]/NAMESPACE` (the namespace may be empty). Loopback hosts, or any host with
            `SKILLC_OCI_PLAIN_HTTP=1`, are spoken to over plain HTTP; all others over HTTPS.
        token: a pre-issued bearer token; otherwise the host's `docker login` credentials answer its challenge.
    """

    def __init__(self, location: str, token: str | None = None, *, transport: httpx.BaseTransport | None = None) -> None:
        if not location.startswith(PREFIX):
            raise RegistryError(f"{location!r} is not an OCI registry location (oci://HOST/NAMESPACE)")
        self.location = location.rstrip("/")
        host, _, namespace = self.location[len(PREFIX):].partition("/")
        plain = host.split(":")[0] in LOOPBACK or host.startswith("[::1]") or os.environ.get(PLAIN_HTTP_ENV, "") not in ("", "0")
        self.host, self.namespace = host, namespace.strip("/")
        self.base_url = f"{'http' if plain else 'https'}://{host}"
        self._client = httpx.Client(base_url=self.base_url, auth=RegistryAuth(host, token), timeout=TIMEOUT_S,
                                    transport=transport, follow_redirects=True)
        self._manifests: dict[tuple[str, str], dict[str, Any]] = {}

    # ---------- the distribution API ----------
    def _repo(self, name: str) -> str:
        return f"{self.namespace}/{check_name(name)}" if self.namespace else check_name(name)

    def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            return self._client.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise RegistryError(f"{self.location}: cannot reach the registry: {type(exc).__name__}: {exc}") from None

    def _check(self, response: httpx.Response, what: str) -> httpx.Response:
        if response.status_code < 400:
            return response
        try:
            errors = response.json().get("errors") or []
            detail = "; ".join(f"{e.get('code')}: {e.get('message')}" for e in errors) or response.text[:200]
        except (ValueError, AttributeError):
            detail = response.text[:200]
        if response.status_code == 404:
            raise NotFound(f"{what}: not in {self.location} ({detail})")
        raise RegistryError(f"{what}: {self.location} answered {response.status_code}: {detail}")

    def _manifest(self, name: str, reference: str) -> tuple[bytes, str]:
        """The raw manifest at a tag or digest, re-hashed; returns (bytes, its digest)."""
        response = self._check(self._request("GET", f"/v2/{self._repo(name)}/manifests/{reference}",
                                             headers={"accept": OCI_MANIFEST}), f"{name}:{reference}")
        data, digest = response.content, _sha256(response.content)
        claimed = reference if reference.startswith("sha256:") else response.headers.get("docker-content-digest")
        if claimed and claimed != digest:
            raise BlobMismatch(f"{name}:{reference}: the manifest's bytes hash to {digest}, not {claimed}; refused")
        return data, digest

    def _blob(self, name: str, descriptor: dict[str, Any]) -> bytes:
        response = self._check(self._request("GET", f"/v2/{self._repo(name)}/blobs/{descriptor['digest']}"),
                               f"{name} blob {descriptor['digest']}")
        if _sha256(response.content) != descriptor["digest"] or len(response.content) != descriptor.get("size", len(response.content)):
            raise BlobMismatch(f"{name}: blob {descriptor['digest']} came back as other bytes ({_sha256(response.content)}, "
                               f"{len(response.content)} bytes); it was changed in the registry, refused")
        return response.content

    def _push_blob(self, name: str, data: bytes, media_type: str) -> dict[str, Any]:
        digest, repo = _sha256(data), self._repo(name)
        if self._request("HEAD", f"/v2/{repo}/blobs/{digest}").status_code != 200:
            start = self._check(self._request("POST", f"/v2/{repo}/blobs/uploads/"), f"{name}: starting an upload")
            location = start.headers.get("location")
            if not location:
                raise RegistryError(f"{self.location} started an upload but gave no Location")
            upload = httpx.URL(location).copy_merge_params({"digest": digest})  # keep the upload's own query (_state)
            self._check(self._request("PUT", str(upload), content=data,
                                      headers={"content-type": "application/octet-stream"}), f"{name}: uploading {digest}")
        return {"mediaType": media_type, "digest": digest, "size": len(data)}

    def _put_manifest(self, name: str, reference: str, data: bytes) -> None:
        self._check(self._request("PUT", f"/v2/{self._repo(name)}/manifests/{reference}", content=data,
                                  headers={"content-type": OCI_MANIFEST}), f"{name}:{reference}")

    def tags(self, name: str) -> list[str]:
        """Every tag of the skill's repository (the registry's pages followed)."""
        found: list[str] = []
        url: str | None = f"/v2/{self._repo(name)}/tags/list"
        while url:
            response = self._check(self._request("GET", url), f"{name}: tags")
            found += read_json(response.content, f"{name} tags", RegistryError).get("tags") or []
            link = response.links.get("next", {}).get("url")
            url = link if link and link != url else None
        return found

    # ---------- the Registry protocol ----------
    def _read_manifest(self, name: str, reference: str) -> dict[str, Any]:
        data, digest = self._manifest(name, reference)
        manifest = read_json(data, f"{name}:{reference}", RegistryError)
        layers = manifest.get("layers") if isinstance(manifest, dict) else None
        annotations = manifest.get("annotations") or {} if isinstance(manifest, dict) else {}
        if (not isinstance(layers, list) or len(layers) != 1 or layers[0].get("mediaType") != LAYER_TYPE
                or (manifest.get("config") or {}).get("mediaType") != CONFIG_TYPE or not annotations.get(A_VERSION)):
            raise RegistryError(f"{name}:{reference} in {self.location} is not a skillc skill (an OCI artifact of type "
                                f"{ARTIFACT_TYPE} with one {LAYER_TYPE} layer)")
        manifest["_digest"], manifest["_raw"] = digest, data
        self._manifests[(name, annotations[A_VERSION])] = manifest
        return manifest

    def _info(self, name: str, manifest: dict[str, Any]) -> VersionInfo:
        notes, layer = manifest["annotations"], manifest["layers"][0]
        signature = json.loads(notes[A_SIGNATURE]) if notes.get(A_SIGNATURE) else None
        return VersionInfo(name, notes[A_VERSION], notes.get(A_DIGEST, ""), layer["digest"].removeprefix("sha256:"),
                           int(layer.get("size", 0)), signature.get("key_id") if isinstance(signature, dict) else None,
                           notes.get(A_CREATED, ""))

    def resolve(self, name: str, ref: str | None) -> VersionInfo:
        """`ref`: a version, a tag, an OCI manifest digest, a skill manifest digest (`sha256:…`), or None for `latest`."""
        ref = ref or "latest"
        try:
            manifest = self._read_manifest(name, ref)
        except NotFound:
            if not ref.startswith("sha256:"):
                raise NotFound(f"{name}: no version or tag {ref!r} in {self.location} (tags: {', '.join(self._tags_or_none(name)) or 'none'})") from None
            return resolve_version(self.versions(name), name, ref)  # a skill manifest digest, not an OCI one
        info = self._info(name, manifest)
        if SEMVER.match(ref) and info.version != ref:
            raise RegistryError(f"{name}:{ref} in {self.location} holds version {info.version}; the tag was moved, refused")
        return info

    def _tags_or_none(self, name: str) -> list[str]:
        try:
            return self.tags(name)
        except RegistryError:
            return []

    def versions(self, name: str) -> dict[str, Any]:
        """`versions.json`'s shape, read from the repository's tags (one manifest read per tag)."""
        data: dict[str, Any] = {"name": name, "versions": {}, "tags": {}}
        for tag in self.tags(name):
            info = self._info(name, self._read_manifest(name, tag))
            if SEMVER.match(tag):
                data["versions"][tag] = info.as_dict()
            else:
                data["tags"][tag] = info.version
        return data

    def fetch(self, name: str, version: str, file: str) -> bytes | None:
        manifest = self._manifests.get((name, version)) or self._read_manifest(name, version)
        notes = manifest["annotations"]
        if file == SIGNATURE:
            return notes[A_SIGNATURE].encode() if notes.get(A_SIGNATURE) else None
        if file == MANIFEST or file == ARCHIVE:
            config = self._blob(name, manifest["config"])
            try:
                digest = manifest_digest(json.loads(config))
            except (ValueError, TypeError, KeyError, AttributeError):
                raise BlobMismatch(f"{name}@{version}: its config is not a skill manifest") from None
            if digest != notes.get(A_DIGEST):
                raise BlobMismatch(f"{name}@{version}: its config is manifest {digest}, but the annotation says {notes.get(A_DIGEST)}")
            return config if file == MANIFEST else self._blob(name, manifest["layers"][0])
        return None

    def publish(self, archive: bytes, *, name: str, version: str, signature: dict[str, Any] | None,
                tags: list[str]) -> VersionInfo:
        """Push a version (refused when its tag exists), then point `latest` and `tags` at it."""
        with tempfile.TemporaryDirectory(prefix="skillc-oci-") as work:
            folder = unpack_published(archive, Path(work) / name, name=name, version=version, tags=tags)
            config = (folder / MANIFEST).read_bytes()
            description = skill_md_description(folder / "SKILL.md")
        if self._request("HEAD", f"/v2/{self._repo(name)}/manifests/{version}", headers={"accept": OCI_MANIFEST}).status_code == 200:
            existing = self.resolve(name, version)
            raise VersionExists(f"{name}@{version} is already published in {self.location} ({existing.digest}); "
                                "published versions are immutable: bump the version")
        created = datetime.now(UTC).isoformat(timespec="seconds")
        notes = {A_VERSION: version, A_TITLE: name, A_CREATED: created, A_DIGEST: manifest_digest(json.loads(config))}
        if description:
            notes[A_DESCRIPTION] = description
        if signature is not None:
            notes[A_SIGNATURE] = json.dumps(signature, sort_keys=True)
        manifest = {"schemaVersion": 2, "mediaType": OCI_MANIFEST, "artifactType": ARTIFACT_TYPE,
                    "config": self._push_blob(name, config, CONFIG_TYPE),
                    "layers": [self._push_blob(name, archive, LAYER_TYPE)], "annotations": notes}
        data = json.dumps(manifest, sort_keys=True, separators=(",", ":")).encode()
        for reference in (version, "latest", *tags):
            self._put_manifest(name, reference, data)
        return VersionInfo(name, version, notes[A_DIGEST], sha256_hex(archive), len(archive),
                           signature.get("key_id") if signature else None, created)

    def set_tag(self, name: str, tag: str, version: str) -> None:
        check_tag(tag)
        data, _ = self._manifest(name, check_version(version))
        self._put_manifest(name, tag, data)

    def yank(self, name: str, version: str, reason: str) -> None:
        raise RegistryError(f"{self.location}: yanking needs a skillc registry (an HTTP server, a directory or a bucket); "
                            "an OCI registry has no place for it: delete the tag there, or move `latest`")

    def search(self, query: str) -> list[dict[str, Any]]:
        """Skills in the namespace (from the registry's `_catalog`, which GHCR and some others do not offer)."""
        response = self._check(self._request("GET", "/v2/_catalog"), "the catalog")
        prefix = f"{self.namespace}/" if self.namespace else ""
        entries = []
        for repo in read_json(response.content, "catalog", RegistryError).get("repositories") or []:
            name = repo.removeprefix(prefix)
            if not repo.startswith(prefix) or "/" in name:
                continue
            try:
                manifest = self._read_manifest(name, "latest")
            except RegistryError:
                continue  # not a skill, or no latest tag
            info = self._info(name, manifest)
            entries.append({"name": name, "type": "archive", "version": info.version, "manifest_digest": info.digest,
                            "description": manifest["annotations"].get(A_DESCRIPTION, ""),
                            "digest": manifest["_digest"]})
        return search_index({"skills": entries}, query)


__all__ = ["BlobMismatch", "OciRegistry", "split_oci_ref"]
