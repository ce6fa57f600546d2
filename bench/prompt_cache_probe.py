"""Dev-search wall time with and without the stable prompt prefix and the local server's prompt cache (issue 26).

    python bench/prompt_cache_probe.py --set event_categories [--dev 20] [--out bench/results/prompt_cache_probe.json]

The search runs the student many times over the same instruction. Since issue 26 a step prompt puts its stable
part (role, task, step, instruction, labels, contract) first, then the demos, then the input, and the embedded
llama.cpp server can keep a RAM cache of evaluated prompts (off by default since it OOM-killed a suite server at
14.5 GB; `SKILLC_LOCAL_PROMPT_CACHE=1` turns it on). This probe scores the same candidates (the set's
label-demo patterns: k = 3, k = 8, fixed) on the same dev items with the real student, three ways, side by side
in one run (each candidate runs under all three before the next candidate):

- `before`: the layout the project had until issue 26 (executor system line, demos, then one user turn holding
  task, instruction, inputs and contract) on a server without the prompt cache;
- `layout only`: today's layout on a server without the prompt cache (llama.cpp still reuses the prefix it
  evaluated last);
- `layout + cache`: today's layout on a server with the prompt cache (what `SKILLC_LOCAL_PROMPT_CACHE=1` gives).

It needs the suite's items (`skillc bench suite` writes `bench/results/suite/<set>/items.jsonl`; the split is
recomputed from it, seed 0) and the local models. It prints a table and writes JSON; nothing is cached, every call is made.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from skillc.adapters.local.server import LocalServer
from skillc.adapters.local.weights import MODELS
from skillc.benchmarks.suite import split_of
from skillc.compile.candidates import pattern_candidates
from skillc.compile.search import Banks, candidate_skill, unique_ids
from skillc.core.task import Task
from skillc.eval.conditions import EvalCache, run_conditions
from skillc.graphs import primitives
from skillc.graphs.prompts import EXECUTOR_SYSTEM, PRIMITIVE_LINES, _dump, contract_labels

ROOT = Path(__file__).resolve().parents[1]


def before_issue_26(task: str, step: Any, inputs: dict[str, Any], *, contract: dict[str, Any] | None = None,
                    feedback: dict[str, Any] | None = None) -> list[tuple[str, str]]:
    """The step prompt as skillc built it before issue 26 (`git show d772624:skillc/graphs/prompts.py`)."""
    contract = contract or step.contract
    lines = [f"Task: {task}", f"Step `{step.id}` ({step.primitive}). Do this step only.",
             PRIMITIVE_LINES.get(step.primitive, ""), f"Instruction: {step.instruction}"]
    if step.primitive == "classify":
        lines.append(f"Allowed labels: {_dump(contract_labels(contract))}")
    if step.prompt:
        lines.append(f"Guidance: {step.prompt}")
    lines += ["Inputs:", _dump(inputs), "Answer with one JSON object that matches this contract:", _dump(contract)]
    return [("system", EXECUTOR_SYSTEM), ("user", "\n".join(x for x in lines if x))]


@contextmanager
def layout(old: bool):
    real = primitives.step_messages
    if old:
        primitives.step_messages = before_issue_26  # type: ignore[assignment]
    try:
        yield
    finally:
        primitives.step_messages = real  # type: ignore[assignment]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--set", default="event_categories")
    parser.add_argument("--dev", type=int, default=20)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "prompt_cache_probe.json")
    args = parser.parse_args()
    folder = ROOT / "bench" / "results" / "suite" / args.set
    task = Task.from_file(ROOT / "bench" / "suite" / args.set / "task.yaml")
    train, dev, _ = split_of(folder, args.set, 0, task)  # the suite's split (seed 0) of its items.jsonl
    dev = unique_ids(dev)[: args.dev]
    pool = pattern_candidates(task, train)
    chosen = [c for c in pool.candidates if c.demos in ("k=3", "k=8") or c.demos.startswith("fixed")]
    chosen = [c for c in chosen if c.design != "search → classify"][:3]
    banks = Banks(pool.records)
    cached = LocalServer([MODELS["student"]], prompt_cache=True).start()
    plain = LocalServer([MODELS["student"]], prompt_cache=False).start()
    uri = "openai-compatible:{}#student?structured=json_object"
    variants = [("before", True, plain), ("layout only", False, plain), ("layout + cache", False, cached)]
    rows: list[dict[str, Any]] = []
    try:
        for candidate in chosen:
            skill = candidate_skill(candidate, banks)
            for name, old, server in variants:
                with layout(old):
                    started = time.perf_counter()
                    run = run_conditions(skill, dev, student=uri.format(server.base_url), teacher=None,
                                         cache=EvalCache(), conditions=["skill"])
                    wall = time.perf_counter() - started
                records = run.by_condition("skill")
                latencies = [t.latency_s for r in records for t in (r.trace or []) if t.role == "student"]
                tokens = [t.input_tokens for r in records for t in (r.trace or []) if t.role == "student"]
                row = {"candidate": candidate.name, "variant": name, "items": len(records), "wall_s": round(wall, 1),
                       "median_call_s": round(statistics.median(latencies), 2), "median_prompt_tokens": statistics.median(tokens)}
                rows.append(row)
                print(json.dumps(row), file=sys.stderr, flush=True)
    finally:
        cached.stop()
        plain.stop()
    totals = {name: round(sum(r["wall_s"] for r in rows if r["variant"] == name), 1) for name, _, _ in variants}
    summary = {"set": args.set, "dev_items": len(dev), "rows": rows, "totals_s": totals,
               "speedup_vs_before": {k: round(totals["before"] / v, 2) for k, v in totals.items() if v}}
    args.out.write_text(json.dumps(summary, indent=2) + "\n")
    print("| candidate | variant | items | wall s | median call s | median prompt tokens |")
    print("| --- | --- | --- | --- | --- | --- |")
    for r in rows:
        print(f"| {r['candidate']} | {r['variant']} | {r['items']} | {r['wall_s']} | {r['median_call_s']} | {r['median_prompt_tokens']:.0f} |")
    print(f"\ntotal wall s: {totals}; speed-up against `before`: {summary['speedup_vs_before']}")


if __name__ == "__main__":
    main()
