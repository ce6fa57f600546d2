"""`skillc bench compression`: the suite's `qa` skill on long sales-call transcripts, with and without LLMLingua.

The same items and student run the skill (no escalation) once per variant: no compression, 2x and 4x
question-aware (LongLLMLingua ranking plus the token-level pass), and 2x keeping whole chunks only (the fast,
coarse pass). Per variant: accuracy, student input tokens, compressor seconds, student seconds and end-to-end
seconds per item, and the issue's goal — ≥2x fewer input tokens, ≤1 point accuracy loss, compressor time
≤20% of the student time it saves. Results are cached per item under OUT/cache: a killed run resumes, and a
finished one re-run rebuilds the table and figure without a model call.

With `gsm8k` (the GSM8K data folder), a second part: test rows 500+ on a fixed one-step skill whose student is
shown three retrieved GPT-4 worked answers (`skillc.benchmarks.gsm8k_demos`), with the demos' reasoning plain,
compressed at rate 0.5 or 0.33 (numbers and arithmetic signs kept, so a worked answer shrinks less). Demos are compressed once, before the run, as a bank
that adopts compression stores them; that time is reported apart from the per-item figures.

Example:
    >>> goal_line({"token_ratio": 2.1, "accuracy_change": -0.0, "compressor_share": 0.5})
    'tokens 2.10x (met), accuracy -0.0 pts (met), compressor 50% of the student time saved (missed)'
"""

from __future__ import annotations

import json
import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console

from skillc.adapters.pricing import PriceTable
from skillc.benchmarks.suite_data import convert_suite
from skillc.core.errors import InvalidInputError
from skillc.core.files import atomic_write_text
from skillc.core.spec import Compression, RetrievalPolicy
from skillc.core.task import Sample, Task, load_samples
from skillc.eval.conditions import EvalCache, ItemRecord, item_ids, run_conditions
from skillc.eval.metrics import score
from skillc.eval.plot import new_figure, save_figure
from skillc.graphs.compress import with_compression
from skillc.graphs.config import step_compressor
from skillc.skills.skill import Skill

QA_SET, QA_SKILL = "qa", "sales-call-question"


@dataclass(frozen=True)
class Variant:
    """One condition of the benchmark: a name and the compression every LLM step gets (None: off)."""

    name: str
    settings: Compression | None


DEMO_BUDGET = 3_000  # room for all three demos uncompressed: the variants differ in what the demos show, not how many
DEMO_VARIANTS: tuple[Variant, ...] = (
    Variant("none", None),
    Variant("demos at rate 0.5", Compression(rate=0.5, min_tokens=40, fields=["reasoning"])),
    Variant("demos at rate 0.33", Compression(rate=0.33, min_tokens=40, fields=["reasoning"])),
)
VARIANTS: tuple[Variant, ...] = (
    Variant("none", None),
    Variant("2x", Compression(rate=0.5)),
    Variant("4x", Compression(rate=0.25)),
    Variant("2x chunks only", Compression(rate=0.5, token_level=False)),
)


def run_compression_bench(data: str | Path, *, limit: int | None = 40, student: str = "local:student",
                          skills: str | Path = Path("skills"), out: str | Path = Path("bench/results/compression"),
                          suite_out: str | Path = Path("bench/results/suite"), tasks: str | Path = Path("bench/suite"),
                          variants: tuple[Variant, ...] = VARIANTS, gsm8k: str | Path | None = None,
                          gsm8k_limit: int = 40, gsm8k_student: str = "local:teacher",
                          console: Console | None = None) -> dict[str, Any]:
    """Run every variant on the same `limit` qa items (the suite's eval items) and, with `gsm8k` (its data
    folder), the demo variants on GSM8K rows 500+; write the tables and figure."""
    console = console or Console(stderr=True)
    out, suite_out = Path(out), Path(suite_out)
    if not (suite_out / QA_SET / "items.jsonl").is_file():
        console.print(f"converting the evals sets from {data} …")
        convert_suite(Path(data), Path(tasks), suite_out, say=console.print)
    folder = Path(skills) / QA_SKILL
    if not folder.is_dir():
        raise InvalidInputError(f"no {QA_SKILL} skill in {skills}: run `skillc bench suite --sets qa` first")
    skill = Skill.load(folder)
    items, _ = split_items(load_samples(suite_out / QA_SET / "items.jsonl"), limit, 20)
    records = run_variants(skill, items, variants, student=student, cache_dir=out / "cache", console=console, label="qa")
    rows = [variant_row(v, items, done, metric="label") for v, done in zip(variants, records, strict=True)]
    summary = summarise(rows, items=len(items), student=student, set_name=QA_SET, skill=QA_SKILL)
    parts = {"qa": summary}
    if gsm8k is not None:
        parts["gsm8k"] = run_demos_part(Path(gsm8k), limit=gsm8k_limit, student=gsm8k_student,
                                        cache_dir=out / "cache", console=console)
    return write_outputs(parts, out)


def run_demos_part(data: Path, *, limit: int, student: str, cache_dir: Path, console: Console,
                   variants: tuple[Variant, ...] = DEMO_VARIANTS) -> dict[str, Any]:
    """GSM8K rows 500+ with three retrieved GPT-4 demos each: the demos' reasoning plain or compressed."""
    from skillc.benchmarks.gsm8k import eval_samples
    from skillc.benchmarks.gsm8k_demos import (
        BANK_ROWS,
        TASK_FILE,
        demo_bank,
        one_step_spec,
    )

    spec = one_step_spec(Task.from_file(TASK_FILE), RetrievalPolicy(k=3, token_budget=DEMO_BUDGET))
    console.print(f"gsm8k: building the demo bank from GPT-4's answers to rows 0-{BANK_ROWS.stop - 1} …")
    bank, _ = demo_bank(data, spec)
    skill = Skill(spec)
    skill._bank, skill.examples = bank, bank.records  # each variant's copy builds its bank from these records
    items = eval_samples(data, BANK_ROWS.stop, limit)
    once = precompress_demos(skill, items, variants, console)
    records = run_variants(skill, items, variants, student=student, cache_dir=cache_dir, console=console, label="gsm8k")
    rows = [variant_row(v, items, done, metric="numeric") for v, done in zip(variants, records, strict=True)]
    for row in rows:
        row["demo_compression"] = once.get(row["variant"])
    return summarise(rows, items=len(items), student=student, set_name="gsm8k", skill=spec.name)


def run_variants(skill: Skill, items: list[Sample], variants: tuple[Variant, ...], *, student: str, cache_dir: Path,
                 console: Console, label: str) -> list[list[ItemRecord]]:
    """Each item under every variant (interleaved per item: a busy machine slows them alike), cached per item."""
    runs = [(v, skill.replace(spec=with_compression(skill.spec, v.settings))) for v in variants]
    caches = [EvalCache.for_settings(cache_dir, s, student, None) for _, s in runs]
    records: list[list[ItemRecord]] = [[] for _ in runs]
    for n, item in enumerate(items, 1):
        for (variant, variant_skill), cache, done in zip(runs, caches, records, strict=True):
            cached = all(("skill", i) in cache.runs for i in item_ids([item]))
            run = run_conditions(variant_skill, [item], student=student, teacher=None,
                                 prices=PriceTable(), cache=cache, conditions=["skill"])
            record = run.records[("skill", run.ids[0])]
            done.append(record)
            figures = item_figures(record)
            console.print(f"{label} item {n}/{len(items)} {variant.name}: {figures['input_tokens']:,.0f} tokens, "
                          f"{figures['compressor_s']:.1f} s compressing + {figures['student_s']:.1f} s student"
                          + (" (cached)" if cached else ""), highlight=False)
    return records


def precompress_demos(skill: Skill, items: list[Sample], variants: tuple[Variant, ...], console: Console,
                      compressor: Any = None) -> dict[str, dict[str, float]]:
    """Compress, once per variant, the demos these items will be shown, and store them in the bank records (as
    `skillc eval --compress` does for a whole bank when it adopts): what it took, per variant."""
    from skillc.graphs.compress import compress_records, settings_key

    policy, out = skill.spec.retrieval, {}
    wanted: dict[int, dict[str, Any]] = {}
    for item in items:
        for hit in skill.bank.search(item.input, k=policy.k, step=skill.spec.entry, mmr=policy.mmr):
            index = next(i for i, r in enumerate(skill.bank.records) if r["id"] == hit["id"])
            wanted[index] = skill.bank.records[index]
    for variant in variants:
        if variant.settings is None:
            continue
        spec = with_compression(skill.spec, variant.settings)
        todo = [i for i, r in wanted.items() if settings_key(variant.settings) not in (r.get("compressed") or {})]
        console.print(f"gsm8k {variant.name}: compressing the {len(todo)} demos the items are shown, once …")
        started = time.perf_counter()
        compressor = step_compressor(spec, compressor)
        for n, i in enumerate(todo, 1):
            skill.bank.records[i] = compress_records(spec.steps, [skill.bank.records[i]], compressor)[0]
            if n % 20 == 0:
                console.print(f"  {n}/{len(todo)} demos", highlight=False)
        seconds = time.perf_counter() - started
        out[variant.name] = {"demos": len(todo), "seconds": seconds, "seconds_per_demo": seconds / max(len(todo), 1)}
    return out


def item_figures(record: ItemRecord) -> dict[str, float]:
    """One item's student input tokens, compressor seconds, student seconds and end-to-end seconds."""
    trace = record.trace or []
    return {
        "input_tokens": float((record.tokens.get("student") or [0, 0])[0]),
        "compressor_s": sum(float(v.get("seconds", 0.0)) for r in trace for v in (r.compression or {}).values()),
        "student_s": sum(r.latency_s for r in trace if r.role == "student"),
        "seconds": record.seconds,
    }


def variant_row(variant: Variant, items: list[Sample], records: list[ItemRecord], *, metric: str) -> dict[str, Any]:
    """A variant's line: accuracy and the medians of the per-item figures, with the per-item results kept."""
    correct = [bool(score(metric, item.expected or {}, r.output, label="answer").correct)  # type: ignore[arg-type]
               for item, r in zip(items, records, strict=True)]
    figures = [item_figures(r) for r in records]
    medians = {k: statistics.median(f[k] for f in figures) for k in figures[0]} if figures else {}
    return {"variant": variant.name, "settings": variant.settings.model_dump(mode="json", exclude_none=True) if variant.settings else None,
            "items": len(records), "accuracy": sum(correct) / len(correct) if correct else 0.0,
            "errors": sum(1 for r in records if r.error), "median": medians, "correct": correct}


def summarise(rows: list[dict[str, Any]], *, items: int, student: str, set_name: str, skill: str) -> dict[str, Any]:
    """The rows with each variant's comparison to `none`: token ratio, accuracy change, answers changed, goal."""
    base = next((r for r in rows if r["settings"] is None), None)
    for row in rows:
        if base is None or row is base:
            continue
        saved = base["median"]["student_s"] - row["median"]["student_s"]
        row["versus_none"] = {
            "token_ratio": base["median"]["input_tokens"] / max(row["median"]["input_tokens"], 1.0),
            "accuracy_change": 100 * (row["accuracy"] - base["accuracy"]),
            "right_to_wrong": sum(1 for a, b in zip(base["correct"], row["correct"], strict=True) if a and not b),
            "wrong_to_right": sum(1 for a, b in zip(base["correct"], row["correct"], strict=True) if b and not a),
            "student_s_saved": saved,
            "compressor_share": row["median"]["compressor_s"] / saved if saved > 0 else None,
        }
    return {"set": set_name, "skill": skill, "student": student, "items": items, "rows": rows}


def goal_line(versus: dict[str, Any]) -> str:
    """The issue's three targets for one variant against no compression, each met or missed."""
    share = versus.get("compressor_share")
    parts = [
        f"tokens {versus['token_ratio']:.2f}x ({'met' if versus['token_ratio'] >= 2 else 'missed'})",
        f"accuracy {versus['accuracy_change']:+.1f} pts ({'met' if versus['accuracy_change'] >= -1 else 'missed'})",
        ("compressor time n/a (no student time saved)" if share is None else
         f"compressor {share:.0%} of the student time saved ({'met' if share <= 0.2 else 'missed'})"),
    ]
    return ", ".join(parts)


def compression_markdown(parts: dict[str, Any]) -> str:
    """The tables BENCHMARKS.md and the README show: long inputs (qa) and, when run, demos (gsm8k)."""
    out = []
    for summary in (v for k, v in parts.items() if k != "files"):
        demos = summary["set"] == "gsm8k"
        what = ("three retrieved GPT-4 demos per item, their reasoning compressed once (stored in the bank)" if demos
                else "question-aware compression of the transcript")
        lines = [
            (f"`{summary['skill']}` on {summary['items']} `{summary['set']}` items, student `{summary['student']}`, "
             f"no escalation; {what}; medians per item."),
            "",
            "| variant | accuracy | input tokens | compressor s | student s | end-to-end s | vs none |",
            "| --- | --- | --- | --- | --- | --- | --- |",
        ]
        for row in summary["rows"]:
            m, versus = row["median"], row.get("versus_none")
            note = goal_line(versus) + f"; {versus['right_to_wrong']} right→wrong, {versus['wrong_to_right']} wrong→right" if versus else "baseline"
            once = row.get("demo_compression")
            if once:
                note += f"; demos compressed once: {once['demos']} in {once['seconds']:.0f} s ({once['seconds_per_demo']:.1f} s each)"
            lines.append(f"| {row['variant']} | {row['accuracy']:.0%} ({sum(row['correct'])}/{row['items']}) | {m['input_tokens']:,.0f} | "
                         f"{m['compressor_s']:.1f} | {m['student_s']:.1f} | {m['seconds']:.1f} | {note} |")
        out.append("\n".join(lines) + "\n")
    return "\n".join(out)


def plot_compression(parts: dict[str, Any], path: Path) -> Path:
    """Accuracy against student input tokens per variant, a panel per set; the legend gives each one's seconds."""
    parts = {k: v for k, v in parts.items() if k != "files"}
    fig = new_figure(len(parts))
    for ax, summary in zip(fig.axes, parts.values(), strict=False):
        for row in summary["rows"]:
            m = row["median"]
            ax.scatter([m["input_tokens"]], [row["accuracy"]], s=60,
                       label=f"{row['variant']}: {m['compressor_s']:.0f} s compress + {m['student_s']:.0f} s student")
        ax.set_xlabel("student input tokens per item (median)")
        ax.set_ylim(0, 1.05)
        ax.set_xlim(0, max(r["median"]["input_tokens"] for r in summary["rows"]) * 1.35)
        ax.set_title(f"LLMLingua on {summary['set']} ({summary['items']} items, {summary['student']})")
        ax.grid(alpha=0.3)
        ax.legend(loc="lower right", fontsize=8, title="per item (median)", title_fontsize=8)
    fig.axes[0].set_ylabel("accuracy")
    return save_figure(fig, path)


def write_outputs(parts: dict[str, Any], out: Path) -> dict[str, Any]:
    """Write OUT/compression.md, .json and .png; the result gets their paths under `files`."""
    files = {"table": out / "compression.md", "json": out / "compression.json", "png": out / "compression.png"}
    result = {**parts, "files": {k: str(v) for k, v in files.items()}}
    atomic_write_text(files["table"], compression_markdown(parts))
    atomic_write_text(files["json"], json.dumps(result, indent=2) + "\n")
    plot_compression(parts, files["png"])
    return result


def spread(items: list[Any], limit: int | None) -> list[Any]:
    """`limit` items spread evenly over `items` (all of them when `limit` is None or not smaller).

    >>> spread(list(range(10)), 4)
    [0, 2, 5, 7]
    """
    if limit is None or limit >= len(items):
        return list(items)
    if limit < 1:
        raise InvalidInputError("--limit must be at least 1")
    return [items[i * len(items) // limit] for i in range(limit)]


def split_items(items: list[Sample], limit: int | None, calibrate: int) -> tuple[list[Sample], list[Sample]]:
    """The eval items (`limit`, spread evenly) and `calibrate` held-out items, disjoint: the pick the suite of issue
    14 made, which this benchmark's figures were measured on.

    >>> evals, held = split_items([Sample(input={"i": i}, id=i) for i in range(10)], 8, 4)
    >>> [s.input["i"] for s in evals], [s.input["i"] for s in held]
    ([0, 1, 3, 5, 6, 8], [2, 4, 7, 9])
    """
    n_cal = min(calibrate, len(items) // 2)
    count = len(items) - n_cal if limit is None or limit + n_cal > len(items) else limit
    chosen = spread(items, count)
    taken = {id(s) for s in chosen}
    return chosen, spread([s for s in items if id(s) not in taken], n_cal) if n_cal else []
