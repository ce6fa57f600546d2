"""`compile_skill`: the teacher designs the graph, then works the samples through it.

1. The teacher, prompted as an architect, returns a SkillDesign (constrained output where the backend
   allows it, validated always). Small gaps are filled (`normalize_design`); invalid designs are sent
   back with their errors listed.
2. The compiled graph runs with the teacher as executor on the samples. A design that gets samples
   with expected outputs wrong is sent back with those samples. Repairs of both kinds share the
   `max_repairs` budget. When no design is valid, or the best one gets every checkable sample wrong,
   compile falls back to one step that writes the whole output (`skillc.compile.fallback`), records
   `design: fallback` in the provenance and says so; it never ends with no skill.
3. The worked steps of the kept design pass the quality filter into the example bank; each
   rejection keeps its reason.

Example:
    >>> from skillc.core.task import Task
    >>> task = Task.model_validate({"name": "t", "description": "d", "inputs": {"a": {}},
    ...     "output_schema": {"type": "object", "properties": {"s": {}}}})
    >>> compile_skill(task, teacher="replay:missing.csv#x")  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    skillc.core.errors.InvalidInputError: replay log not found: missing.csv
"""

from __future__ import annotations

import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from skillc.adapters.calls import call_model
from skillc.adapters.json_output import close_truncated_json, parse_json_object
from skillc.adapters.models import ModelHandle, resolve_model
from skillc.adapters.pricing import PriceTable
from skillc.compile.architect import (
    architect_messages,
    design_schema,
    repair_message,
    sample_repair_message,
)
from skillc.compile.fallback import fallback_spec, sample_demos
from skillc.compile.logs import LogColumns, log_records
from skillc.compile.merge import merge_extracts
from skillc.compile.normalize import normalize_design
from skillc.compile.plan import expand_plan
from skillc.core.answers import outputs_match
from skillc.core.errors import (
    InvalidInputError,
    MalformedOutputError,
    SkillcError,
)
from skillc.core.records import new_record
from skillc.core.spec import LLM_PRIMITIVES, Provenance, SkillDesign, SkillSpec
from skillc.core.task import Sample, Task
from skillc.core.trace import StepRecord
from skillc.core.version import __version__
from skillc.graphs.config import Escalation, RunConfig
from skillc.skills.bank import ExampleBank
from skillc.skills.quality import QualityFilter, reject_reason
from skillc.skills.skill import Skill


def compile_skill(
    task: Task,
    *,
    teacher: Any,
    samples: list[Sample] | None = None,
    max_repairs: int = 2,
    trace_samples: bool = True,
    escalation: Escalation = "step",
    prices: PriceTable | None = None,
    progress: bool | Callable[[str], None] = False,
    repair_temperature: float | None = None,
    logs: list[dict[str, str]] | None = None,
    log_columns: LogColumns | None = None,
    quality: QualityFilter | None = None,
) -> Skill:
    """Compile `task` into a `Skill` with the teacher as architect and as worked-example author.

    The valid design with the fewest wrong samples is kept. With `repair_temperature`, a repair is a
    fresh sample at that temperature with the earlier problems listed, instead of a follow-up turn:
    small local teachers copy their previous reply, mistakes included.

    With `logs` (rows of recorded teacher calls, see `skillc.compile.logs`), the teacher designs the graph
    but works no samples: the bank comes from the logs. Every record passes `quality` (default filter).
    """
    handle = resolve_model(teacher)
    say = _reporter(progress)
    prices = prices or PriceTable()
    samples = list(samples if samples is not None else task.samples)
    if logs is not None:
        if log_columns is None:
            raise InvalidInputError("compiling from logs needs log_columns (which columns hold prompt and response)")
        trace_samples = False
    first = architect_messages(task, samples, include_schema=handle.structured == "none")
    messages = first
    calls: list[StepRecord] = []
    best: tuple[int, SkillSpec, list[dict[str, Any]], dict[str, Any], list[str]] | None = None
    notes: list[str] = []
    # A schema grammar can corner a small architect: barred from writing what it meant (a `// comment`), it
    # closes the JSON early. When the first, constrained design is invalid, the same request goes once more
    # without the grammar, and the reply is parsed leniently and validated as usual.
    constrained, unconstrain = handle.structured != "none", False
    for attempt in range(max_repairs + 1):
        sampling = {"temperature": repair_temperature} if attempt and repair_temperature is not None else {}
        if attempt == 1 and unconstrain:  # the same request once more, greedy, without the grammar
            messages, sampling, constrained, unconstrain = first, {}, False, False
        say(f"architect: asking {handle.name} for a design (attempt {attempt + 1} of {max_repairs + 1})")
        reply, spec, notes = _ask_design(handle, messages, task, escalation, prices, calls, constrained=constrained,
                                         **sampling)
        if spec is None:
            say(f"architect: the design is not valid: {'; '.join(notes[:3])}")
            unconstrain = attempt == 0 and constrained
            messages = _next_messages(first, messages, reply, repair_message(notes), repair_temperature)
            continue
        examples: list[dict[str, Any]] = []
        report: dict[str, Any] = {"samples": len(samples), "kept": 0, "dropped": {}}
        mistakes: list[dict[str, Any]] = []
        say(f"architect: a valid design of {len(spec.steps)} step(s): {' → '.join(s.id + ':' + s.primitive for s in spec.steps)}")
        if trace_samples and samples:
            examples, report, trace_calls, mistakes = work_samples(
                Skill(spec), handle, samples, prices=prices, progress=progress
            )
            calls += trace_calls
            merged, merge_notes = _merged_spec(spec)
            if merged is not None:
                say(f"architect: {'; '.join(merge_notes)}: working the samples with the merged design")
                m_examples, m_report, m_calls, m_mistakes = work_samples(Skill(merged), handle, samples, prices=prices,
                                                                         progress=progress)
                calls += m_calls
                keep = len(m_mistakes) <= len(mistakes)
                say(f"architect: the merged design got {len(m_mistakes)} wrong against {len(mistakes)}: "
                    + ("kept (fewer student calls)" if keep else "not kept"))
                if keep:
                    spec, examples, report, mistakes = merged, m_examples, m_report, m_mistakes
                    notes = [*notes, *merge_notes]
        if best is None or len(mistakes) < best[0]:
            best = (len(mistakes), spec, examples, report, notes)
        if not mistakes:
            break
        say(f"architect: the design got {len(mistakes)} of {len(samples)} sample(s) wrong"
            + ("; asking for a repair" if attempt < max_repairs else "; no repairs left"))
        messages = _next_messages(first, messages, reply, sample_repair_message(mistakes[:2]), repair_temperature)
    checkable = sum(1 for s in samples if s.expected) if trace_samples else 0
    design = "architect"
    if best is None or (checkable and best[0] >= checkable):
        why = (f"no valid design after {max_repairs} repair(s) (last problems: {'; '.join(notes[:3])})" if best is None
               else f"the best design got all {checkable} checkable sample(s) wrong")
        say(f"fallback: {why}; using one step that writes the whole output under the task's contract")
        spec = fallback_spec(task, escalation)
        examples, report, trace_calls, mistakes = (work_samples(Skill(spec), handle, samples, prices=prices, progress=progress)
                                                   if trace_samples and samples else ([], {"samples": 0, "kept": 0, "dropped": {}}, [], []))
        calls += trace_calls
        if best is None or len(mistakes) <= best[0]:
            best = (len(mistakes), spec, examples + sample_demos(task), report, [f"fallback design: {why}"])
            design = "fallback"
    _, spec, examples, report, fixes = best
    report = dict(report)
    baseline = report.pop("baseline_output_tokens", None)
    if logs is not None and log_columns is not None:
        bank, report = bank_from_logs(spec, logs, log_columns, quality)
    else:
        bank = ExampleBank(quality=quality)
        added = bank.add(examples)
        report.update(kept=added.kept, dropped=dict(Counter(report.get("dropped", {})) + Counter(added.dropped)))
    provenance = Provenance(
        teacher=handle.uri or handle.name,
        design=design,
        compiled_at=datetime.now(UTC).isoformat(timespec="seconds"),
        skillc_version=__version__,
        repairs=sum(1 for c in calls if c.step == "design") - 1,
        compile_cost_usd=sum(c.cost_usd for c in calls),
        compile_tokens={
            "input": sum(c.input_tokens for c in calls),
            "output": sum(c.output_tokens for c in calls),
        },
        traces=report,
        normalized=fixes,
    )
    say(f"compiled {task.name}: {len(spec.steps)} step(s) ({design} design), {report.get('kept', 0)} worked example(s) kept")
    update = {"provenance": provenance, "baseline_output_tokens": baseline}
    skill = Skill(spec.model_copy(update=update), license=task.license)
    skill._bank = bank
    skill.examples = bank.records
    return skill


def bank_from_logs(spec: SkillSpec, logs: list[dict[str, str]], log_columns: LogColumns,
                   quality: QualityFilter | None = None) -> tuple[ExampleBank, dict[str, Any]]:
    """The example bank a design gets from recorded teacher calls, and its report (rows, kept, dropped by reason).

    Compile uses it after the architect's design; a benchmark with a pinned design calls it directly, so the same
    bank is rebuilt without asking the architect again.
    """
    examples, unmapped = log_records(spec, logs, log_columns, model=log_columns.response)
    bank = ExampleBank(quality=quality)
    added = bank.add(examples)
    return bank, {"source": "logs", "rows": len(logs), "kept": added.kept,
                  "dropped": dict(Counter(unmapped) + Counter(added.dropped))}


def _merged_spec(spec: SkillSpec) -> tuple[SkillSpec | None, list[str]]:
    """The spec with its same-input extract steps merged (`skillc.compile.merge`), when that changes it and stays valid."""
    merged, notes = merge_extracts(spec)
    if not notes:
        return None, []
    try:
        checked = SkillSpec.model_validate(merged.model_dump())
    except ValidationError:
        return None, []
    return (None, []) if checked.problems() else (checked, notes)


def _next_messages(
    first: list[tuple[str, str]],
    messages: list[tuple[str, str]],
    reply: str,
    feedback: tuple[str, str],
    resample_temperature: float | None,
) -> list[tuple[str, str]]:
    """A follow-up turn (reply + feedback), or, when resampling, the first prompt + feedback only."""
    if resample_temperature is not None:
        return [*first, ("user", "An earlier attempt had these problems; avoid them.\n" + feedback[1])]
    return [*messages, ("assistant", reply[:6000]), feedback]


def _ask_design(
    teacher: ModelHandle,
    messages: list[tuple[str, str]],
    task: Task,
    escalation: Escalation,
    prices: PriceTable,
    calls: list[StepRecord],
    *,
    constrained: bool = True,
    **call_kwargs: Any,
) -> tuple[str, SkillSpec | None, list[str]]:
    """One architect call: (reply, spec or None, fixes applied or problems found)."""
    schema = design_schema() if constrained else None
    call = call_model(teacher, messages, prices=prices, json_schema=schema, **call_kwargs)
    calls.append(StepRecord(step="design", primitive="design", role="teacher", model=call.model, ok=True,
                            input_tokens=call.input_tokens, output_tokens=call.output_tokens, cost_usd=call.cost_usd,
                            latency_s=call.latency_s))
    text = close_truncated_json(call.text) if call.truncated else call.text
    spec, notes = _spec_from_reply(text, task, escalation)
    if call.truncated and spec is None:
        notes = [f"the reply was cut off at {call.output_tokens} tokens; give a smaller design", *notes[:3]]
    return call.text, spec, notes


def _spec_from_reply(text: str, task: Task, escalation: Escalation) -> tuple[SkillSpec | None, list[str]]:
    """(spec, fixes applied) when the reply is a valid design, else (None, problems)."""
    try:
        data = parse_json_object(text)
    except MalformedOutputError as exc:
        return None, [str(exc)]
    expand_plan(data)
    fixes = normalize_design(data, set(task.inputs))
    try:
        design = SkillDesign.model_validate(data)
    except ValidationError as exc:
        return None, [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:10]]
    spec = SkillSpec(
        **design.model_dump(),
        name=task.name,
        task=task.description,
        input_schema=task.input_schema,
        output_schema=task.output_schema,
        escalation={"mode": escalation},
    )
    problems = spec.problems()
    if problems:
        return None, problems
    return spec, fixes


def work_samples(
    skill: Skill, teacher: ModelHandle, samples: list[Sample], *, prices: PriceTable,
    progress: bool | Callable[[str], None] = False,
) -> tuple[list[dict[str, Any]], dict[str, Any], list[StepRecord], list[dict[str, Any]]]:
    """Run the graph with the teacher as executor on each sample; filter its worked steps.

    Returns (examples kept, report, call records, mistakes on samples with expected outputs).
    """
    kept: list[dict[str, Any]] = []
    dropped: Counter[str] = Counter()
    calls: list[StepRecord] = []
    out_tokens: list[int] = []
    mistakes: list[dict[str, Any]] = []
    say = _reporter(progress)
    for n, sample in enumerate(samples):
        started = time.perf_counter()
        try:
            result = skill.run(sample.input, config=RunConfig(teacher, teacher, "off", prices))
        except SkillcError as exc:
            dropped[f"run_failed: {type(exc).__name__}"] += 1
            mistakes.append({"input": sample.input, "expected": sample.expected, "error": str(exc)})
            say(f"worked sample {n + 1}/{len(samples)}: failed ({exc}) in {time.perf_counter() - started:.0f} s")
            continue
        verdict = ("gave up" if result.error is not None else "no reference" if sample.expected is None
                   else "right" if outputs_match(sample.expected, result.output) else "wrong")
        say(f"worked sample {n + 1}/{len(samples)}: {verdict} in {time.perf_counter() - started:.0f} s")
        calls += result.trace
        if result.error is not None:
            dropped[f"run_failed: {result.error.kind}"] += 1
            mistakes.append({"input": sample.input, "expected": sample.expected,
                             "error": f"{result.error.kind} at step {result.error.step}: {result.error.message}"})
            continue
        wrong = sample.expected is not None and not outputs_match(sample.expected, result.output)
        if wrong:
            mistakes.append({"input": sample.input, "expected": sample.expected, "got": result.output})
        out_tokens.append(sum(r.output_tokens for r in result.trace))
        for rec in result.trace:
            if rec.primitive not in LLM_PRIMITIVES or not rec.ok or "." in rec.step:
                continue
            example = _example(rec, n, teacher)
            reason = "wrong_final_answer" if wrong else reject_reason(example)
            if reason:
                dropped[reason] += 1
                continue
            kept.append(example)
    report = {
        "samples": len(samples),
        "kept": len(kept),
        "dropped": dict(dropped),
        "baseline_output_tokens": int(statistics.median(out_tokens)) if out_tokens else None,
    }
    return kept, report, calls, mistakes


def _reporter(progress: bool | Callable[[str], None]) -> Callable[[str], None]:
    """Where compile says what it is doing: a line per stage on stderr (also when piped), or a callback."""
    if callable(progress):
        return progress
    if progress:
        return lambda line: print(line, file=sys.stderr, flush=True)
    return lambda line: None


def _example(record: StepRecord, sample: int, teacher: ModelHandle) -> dict[str, Any]:
    output = record.output or {}
    return new_record(record.step, record.inputs or {}, output, reasoning=str(output.get("reasoning", "")),
                      source="teacher", model=record.model or teacher.name, raw=record.raw, sample=sample)
