"""Cache and budgets, measured (issue 27): one command per part, each writing bench/results/cache/<part>.json.

    python bench/cache_budget.py exact      # the invoice skill on local:student, a stream with 30% repeats
    python bench/cache_budget.py semantic   # MiniLM + FAISS on GSM8K paraphrases and near misses, guard on/off
    python bench/cache_budget.py budget     # 10 product-ie items, a budget of 3 teacher calls

- `exact`: the bundled demo invoices, each once, plus 30% of them again (seed 0), shuffled: a production-like
  stream. Run once without a cache and once with a fresh in-memory step cache, side by side on the same models.
  Reports model calls, tokens, cost at the assumed API prices (student as gpt-4o-mini), and the latency of a
  cache hit (a whole skill run served from the cache) against a real student call, as medians.
- `semantic`: the first N GSM8K test questions (and the test prompts of the 12 overlapping pairs) are cached
  with a distinct answer each. Probes: a paraphrase of each question (written by local:teacher, asked to keep
  every number and name; kept only when its numbers match), a near miss with one number changed, one with a
  name changed, and the 12 train prompts that the GSM8K README lists as overlapping the test split (read by
  hand: 11 ask the same question in other words or spacing, one, eval 932, adds a step). A rewording is served
  right only from its own question; any other serve is a false hit. Per threshold, with and without the guard.
  Paraphrases are cached in bench/results/cache/paraphrases.jsonl (resumable).
- `budget`: the product-attribute skill on the first 10 items of the suite's product-ie test split
  (bench/results/suite/product-ie/split.json over its items.jsonl, written by `skillc bench suite`), one RunBudget
  of 3 teacher calls shared by the batch: how many runs reached the teacher and how many gave up with
  BudgetExceeded.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "results" / "cache"
GSM8K = ROOT.parent / "shared" / "data" / "gsm8k"
THRESHOLDS = (0.80, 0.85, 0.90, 0.95, 0.98)
NAMES = ["Maria", "Tom", "Aisha", "Kenji", "Lucas", "Priya", "Olga", "Diego"]


def say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def write(name: str, data: dict[str, Any]) -> None:
    from skillc.core.files import atomic_write_text

    OUT.mkdir(parents=True, exist_ok=True)
    atomic_write_text(OUT / f"{name}.json", json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    say(f"wrote {OUT.relative_to(ROOT) / (name + '.json')}")


# --- exact -----------------------------------------------------------------------------------------------------

def exact(repeat_share: float = 0.3, seed: int = 0) -> dict[str, Any]:
    from langgraph.cache.memory import InMemoryCache

    from skillc.adapters.pricing import PriceTable
    from skillc.cache.serde import JsonSerde
    from skillc.demo import bundled_dataset
    from skillc.graphs.config import RunConfig
    from skillc.skills.skill import Skill

    skill = Skill.load(ROOT / "skills" / "invoice-total")
    items = [json.loads(line)["input"] for line in bundled_dataset().read_text().splitlines() if line.strip()]
    rng = random.Random(seed)
    stream = items + rng.sample(items, round(len(items) * repeat_share))
    rng.shuffle(stream)
    prices = PriceTable()
    student_price = prices.lookup("gpt-4o-mini") or (0.0, 0.0)
    runs: dict[str, list[dict[str, Any]]] = {}
    for label, cache in (("uncached", None), ("cached", InMemoryCache(serde=JsonSerde()))):
        config = RunConfig(student="local:student", escalation="off", cache=cache)
        rows = []
        for n, inputs in enumerate(stream, 1):
            started = time.perf_counter()
            result = skill.run(inputs, config=config)
            seconds = time.perf_counter() - started
            calls = [r for r in result.trace if r.role == "student" and not r.cached]
            rows.append({"seconds": seconds, "calls": len(calls), "cached_steps": result.cached_steps,
                         "tokens_in": sum(r.input_tokens for r in calls), "tokens_out": sum(r.output_tokens for r in calls),
                         "call_seconds": [r.latency_s for r in calls], "ok": result.ok})
            say(f"exact {label} {n}/{len(stream)}: {len(calls)} call(s), {result.cached_steps} cached, {seconds:.2f} s")
        runs[label] = rows

    def usd(rows: list[dict[str, Any]]) -> float:
        return sum(r["tokens_in"] / 1e6 * student_price[0] + r["tokens_out"] / 1e6 * student_price[1] for r in rows)

    hits = [r["seconds"] for r in runs["cached"] if r["calls"] == 0]
    calls = [s for r in runs["uncached"] for s in r["call_seconds"]]
    summary = {
        "stream": {"items": len(stream), "distinct": len(items), "repeats": len(stream) - len(items), "seed": seed},
        "conditions": {label: {"model_calls": sum(r["calls"] for r in rows), "cached_steps": sum(r["cached_steps"] for r in rows),
                               "tokens_in": sum(r["tokens_in"] for r in rows), "tokens_out": sum(r["tokens_out"] for r in rows),
                               "usd_at_api_prices": usd(rows), "wall_s": sum(r["seconds"] for r in rows),
                               "ok": sum(r["ok"] for r in rows)} for label, rows in runs.items()},
        "hit_run_median_s": statistics.median(hits) if hits else None,
        "student_call_median_s": statistics.median(calls) if calls else None,
        "runs": runs,
    }
    c, u = summary["conditions"]["cached"], summary["conditions"]["uncached"]
    say(f"exact: {u['model_calls']} → {c['model_calls']} calls, ${u['usd_at_api_prices']:.6f} → ${c['usd_at_api_prices']:.6f}; "
        f"a hit run {summary['hit_run_median_s']:.4f} s vs a student call {summary['student_call_median_s']:.2f} s (medians)")
    return summary


# --- semantic --------------------------------------------------------------------------------------------------

def numbers_of(text: str) -> list[str]:
    from skillc.cache.guard import anchors

    return sorted(anchors(text)["numbers"])


def paraphrases(questions: list[str]) -> list[str | None]:
    """local:teacher's rewording of each question (None when it changed a number); cached in paraphrases.jsonl."""
    from skillc.adapters.calls import call_model
    from skillc.adapters.models import resolve_model

    path = OUT / "paraphrases.jsonl"
    done = {}
    if path.is_file():
        for line in path.read_text().splitlines():
            row = json.loads(line)
            done[row["question"]] = row["paraphrase"]
    teacher = None
    out: list[str | None] = []
    for n, question in enumerate(questions, 1):
        if question not in done:
            teacher = teacher or resolve_model("local:teacher")
            messages = [("system", "You reword questions. Keep every sentence, every number and every name; change the "
                                   "words and the word order. Reply with the reworded question only."),
                        ("user", "Tom has 3 apples and buys 5 more at $2 each. How much did he spend?"),
                        ("assistant", "Tom, who owns 3 apples, purchases 5 more of them for $2 apiece. What did he spend?"),
                        ("user", question)]
            text = call_model(teacher, messages, max_tokens=300, temperature=0.0).text.strip()
            done[question] = text
            OUT.mkdir(parents=True, exist_ok=True)
            with open(path, "a", encoding="utf-8") as fh:
                fh.write(json.dumps({"question": question, "paraphrase": text}, ensure_ascii=False) + "\n")
            say(f"semantic: paraphrase {n}/{len(questions)}")
        text = done[question]
        out.append(text if text and numbers_of(text) == numbers_of(question) and text != question else None)
    return out


def near_misses(question: str) -> dict[str, str | None]:
    number = re.search(r"(?<![\w.])\d+(?:\.\d+)?(?![\w])", question)
    changed = (question[: number.start()] + str(int(float(number.group())) + 1 if "." not in number.group()
               else f"{float(number.group()) + 1:g}") + question[number.end():]) if number else None
    from skillc.cache.guard import anchors

    names = [w for w in re.findall(r"\b[A-Z][a-z]+\b", question) if w.lower() in anchors(question)["names"]]
    renamed = None
    if names:
        other = next(n for n in NAMES if n != names[0] and n not in question)
        renamed = re.sub(rf"\b{names[0]}\b", other, question)
    return {"number": changed, "name": renamed}


def semantic(n: int = 40) -> dict[str, Any]:
    from skillc.adapters.embeddings import default_embeddings
    from skillc.cache.semantic import SemanticCache

    tests = [json.loads(line) for line in (GSM8K / "test.jsonl").read_text().splitlines()[:n]]
    questions = [t["question"] for t in tests]
    contaminated = [json.loads(line) for line in (GSM8K / "contaminated_prompts.jsonl").read_text().splitlines()]
    cached_questions = questions + [c["eval_prompt"] for c in contaminated if c["eval_prompt"] not in questions]
    answers = {q: n for n, q in enumerate(cached_questions)}  # a distinct output per cached question
    cache = SemanticCache(default_embeddings())
    for q in cached_questions:
        cache.add("gsm8k", {"question": q}, {"answer": answers[q]})
    probes: list[dict[str, Any]] = []
    for n, (q, p) in enumerate(zip(questions, paraphrases(questions))):
        if p:
            probes.append({"kind": "paraphrase", "text": p, "own": q, "source": f"test {n}"})
        for kind, text in near_misses(q).items():
            if text and text != q:
                probes.append({"kind": f"near miss: {kind}", "text": text, "own": None, "source": f"test {n}"})
    for c in contaminated:  # labelled by reading each pair: the same question, except eval 932, which adds a step
        same = c["eval_idx"] != 932
        probes.append({"kind": "rewording: overlapping train prompt" if same else "near miss: overlapping train prompt",
                       "text": c["train_prompt"], "own": c["eval_prompt"] if same else None,
                       "source": f"overlap with test {c['eval_idx']}"})
    rows = []
    for probe in probes:
        found = cache.lookup("gsm8k", {"question": probe["text"]}, -1.0)
        assert found is not None
        right = probe["own"] is not None and found.cached_input["question"] == probe["own"]
        rows.append({"kind": probe["kind"], "source": probe["source"], "should_hit": probe["own"] is not None,
                     "similarity": round(found.similarity, 4), "nearest_is_own": right,
                     "guard": found.refused})  # no text: the probes are GSM8K reworded, never committed
    table = []
    for t in THRESHOLDS:
        for guarded in (False, True):
            served = [r for r in rows if r["similarity"] >= t and (not guarded or r["guard"] is None)]
            para = [r for r in rows if r["should_hit"]]
            table.append({"threshold": t, "guard": guarded,
                          "paraphrase_hits": sum(r["nearest_is_own"] for r in served if r["should_hit"]),
                          "paraphrases": len(para),
                          "false_hits": sum(1 for r in served if not r["nearest_is_own"]),
                          "near_misses": len(rows) - len(para)})
    for row in table:
        say(f"semantic t={row['threshold']:.2f} guard={'on ' if row['guard'] else 'off'}: "
            f"{row['paraphrase_hits']}/{row['paraphrases']} rewordings served, {row['false_hits']} false hits "
            f"({row['near_misses']} near misses)")
    plot_semantic(table)
    return {"questions": n, "probes": rows, "table": table}


def plot_semantic(table: list[dict[str, Any]]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for guarded, style in ((False, "o--"), (True, "s-")):
        rows = [r for r in table if r["guard"] == guarded]
        xs = [r["false_hits"] / max(r["near_misses"], 1) for r in rows]
        ys = [r["paraphrase_hits"] / max(r["paraphrases"], 1) for r in rows]
        ax.plot(xs, ys, style, label="with the guard" if guarded else "similarity alone")
        for r, x, y in zip(rows, xs, ys):
            ax.annotate(f"{r['threshold']:.2f}", (x, y), textcoords="offset points", xytext=(4, 4), fontsize=8)
    ax.set_xlabel("false-hit rate (near misses served)")
    ax.set_ylabel("hit rate (paraphrases served from their own question)")
    ax.set_title("Semantic cache on GSM8K: MiniLM similarity threshold, guard off/on")
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(OUT / "semantic.png", dpi=120)
    plt.close(fig)


# --- budget ----------------------------------------------------------------------------------------------------

def budget(limit: int = 3, items: int = 10) -> dict[str, Any]:
    from skillc.core.errors import BudgetExceeded
    from skillc.graphs.config import RunConfig
    from skillc.skills.skill import Skill
    from skillc.spend import RunBudget

    folder = ROOT / "bench" / "results" / "suite" / "product-ie"
    if not (folder / "items.jsonl").is_file():
        raise SystemExit(f"{(folder / 'items.jsonl').relative_to(ROOT)} is missing: run `skillc bench suite --data "
                         "../shared/data/evals --sets product-ie --redraw` first (it writes the items)")
    test_ids = json.loads((folder / "split.json").read_text())["ids"]["test"]
    by_id = {row.get("id"): row for row in map(json.loads, (folder / "items.jsonl").read_text().splitlines())}
    import shutil
    import tempfile

    work = Path(tempfile.mkdtemp()) / "product-attribute"  # a copy: escalations grow the bank, never the shipped skill's
    shutil.copytree(ROOT / "skills" / "product-attribute", work)
    skill = Skill.load(work)
    rows = [by_id[i] for i in test_ids][:items]
    shared = RunBudget(max_teacher_calls_per_run=limit)
    config = RunConfig(student="local:student", teacher="local:teacher", escalation="step", budget=shared)
    out = []
    for n, row in enumerate(rows, 1):
        result = skill.run(row["input"], config=config)
        teacher = [r for r in result.trace if r.role == "teacher" and r.error_kind != "budget"]  # a refusal made no call
        refused = result.error is not None and result.error.kind == "budget"
        if refused:
            try:
                result.raise_for_error()
            except BudgetExceeded as exc:
                assert exc.budget == "max_teacher_calls_per_run"
        out.append({"ok": result.ok, "teacher_calls": len(teacher), "refused": refused,
                    "error": result.error.message if result.error else None})
        say(f"budget {n}/{len(rows)}: {'refused' if refused else 'ok' if result.ok else 'failed'}, "
            f"{len(teacher)} teacher call(s), {shared.teacher_calls}/{limit} spent")
    summary = {"limit": limit, "items": len(rows), "teacher_calls": sum(r["teacher_calls"] for r in out),
               "budget_counted": shared.teacher_calls,
               "runs_that_reached_the_teacher": sum(r["teacher_calls"] > 0 for r in out),
               "refused_with_BudgetExceeded": sum(r["refused"] for r in out), "runs": out}
    say(f"budget: {summary['teacher_calls']} teacher call(s) of {limit} allowed; "
        f"{summary['refused_with_BudgetExceeded']} escalation(s) refused with BudgetExceeded")
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("part", choices=["exact", "semantic", "budget"])
    parser.add_argument("--questions", type=int, default=40, help="semantic: GSM8K test questions cached")
    args = parser.parse_args()
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    try:
        data = {"exact": exact, "semantic": lambda: semantic(args.questions), "budget": budget}[args.part]()
    finally:
        from skillc.adapters.local import stop_all

        stop_all()
    write(args.part, {"command": f"python bench/cache_budget.py {args.part}", "started": started, **data})


if __name__ == "__main__":
    main()
