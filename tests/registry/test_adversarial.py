"""Against the real server on 127.0.0.1: every bad upload or doctored store is refused, and nothing is lost.

Each case checks the refusal (status or typed error) and that the store still serves exactly what was
published before it.
"""

from __future__ import annotations

import gzip
import io
import json
import shutil
import signal
import subprocess
import sys
import tarfile
import threading
import time
from pathlib import Path

import httpx
import pytest

from skillc.core.errors import SkillFolderError
from skillc.registry.archive import ArchiveError, pack, sha256_hex
from skillc.registry.client import HttpRegistry, LocalRegistry, publish, pull
from skillc.registry.layout import NotFound, RegistryError, VersionExists
from skillc.registry.server import new_token
from skillc.registry.signing import SignatureError, TrustStore, generate_keys, sign
from skillc.skills.skill import Skill


def tar_of(members: dict[str, bytes | tuple[str, str]]) -> bytes:
    """A tar.gz with regular files (bytes) or special members ((kind, target))."""
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0) as gz, tarfile.open(fileobj=gz, mode="w") as tar:
        for name, content in members.items():
            info = tarfile.TarInfo(name)
            if isinstance(content, tuple):
                info.type = {"symlink": tarfile.SYMTYPE, "hardlink": tarfile.LNKTYPE, "dir": tarfile.DIRTYPE,
                             "device": tarfile.CHRTYPE}[content[0]]
                info.linkname = content[1]
                tar.addfile(info)
            else:
                info.size = len(content)
                tar.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


def put(server, token: str | None, archive: bytes, version: str = "0.1.0", **headers: str) -> httpx.Response:
    auth = {"authorization": f"Bearer {token}"} if token else {}
    return httpx.put(f"{server.base_url}/api/skills/invoice-total/{version}", content=archive,
                     headers={**auth, **headers}, timeout=30)


def good_archive(skill_dir: Path) -> bytes:
    return pack(skill_dir)


def assert_unchanged(server, published: dict) -> None:
    data = httpx.get(f"{server.base_url}/skills/invoice-total/versions.json").json()
    assert {v: i["digest"] for v, i in data["versions"].items()} == published


def test_no_token_is_401_and_a_wrong_one_403(server, skill_dir):
    archive = good_archive(skill_dir)
    assert put(server, None, archive).status_code == 401
    assert put(server, "skc_wrong", archive).status_code == 403
    assert httpx.get(f"{server.base_url}/skills/invoice-total/versions.json").status_code == 404  # nothing stored


def test_a_published_version_is_immutable(server, token, skill_dir):
    info = publish(skill_dir, HttpRegistry(server.base_url, token))
    with pytest.raises(VersionExists, match="immutable"):
        publish(skill_dir, HttpRegistry(server.base_url, token))
    assert_unchanged(server, {"0.1.0": info.digest})


@pytest.mark.parametrize(("members", "why"), [
    ({"../evil.txt": b"x"}, "outside the skill folder"),
    ({"/etc/cron.d/evil": b"x"}, "outside the skill folder"),
    ({"sub/skill.json": b"{}"}, "subfolder"),
    ({"link.txt": ("symlink", "/etc/passwd")}, "link"),
    ({"hard.txt": ("hardlink", "/etc/passwd")}, "link"),
    ({"dev": ("device", "")}, "device"),
    ({"model.pkl": b"cos\nsystem\n(S'id'\ntR."}, "pickled"),
    ({".hidden": b"x"}, "hidden"),
    ({f"f{i}.txt": b"x" for i in range(70)}, "more than 64 files"),
])
def test_unsafe_archives_are_refused_before_anything_is_written(server, token, skill_dir, tmp_path, members, why):
    response = put(server, token, tar_of(members))
    assert response.status_code == 400 and why in response.json()["detail"], response.text
    assert not list((tmp_path / "registry" / "skills" / "invoice-total").glob("0.1.0"))


def test_a_tar_bomb_is_stopped_by_the_size_cap_without_unpacking(server, token, tmp_path):
    bomb = io.BytesIO()
    with gzip.GzipFile(fileobj=bomb, mode="wb") as gz, tarfile.open(fileobj=gz, mode="w") as tar:
        info = tarfile.TarInfo("skill.json")
        info.size = 300 * 2**20  # 300 MB of zeros compress to about 300 KB
        tar.addfile(info, io.BytesIO(bytes(info.size)))
    started = time.monotonic()
    response = put(server, token, bomb.getvalue())
    assert response.status_code == 400 and "MB allowed" in response.json()["detail"]
    assert time.monotonic() - started < 10


def test_an_oversized_upload_is_413(server, token):
    assert put(server, token, b"\0" * (5 * 2**20)).status_code == 413


def test_a_truncated_upload_is_refused(server, token, skill_dir):
    archive = good_archive(skill_dir)
    cut = put(server, token, archive[: len(archive) // 2], **{"x-skillc-archive-sha256": sha256_hex(archive)})
    assert cut.status_code == 400 and "cut short" in cut.json()["detail"]
    no_header = put(server, token, archive[: len(archive) // 2])
    assert no_header.status_code == 400  # the gzip stream itself is incomplete


def test_an_archive_whose_files_do_not_match_its_manifest_is_refused(server, token, skill_dir, tmp_path):
    work = tmp_path / "tampered" / "invoice-total"
    shutil.copytree(skill_dir, work)
    archive = pack(work)
    with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as tar:
        members = {m.name: tar.extractfile(m).read() for m in tar}
    members["skill.json"] = members["skill.json"].replace(b"quantity", b"quantitx", 1)
    response = put(server, token, tar_of(members))
    assert response.status_code == 400 and "does not match its manifest" in response.json()["detail"]


def test_a_doctored_store_is_refused_on_pull(server, token, skill_dir, tmp_path):
    info = publish(skill_dir, HttpRegistry(server.base_url, token))
    store = tmp_path / "registry" / "skills" / "invoice-total"
    archive_path = store / "0.1.0" / "skill.tar.gz"
    original = archive_path.read_bytes()
    archive_path.write_bytes(original[:-20] + b"\0" * 20)  # the archive changed at rest
    with pytest.raises(ArchiveError, match="archive sha256"):
        pull("invoice-total@0.1.0", HttpRegistry(server.base_url), tmp_path / "out")
    archive_path.write_bytes(original)
    versions = json.loads((store / "versions.json").read_text())
    versions["versions"]["0.1.0"]["digest"] = "sha256:" + "0" * 64  # the listed digest changed
    (store / "versions.json").write_text(json.dumps(versions))
    with pytest.raises(ArchiveError, match="digest"):
        pull("invoice-total@0.1.0", HttpRegistry(server.base_url), tmp_path / "out")
    assert not (tmp_path / "out" / "invoice-total").exists()  # nothing half-unpacked is left in place
    assert info.digest != versions["versions"]["0.1.0"]["digest"]


def test_unknown_versions_and_skills_are_404(server, token, skill_dir, tmp_path):
    publish(skill_dir, HttpRegistry(server.base_url, token))
    with pytest.raises(NotFound, match="no version or tag"):
        pull("invoice-total@9.9.9", HttpRegistry(server.base_url), tmp_path / "out")
    with pytest.raises(NotFound):
        pull("no-such-skill", HttpRegistry(server.base_url), tmp_path / "out")
    assert httpx.get(f"{server.base_url}/skills/invoice-total/9.9.9/skill.tar.gz").status_code == 404


def test_signatures_unsigned_untrusted_and_forged_are_refused_when_required(server, token, skill_dir, tmp_path):
    trust = TrustStore(tmp_path / "trust.json")
    registry = HttpRegistry(server.base_url, token)
    publish(skill_dir, registry, version="0.1.0")
    with pytest.raises(SignatureError, match="not signed"):
        pull("invoice-total@0.1.0", HttpRegistry(server.base_url), tmp_path / "a", require_signed=True, trust=trust)
    mine, _ = generate_keys(tmp_path / "k" / "mine")
    publish(skill_dir, registry, version="0.2.0", sign_key=mine)
    with pytest.raises(SignatureError, match="does not trust"):
        pull("invoice-total@0.2.0", HttpRegistry(server.base_url), tmp_path / "b", require_signed=True, trust=trust)
    trust.add(tmp_path / "k" / "mine.pub", "invoice-*")
    assert pull("invoice-total@0.2.0", HttpRegistry(server.base_url), tmp_path / "c", require_signed=True, trust=trust)
    # a signature by the trusted key, but over another manifest
    forged = sign(b"some other manifest", mine)
    sig_path = tmp_path / "registry" / "skills" / "invoice-total" / "0.2.0" / "manifest.sig"
    sig_path.write_text(json.dumps(forged))
    with pytest.raises(SignatureError, match="does not match"):
        pull("invoice-total@0.2.0", HttpRegistry(server.base_url), tmp_path / "d", require_signed=True, trust=trust)


def test_concurrent_publishes_of_one_version_exactly_one_wins(server, token, skill_dir):
    archive = good_archive(skill_dir)
    codes: list[int] = []

    def attempt() -> None:
        codes.append(put(server, token, archive).status_code)

    threads = [threading.Thread(target=attempt) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(codes) == [201] + [409] * 7
    data = httpx.get(f"{server.base_url}/skills/invoice-total/versions.json").json()
    assert list(data["versions"]) == ["0.1.0"]
    served = httpx.get(f"{server.base_url}/skills/invoice-total/0.1.0/skill.tar.gz").content
    assert sha256_hex(served) == data["versions"]["0.1.0"]["archive_sha256"]


def test_a_server_killed_mid_publish_shows_no_half_published_version(tmp_path, skill_dir):
    root, tokens = tmp_path / "killed-registry", tmp_path / "tokens"
    token = new_token(tokens)
    archive = pack(skill_dir)

    def serve() -> tuple[subprocess.Popen, str]:
        proc = subprocess.Popen([sys.executable, "-m", "skillc.cli", "registry", "serve", "--root", str(root), "--port", "0",
                                 "--token-file", str(tokens)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                env={**__import__("os").environ, "COLUMNS": "300"})
        line = proc.stdout.readline()
        return proc, line.split(" at ")[1].split(" ")[0]

    proc, url = serve()

    def slow_body():  # half the archive, then the server dies while waiting for the rest
        yield archive[: len(archive) // 2]
        time.sleep(30)
        yield archive[len(archive) // 2:]

    def upload() -> None:
        try:
            httpx.put(f"{url}/api/skills/invoice-total/0.1.0", content=slow_body(),
                      headers={"authorization": f"Bearer {token}", "content-length": str(len(archive))}, timeout=60)
        except httpx.HTTPError:
            pass

    threading.Thread(target=upload, daemon=True).start()
    time.sleep(1.5)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    registry = LocalRegistry(root)
    with pytest.raises(NotFound):
        registry.resolve("invoice-total", "0.1.0")
    # debris of a publisher killed between moving the version in and naming it in versions.json: still invisible
    (root / "skills" / "invoice-total" / "0.1.0").mkdir(parents=True, exist_ok=True)
    (root / "skills" / "invoice-total" / "0.1.0" / "skill.tar.gz").write_bytes(b"half")
    proc, url = serve()
    try:
        assert httpx.get(f"{url}/skills/invoice-total/0.1.0/skill.tar.gz").status_code == 404
        info = publish(skill_dir, HttpRegistry(url, token))  # the same version publishes cleanly afterwards
        assert pull("invoice-total@0.1.0", HttpRegistry(url), tmp_path / "out").exists()
        assert info.version == "0.1.0"
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)


def test_a_lock_refuses_what_it_does_not_pin(server, token, skill_dir, tmp_path):
    registry = HttpRegistry(server.base_url, token)
    publish(skill_dir, registry, version="0.1.0")
    lock = tmp_path / "skills.lock"
    pull("invoice-total@0.1.0", HttpRegistry(server.base_url), tmp_path / "out", lock=lock)
    publish(skill_dir, registry, version="0.2.0")
    with pytest.raises(SkillFolderError, match="pins invoice-total@0.1.0"):
        pull("invoice-total", HttpRegistry(server.base_url), tmp_path / "out", lock=lock)
    lock.write_text(json.dumps({"skills": {}}))
    with pytest.raises(SkillFolderError, match="does not pin"):
        pull("invoice-total@0.1.0", HttpRegistry(server.base_url), tmp_path / "out", lock=lock)
    assert Skill.load(tmp_path / "out" / "invoice-total").spec.version == "0.1.0"  # the pinned pull stayed


def test_bad_names_versions_and_tags_are_400(server, token, skill_dir):
    archive = good_archive(skill_dir)
    assert httpx.put(f"{server.base_url}/api/skills/Bad_Name/0.1.0", content=archive,
                     headers={"authorization": f"Bearer {token}"}).status_code == 400
    assert put(server, token, archive, version="latest").status_code == 400
    with pytest.raises(RegistryError):
        HttpRegistry(server.base_url, token).set_tag("invoice-total", "1.0.0", "0.1.0")
