"""Worked examples from the teacher: run a design with the teacher as executor, keep what reaches the label.

`work_samples` runs a skill with the teacher executing every step and keeps the step records of runs whose
final output is right (rejection sampling, as DSPy's BootstrapFewShot does). `rationalise` is the second
chance for a step that writes working and an expression: the teacher is shown the label and asked for the
working that reaches it; the record is kept only when its expression computes the label, and it is marked
`rationalised: true` (source `teacher`: the working is the teacher's, only its value is the label's).

Example:
    >>> from skillc.core.spec import Step
    >>> step = Step(id="formula", primitive="transform", instruction="Write the sum.", reads=["q"],
    ...             writes=["working", "expression"], next="END",
    ...             contract={"type": "object", "properties": {"working": {"type": "string"}, "expression": {"type": "string"}}})
    >>> rationale_reaches({"working": "2 plus 3 is 5", "expression": "2 + 3"}, 5)
    True
"""

from __future__ import annotations

import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from skillc.adapters.calls import call_model
from skillc.adapters.json_output import parse_json_object
from skillc.adapters.models import ModelHandle
from skillc.adapters.pricing import PriceTable
from skillc.core.answers import answers_equal, outputs_match
from skillc.core.contracts import TEXT_FIELDS, contract_errors, contract_max_tokens
from skillc.core.errors import MalformedOutputError, SkillcError, UnsafeExpressionError
from skillc.core.records import new_record
from skillc.core.safe_eval import normalize_math, safe_eval
from skillc.core.spec import LLM_PRIMITIVES, Step
from skillc.core.task import Sample
from skillc.compile.trainset import label_output
from skillc.core.trace import StepRecord
from skillc.graphs.config import RunConfig
from skillc.graphs.prompts import step_messages
from skillc.skills.quality import reject_reason
from skillc.skills.skill import Skill

Judge = Callable[[dict[str, Any], dict[str, Any] | None], bool]


def reporter(progress: bool | Callable[[str], None]) -> Callable[[str], None]:
    """Where compile says what it is doing: a line per stage on stderr (also when piped), or a callback."""
    if callable(progress):
        return progress
    if progress:
        return lambda line: print(line, file=sys.stderr, flush=True)
    return lambda line: None


def work_samples(
    skill: Skill, teacher: ModelHandle, samples: list[Sample], *, prices: PriceTable,
    progress: bool | Callable[[str], None] = False, judge: Judge | None = None, source: str = "teacher",
) -> tuple[list[dict[str, Any]], dict[str, Any], list[StepRecord], list[dict[str, Any]]]:
    """Run the graph with the teacher as executor on each sample; filter its worked steps.

    `judge(expected, output)` says whether a run is right (default: `outputs_match`). Returns (examples kept,
    report, call records, mistakes on samples with expected outputs).
    """
    judge = judge or outputs_match
    kept: list[dict[str, Any]] = []
    dropped: Counter[str] = Counter()
    calls: list[StepRecord] = []
    out_tokens: list[int] = []
    mistakes: list[dict[str, Any]] = []
    say = reporter(progress)
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
                   else "right" if judge(sample.expected, result.output) else "wrong")
        say(f"worked sample {n + 1}/{len(samples)}: {verdict} in {time.perf_counter() - started:.0f} s")
        calls += result.trace
        if result.error is not None:
            dropped[f"run_failed: {result.error.kind}"] += 1
            mistakes.append({"input": sample.input, "expected": sample.expected,
                             "error": f"{result.error.kind} at step {result.error.step}: {result.error.message}"})
            continue
        wrong = sample.expected is not None and not judge(sample.expected, result.output)
        if wrong:
            mistakes.append({"input": sample.input, "expected": sample.expected, "got": result.output})
        out_tokens.append(sum(r.output_tokens for r in result.trace))
        for rec in result.trace:
            if rec.primitive not in LLM_PRIMITIVES or not rec.ok or "." in rec.step:
                continue
            example = _example(rec, n, teacher, source, item=(sample.model_extra or {}).get("id"))
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


def _example(record: StepRecord, sample: int, teacher: ModelHandle, source: str = "teacher",
             item: Any = None) -> dict[str, Any]:
    output = record.output or {}
    extra = {"item": item} if item is not None else {}
    return new_record(record.step, record.inputs or {}, output, reasoning=str(output.get("reasoning", "")),
                      source=source, model=record.model or teacher.name, raw=record.raw, sample=sample, **extra)  # type: ignore[arg-type]


def rationale_reaches(output: dict[str, Any], label: Any, expression_field: str = "expression") -> bool:
    """Whether an answer's expression computes `label` (its working is the teacher's, its value must be the label's)."""
    try:
        value = safe_eval(normalize_math(str(output.get(expression_field, ""))), {}, numeric=True)
    except UnsafeExpressionError:
        return False
    return answers_equal(value, label)


def rationalise(teacher: ModelHandle, task: str, step: Step, item: Sample, label_field: str, *,
                prices: PriceTable | None = None) -> tuple[dict[str, Any] | None, StepRecord]:
    """Show the teacher the label and ask for the step's working and expression that reach it.

    Returns (a record marked `rationalised`, or None when the reply's expression does not compute the label;
    the call's record, for the compile's cost).
    """
    label = label_output(item.expected or {}, [label_field], {"properties": {label_field: {"type": "number"}}}).get(label_field)
    inputs = {k: item.input.get(k) for k in step.reads}
    working = next((w for w in step.writes if w.lower() in TEXT_FIELDS), None)
    messages = step_messages(task, step, inputs) + [(
        "user", f"The correct {label_field} is {label}. Show the {working or 'working'} that reaches it, and an "
                f"expression whose value is {label}. Answer with one JSON object that matches the contract.")]
    call = call_model(teacher, messages, prices=prices, json_schema=step.contract, max_tokens=contract_max_tokens(step.contract))
    used = StepRecord(step=step.id, primitive=step.primitive, role="teacher", model=call.model, ok=True,
                      input_tokens=call.input_tokens, output_tokens=call.output_tokens, cost_usd=call.cost_usd,
                      latency_s=call.latency_s)
    try:
        output = parse_json_object(call.text)
    except MalformedOutputError:
        return None, used
    if contract_errors(output, step.contract) or not rationale_reaches(output, label):
        return None, used
    extra = {"item": (item.model_extra or {})["id"]} if (item.model_extra or {}).get("id") is not None else {}
    record = new_record(step.id, inputs, output, reasoning=str(output.get(working or "", "")), source="teacher",
                        model=call.model, raw=call.text, rationalised=True, **extra)
    return record, used
