"""Registry latency: publish and pull of a skill with a 10k-record bank, and 100 concurrent pulls of one server.

    python bench/registry_latency.py                     # 10,000 records, 20 publishes, 20 pulls, 100 concurrent pulls
    python bench/registry_latency.py --records 1000 --rounds 5 --concurrent 20

The server is `skillc registry serve` in its own process on 127.0.0.1 (one uvicorn worker); the client is this
process. The skill is the bundled invoice task's design with a bank of `--records` records (~300 bytes of
input each) and its 384-dimension FAISS index (vectors from a deterministic stand-in embedding: the index has
the real size, and latency does not depend on what the vectors mean).

- publish: `skillc.registry.client.publish` of the folder as a new version each round (pack, sign, upload,
  server-side verification of every file, atomic store), `--rounds` times.
- pull: `pull` of one version into a fresh folder (archive digest, safe extraction, every file re-hashed,
  signature verified, atomic move), `--rounds` times.
- concurrent: `--concurrent` pulls started at once from a thread pool, each into its own folder (the
  client's verification and unpacking share this one Python process), then `--concurrent` plain downloads of
  the archive at once (the server alone).
Medians and p99 (nearest rank) in milliseconds. Writes bench/results/registry_latency.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
from langchain_core.embeddings import DeterministicFakeEmbedding

from skillc.core.records import new_record
from skillc.core.spec import SkillSpec
from skillc.demo import bundled_task
from skillc.registry.client import HttpRegistry, publish, pull
from skillc.registry.server import new_token
from skillc.registry.signing import TrustStore, generate_keys
from skillc.skills.bank import ExampleBank
from skillc.skills.skill import Skill

ROOT = Path(__file__).resolve().parents[1]


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(0.99 * len(ordered)) - 1))]


def stats(values: list[float]) -> dict[str, float]:
    return {"n": len(values), "p50_ms": round(statistics.median(values) * 1000, 1), "p99_ms": round(p99(values) * 1000, 1),
            "max_ms": round(max(values) * 1000, 1)}


def build_skill(folder: Path, records: int) -> Path:
    task, _ = bundled_task()
    spec = SkillSpec.model_validate({
        "name": "invoice-total", "task": task.description, "entry": "fields",
        "input_schema": task.input_schema,
        "output_schema": {"type": "object", "properties": {"total": {"type": "number"}}, "required": ["total"]},
        "steps": [{"id": "fields", "primitive": "extract", "instruction": "Extract the total.", "reads": ["text"],
                   "writes": ["total"], "next": "END",
                   "contract": {"type": "object", "properties": {"total": {"type": "number"}}, "required": ["total"]}}],
    })
    Skill(spec).save(folder)
    bank = ExampleBank(folder, embeddings=DeterministicFakeEmbedding(size=384))
    batch = [new_record("fields", {"text": f"INVOICE #{i}. {i % 17 + 1} items at ${i % 97 + 0.5:.2f} each. " + "Terms net 30. " * 15},
                        {"total": round((i % 17 + 1) * (i % 97 + 0.5), 2)}, reasoning=f"worked example {i}") for i in range(records)]
    bank.add(batch, check=False)
    bank.save_index()
    from skillc.core.manifest import write_manifest

    write_manifest(folder)
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--concurrent", type=int, default=100)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "registry_latency.json")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="skillc-registry-bench-"))
    print(f"building a skill with {args.records:,} bank records …", file=sys.stderr, flush=True)
    folder = build_skill(work / "src" / "invoice-total", args.records)
    size = sum(p.stat().st_size for p in folder.iterdir())
    private, public = generate_keys(work / "keys" / "bench")
    trust = TrustStore(work / "trust.json")
    trust.add(public, "*")
    token = new_token(work / "tokens")
    proc = subprocess.Popen([sys.executable, "-m", "skillc.cli", "registry", "serve", "--root", str(work / "registry"),
                             "--port", "0", "--token-file", str(work / "tokens")],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env={**os.environ, "COLUMNS": "300"})
    try:
        url = proc.stdout.readline().split(" at ")[1].split(" ")[0]
        registry = HttpRegistry(url, token)
        publish_s, pull_s = [], []
        archive_bytes = 0
        for n in range(args.rounds):
            started = time.perf_counter()
            info = publish(folder, registry, version=f"1.0.{n}", sign_key=private)
            publish_s.append(time.perf_counter() - started)
            archive_bytes = info.size
            print(f"publish {n + 1}/{args.rounds}: {publish_s[-1] * 1000:.0f} ms", file=sys.stderr, flush=True)
        for n in range(args.rounds):
            started = time.perf_counter()
            pull(f"invoice-total@1.0.{n}", HttpRegistry(url), work / "pulled" / str(n), require_signed=True, trust=trust)
            pull_s.append(time.perf_counter() - started)
            print(f"pull {n + 1}/{args.rounds}: {pull_s[-1] * 1000:.0f} ms", file=sys.stderr, flush=True)

        def one(n: int) -> float:
            started = time.perf_counter()
            pull("invoice-total:latest", HttpRegistry(url), work / "concurrent" / str(n), require_signed=True, trust=trust)
            return time.perf_counter() - started

        print(f"{args.concurrent} concurrent pulls …", file=sys.stderr, flush=True)
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=args.concurrent) as pool:
            futures = [pool.submit(one, n) for n in range(args.concurrent)]
            results, errors = [], []
            for f in futures:
                try:
                    results.append(f.result())
                except Exception as exc:  # noqa: BLE001 - counted and reported, not hidden
                    errors.append(f"{type(exc).__name__}: {exc}")
        wall = time.perf_counter() - started

        def fetch(n: int) -> float:  # the server alone: the archive downloaded, nothing verified or written
            t0 = time.perf_counter()
            response = httpx.get(f"{url}/skills/invoice-total/1.0.0/skill.tar.gz", timeout=300)
            response.raise_for_status()
            return time.perf_counter() - t0

        print(f"{args.concurrent} concurrent downloads …", file=sys.stderr, flush=True)
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=args.concurrent) as pool:
            downloads = list(pool.map(fetch, range(args.concurrent)))
        download_wall = time.perf_counter() - started
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    report: dict[str, Any] = {
        "command": "python bench/registry_latency.py " + " ".join(sys.argv[1:]),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "date": time.strftime("%Y-%m-%d"),
        "records": args.records, "folder_bytes": size, "archive_bytes": archive_bytes,
        "publish": stats(publish_s), "pull": stats(pull_s),
        "concurrent": {"pulls": args.concurrent, "ok": len(results), "errors": len(errors), "first_errors": errors[:3],
                       "wall_s": round(wall, 2), **(stats(results) if results else {}),
                       "pulls_per_s": round(len(results) / wall, 1)},
        "concurrent_downloads": {"downloads": args.concurrent, "wall_s": round(download_wall, 2), **stats(downloads),
                                 "mb_per_s": round(args.concurrent * archive_bytes / 2**20 / download_wall, 1)},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"| {args.records:,}-record skill ({size / 2**20:.1f} MB, archive {archive_bytes / 2**20:.1f} MB) | p50 ms | p99 ms |")
    print("| --- | --- | --- |")
    print(f"| publish (sign, upload, verify, store) | {report['publish']['p50_ms']} | {report['publish']['p99_ms']} |")
    print(f"| pull (fetch, verify, unpack) | {report['pull']['p50_ms']} | {report['pull']['p99_ms']} |")
    c = report["concurrent"]
    print(f"| {c['pulls']} concurrent pulls: {c['ok']} ok, {c['errors']} errors, {c['wall_s']} s wall, {c['pulls_per_s']} pulls/s | "
          f"{c.get('p50_ms')} | {c.get('p99_ms')} |")
    d = report["concurrent_downloads"]
    print(f"| {d['downloads']} concurrent archive downloads (server only): {d['wall_s']} s wall, {d['mb_per_s']} MB/s | "
          f"{d['p50_ms']} | {d['p99_ms']} |")


if __name__ == "__main__":
    main()
