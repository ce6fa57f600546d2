"""`skillc …`: compile, run and show skills.

Exit codes: 0 ok · 1 unexpected error · 2 invalid input or usage · 3 the skill gave up (no valid answer)
· 4 a model backend is down or cannot answer · 5 invalid or tampered skill folder · 6 the teacher could
not produce a valid skill · 7 `eval --baseline`: quality retention fell by more than `--max-drop` points.

Example:
    $ skillc compile task.yaml --teacher replay:logs.csv#gpt-4o_response --out skills/invoice-total
    $ skillc run skills/invoice-total --input '{"text": "..."}' --student local:student --teacher local:teacher
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.panel import Panel
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)
from rich.syntax import Syntax
from rich.table import Table

from skillc.adapters.pricing import PriceTable, default_prices
from skillc.adapters.replicas import student_model
from skillc.batch.lines import echo_input, result_line
from skillc.cli.budget import budget_option
from skillc.cli.budget import register as register_budget
from skillc.cli.output import EXIT_CODES, console, err, errors_exit, stop_on_signals
from skillc.cli.share import register as register_sharing
from skillc.compile.compiler import compile_skill
from skillc.compile.for_student import DEFAULT_SIGNALS
from skillc.compile.logs import LogColumns, read_logs
from skillc.core.errors import InvalidInputError, SkillcError
from skillc.core.files import atomic_write_text, read_json
from skillc.core.task import Task, load_samples
from skillc.core.trace import RunResult
from skillc.skills.export import FORMATS, export_rows
from skillc.skills.quality import QualityFilter, blocklist_from_jsonl
from skillc.skills.skill import Skill

app = typer.Typer(no_args_is_help=True, add_completion=False, help=f"skillc: compile once with a teacher, run cheap with a student.\n\n{EXIT_CODES}")

PricesOpt = Annotated[Path | None, typer.Option("--prices", help="TOML/YAML price overrides (USD per 1M tokens).")]


def _prices(path: Path | None) -> PriceTable:
    return PriceTable.from_file(path) if path else default_prices()


@app.command("compile")
def compile_cmd(
    task_file: Annotated[Path, typer.Argument(help="task.yaml")],
    teacher: Annotated[str, typer.Option("--teacher", help="teacher model URI")],
    out: Annotated[Path, typer.Option("--out", help="skill folder to write, e.g. skills/NAME")],
    samples: Annotated[Path | None, typer.Option("--samples", help="JSONL of extra samples")] = None,
    max_repairs: Annotated[int, typer.Option(help="times the teacher may repair an invalid design")] = 2,
    traces: Annotated[bool, typer.Option(help="let the teacher work the samples into examples")] = True,
    repair_temperature: Annotated[float | None, typer.Option(help="sample repair attempts at this temperature")] = None,
    prices: PricesOpt = None,
    logs: Annotated[Path | None, typer.Option("--logs", help="CSV of recorded teacher calls: the bank comes from it")] = None,
    prompt_col: Annotated[str, typer.Option("--prompt-col", help="column of --logs holding the prompt")] = "prompt",
    response_col: Annotated[str | None, typer.Option("--response-col", help="column of --logs holding the response")] = None,
    label_col: Annotated[str | None, typer.Option("--label-col", help="column with true/false or the reference answer")] = None,
    rows: Annotated[str | None, typer.Option("--rows", help="rows of --logs to use, START:STOP (e.g. 0:500)")] = None,
    blocklist: Annotated[Path | None, typer.Option("--blocklist", help="JSONL of contaminated inputs to keep out")] = None,
    trainset: Annotated[Path | None, typer.Option("--trainset", help="labelled JSONL (input, expected): the bank's ground truth; designs are scored on --student")] = None,
    student: Annotated[str | None, typer.Option("--student", help="with --trainset: the student every candidate is scored with")] = None,
    dev: Annotated[Path | None, typer.Option("--dev", help="with --trainset: labelled JSONL held out for scoring (default: --dev-share of the trainset)")] = None,
    dev_share: Annotated[float, typer.Option("--dev-share", help="share of the trainset held out for scoring")] = 0.3,
    seed: Annotated[int, typer.Option(help="seed of the dev split and of sampled designs")] = 0,
    search_budget: Annotated[int, typer.Option("--search-budget", help="most student calls the search may make")] = 600,
    signals: Annotated[str, typer.Option(help="with --trainset: the gate's signals, learned on dev: check, neighbours, peer, consistency, logprobs, verify")] = "check,neighbours,peer",
    max_wrong_pass: Annotated[float, typer.Option("--max-wrong-pass", help="share of wrong dev answers the gate may let pass")] = 0.1,
    target_retention: Annotated[float | None, typer.Option("--target-retention", help="instead: escalate the fewest dev items that keep this share of the teacher's accuracy (the teacher answers dev)")] = None,
    metric: Annotated[str | None, typer.Option(help="how dev answers are scored (default: the task's metric, else exact)")] = None,
    architect_samples: Annotated[int, typer.Option("--architect-samples", help="architect designs to try (first greedy, then sampled)")] = 2,
    bootstrap: Annotated[int, typer.Option(help="labelled items the teacher works for each design it writes")] = 6,
    cache_dir: Annotated[Path | None, typer.Option("--cache-dir", help="per-candidate dev results (default: .skillc-compile-cache/ beside the trainset)")] = None,
) -> None:
    """Compile TASK_FILE into a skill folder with the teacher as architect.

    With --trainset and --student, compile scores candidate designs and demo policies by how the student does on
    a dev split, keeps the best, fills the bank with the labels and learns the escalation gate on dev.
    """
    with errors_exit():
        task = Task.from_file(task_file)
        if trainset is not None:
            _compile_for_student(task, teacher, out, trainset, student, dev, dev_share, seed, search_budget, signals,
                                 max_wrong_pass, metric, architect_samples, bootstrap, cache_dir, _prices(prices),
                                 target_retention)
            return
        if student is not None or dev is not None:
            raise InvalidInputError("--student and --dev go with --trainset (labelled items the candidates are scored on)")
        extra = load_samples(samples) if samples else []
        log_rows, columns = None, None
        if logs is not None:
            if not response_col:
                raise InvalidInputError("--logs needs --response-col (the column with the teacher's responses)")
            columns = LogColumns(prompt=prompt_col, response=response_col, label=label_col)
            log_rows = read_logs(logs, columns, _row_slice(rows))
            err.print(f"{len(log_rows)} recorded calls from {logs.name} become the example bank")
        quality = QualityFilter(blocklist=blocklist_from_jsonl(blocklist)) if blocklist else None
        err.print(f"teacher {teacher} designs [bold]{task.name}[/] …")
        skill = compile_skill(
            task, teacher=teacher, samples=[*task.samples, *extra], max_repairs=max_repairs,
            trace_samples=traces, prices=_prices(prices), progress=True, repair_temperature=repair_temperature,
            logs=log_rows, log_columns=columns, quality=quality,
        )
        folder = skill.save(out)
    _print_compile_summary(skill, folder)


def _compile_for_student(task: Task, teacher: str, out: Path, trainset: Path, student: str | None, dev: Path | None,
                         dev_share: float, seed: int, budget: int, signals: str, max_wrong_pass: float,
                         metric: str | None, architect_samples: int, bootstrap: int, cache_dir: Path | None,
                         prices: PriceTable, target_retention: float | None = None) -> None:
    from skillc.compile.trainset import load_labelled
    from skillc.eval.metrics import METRICS

    if student is None:
        raise InvalidInputError("--trainset needs --student: compile scores every candidate with the model that will run it")
    if metric is not None and metric not in METRICS:
        raise InvalidInputError(f"--metric must be one of {', '.join(METRICS)}")
    items = load_labelled(trainset, task)
    held = load_labelled(dev, task) if dev is not None else None
    err.print(f"compiling [bold]{task.name}[/] for {student}: {len(items)} labelled item(s), teacher {teacher} …")
    skill = compile_skill(task, teacher=teacher, trainset=items, student=student, dev=held, dev_share=dev_share,
                          seed=seed, search_budget=budget, metric=metric, max_wrong_pass=max_wrong_pass,
                          target_retention=target_retention,
                          signals=tuple(x.strip() for x in signals.split(",") if x.strip()), prices=prices,
                          architect_samples=architect_samples, bootstrap=bootstrap, progress=True,
                          cache_dir=cache_dir or trainset.parent / ".skillc-compile-cache")
    folder = skill.save(out)
    _print_compile_summary(skill, folder)


def _row_slice(text: str | None) -> slice | None:
    if not text:
        return None
    try:
        start, _, stop = text.partition(":")
        return slice(int(start) if start else None, int(stop) if stop else None)
    except ValueError:
        raise InvalidInputError(f"--rows must look like 0:500, not {text!r}") from None


@app.command("export")
def export_cmd(
    skill_dir: Annotated[Path, typer.Argument(help="skill folder")],
    fmt: Annotated[str, typer.Option("--format", help="openai, sharegpt or alpaca")] = "openai",
    out: Annotated[Path | None, typer.Option("--out", help="JSONL file to write (default stdout)")] = None,
    with_reasoning: Annotated[bool, typer.Option("--with-reasoning", help="assistant turn: reasoning, then the answer")] = False,
    source: Annotated[str | None, typer.Option("--source", help="only these sources, e.g. teacher,escalation")] = None,
) -> None:
    """Export the skill's example bank as fine-tuning JSONL; counts per source go to stderr."""
    with errors_exit():
        if fmt not in FORMATS:
            raise InvalidInputError(f"--format must be one of {', '.join(FORMATS)}")
        skill = Skill.load(skill_dir)
        sources = {s.strip() for s in source.split(",") if s.strip()} if source else None
        rows, counts = export_rows(skill.spec, skill.bank.records, fmt, with_reasoning=with_reasoning, sources=sources)  # type: ignore[arg-type]
        text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
        if out is not None:
            atomic_write_text(out, text)
        else:
            sys.stdout.write(text)
    per_source = ", ".join(f"{k}: {v}" for k, v in counts["written"].items()) or "none"
    skipped = ", ".join(f"{k}: {v}" for k, v in counts["skipped"].items()) or "none"
    err.print(f"exported {len(rows)} {fmt} rows ({per_source}); skipped {skipped}" + (f" → {out}" if out else ""))


@app.command("run")
def run_cmd(
    skill_dir: Annotated[Path, typer.Argument(help="skill folder")],
    student: Annotated[list[str] | None, typer.Option("--student", metavar="URI", help="student model URI (not needed by a skill with no model step, e.g. a vote); repeat it for replicas of one model: calls spread over them and fail over")] = None,
    teacher: Annotated[str | None, typer.Option("--teacher", help="teacher model URI (escalations)")] = None,
    input_json: Annotated[str | None, typer.Option("--input", help="one input as a JSON object")] = None,
    inputs: Annotated[Path | None, typer.Option("--inputs", help="JSONL file, one input per line")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="batch: write JSON lines here (default stdout)")] = None,
    escalation: Annotated[str | None, typer.Option(help="step, task or off (default: the skill's)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the result as JSON")] = False,
    trace: Annotated[bool, typer.Option("--trace", help="include the full trace in JSON output")] = False,
    timeout: Annotated[float | None, typer.Option("--timeout", help="seconds per model call (default: the skill's limits, else the backend's)")] = None,
    deadline: Annotated[float | None, typer.Option("--deadline", help="seconds for the whole run of one input, retries and escalations included")] = None,
    max_input_bytes: Annotated[int | None, typer.Option("--max-input-bytes", help="largest input as UTF-8 JSON (default 1000000)")] = None,
    prices: PricesOpt = None,
    cache: Annotated[str | None, typer.Option("--cache", help="step cache: memory, sqlite:PATH or redis://127.0.0.1:PORT (default off)")] = None,
    budget: Annotated[list[str] | None, typer.Option("--budget", help="teacher spend limit NAME=VALUE over the skill's: max_teacher_calls_per_run, max_usd_per_run, max_usd_per_day; with --inputs, max_teacher_calls / max_usd bound the whole batch")] = None,
    ledger: Annotated[Path | None, typer.Option("--ledger", help="the daily ledger file for max_usd_per_day (default $SKILLC_LEDGER or ~/.skillc/ledger.sqlite)")] = None,
    concurrency: Annotated[int, typer.Option("--concurrency", help="with --inputs: inputs run at once (results stay in input order)")] = 1,
    rps: Annotated[float | None, typer.Option("--rps", help="at most this many student calls per second (langchain-core's rate limiter)")] = None,
    ray_address: Annotated[str | None, typer.Option("--ray", help="with --inputs: run the inputs as tasks on a Ray cluster (auto, or HOST:PORT); the skill is shipped to the workers as data")] = None,
) -> None:
    """Run a skill on one input (--input) or many (--inputs), with the student executing every step.

    With --inputs and --out, every finished input is journalled (OUT.journal): run the same command again after a
    kill and it resumes, running no finished input twice.
    """
    with errors_exit():
        if (input_json is None) == (inputs is None):
            raise InvalidInputError("give exactly one of --input '{...}' or --inputs file.jsonl")
        if escalation not in (None, "step", "task", "off"):
            raise InvalidInputError("--escalation must be step, task or off")
        if ray_address is not None and inputs is None:
            raise InvalidInputError("--ray runs a batch on a cluster: give --inputs file.jsonl")
        skill = Skill.load(skill_dir)
        if not student and any(step.uses_model for step in skill.spec.steps):
            raise InvalidInputError(f"{skill.name} has model steps ({', '.join(s.id for s in skill.spec.steps if s.uses_model)}): "
                                    "give --student URI")
        kwargs: dict[str, Any] = dict(student=student_model(student or [], rps), teacher=teacher, escalation=escalation, prices=_prices(prices),
                                      timeout_s=timeout, deadline_s=deadline, max_input_bytes=max_input_bytes,
                                      cache=cache, budget=budget_option(budget or [], skill.spec.budget, skill.name, ledger),
                                      ledger=ledger)
        if input_json is not None:
            result = skill.run(_parse_input(input_json, "--input"), **kwargs)
            if as_json:
                print(json.dumps(result_line(skill, None, result, trace=trace), ensure_ascii=False))
            else:
                _print_result(skill, result)
            if result.error is not None:
                result.raise_for_error()
            return
        assert inputs is not None
        if ray_address is not None:
            from skillc.batch.ray_runner import ray_run_one

            run_one = ray_run_one(skill_dir, ray_address, {**kwargs, "student": student or [], "rps": rps}, trace=trace)
        else:
            run_one = _local_run_one(skill, kwargs, trace)
        _run_batch(skill, inputs, out, run_one, trace, concurrency)


def _local_run_one(skill: Skill, kwargs: dict[str, Any], trace: bool) -> Any:
    def run_one(index: int, item: dict[str, Any]) -> dict[str, Any]:
        payload = item.get("input", item) if isinstance(item.get("input"), dict) else item
        try:
            result = skill.run(payload, **kwargs)
        except InvalidInputError as exc:
            return {"input": echo_input(payload), "output": None, "error": {"kind": "invalid_input", "message": str(exc)}}
        return result_line(skill, payload, result, trace=trace)

    return run_one


def _run_batch(skill: Skill, inputs: Path, out: Path | None, run_one: Any, trace: bool, concurrency: int = 1) -> None:
    from skillc.batch.journal import Journal
    from skillc.batch.runner import run_batch

    try:
        data = inputs.read_bytes()
    except OSError as exc:
        raise InvalidInputError(f"cannot read {inputs}: {exc}") from None
    lines = [(n, line) for n, line in enumerate(data.splitlines(), 1) if line.strip()]
    items = [_parse_input(line, f"{inputs}: line {n}") for n, line in lines]
    journal = Journal(out.with_name(out.name + ".journal"), _batch_fingerprint(skill, data, trace)) if out else None
    if journal is not None and journal.done():
        err.print(f"resuming {inputs}: {len(journal.done())}/{len(items)} inputs already done ({journal.path})")

    piped = not err.is_terminal
    columns = [TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()]
    sink = open(out, "w", encoding="utf-8") if out else sys.stdout
    try:
        with Progress(*columns, console=err, transient=False, disable=piped) as progress:
            bar = progress.add_task(f"run {skill.name}" + (f" · {concurrency} at once" if concurrency > 1 else ""), total=len(items))
            count = [0]

            def on_done(index: int, line: dict[str, Any], from_journal: bool) -> None:
                progress.advance(bar)
                count[0] += 1
                if piped and not from_journal:  # off a terminal: a line per input, so a long batch never looks hung
                    status = "ok" if line.get("error") is None else f"error {line['error'].get('kind')}"
                    print(f"[{count[0]}/{len(items)}] input {index + 1}: {status}", file=sys.stderr, flush=True)

            results = run_batch(items, run_one, sink=sink, concurrency=concurrency, journal=journal, on_done=on_done)
    finally:
        if out:
            sink.close()
    if journal is not None:
        journal.remove()
    failed = sum(line.get("error") is not None for line in results)
    called = any(line.get("tokens") for line in results)  # the $0 hint is for unpriced models, not inputs all refused
    err.print(f"{len(items) - failed}/{len(items)} ok · " + cost_line(
        sum(line.get("cost_usd", 0.0) for line in results), sum(line.get("teacher_baseline_usd", 0.0) for line in results),
        called=called, cached=sum(line.get("cached_steps", 0) for line in results),
        saved=sum(line.get("saved_usd", 0.0) for line in results)))
    if failed:
        raise typer.Exit(3)


def _batch_fingerprint(skill: Skill, inputs: bytes, trace: bool) -> str:
    """What a journal belongs to: the skill's digest, the inputs' bytes and the line format."""
    import hashlib

    return hashlib.sha256(b"|".join([(skill.digest or skill.name).encode(), inputs, b"trace" if trace else b""])).hexdigest()


@app.command("demo")
def demo_cmd(
    teacher: Annotated[str, typer.Option("--teacher", help="teacher model URI")] = "local:teacher",
    student: Annotated[str, typer.Option("--student", help="student model URI")] = "local:student",
    out: Annotated[Path, typer.Option("--out", help="where the compiled skill and report.json go")] = Path("skillc-demo"),
    limit: Annotated[int | None, typer.Option(help="use only the first N bundled invoices")] = None,
    hourly_usd: Annotated[float, typer.Option(help="assumed machine cost per hour, for the local cost")] = 0.10,
) -> None:
    """Compile the bundled invoice task with the teacher, then compare the conditions on 12 invoices."""
    from skillc.cli.demo import run_demo

    with errors_exit():
        run_demo(teacher=teacher, student=student, out=out, limit=limit, hourly_usd=hourly_usd, console=console)


@app.command("eval")
def eval_cmd(
    skill_dir: Annotated[Path, typer.Argument(help="skill folder")],
    dataset: Annotated[Path, typer.Option("--dataset", help="JSONL: input, expected, optional id/category/difficulty")],
    student: Annotated[str, typer.Option("--student", help="student model URI")],
    teacher: Annotated[str, typer.Option("--teacher", help="teacher model URI (teacher-only, escalations, judge)")],
    metric: Annotated[str, typer.Option(help="exact, numeric, f1, label, includes, set_f1 or judge")] = "numeric",
    tolerance: Annotated[float, typer.Option(help="relative tolerance for numbers (numeric, f1)")] = 1e-4,
    label_field: Annotated[str | None, typer.Option("--label-field", help="the label field (metric label)")] = None,
    by: Annotated[str, typer.Option("--by", help="comma-separated dataset fields to stratify by")] = "category,difficulty",
    student_priced_as: Annotated[str | None, typer.Option(help="price student tokens as this API model (assumed; local default gpt-4o-mini)")] = None,
    teacher_priced_as: Annotated[str | None, typer.Option(help="price teacher tokens as this API model (assumed; local default gpt-4o)")] = None,
    compile_cost: Annotated[float | None, typer.Option("--compile-cost", help="the compile cost in USD (default: from the provenance)")] = None,
    calls_per_month: Annotated[int, typer.Option("--calls-per-month", help="volume for the monthly saving")] = 100_000,
    cache_dir: Annotated[Path | None, typer.Option("--cache-dir", help="per-item result cache (default: .skillc-eval-cache/ beside the dataset)")] = None,
    fresh: Annotated[bool, typer.Option("--fresh", help="ignore and restart the per-item cache")] = False,
    limit: Annotated[int | None, typer.Option(help="only the first N items")] = None,
    baseline: Annotated[Path | None, typer.Option("--baseline", help="an earlier eval.json to compare retention with")] = None,
    max_drop: Annotated[float, typer.Option("--max-drop", help="with --baseline: allowed retention drop in points")] = 2.0,
    compress: Annotated[float | None, typer.Option("--compress", help="also try LLMLingua at this rate (share of tokens kept, e.g. 0.5) and adopt it if quality holds")] = None,
    compress_tolerance: Annotated[float, typer.Option("--compress-tolerance", help="with --compress: accuracy points compression may cost")] = 1.0,
    prices: PricesOpt = None,
) -> None:
    """Evaluate a skill on a labelled dataset: teacher only, raw student, skill, skill + escalation, and (when the
    skill's bank holds records for its answer step) teacher + the skill's demos and the nearest-neighbour vote.

    Writes eval.json and eval.png (cost–quality curve) into the skill folder; resumable per item. With
    --compress, the skill runs without and with LLMLingua on its long inputs and demos; compression is written
    into the skill only when accuracy (without and with escalation) stays within --compress-tolerance points.
    """
    from skillc.cli.tables import print_eval_report
    from skillc.eval.evaluate import evaluate_skill, load_baseline, write_evaluation

    with errors_exit():
        skill = Skill.load(skill_dir)
        old = load_baseline(baseline) if baseline else None
        options: dict[str, Any] = {
            "student": student, "teacher": teacher, "metric": metric, "tolerance": tolerance, "label": label_field,
            "prices": _prices(prices), "priced_as": {"student": student_priced_as, "teacher": teacher_priced_as},
            "strata": [f.strip() for f in by.split(",") if f.strip()], "calls_per_month": calls_per_month,
            "compile_cost_usd": compile_cost, "cache_dir": cache_dir, "fresh": fresh, "limit": limit, "console": err,
        }
        verdict = None
        if compress is None:
            report = evaluate_skill(skill, dataset, **options)
        else:
            from skillc.core.spec import Compression
            from skillc.eval.compression import (
                adopt_compression,
                evaluate_compression,
                verdict_line,
            )

            if not 0 < compress <= 1:
                raise InvalidInputError("--compress is the share of tokens kept, in (0, 1]: 0.5 halves the long inputs")
            settings = Compression(rate=compress)
            report, adopted = evaluate_compression(skill, dataset, settings, tolerance_points=compress_tolerance, **options)
            if adopted:
                skill = adopt_compression(skill, settings)
            verdict = verdict_line(report.compression or {})
        print_eval_report(console, report)
        path, png, check = write_evaluation(skill, report, baseline=old, max_drop=max_drop)
    if verdict:
        console.print(verdict)
    console.print(f"wrote {path}" + (f" and {png.name}" if png else "") + (f" · {check}" if check else ""))


@app.command("calibrate")
def calibrate_cmd(
    skill_dir: Annotated[Path, typer.Argument(help="skill folder")],
    dataset: Annotated[Path, typer.Option("--dataset", help="held-out JSONL samples: input, expected")],
    student: Annotated[str, typer.Option("--student", help="student model URI (local:NAME?logprobs for logprobs)")],
    signals: Annotated[str, typer.Option(help="comma-separated: check, consistency, logprobs, verify, neighbours, peer")] = "check,consistency",
    max_wrong_pass: Annotated[float, typer.Option("--max-wrong-pass", help="share of wrong answers allowed to pass unescalated")] = 0.1,
    samples: Annotated[int, typer.Option(help="consistency: extra answers sampled per step")] = 3,
    metric: Annotated[str, typer.Option(help="exact, numeric, f1, label, includes or set_f1")] = "numeric",
    tolerance: Annotated[float, typer.Option(help="relative tolerance for numbers")] = 1e-4,
    peer: Annotated[str | None, typer.Option("--peer", help="the second cheap model of the peer signal (default: the skill's, else local:tiny)")] = None,
    target_retention: Annotated[float | None, typer.Option("--target-retention", help="instead of --max-wrong-pass: escalate the fewest samples that keep this share of the teacher's accuracy (needs --teacher)")] = None,
    teacher: Annotated[str | None, typer.Option("--teacher", help="with --target-retention: the teacher that answers the held-out samples")] = None,
) -> None:
    """Set the escalation gate from held-out samples and store it in the skill's spec.

    Each signal gets the lowest threshold at which at most --max-wrong-pass of the wrong answers pass; so does a
    logistic gate over all the measured signals together (its threshold chosen on cross-validated scores). The one
    that escalates the fewest items becomes the gate.
    """
    from skillc.eval.calibrate import calibrate_skill

    with errors_exit():
        skill = Skill.load(skill_dir)
        policy = skill.spec.escalation.model_copy(update={"samples": samples})
        skill = skill.replace(spec=skill.spec.model_copy(update={"escalation": policy}))
        tuned, found = calibrate_skill(skill, load_samples(dataset), student=student,
                                       signals=[x.strip() for x in signals.split(",") if x.strip()],
                                       max_wrong_pass=max_wrong_pass, metric=metric, tolerance=tolerance, console=err,  # type: ignore[arg-type]
                                       peer=peer, teacher=teacher, target_retention=target_retention)
        if peer is not None:
            policy = tuned.spec.escalation.model_copy(update={"peer": peer})
            tuned = tuned.replace(spec=tuned.spec.model_copy(update={"escalation": policy}))
        tuned.save(skill_dir)
    table = Table("signal", "threshold", "wrong answers passing", "escalated", "accuracy kept", title=f"calibration on {found[0].items} samples")
    for c in found:
        table.add_row(c.signal, "∞" if c.threshold == float("inf") else f"{c.threshold:.3g}", f"{c.wrong_pass_rate:.0%}",
                      f"{c.escalation_rate:.0%}", f"{c.kept_accuracy:.0%}")
    console.print(table)
    gate = tuned.spec.escalation
    if gate.gate is not None:
        terms = " + ".join(f"{w:.2f}·{f}" for f, w in zip(gate.gate.features, gate.gate.weights, strict=True))
        console.print(f"gate: learned, escalate when sigmoid({gate.gate.bias:.2f} + {terms}) < {gate.gate.threshold:.3g} "
                      f"(threshold from cross-validated scores) · wrote {skill_dir / 'skill.json'}")
    else:
        console.print(f"gate: {gate.signals or ['check']} {gate.thresholds} · wrote {skill_dir / 'skill.json'}")


bank_app = typer.Typer(no_args_is_help=True, help="The example bank and its quarantine of escalated answers.")
app.add_typer(bank_app, name="bank")


@bank_app.command("review")
def bank_review_cmd(
    skill_dir: Annotated[Path, typer.Argument(help="skill folder")],
    promote: Annotated[list[str] | None, typer.Option("--promote", help="id (or unique prefix) to move into the bank; repeat it")] = None,
    reject: Annotated[list[str] | None, typer.Option("--reject", help="id (or unique prefix) to drop; repeat it")] = None,
    verify_with: Annotated[str | None, typer.Option("--verify-with", help="a second model that vouches for unchecked answers (never for instruction-like inputs)")] = None,
) -> None:
    """List the escalated answers waiting in the quarantine, and promote or reject them.

    An escalated answer joins the bank by itself only when its step's declared check passed and its input
    holds no instruction-like text; every other one waits here and is never shown to the student.
    """
    from skillc.skills.review import review

    with errors_exit():
        skill = Skill.load(skill_dir)
        verdicts = review(skill, promote=promote or [], reject=reject or [], verify_with=verify_with)
        pending = {str(r.get("id")): r for r in skill.bank.quarantine.pending()} if skill.bank.quarantine else {}
    table = Table("id", "step", "action", "why", "input", title=f"quarantine of {skill.name}: {len(verdicts)} record(s)")
    for v in verdicts:
        record = pending.get(v.id, {})
        text = json.dumps(record.get("input", ""), ensure_ascii=False)[:60] if record else ""
        table.add_row(v.id[:12], str(record.get("step", "")), v.action, v.reason, text)
    console.print(table)
    moved = sum(v.action == "promoted" for v in verdicts)
    console.print(f"promoted {moved}, rejected {sum(v.action == 'rejected' for v in verdicts)}, "
                  f"still waiting {len(pending)} · the bank holds {len(skill.bank)} records")


register_sharing(app)
register_budget(app)


bench_app = typer.Typer(no_args_is_help=True, help="Benchmarks against recorded teachers.")
app.add_typer(bench_app, name="bench")


@bench_app.command("gsm8k")
def bench_gsm8k_cmd(
    data: Annotated[Path, typer.Option("--data", help="the GSM8K folder: teacher_logs.csv, test.jsonl, train.jsonl, contaminated_prompts.jsonl")],
    student: Annotated[list[str] | None, typer.Option("--student", help="student model URI; repeat it to compare students")] = None,
    limit: Annotated[int, typer.Option(help="test rows to evaluate, from --start")] = 20,
    start: Annotated[int, typer.Option(help="first test row (rows 0-499 feed the bank)")] = 500,
    seed: Annotated[int, typer.Option(help="seed for the draw of held-out calibration problems")] = 0,
    teacher: Annotated[str, typer.Option("--teacher", help="the architect that designs the graph")] = "local:teacher",
    signals: Annotated[str, typer.Option(help="confidence signals: check, consistency, logprobs (a slower logits_all server), verify")] = "check,consistency",
    samples: Annotated[int, typer.Option(help="consistency: extra answers per step (4: five answers in all)")] = 4,
    vote: Annotated[bool, typer.Option("--vote/--no-vote", help="the majority answer of the samples answers (self-consistency)")] = True,
    calibrate: Annotated[int, typer.Option(help="held-out train problems for calibration")] = 50,
    max_wrong_pass: Annotated[float, typer.Option("--max-wrong-pass", help="share of wrong answers allowed to pass")] = 0.1,
    out: Annotated[Path, typer.Option(help="where the skill, caches and results go")] = Path("bench/results/gsm8k"),
) -> None:
    """GSM8K: a skill compiled by --teacher on each --student, escalating to the recorded GPT-4.

    Writes OUT/<student>/gsm8k.json and gsm8k.png per student, then OUT/gsm8k.md (the table of every
    student) and OUT/gsm8k.png (one panel per student). Resumable: per-item caches in OUT.
    """
    from skillc.benchmarks.gsm8k import Settings, run_benchmark, write_summary
    from skillc.cli.tables import print_gsm8k_report

    reports = []
    for uri in student or ["local:student"]:
        settings = Settings(student=uri, teacher=teacher, start=start, limit=limit, seed=seed,
                            signals=tuple(x.strip() for x in signals.split(",") if x.strip()), samples=samples,
                            calibrate=calibrate, max_wrong_pass=max_wrong_pass, vote=vote)
        with errors_exit():
            report = run_benchmark(data, settings, out, console=err)
        print_gsm8k_report(console, report)
        console.print(f"wrote {report['files']['json']} and {report['files']['png']}")
        reports.append(report)
    summary = write_summary(reports, out)
    console.print(f"wrote {summary['table']} and {summary['png']}")


@bench_app.command("suite")
def bench_suite_cmd(
    data: Annotated[Path, typer.Option("--data", help="the evals folder with the seven public sets (../shared/data/evals)")],
    limit: Annotated[int | None, typer.Option(help="test items per set, at most (default: the whole test split)")] = None,
    student: Annotated[str, typer.Option("--student", help="student model URI: every candidate design is scored with it")] = "local:student",
    teacher: Annotated[str, typer.Option("--teacher", help="teacher model URI: writes designs, runs alone, takes escalations")] = "local:teacher",
    sets: Annotated[str | None, typer.Option("--sets", help="comma-separated set names (default: all seven)")] = None,
    tasks: Annotated[Path, typer.Option("--tasks", help="where each set's task.yaml is (written when missing)")] = Path("bench/suite"),
    skills: Annotated[Path, typer.Option("--skills", help="compiled skills: reused when compiled on the same split for the same student")] = Path("skills"),
    out: Annotated[Path, typer.Option(help="per-set split, caches and eval.json; suite.md, suite.json, suite.png")] = Path("bench/results/suite"),
    signals: Annotated[str, typer.Option(help="the gate's signals, learned on dev: check, neighbours, peer, consistency, logprobs, verify")] = ",".join(DEFAULT_SIGNALS),
    max_wrong_pass: Annotated[float, typer.Option("--max-wrong-pass", help="with --no-target-retention: share of wrong dev answers the gate may let pass")] = 0.1,
    target_retention: Annotated[float | None, typer.Option("--target-retention", help="the gate escalates the fewest dev items that keep this share of the teacher's accuracy (the goal's 0.97)")] = 0.97,
    no_target_retention: Annotated[bool, typer.Option("--no-target-retention", help="learn the gate for --max-wrong-pass instead")] = False,
    search_budget: Annotated[int, typer.Option("--search-budget", help="student calls each set's search may make")] = 600,
    architect_samples: Annotated[int, typer.Option("--architect-samples", help="architect designs per set")] = 1,
    bootstrap: Annotated[int, typer.Option(help="labelled items the teacher works for each design it writes")] = 4,
    redraw: Annotated[bool, typer.Option("--redraw", help="only rebuild the tables and figure from OUT (no model calls), and the skills' banks from --data")] = False,
) -> None:
    """The public task suite: each set split once (train, dev, test), compiled for the student on train and dev, and
    evaluated on test: teacher alone, teacher + demos, raw student, neighbour vote, the skill without and with escalation.

    Resumable per item. Writes OUT/suite.md (the tables), OUT/suite.json and OUT/suite.png (one cost–quality panel per set).
    """
    from skillc.benchmarks.suite import SuiteSettings, redraw_suite, run_suite
    from skillc.cli.tables import print_suite_summary

    chosen = [x.strip() for x in sets.split(",") if x.strip()] if sets else None
    with errors_exit():
        if redraw:
            summary = redraw_suite(out, tasks=tasks, skills=skills, only=chosen, data=data, say=err.print)
        else:
            settings = SuiteSettings(student=student, teacher=teacher, limit=limit, max_wrong_pass=max_wrong_pass,
                                     target_retention=None if no_target_retention else target_retention,
                                     signals=tuple(x.strip() for x in signals.split(",") if x.strip()),
                                     search_budget=search_budget, architect_samples=architect_samples, bootstrap=bootstrap)
            summary = run_suite(data, settings, tasks=tasks, skills=skills, out=out, only=chosen, console=err)
    print_suite_summary(console, summary)
    files = summary["files"]
    console.print(f"wrote {files['table']}, {files['json']} and {files['png']}")


@bench_app.command("compression")
def bench_compression_cmd(
    data: Annotated[Path, typer.Option("--data", help="the evals folder with the seven public sets (../shared/data/evals)")],
    limit: Annotated[int | None, typer.Option(help="qa items, spread evenly over the set (default: all 108 not held out)")] = 40,
    student: Annotated[str, typer.Option("--student", help="student model URI")] = "local:student",
    skills: Annotated[Path, typer.Option("--skills", help="where the suite's compiled skills are")] = Path("skills"),
    out: Annotated[Path, typer.Option(help="per-item cache; compression.md, compression.json, compression.png")] = Path("bench/results/compression"),
    gsm8k: Annotated[Path | None, typer.Option("--gsm8k", help="also the demos part: the GSM8K folder (../shared/data/gsm8k)")] = None,
    gsm8k_limit: Annotated[int, typer.Option("--gsm8k-limit", help="GSM8K test rows from 500")] = 40,
    gsm8k_student: Annotated[str, typer.Option("--gsm8k-student", help="student model URI of the demos part")] = "local:teacher",
) -> None:
    """LLMLingua on long inputs: the qa skill with no compression, 2x and 4x question-aware, and 2x whole chunks;
    with --gsm8k, also GSM8K with three GPT-4 demos per item, their reasoning plain or compressed.

    Same items and student for every variant; accuracy, input tokens, compressor and student seconds per item.
    Needs the `compression` extra. Resumable per item; a finished run re-run only redraws.
    """
    from skillc.benchmarks.compression import (
        compression_markdown,
        run_compression_bench,
    )

    with errors_exit():
        summary = run_compression_bench(data, limit=limit, student=student, skills=skills, out=out, console=err,
                                        gsm8k=gsm8k, gsm8k_limit=gsm8k_limit, gsm8k_student=gsm8k_student)
    console.print(compression_markdown(summary))
    files = summary["files"]
    console.print(f"wrote {files['table']}, {files['json']} and {files['png']}")


@app.command("models")
def models_cmd(
    prefetch: Annotated[bool, typer.Option("--prefetch", help="assemble and verify every installed model now")] = False,
) -> None:
    """List the embedded local models, whether they are installed, and (with --prefetch) verify them."""
    from skillc.adapters.local.weights import (
        MODELS,
        ensure_weights,
        is_installed,
        weights_path,
    )

    table = Table("URI", "model", "size", "packages", "installed", "sha256", title="local models")
    failed = False
    for alias, model in MODELS.items():
        installed = is_installed(model)
        status = "-"
        if installed and prefetch:
            try:
                ensure_weights(model)
                status = "verified"
            except SkillcError as exc:
                status, failed = f"[red]{exc}[/]", True
        elif installed:
            status = "assembled" if weights_path(model).exists() else "not assembled yet"
        packages = model.packages[0] + (f" … {model.packages[-1]}" if model.chunked else "")
        table.add_row(f"local:{alias}", model.title, f"{model.size / 1e6:.0f} MB", packages,
                      "yes" if installed else "[yellow]no[/]", status)
    console.print(table)
    if failed:
        raise typer.Exit(4)


@app.command("serve")
def serve_cmd(
    models: Annotated[str, typer.Option(help="comma-separated aliases served under one config")] = "student",
    host: Annotated[str, typer.Option(help="bind address")] = "127.0.0.1",
    port: Annotated[int | None, typer.Option(help="port (default: a free one)")] = None,
) -> None:
    """Run the local llama.cpp server in the foreground, for other tools (Ctrl-C or SIGTERM stops it)."""
    import time

    from skillc.adapters.local.server import LocalServer
    from skillc.adapters.local.weights import MODELS

    with errors_exit():
        chosen = [a.strip() for a in models.split(",") if a.strip()]
        unknown = [a for a in chosen if a not in MODELS]
        if unknown or not chosen:
            raise InvalidInputError(f"unknown model alias(es) {unknown}; choose from {', '.join(MODELS)}")
        server = LocalServer([MODELS[a] for a in chosen], host=host, port=port).start()
    stop_on_signals()
    console.print(f"serving {', '.join(chosen)} at {server.base_url} (OpenAI-compatible; model = alias) · log: {server.log_path}")
    for alias in chosen:
        console.print(f"  --student openai-compatible:{server.base_url}#{alias}?structured=json_object")
    try:
        while server.running:
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    console.print("stopped")


@app.command("show")
def show_cmd(skill_dir: Annotated[Path, typer.Argument(help="skill folder")]) -> None:
    """Show a skill: its graph (mermaid and ASCII), steps, contracts and thresholds."""
    with errors_exit():
        skill = Skill.load(skill_dir)
        spec = skill.spec
        console.print(Panel(spec.task, title=f"{spec.name} {spec.version}", subtitle=_provenance_line(skill)))
        console.print(Syntax(skill.mermaid(), "text", theme="ansi_dark"), soft_wrap=True)
        console.print(skill.ascii(), highlight=False, soft_wrap=True)
        table = Table("#", "step", "primitive", "reads → writes", "check", "on fail", title="steps")
        for i, s in enumerate(spec.steps, 1):
            check = f"{s.check.kind}: {s.check.expr or s.check.by}" if s.check else "contract"
            table.add_row(str(i), s.id, s.primitive, f"{', '.join(s.reads)} → {', '.join(s.writes)}", check,
                          " → ".join(s.on_fail) + f" (retries {s.max_retries})")
        console.print(table)
        for s in spec.steps:
            console.print(f"[bold]{s.id}[/] contract: {json.dumps(s.contract, ensure_ascii=False)}", soft_wrap=True)
        console.print(f"escalation: {spec.escalation.mode} · thresholds: {json.dumps(spec.escalation.thresholds)}")
        console.print(f"output schema: {json.dumps(spec.output_schema, ensure_ascii=False)}", soft_wrap=True)


def _parse_input(text: str | bytes, where: str) -> dict[str, Any]:
    value = read_json(text, where, InvalidInputError)
    if not isinstance(value, dict):
        raise InvalidInputError(f"{where}: the input must be a JSON object")
    return value


def _provenance_line(skill: Skill) -> str:
    p = skill.spec.provenance
    return f"teacher {p.teacher} · {p.compiled_at[:10]}" if p else "no provenance"


def _print_compile_summary(skill: Skill, folder: Path) -> None:
    p = skill.spec.provenance
    table = Table("step", "primitive", "reads → writes", "on fail", title=f"compiled {skill.name} → {folder}")
    for s in skill.spec.steps:
        table.add_row(s.id, s.primitive, f"{', '.join(s.reads)} → {', '.join(s.writes)}", " → ".join(s.on_fail))
    console.print(table)
    if p:
        traces = p.traces
        dropped = ", ".join(f"{k}: {v}" for k, v in traces.get("dropped", {}).items()) or "none"
        console.print(
            f"teacher {p.teacher} · repairs {p.repairs} · compile cost ${p.compile_cost_usd:.4f} · "
            f"tokens in/out {p.compile_tokens.get('input', 0)}/{p.compile_tokens.get('output', 0)}"
        )
        if traces.get("source") == "trainset":
            by_source = ", ".join(f"{k}: {v}" for k, v in (traces.get("records") or {}).items()) or "none"
            console.print(f"bank: {traces.get('kept', 0)} record(s) ({by_source})")
        else:
            origin = f"{traces['rows']} logged calls" if traces.get("source") == "logs" else f"{traces.get('samples', 0)} samples"
            console.print(f"worked examples kept: {traces.get('kept', 0)} from {origin} · dropped: {dropped}")
        if p.search:
            _print_search_table(p.search, p.student)
        if p.design == "fallback":
            why = p.normalized[0].removeprefix("fallback design: ") if p.normalized else "the architect failed"
            console.print(f"[yellow]fallback design[/]: {why}; the skill is one step under the task's output contract")


def _print_search_table(search: dict[str, Any], student: str | None) -> None:
    splits = search.get("splits") or {}
    table = Table("candidate", "dev right", "student calls", "tokens/item in/out", "s",
                  title=f"search on {splits.get('dev', '?')} dev items, student {student}")
    raw = search.get("raw_student") or {}
    for row in ([{**raw, "candidate": "raw student (one call)"}] if raw else []) + list(search.get("candidates", [])):
        kept = row["candidate"] == search.get("kept")
        if row.get("dev_items"):
            right = f"{row['dev_correct']}/{row['dev_items']} = {row['dev_accuracy']:.0%}"
            right += "" if row.get("status", "scored") == "scored" else f" ({row['status']})"
        else:
            right = str(row.get("status", ""))
        tin, tout = row.get("tokens_per_item") or [0, 0]
        table.add_row(f"[bold]{row['candidate']} (kept)[/]" if kept else row["candidate"], right,
                      str(row.get("student_calls", 0)), f"{tin:.0f}/{tout:.0f}", f"{row.get('seconds', 0):.0f}")
    console.print(table)
    console.print(f"kept {search.get('kept')}: {search.get('why')} · {search.get('student_calls', 0)} student calls in all")


def _print_result(skill: Skill, result: RunResult) -> None:
    if result.error:
        console.print(Panel(f"{result.error.kind} at step {result.error.step}: {result.error.message}",
                            title=f"{skill.name}: gave up", border_style="red"))
    else:
        console.print(Panel(json.dumps(result.output, indent=2, ensure_ascii=False), title=f"{skill.name}: output",
                            border_style="green"))
    table = Table("step", "role", "model", "ok", "tokens in/out", "cost $", "latency s", "next", title="trace")
    for r in result.trace:
        table.add_row(r.step, r.role, r.model or "-", "✓" if r.ok else f"✗ {r.error_kind}",
                      f"{r.input_tokens}/{r.output_tokens}" + ("*" if r.tokens_estimated else ""),
                      f"{r.cost_usd:.6f}", f"{r.latency_s:.2f}", r.action or "")
    console.print(table)
    console.print(cost_line(result.cost_usd, result.teacher_baseline_usd, called=bool(result.trace),
                            cached=result.cached_steps, saved=result.saved_usd)
                  + (" · * tokens counted with tiktoken" if any(r.tokens_estimated for r in result.trace) else ""))


FREE_HINT = ("no price applies to these models: local ones cost machine time only (`local_hourly_usd` in a --prices "
             "file, 0 by default). To compare at API prices, `skillc eval` prices their tokens as API models "
             "(--student-priced-as, --teacher-priced-as)")


def cost_line(cost: float, baseline: float, *, called: bool, cached: int = 0, saved: float = 0.0) -> str:
    """The run's cost against the teacher-only estimate; says why both are $0 when models were called but unpriced,
    and how many steps the step cache served.

    >>> cost_line(0.001, 0.01, called=True)
    'cost $0.001000 · teacher-only estimate $0.010000 (10.0x cheaper)'
    >>> cost_line(0.0, 0.0, called=True).split(" · ")[2][:31]
    'no price applies to these model'
    >>> cost_line(0.001, 0.01, called=True, cached=2, saved=0.0004).split(" · ")[2]
    '2 step(s) from the cache, $0.000400 saved'
    """
    saving = f" ({baseline / cost:.1f}x cheaper)" if cost > 0 and baseline > 0 else ""
    line = f"cost ${cost:.6f} · teacher-only estimate ${baseline:.6f}{saving}"
    if cached:
        line += f" · {cached} step(s) from the cache, ${saved:.6f} saved"
    return line + (f" · {FREE_HINT}" if called and cost == 0 and baseline == 0 and not cached else "")


def main() -> None:  # pragma: no cover - console entry point
    app()


if __name__ == "__main__":  # pragma: no cover
    app()
