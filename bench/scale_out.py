"""Scale-out, measured (issue 28): one command per part, each writing bench/results/scale_out/<part>.json.

    python bench/scale_out.py overhead   # the fixed-latency fake server: items/s at concurrency 1, 4, 16, 64
    python bench/scale_out.py replicas   # one and two llama.cpp student servers: items/s at concurrency 1, 2, 4
    python bench/scale_out.py pull       # pull latency: the CNCF registry (OCI) against skillc's own server

- `overhead`: the bundled invoice skill (one model step, one compute step) with its student on
  `skillc.benchmarks.fake_openai` (every call takes `--latency` s, 0.2 by default, and calls overlap), escalation
  off, through the batch runner `skillc run --inputs` uses. Ideal items/s = concurrency / (calls per item x
  latency). skillc's overhead per step = (an input's wall time - its model calls' latency) / its steps.
- `replicas`: the same skill on 8 invoices with its student on llama.cpp servers of local:student: one server with
  2 threads, then two servers with 1 thread each (the machine's 2 cores either way), at concurrency 1, 2 and 4,
  in one run. Items/s, and each as a ratio to one server at concurrency 1.
- `pull`: a skill with a 2,000-record bank published to Debian's docker-registry and to `skillc registry serve`,
  both on 127.0.0.1, then `--rounds` pulls of each, alternating (side by side on the same machine); medians.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "results" / "scale_out"
INVOICE = ROOT / "skills" / "invoice-total"
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))


def say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(0.99 * len(ordered)) - 1))]


def wait_for_http(url: str, tries: int = 200) -> None:
    """Return once `url` answers at all (a server just started)."""
    for _ in range(tries):
        try:
            httpx.get(url, timeout=0.5)
            return
        except httpx.HTTPError:
            time.sleep(0.05)
    raise SystemExit(f"{url} never answered")


def write(name: str, data: dict[str, Any]) -> None:
    from skillc.core.files import atomic_write_text

    data = {"command": f"python bench/scale_out.py {' '.join(sys.argv[1:])}",
            "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
            "date": time.strftime("%Y-%m-%d"), **data}
    OUT.mkdir(parents=True, exist_ok=True)
    atomic_write_text(OUT / f"{name}.json", json.dumps(data, indent=2) + "\n")
    say(f"wrote {(OUT / (name + '.json')).relative_to(ROOT)}")


def invoices(n: int) -> list[dict[str, Any]]:
    return [{"text": f"INVOICE #{i}. Vendor Acme {i % 7}. {i % 9 + 1} chairs at ${10 + i % 13}.50 each, "
                     f"discount {i % 4 * 5}%."} for i in range(n)]


def timed_batch(skill: Any, config: Any, items: list[dict[str, Any]], concurrency: int) -> dict[str, Any]:
    """Run `items` through the batch runner; per input, its wall time, its calls' latency and its steps."""
    import io

    from skillc.batch.runner import run_batch

    per_item: list[dict[str, float]] = []

    def run_one(index: int, item: dict[str, Any]) -> dict[str, Any]:
        started = time.perf_counter()
        result = skill.run(item, config=config)
        wall = time.perf_counter() - started
        calls = [r for r in result.trace if r.model]
        per_item.append({"wall": wall, "call_s": sum(r.latency_s for r in calls), "calls": len(calls),
                         "steps": len(result.trace), "ok": result.error is None})
        return {"ok": result.error is None}

    started = time.perf_counter()
    run_batch(items, run_one, sink=io.StringIO(), concurrency=concurrency)
    wall = time.perf_counter() - started
    return {"items": len(items), "wall_s": wall, "items_per_s": len(items) / wall, "per_item": per_item}


# --- overhead --------------------------------------------------------------------------------------------------

def overhead(latency: float, levels: list[int]) -> dict[str, Any]:
    from skillc.adapters.local.server import free_port
    from skillc.graphs.config import RunConfig
    from skillc.skills.skill import Skill

    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "skillc.benchmarks.fake_openai", "--port", str(port),
                               "--latency", str(latency)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_http(f"http://127.0.0.1:{port}/stats")
        skill = Skill.load(INVOICE)
        config = RunConfig(student=f"openai-compatible:http://127.0.0.1:{port}/v1#fake", escalation="off")
        timed_batch(skill, config, invoices(4), 1)  # warm-up: embeddings, FAISS, graph compile
        rows = []
        for level in levels:
            n = max(16, 8 * level)
            say(f"overhead: concurrency {level}, {n} inputs …")
            run = timed_batch(skill, config, invoices(n), level)
            items = run.pop("per_item")
            calls_per_item = statistics.mean(i["calls"] for i in items)
            ideal = level / (calls_per_item * latency)
            step_overhead = [(i["wall"] - i["call_s"]) / i["steps"] for i in items]
            call_s = [i["call_s"] / max(i["calls"], 1) for i in items]
            rows.append({"concurrency": level, **{k: round(v, 3) for k, v in run.items()}, "ok": sum(i["ok"] for i in items),
                         "calls_per_item": calls_per_item, "ideal_items_per_s": round(ideal, 3),
                         "ratio_to_ideal": round(run["items_per_s"] / ideal, 3),
                         "overhead_per_step_ms": {"p50": round(statistics.median(step_overhead) * 1000, 1),
                                                  "p99": round(p99(step_overhead) * 1000, 1)},
                         "call_ms": {"p50": round(statistics.median(call_s) * 1000, 1), "p99": round(p99(call_s) * 1000, 1)}})
            say(f"  {run['items_per_s']:.2f} items/s, ideal {ideal:.2f}: {rows[-1]['ratio_to_ideal']:.2f} of ideal · "
                f"overhead per step p50 {rows[-1]['overhead_per_step_ms']['p50']} ms, p99 {rows[-1]['overhead_per_step_ms']['p99']} ms")
        served = httpx.get(f"http://127.0.0.1:{port}/stats").json()["requests"]
    finally:
        server.terminate()
        server.wait(10)
    return {"latency_s": latency, "skill": "invoice-total", "server_requests": served, "levels": rows}


def plot_overhead(report: dict[str, Any]) -> Path:
    """items/s against concurrency, measured beside the ideal, and the share of ideal (overhead.png)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = report["levels"]
    levels = [r["concurrency"] for r in rows]
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    left.plot(levels, [r["ideal_items_per_s"] for r in rows], "k--", marker="o", label="ideal (calls only)")
    left.plot(levels, [r["items_per_s"] for r in rows], marker="o", label="skillc")
    left.set(xscale="log", yscale="log", xlabel="concurrency", ylabel="items/s", xticks=levels, xticklabels=[str(x) for x in levels],
             title=f"invoice skill, fake server at {report['latency_s'] * 1000:.0f} ms/call")
    left.legend()
    right.bar([str(x) for x in levels], [r["ratio_to_ideal"] for r in rows])
    right.axhline(0.9, color="k", linestyle=":", label="goal 0.9")
    right.set(ylim=(0, 1.05), xlabel="concurrency", ylabel="share of ideal", title="items/s ÷ ideal")
    right.legend()
    fig.tight_layout()
    path = OUT / "overhead.png"
    fig.savefig(path, dpi=120)
    return path


# --- replicas --------------------------------------------------------------------------------------------------

def replicas(n: int, levels: list[int]) -> dict[str, Any]:
    from skillc.adapters.local import MODELS
    from skillc.adapters.local.server import LocalServer
    from skillc.adapters.replicas import replica_pool
    from skillc.graphs.config import RunConfig
    from skillc.skills.skill import Skill

    skill = Skill.load(INVOICE)
    items = invoices(n)
    alias = MODELS["student"].alias
    rows = []
    for servers, threads in ((1, 2), (2, 1)):
        started = [LocalServer([MODELS["student"]], threads=threads).start() for _ in range(servers)]
        try:
            uris = [f"openai-compatible:{s.base_url}#{alias}?structured=json_object" for s in started]
            student = replica_pool(uris) if servers > 1 else uris[0]
            config = RunConfig(student=student, escalation="off", timeout_s=300)
            timed_batch(skill, config, items[:servers], servers)  # warm-up: each server's first prompt
            for level in levels:
                say(f"replicas: {servers} server(s) x {threads} thread(s), concurrency {level}, {n} inputs …")
                run = timed_batch(skill, config, items, level)
                per_item = run.pop("per_item")
                rows.append({"servers": servers, "threads_each": threads, "concurrency": level,
                             "ok": sum(i["ok"] for i in per_item), **{k: round(v, 3) for k, v in run.items()}})
                say(f"  {run['items_per_s']:.3f} items/s ({run['wall_s']:.0f} s)")
        finally:
            for s in started:
                s.stop()
    base = rows[0]["items_per_s"]
    for row in rows:
        row["ratio_to_one_server_c1"] = round(row["items_per_s"] / base, 2)
    return {"skill": "invoice-total", "student": "local:student over openai-compatible", "rows": rows}


# --- pull ------------------------------------------------------------------------------------------------------

def pull_latency(records: int, rounds: int) -> dict[str, Any]:
    import shutil

    from registry_latency import build_skill  # bench/registry_latency.py: the same skill build

    from skillc.adapters.local.server import free_port
    from skillc.registry.client import HttpRegistry, publish, pull
    from skillc.registry.oci import OciRegistry
    from skillc.registry.server import new_token
    from skillc.skills.skill import Skill

    binary = shutil.which("docker-registry") or shutil.which("registry")
    if binary is None:
        raise SystemExit("docker-registry is not installed (apt-get install docker-registry, or make test)")
    work = Path(tempfile.mkdtemp(prefix="skillc-pull-bench-"))
    say(f"building a skill with {records:,} bank records …")
    folder = build_skill(work / "src" / "invoice-total", records)
    port = free_port()
    (work / "config.yml").write_text(f"version: 0.1\nlog: {{level: warn}}\nstorage: {{filesystem: {{rootdirectory: {work / 'oci'}}}}}\n"
                                     f"http: {{addr: '127.0.0.1:{port}'}}\n")
    oci_proc = subprocess.Popen([binary, "serve", str(work / "config.yml")], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    token = new_token(work / "tokens")
    http_proc = subprocess.Popen([sys.executable, "-m", "skillc.cli", "registry", "serve", "--root", str(work / "registry"),
                                  "--port", "0", "--token-file", str(work / "tokens")], stdout=subprocess.PIPE,
                                 stderr=subprocess.STDOUT, text=True, env={**os.environ, "COLUMNS": "300"})
    try:
        url = http_proc.stdout.readline().split(" at ")[1].split(" ")[0]
        wait_for_http(f"http://127.0.0.1:{port}/v2/")
        oci = OciRegistry(f"oci://127.0.0.1:{port}/bench")
        timings: dict[str, list[float]] = {"oci_publish": [], "http_publish": [], "oci_pull": [], "http_pull": []}
        versions = []
        for n in range(rounds):  # each version its own folder, made before any timing (a version bump re-saves the skill)
            skill = Skill.load(folder)
            versions.append(skill.replace(spec=skill.spec.model_copy(update={"version": f"1.0.{n}"})).save(work / "versions" / str(n) / "invoice-total"))
        for n in range(rounds):
            for kind, registry in (("oci", oci), ("http", HttpRegistry(url, token))):
                started = time.perf_counter()
                publish(versions[n], registry)
                timings[f"{kind}_publish"].append(time.perf_counter() - started)
        for n in range(rounds):
            for kind, registry in (("oci", OciRegistry(oci.location)), ("http", HttpRegistry(url))):
                started = time.perf_counter()
                pull(f"invoice-total@1.0.{n}", registry, work / "pulled" / kind / str(n))
                timings[f"{kind}_pull"].append(time.perf_counter() - started)
            say(f"pull {n + 1}/{rounds}: oci {timings['oci_pull'][-1] * 1000:.0f} ms, http {timings['http_pull'][-1] * 1000:.0f} ms")
    finally:
        for proc in (oci_proc, http_proc):
            proc.terminate()
            proc.wait(10)
    archive = (work / "registry" / "skills" / "invoice-total" / "1.0.0" / "skill.tar.gz").stat().st_size
    return {"records": records, "rounds": rounds, "archive_bytes": archive,
            **{k: {"p50_ms": round(statistics.median(v) * 1000, 1), "p99_ms": round(p99(v) * 1000, 1)} for k, v in timings.items()}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("part", choices=["overhead", "replicas", "pull"])
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--levels", default=None, help="comma-separated concurrency levels")
    parser.add_argument("--items", type=int, default=8, help="replicas: inputs per run")
    parser.add_argument("--records", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    if args.part == "overhead":
        report = overhead(args.latency, [int(x) for x in (args.levels or "1,4,16,64").split(",")])
        write("overhead", report)
        say(f"wrote {plot_overhead(report).relative_to(ROOT)}")
    elif args.part == "replicas":
        write("replicas", replicas(args.items, [int(x) for x in (args.levels or "1,2,4").split(",")]))
    else:
        write("pull", pull_latency(args.records, args.rounds))


if __name__ == "__main__":
    main()
