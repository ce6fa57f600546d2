"""Skills as OCI artifacts, against the real CNCF distribution registry (Debian's `docker-registry`, which
`make test` installs as root), started on 127.0.0.1 with htpasswd auth and stopped after the module."""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
from pathlib import Path

import bcrypt
import httpx
import pytest

from skillc.registry.archive import ArchiveError
from skillc.registry.client import open_registry, publish, pull
from skillc.registry.layout import NotFound, VersionExists
from skillc.registry.oci import CONFIG_TYPE, LAYER_TYPE, BlobMismatch, OciRegistry
from skillc.registry.oci_auth import OciAuthError
from skillc.registry.signing import TrustStore, generate_keys
from skillc.skills.skill import Skill
from tests.servers import free_port, running

REGISTRY = shutil.which("docker-registry") or shutil.which("registry")
pytestmark = pytest.mark.skipif(REGISTRY is None, reason="docker-registry is not installed (make test installs Debian's package as root)")
USER, PASSWORD = "team", "s3cret-pass"


@pytest.fixture(scope="module")
def oci(tmp_path_factory):
    """(location oci://127.0.0.1:PORT/team, storage root) of a running registry that needs a login."""
    root = tmp_path_factory.mktemp("oci")
    (root / "htpasswd").write_text(f"{USER}:{bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=4)).decode()}\n")
    port = free_port()
    (root / "config.yml").write_text(
        "version: 0.1\nlog: {level: warn}\n"
        f"storage: {{filesystem: {{rootdirectory: {root / 'data'}}}, delete: {{enabled: true}}}}\n"
        f"http: {{addr: '127.0.0.1:{port}'}}\n"
        f"auth: {{htpasswd: {{realm: skillc-test, path: {root / 'htpasswd'}}}}}\n")
    with running([REGISTRY, "serve", str(root / "config.yml")], port, log=root / "registry.log"):
        yield f"oci://127.0.0.1:{port}/team", root / "data"


@pytest.fixture
def logged_in(tmp_path: Path, monkeypatch, oci):
    """A docker config with the registry's login, as `docker login` writes it."""
    location, _ = oci
    host = location.removeprefix("oci://").split("/")[0]
    (tmp_path / "docker").mkdir()
    (tmp_path / "docker" / "config.json").write_text(json.dumps(
        {"auths": {host: {"auth": base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()}}}))
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker"))
    monkeypatch.delenv("SKILLC_OCI_USERNAME", raising=False)
    return location


def _renamed(skill_dir: Path, name: str) -> Path:
    skill = Skill.load(skill_dir)
    return skill.replace(spec=skill.spec.model_copy(update={"name": name})).save(skill_dir.parent / name)


def test_push_list_tags_and_pull_by_tag_and_by_digest(logged_in, skill_dir, tmp_path) -> None:
    folder = _renamed(skill_dir, "oci-roundtrip")
    info = publish(folder, logged_in, tags=["prod"])
    registry = OciRegistry(logged_in)
    assert sorted(registry.tags("oci-roundtrip")) == ["0.1.0", "latest", "prod"]
    assert registry.versions("oci-roundtrip")["tags"] == {"latest": "0.1.0", "prod": "0.1.0"}

    by_tag = pull(f"{logged_in}/oci-roundtrip:prod", None, tmp_path / "by-tag")
    assert Skill.load(by_tag).digest == info.digest == Skill.load(folder).digest
    raw = httpx.get(f"{registry.base_url}/v2/team/oci-roundtrip/manifests/0.1.0", auth=(USER, PASSWORD),
                    headers={"accept": "application/vnd.oci.image.manifest.v1+json"})
    manifest = raw.json()
    assert manifest["config"]["mediaType"] == CONFIG_TYPE and [layer["mediaType"] for layer in manifest["layers"]] == [LAYER_TYPE]
    assert manifest["annotations"]["org.opencontainers.image.version"] == "0.1.0"
    oci_digest = "sha256:" + hashlib.sha256(raw.content).hexdigest()

    by_digest = pull(f"{logged_in}/oci-roundtrip@{oci_digest}", None, tmp_path / "by-digest")
    assert Skill.load(by_digest).digest == info.digest
    origin = json.loads((by_digest / "origin.json").read_text())
    assert origin["registry"] == logged_in and origin["version"] == "0.1.0"


def test_a_version_is_published_once(logged_in, skill_dir) -> None:
    folder = _renamed(skill_dir, "oci-once")
    publish(folder, logged_in)
    with pytest.raises(VersionExists, match="immutable"):
        publish(folder, logged_in)


def test_a_signed_skill_carries_its_signature_and_is_checked(logged_in, skill_dir, tmp_path) -> None:
    folder = _renamed(skill_dir, "oci-signed")
    private, public = generate_keys(tmp_path / "keys" / "team")
    trust = TrustStore(tmp_path / "trust.json")
    kid = trust.add(public, "oci-*")
    info = publish(folder, logged_in, sign_key=private)
    assert info.signed_by == kid
    pulled = pull(f"{logged_in}/oci-signed:0.1.0", None, tmp_path / "out", require_signed=True, trust=trust)
    assert json.loads((pulled / "origin.json").read_text())["signed_by"] == kid


def test_a_tampered_blob_is_refused_and_nothing_is_unpacked(logged_in, oci, skill_dir, tmp_path) -> None:
    folder = _renamed(skill_dir, "oci-tampered")
    publish(folder, logged_in)
    registry = OciRegistry(logged_in)
    layer = registry.resolve("oci-tampered", "0.1.0").archive_sha256
    stored = oci[1] / "docker" / "registry" / "v2" / "blobs" / "sha256" / layer[:2] / layer / "data"
    data = bytearray(stored.read_bytes())
    data[len(data) // 2] ^= 0xFF  # same size, other bytes: what a bad disk or an attacker with bucket access leaves
    stored.write_bytes(bytes(data))
    with pytest.raises(BlobMismatch, match="changed in the registry"):
        pull(f"{logged_in}/oci-tampered:0.1.0", None, tmp_path / "out")
    assert not (tmp_path / "out" / "oci-tampered").exists()
    assert issubclass(BlobMismatch, ArchiveError)


def test_without_a_login_the_error_says_how_to_log_in(oci, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "nothing"))
    monkeypatch.delenv("SKILLC_OCI_USERNAME", raising=False)
    with pytest.raises(OciAuthError, match="docker login 127.0.0.1"):
        open_registry(oci[0]).resolve("anything", "1.0.0")


def test_a_missing_skill_is_not_found(logged_in) -> None:
    with pytest.raises(NotFound):
        OciRegistry(logged_in).resolve("no-such-skill", None)


def test_the_cli_publishes_and_pulls_oci_references(logged_in, skill_dir, tmp_path) -> None:
    from typer.testing import CliRunner

    from skillc.cli.app import app

    folder = _renamed(skill_dir, "oci-cli")
    runner = CliRunner()
    published = runner.invoke(app, ["publish", str(folder), "--registry", logged_in])
    assert published.exit_code == 0, published.output
    pulled = runner.invoke(app, ["pull", f"{logged_in}/oci-cli:0.1.0", "--out", str(tmp_path / "out")])
    assert pulled.exit_code == 0, pulled.output
    assert "pulled oci-cli@0.1.0" in pulled.output
    found = runner.invoke(app, ["search", "--registry", logged_in])
    assert found.exit_code == 0 and "oci-cli" in found.output
