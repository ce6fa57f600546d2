"""The directory storage's write kinds between processes: create-only has one winner, a swap on a stale ETag fails."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest

from skillc.registry.storage import DirectoryStorage, StorageError, open_storage


def _create(root: str, n: int, queue) -> None:
    queue.put((n, DirectoryStorage(Path(root)).create("skills/x/1.0.0/version.json", f"writer {n}".encode())))


def test_of_8_processes_creating_one_key_exactly_one_wins(tmp_path) -> None:
    queue = multiprocessing.get_context("fork").Queue()
    procs = [multiprocessing.get_context("fork").Process(target=_create, args=(str(tmp_path), n, queue)) for n in range(8)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(30)
    results = dict(queue.get(timeout=5) for _ in range(8))
    winners = [n for n, won in results.items() if won]
    assert len(winners) == 1
    assert DirectoryStorage(tmp_path).get("skills/x/1.0.0/version.json")[0] == f"writer {winners[0]}".encode()
    assert [p.name for p in (tmp_path / "skills" / "x" / "1.0.0").iterdir()] == ["version.json"]  # no temp debris


def test_a_swap_needs_the_current_etag(tmp_path) -> None:
    store = DirectoryStorage(tmp_path)
    assert store.replace("k.json", b"1", None) and not store.replace("k.json", b"2", None)
    _, etag = store.get("k.json")
    assert store.replace("k.json", b"2", etag) and not store.replace("k.json", b"3", etag)
    assert store.get("k.json")[0] == b"2" and store.list("") == ["k.json"]


@pytest.mark.parametrize("key", ["../x", "/etc/passwd", "a//b", "a/./b", ""])
def test_keys_cannot_leave_the_root(tmp_path, key) -> None:
    with pytest.raises(StorageError):
        DirectoryStorage(tmp_path).put(key, b"x")


def test_other_url_schemes_are_refused() -> None:
    with pytest.raises(StorageError, match="s3://"):
        open_storage("gs://bucket/prefix")


def test_an_unreachable_bucket_is_a_storage_error_that_says_where(monkeypatch) -> None:
    from skillc.registry.storage import BucketStorage

    for key, value in {"AWS_ACCESS_KEY_ID": "k", "AWS_SECRET_ACCESS_KEY": "s", "AWS_REGION": "us-east-1",
                       "AWS_ENDPOINT_URL": "http://127.0.0.1:1"}.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(StorageError, match="s3://nowhere/x: reading a failed"):
        BucketStorage("s3://nowhere/x").get("a")


def test_a_version_published_before_claims_existed_is_not_overwritten(tmp_path, invoice_spec) -> None:
    from skillc.core.records import new_record
    from skillc.registry.archive import pack
    from skillc.registry.layout import CLAIM, RegistryStore, VersionExists
    from skillc.skills.skill import Skill

    def archive(n: int) -> bytes:
        record = new_record("fields", {"text": f"{n} desks at $7."}, {"quantity": n, "unit_price": 7, "stated_total": 7 * n})
        return pack(Skill(invoice_spec, [record]).save(tmp_path / f"v{n}" / "invoice-total"))

    store = RegistryStore(tmp_path / "registry")
    first = archive(1)
    store.publish(first, name="invoice-total", version="0.1.0")
    (tmp_path / "registry" / "skills" / "invoice-total" / "0.1.0" / CLAIM).unlink()  # the layout of an older registry
    with pytest.raises(VersionExists):
        store.publish(archive(2), name="invoice-total", version="0.1.0")
    assert store.read("skills/invoice-total/0.1.0/skill.tar.gz") == first


def test_a_link_out_of_the_root_is_never_read(tmp_path) -> None:
    (tmp_path / "outside.txt").write_text("secret")
    root = tmp_path / "registry"
    (root / "skills").mkdir(parents=True)
    (root / "skills" / "leak.json").symlink_to(tmp_path / "outside.txt")
    with pytest.raises(StorageError, match="a link"):
        DirectoryStorage(root).get("skills/leak.json")
