"""Side checks (2026-12-01) on a running llama-cpp-python server, quoted in BENCHMARKS.md ("GSM8K, 100 rows").

`context`: does a 1,176-token prompt slow decoding? (Run once with `--flash_attn false`, once with `true`.)
The first call evaluates the long prompt, so the second times decoding alone. `grammar`: decode time with and
without the JSON-schema grammar, twice each.

    python -m llama_cpp.server --model PATH/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf --model_alias teacher \\
        --n_ctx 4096 --n_threads 1 --n_threads_batch 1 --flash_attn false --port 38112 &
    python bench/side_checks/decode.py context 38112
    python bench/side_checks/decode.py grammar 38112
"""

from __future__ import annotations

import json
import sys
import time
import urllib.request
from typing import Any

QUESTION = ("Natalia sold clips to 48 of her friends in April, and then she sold half as many clips in May. "
            "How many clips did Natalia sell altogether in April and May? ") * 30
SCHEMA = {"type": "object", "properties": {"working": {"type": "string"}, "expression": {"type": "string"}},
          "required": ["working", "expression"]}


def chat(port: int, prompt: str, max_tokens: int, response_format: dict[str, Any] | None = None) -> tuple[dict, float]:
    """One greedy chat call: its usage and wall seconds."""
    body: dict[str, Any] = {"model": "teacher", "messages": [{"role": "user", "content": prompt}],
                            "max_tokens": max_tokens, "temperature": 0.0}
    if response_format:
        body["response_format"] = response_format
    request = urllib.request.Request(f"http://127.0.0.1:{port}/v1/chat/completions", json.dumps(body).encode(),
                                     {"Content-Type": "application/json"})
    started = time.perf_counter()
    reply = json.load(urllib.request.urlopen(request, timeout=900))
    return reply["usage"], round(time.perf_counter() - started, 1)


def context(port: int) -> None:
    long = QUESTION + "\nExplain at length."
    print("long warm", chat(port, long, 1), flush=True)
    print("long 100", chat(port, long, 100), flush=True)
    print("short 100", chat(port, "Explain how to compute 15% of 240.\nExplain at length.", 100), flush=True)


def grammar(port: int) -> None:
    prompt = QUESTION + "\nAnswer in JSON with working and expression; explain at length."
    for name, fmt in [("none", None), ("schema", {"type": "json_object", "schema": SCHEMA})] * 2:
        print(name, chat(port, prompt, 150, fmt), flush=True)


if __name__ == "__main__":
    checks = {"context": context, "grammar": grammar}
    if len(sys.argv) != 3 or sys.argv[1] not in checks or not sys.argv[2].isdigit():
        sys.exit("usage: python bench/side_checks/decode.py context|grammar PORT")
    checks[sys.argv[1]](int(sys.argv[2]))
