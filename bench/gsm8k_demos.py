"""Does the example bank help the student? GSM8K accuracy with no demos, fixed demos and retrieved demos.

    python bench/gsm8k_demos.py --limit 10                       # a quick estimate of the time per item
    python bench/gsm8k_demos.py                                  # rows 500-599, all conditions
    python bench/gsm8k_demos.py --student local:student --data ../shared/data/gsm8k --budget 800 --budget 2400
    python bench/gsm8k_demos.py --limit 10 --threads 1            # on a CPU shared with other llama.cpp servers
    python bench/gsm8k_demos.py --resume                          # continue a stopped run from its JSON

The skill is a fixed, hand-written one-step spec (`skillc.benchmarks.gsm8k_demos.one_step_spec`; step `solve`,
primitive `transform`, question -> {reasoning: string, answer: number}, then END), so only the demos differ
between conditions. Escalation is off. The bank is built from rows 0-499 of `teacher_logs.csv` (column
`gpt-4-1106-preview_response`, label column `gpt-4-1106-preview` as a cross-check), with the prompts of
`contaminated_prompts.jsonl` on the quality filter's blocklist. Evaluation rows are 500-599 (`--start`,
`--limit`), in file order; decoding is greedy (the local models run at temperature 0), so a run is
repeatable up to llama.cpp's own numerics.

Conditions: `none` (k=0); `fixed` (a bank holding only the first 3 kept records, k=3: the same demos for
every question); `retrieved-<budget>` (k=3 nearest records of the whole bank, within that demo token budget;
800 is the default `RetrievalPolicy.token_budget`). For every item and condition the demos that were
actually shown are recomputed with `demo_messages` (what the step node calls), since `RunResult.trace`
does not keep the raw record's `demos` count.

Prints a table and writes bench/results/gsm8k_demos.json (summary + one compact row per item and condition).
"""

from __future__ import annotations

import argparse
import atexit
import csv
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from skillc.adapters.local import MAX_TOKENS, MODELS, LocalServer
from skillc.adapters.models import ModelHandle
from skillc.benchmarks.gsm8k_demos import BANK_ROWS, TASK_FILE, demo_bank, one_step_spec
from skillc.compile.logs import final_number
from skillc.core.answers import answers_equal
from skillc.core.spec import RetrievalPolicy
from skillc.core.task import Task
from skillc.graphs.demos import demo_messages
from skillc.skills.bank import ExampleBank
from skillc.skills.skill import Skill

HERE = Path(__file__).resolve().parent
TOLERANCE = 1e-4  # relative; GSM8K answers are integers or short decimals


def references(data: Path, start: int, limit: int) -> list[tuple[int, str, float]]:
    """(row, question, reference) for the evaluation rows; the question text is the logs' prompt."""
    with open(data / "teacher_logs.csv", newline="", encoding="utf-8") as fh:
        prompts = [r["prompt"] for r in csv.DictReader(fh)]
    answers = [json.loads(line)["answer"] for line in (data / "test.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]
    out = []
    for i in range(start, min(start + limit, len(prompts))):
        ref = final_number(answers[i].rsplit("####", 1)[-1])
        assert ref is not None, f"row {i}: no reference number"
        out.append((i, prompts[i], float(ref)))
    return out


def student_handle(uri: str, threads: int | None) -> str | ModelHandle:
    """The student URI, or for `local:` with `--threads`, the same local model on a server with that many threads.

    Built exactly as `local_model` builds it (same weights, greedy, same max_tokens, json_object + schema);
    only the llama.cpp thread count differs. On a shared, oversubscribed CPU fewer threads avoid ggml's
    spin-waiting barriers.
    """
    if threads is None or not uri.startswith("local:"):
        return uri
    from langchain_openai import ChatOpenAI

    alias = uri.removeprefix("local:")
    server = LocalServer([MODELS[alias]], threads=threads).start()
    atexit.register(server.stop)
    chat = ChatOpenAI(base_url=server.base_url, api_key="local", model=alias, temperature=0,  # type: ignore[arg-type]
                      extra_body={"max_tokens": MAX_TOKENS[alias]}, max_retries=0, timeout=1800, stream_usage=True)
    return ModelHandle(model=chat, name=uri, kind="local", structured="json_object", uri=uri)


def run_item(skill: Skill, student: str | ModelHandle, uri: str, question: str, reference: float) -> dict[str, Any]:
    started = time.perf_counter()
    result = skill.run({"question": question}, student=student, escalation="off")
    seconds = time.perf_counter() - started
    limit = MAX_TOKENS.get(uri.removeprefix("local:"), 0) if uri.startswith("local:") else 0
    calls = [r for r in result.trace if r.role == "student"]
    truncated = sum(1 for r in calls if (limit and r.output_tokens >= limit) or "cut off at the token limit" in (r.error or ""))
    predicted = (result.output or {}).get("answer") if result.ok else None
    return {
        "correct": bool(result.ok and answers_equal(reference, predicted, TOLERANCE)),
        "predicted": predicted,
        "error": None if result.ok else result.error.kind if result.error else None,
        "error_kinds": [r.error_kind for r in calls if r.error_kind],
        "calls": len(calls),
        "truncated_calls": truncated,
        "seconds": round(seconds, 2),
        "tokens_in": sum(r.input_tokens for r in calls),
        "tokens_out": sum(r.output_tokens for r in calls),
    }


def summarize(name: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    n = len(rows)
    errors: dict[str, int] = {}
    attempt_errors: dict[str, int] = {}
    for r in rows:
        if r["error"]:
            errors[r["error"]] = errors.get(r["error"], 0) + 1
        for kind in r["error_kinds"]:
            attempt_errors[kind] = attempt_errors.get(kind, 0) + 1
    return {
        "condition": name,
        "items": n,
        "correct": sum(r["correct"] for r in rows),
        "accuracy": round(sum(r["correct"] for r in rows) / n, 3) if n else None,
        "median_s": round(statistics.median(r["seconds"] for r in rows), 2) if n else None,
        "tokens_in": sum(r["tokens_in"] for r in rows),
        "tokens_out": sum(r["tokens_out"] for r in rows),
        "mean_demos": round(sum(r["demos"] for r in rows) / n, 2) if n else None,
        "failed_items": sum(1 for r in rows if r["error"]),
        "failed_by_kind": errors,
        "failed_attempts_by_kind": attempt_errors,
        "calls": sum(r["calls"] for r in rows),
        "truncated_calls": sum(r["truncated_calls"] for r in rows),
    }


def print_table(summary: list[dict[str, Any]]) -> None:
    head = ["condition", "accuracy", "mean demos", "median s/item", "student tok in/out", "failed items",
            "calls", "truncated calls"]
    print("| " + " | ".join(head) + " |")
    print("|" + " --- |" * len(head))
    for s in summary:
        if not s["items"]:
            continue
        failed = f"{s['failed_items']} {s['failed_by_kind']}" if s["failed_items"] else "0"
        print(f"| {s['condition']} | {s['correct']}/{s['items']} ({s['accuracy']:.0%}) | {s['mean_demos']} | {s['median_s']} "
              f"| {s['tokens_in']:,} / {s['tokens_out']:,} | {failed} | {s['calls']} | {s['truncated_calls']} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path("../shared/data/gsm8k"), help="the GSM8K data folder")
    parser.add_argument("--student", default="local:student", help="student model URI")
    parser.add_argument("--threads", type=int, default=None,
                        help="llama.cpp threads for a local student (default: skillc's, all cores)")
    parser.add_argument("--start", type=int, default=500, help="first evaluation row")
    parser.add_argument("--limit", type=int, default=100, help="number of evaluation rows")
    parser.add_argument("--k", type=int, default=3, help="demos per question for fixed and retrieved")
    parser.add_argument("--budget", type=int, action="append",
                        help="demo token budget of a retrieved condition (repeatable; default 800)")
    parser.add_argument("--conditions", default="none,fixed,retrieved", help="comma-separated subset")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "gsm8k_demos.json")
    parser.add_argument("--resume", action="store_true",
                        help="keep the items already in --out (same student and start) and run only the rest")
    args = parser.parse_args()
    if args.start < BANK_ROWS.stop:
        parser.error(f"evaluation rows must not overlap the bank rows 0-{BANK_ROWS.stop - 1}")

    task = Task.from_file(TASK_FILE)
    started = time.perf_counter()
    bank, bank_info = demo_bank(args.data, one_step_spec(task, RetrievalPolicy()))
    bank_info["seconds"] = round(time.perf_counter() - started, 1)
    fixed = ExampleBank(embeddings=bank.embeddings)
    fixed.add(bank.records[:3], check=False)
    bank_info["fixed_rows"] = [r["row"] for r in fixed.records]
    print(f"bank: {json.dumps(bank_info)}", flush=True)

    wanted = args.conditions.split(",")
    conditions: list[tuple[str, RetrievalPolicy, ExampleBank | None]] = []
    if "none" in wanted:
        conditions.append(("none (k=0)", RetrievalPolicy(k=0), None))
    if "fixed" in wanted:
        conditions.append((f"fixed (same {args.k}, budget 800)", RetrievalPolicy(k=args.k), fixed))
    if "retrieved" in wanted:
        for budget in args.budget or [800]:
            conditions.append((f"retrieved (k={args.k}, budget {budget})", RetrievalPolicy(k=args.k, token_budget=budget), bank))
    skills = []
    for name, policy, b in conditions:
        skill = Skill(one_step_spec(task, policy))
        skill._bank = b if b is not None else ExampleBank(embeddings=bank.embeddings)
        skills.append((name, policy, skill))

    student = student_handle(args.student, args.threads)
    items = references(args.data, args.start, args.limit)
    rows = resumed(args, [name for name, _, _ in skills])
    done = {(r["row"], r["condition"]) for r in rows}
    for n, (row, question, reference) in enumerate(items, 1):
        for name, policy, skill in skills:  # conditions interleaved per item, so CPU noise hits all alike
            if (row, name) in done:
                continue
            demos = len(demo_messages(skill._bank, "solve", {"question": question}, policy)) // 2
            item = {"row": row, "condition": name, "reference": reference, "demos": demos,
                    **run_item(skill, student, args.student, question, reference)}
            rows.append(item)
            print(f"[{n}/{len(items)}] row {row} {name}: {'right' if item['correct'] else 'wrong'} "
                  f"pred={item['predicted']} ref={reference:g} demos={demos} {item['seconds']}s "
                  f"tok={item['tokens_in']}/{item['tokens_out']} err={item['error']}", flush=True)
        write(args, bank_info, skills, rows, n, started)  # after every item, so a stopped run keeps its results
    print_table(write(args, bank_info, skills, rows, len(items), started))
    print(f"wrote {args.out}")


def resumed(args: argparse.Namespace, names: list[str]) -> list[dict[str, Any]]:
    """With --resume, the finished items of an earlier run of the same settings in --out; else none."""
    if not args.resume or not args.out.exists():
        return []
    old = json.loads(args.out.read_text())
    if old.get("student") != args.student or (old.get("rows") or [None])[0] != args.start:
        sys.exit(f"--resume: {args.out} holds a run of {old.get('student')} from row {(old.get('rows') or [None])[0]}, "
                 f"not {args.student} from row {args.start}")
    rows = [r for r in old["items"] if r["condition"] in names]
    print(f"resuming: {len(rows)} finished (row, condition) pairs from {args.out}", flush=True)
    return rows


def write(args: argparse.Namespace, bank_info: dict[str, Any], skills: list[tuple[str, RetrievalPolicy, Skill]],
          rows: list[dict[str, Any]], done: int, started: float) -> list[dict[str, Any]]:
    """Write the JSON report of the items done so far; return the per-condition summary."""
    summary = [summarize(name, [r for r in rows if r["condition"] == name]) for name, _, _ in skills]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({
        "command": "python " + " ".join([Path(sys.argv[0]).as_posix(), *sys.argv[1:]]),
        "student": args.student, "threads": args.threads, "student_max_tokens": MAX_TOKENS.get(args.student.removeprefix("local:")),
        "rows": [args.start, args.start + done - 1], "items_done": done, "bank": bank_info, "summary": summary,
        "items": rows, "seconds": round(time.perf_counter() - started, 1),
    }, indent=1) + "\n")
    return summary


if __name__ == "__main__":
    main()
