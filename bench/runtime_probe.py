"""Decode throughput of the local runtime: one stream, and 2/4/8 streams at once, for llama-cpp-python's server
(what skillc embeds) and llama.cpp's native `llama-server` (continuous batching, `--parallel N`).

    python bench/runtime_probe.py --model teacher --llama-server PATH/TO/llama-server
    python bench/runtime_probe.py --model teacher            # llama-cpp-python's server only
    python bench/runtime_probe.py --model teacher --contention --out bench/results/runtime_contention_teacher.json

`--contention`: one stream on the embedded server with 1 and with 2 llama.cpp threads, each on a quiet machine
and beside one CPU-bound process (a busy Python loop, as another job on the machine would be): does a second
load cost the model about its fair share of the 2 cores, or does it stall (spin-waiting threads)?

Each condition sends N chat requests at once (sampling at temperature 0.7 with different seeds, `max_tokens`
128, a prompt that asks for a long answer) and reports the generated tokens per second summed over the streams
(usage.completion_tokens / wall time), and the wall time of the batch against one request's. Prints a table
and writes bench/results/runtime_probe.json. Issue 16's goal: k=5 samples cost ≤2x the wall time of one.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

from skillc.adapters.local import MODELS
from skillc.adapters.local.server import LocalServer, free_port
from skillc.adapters.local.weights import ensure_weights

HERE = Path(__file__).resolve().parent
PROMPT = "Explain step by step, in at least ten sentences, how to work out 15% of 240 and then add 37 to it."


def ask(base: str, model: str, seed: int, max_tokens: int) -> int:
    reply = httpx.post(f"{base}/chat/completions", timeout=1800, json={
        "model": model, "messages": [{"role": "user", "content": PROMPT}],
        "temperature": 0.7, "seed": seed, "max_tokens": max_tokens})
    reply.raise_for_status()
    return int(reply.json()["usage"]["completion_tokens"])


def measure(base: str, model: str, streams: int, max_tokens: int) -> dict[str, Any]:
    started = time.perf_counter()
    with ThreadPoolExecutor(streams) as pool:
        tokens = list(pool.map(lambda i: ask(base, model, i + 1, max_tokens), range(streams)))
    seconds = time.perf_counter() - started
    return {"streams": streams, "tokens": sum(tokens), "seconds": round(seconds, 2),
            "tokens_per_s": round(sum(tokens) / seconds, 2)}


def busy_process() -> subprocess.Popen:
    """One CPU-bound process: another job on the machine."""
    return subprocess.Popen(["python3", "-c", "while True: pass"])


def contention(model: str, max_tokens: int) -> list[dict[str, Any]]:
    rows = []
    for threads in (1, 2):
        server = LocalServer([MODELS[model]], threads=threads).start()
        try:
            ask(server.base_url, model, 0, 8)  # warm up
            for loaded in (False, True):
                load = busy_process() if loaded else None
                try:
                    time.sleep(1 if loaded else 0)
                    row = {"server": "llama-cpp-python", "threads": threads, "other_load": loaded,
                           **measure(server.base_url, model, 1, max_tokens)}
                finally:
                    if load is not None:
                        load.kill()
                        load.wait()
                rows.append(row)
                print(row, flush=True)
        finally:
            server.stop()
    for r in rows:
        quiet = next(q for q in rows if q["threads"] == r["threads"] and not q["other_load"])
        r["share_of_quiet"] = round(r["tokens_per_s"] / quiet["tokens_per_s"], 2)
    print("| llama.cpp threads | other CPU-bound process | tokens/s | share of the quiet tokens/s |")
    print("| --- | --- | --- | --- |")
    for r in rows:
        print(f"| {r['threads']} | {'yes' if r['other_load'] else 'no'} | {r['tokens_per_s']} | {r['share_of_quiet']:.0%} |")
    return rows


def native_server(binary: str, gguf: Path, parallel: int, threads: int, ctx_per_slot: int) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen([binary, "-m", str(gguf), "--host", "127.0.0.1", "--port", str(port), "-t", str(threads),
                             "--parallel", str(parallel), "-c", str(ctx_per_slot * parallel), "--cont-batching"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                return proc, f"{base}/v1"
        except httpx.HTTPError:
            pass
        time.sleep(1)
    proc.kill()
    raise SystemExit(f"llama-server did not come up on port {port}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="teacher", help="local model alias (tiny, student, teacher)")
    parser.add_argument("--llama-server", help="path of a llama.cpp `llama-server` binary (omit: embedded server only)")
    parser.add_argument("--streams", default="1,2,4,8")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument("--out", type=Path, default=HERE / "results" / "runtime_probe.json")
    parser.add_argument("--contention", action="store_true", help="1 vs 2 threads, quiet vs beside a CPU-bound process")
    args = parser.parse_args()
    if args.contention:
        rows = contention(args.model, args.max_tokens)
        args.out.write_text(json.dumps({"model": args.model, "max_tokens": args.max_tokens, "mode": "contention",
                                        "time": time.strftime("%Y-%m-%d %H:%M"), "rows": rows}, indent=2) + "\n")
        return
    counts = [int(n) for n in args.streams.split(",")]
    rows = []
    server = LocalServer([MODELS[args.model]], threads=args.threads).start()
    try:
        for n in counts:
            rows.append({"server": "llama-cpp-python", **measure(server.base_url, args.model, n, args.max_tokens)})
            print(rows[-1], flush=True)
    finally:
        server.stop()
    if args.llama_server:
        gguf = ensure_weights(MODELS[args.model])
        for n in counts:
            proc, base = native_server(args.llama_server, gguf, n, args.threads, 1024)
            try:
                ask(base, args.model, 0, 8)  # warm up
                rows.append({"server": "llama-server", **measure(base, args.model, n, args.max_tokens)})
                print(rows[-1], flush=True)
            finally:
                proc.terminate()
                proc.wait(timeout=30)
    for server_name in dict.fromkeys(r["server"] for r in rows):
        one = next(r for r in rows if r["server"] == server_name and r["streams"] == 1)
        for r in rows:
            if r["server"] == server_name:
                r["wall_vs_one"] = round(r["seconds"] / one["seconds"], 2)
    print("| server | streams | tokens/s (sum) | wall s | wall vs one stream |")
    print("| --- | --- | --- | --- | --- |")
    for r in rows:
        print(f"| {r['server']} | {r['streams']} | {r['tokens_per_s']} | {r['seconds']} | {r['wall_vs_one']}x |")
    args.out.write_text(json.dumps({"model": args.model, "threads": args.threads, "max_tokens": args.max_tokens,
                                    "time": time.strftime("%Y-%m-%d %H:%M"), "rows": rows}, indent=2) + "\n")


if __name__ == "__main__":
    main()
