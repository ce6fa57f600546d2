"""`compile_skill`: the teacher designs the graph, then works the samples through it.

1. The teacher, prompted as an architect, returns a SkillDesign (constrained output where the backend
   allows it, validated always). Invalid designs are sent back with their errors listed, up to
   `max_repairs` times; then `SpecCompileError`.
2. The compiled graph runs with the teacher as executor on the samples. Its worked steps pass the
   quality filter into the example bank; each rejection keeps its reason.

Example:
    >>> from skillc.skills.task import Task
    >>> task = Task.model_validate({"name": "t", "description": "d", "inputs": {"a": {}},
    ...     "output_schema": {"type": "object", "properties": {"s": {}}}})
    >>> compile_skill(task, teacher="replay:missing.csv#x")  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    skillc.errors.InvalidInputError: replay log not found: missing.csv
"""

from __future__ import annotations

import statistics
import uuid
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from skillc import __version__
from skillc.adapters.calls import call_model
from skillc.adapters.json_output import parse_json_object
from skillc.adapters.models import ModelHandle, resolve_model
from skillc.adapters.pricing import PriceTable
from skillc.errors import MalformedOutputError, SkillcError, SpecCompileError
from skillc.graphs.primitives import Escalation
from skillc.skills.architect import architect_messages, design_schema, repair_message
from skillc.skills.metrics import outputs_match
from skillc.skills.quality import reject_reason
from skillc.skills.skill import Skill
from skillc.skills.spec import LLM_PRIMITIVES, Provenance, SkillDesign, SkillSpec
from skillc.skills.task import Sample, Task


def compile_skill(
    task: Task,
    *,
    teacher: Any,
    samples: list[Sample] | None = None,
    max_repairs: int = 2,
    trace_samples: bool = True,
    escalation: Escalation = "step",
    prices: PriceTable | None = None,
    progress: bool = False,
) -> Skill:
    """Compile `task` into a `Skill` with the teacher as architect and as worked-example author."""
    handle = resolve_model(teacher)
    prices = prices or PriceTable()
    samples = list(samples if samples is not None else task.samples)
    spec, calls = design_spec(task, handle, samples, max_repairs=max_repairs, prices=prices, escalation=escalation)
    skill = Skill(spec, license=task.license)
    examples: list[dict[str, Any]] = []
    report: dict[str, Any] = {"samples": len(samples), "kept": 0, "dropped": {}}
    if trace_samples and samples:
        examples, report, trace_calls = work_samples(skill, handle, samples, prices=prices, progress=progress)
        calls += trace_calls
    provenance = Provenance(
        teacher=handle.uri or handle.name,
        compiled_at=datetime.now(UTC).isoformat(timespec="seconds"),
        skillc_version=__version__,
        repairs=sum(1 for c in calls if c.get("step") == "design") - 1,
        compile_cost_usd=sum(c.get("cost_usd", 0.0) for c in calls),
        compile_tokens={
            "input": sum(int(c.get("input_tokens", 0)) for c in calls),
            "output": sum(int(c.get("output_tokens", 0)) for c in calls),
        },
        traces=report,
    )
    baseline = report.pop("baseline_output_tokens", None)
    skill.spec = spec.model_copy(update={"provenance": provenance, "baseline_output_tokens": baseline})
    skill.examples = examples
    return skill


def design_spec(
    task: Task,
    teacher: ModelHandle,
    samples: list[Sample],
    *,
    max_repairs: int,
    prices: PriceTable,
    escalation: Escalation = "step",
) -> tuple[SkillSpec, list[dict[str, Any]]]:
    """Ask the teacher for a design and repair it until it validates; return the spec and the call records."""
    messages = architect_messages(task, samples)
    calls: list[dict[str, Any]] = []
    errors: list[str] = []
    for _ in range(max_repairs + 1):
        call = call_model(teacher, messages, prices=prices, json_schema=design_schema())
        calls.append({"step": "design", "cost_usd": call.cost_usd, "input_tokens": call.input_tokens,
                      "output_tokens": call.output_tokens})
        spec, errors = _spec_from_reply(call.text, task, escalation)
        if spec is not None:
            return spec, calls
        messages = [*messages, ("assistant", call.text), repair_message(errors)]
    raise SpecCompileError(
        f"the teacher did not produce a valid skill for {task.name!r} after {max_repairs} repairs; "
        f"last problems: {'; '.join(errors[:5])}",
        errors=errors,
    )


def _spec_from_reply(text: str, task: Task, escalation: Escalation) -> tuple[SkillSpec | None, list[str]]:
    try:
        data = parse_json_object(text)
    except MalformedOutputError as exc:
        return None, [str(exc)]
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
    return (None, problems) if problems else (spec, [])


def work_samples(
    skill: Skill, teacher: ModelHandle, samples: list[Sample], *, prices: PriceTable, progress: bool = False
) -> tuple[list[dict[str, Any]], dict[str, Any], list[dict[str, Any]]]:
    """Run the graph with the teacher as executor on each sample; filter its worked steps."""
    kept: list[dict[str, Any]] = []
    dropped: Counter[str] = Counter()
    calls: list[dict[str, Any]] = []
    out_tokens: list[int] = []
    iterator: Any = samples
    if progress:
        from rich.progress import track

        iterator = track(samples, description="teacher works the samples")
    for n, sample in enumerate(iterator):
        try:
            result = skill.run(sample.input, student=teacher, teacher=teacher, escalation="off", prices=prices)
        except SkillcError as exc:
            dropped[f"run_failed: {type(exc).__name__}"] += 1
            continue
        records = [r.model_dump() for r in result.trace]
        calls += records
        if result.error is not None:
            dropped[f"run_failed: {result.error.kind}"] += 1
            continue
        wrong = sample.expected is not None and not outputs_match(sample.expected, result.output)
        out_tokens.append(sum(r["output_tokens"] for r in records))
        for rec in records:
            if rec["primitive"] not in LLM_PRIMITIVES or not rec["ok"] or "." in rec["step"]:
                continue
            reason = "wrong_final_answer" if wrong else reject_reason(rec)
            if reason:
                dropped[reason] += 1
                continue
            kept.append(_example(rec, n, teacher))
    report = {
        "samples": len(samples),
        "kept": len(kept),
        "dropped": dict(dropped),
        "baseline_output_tokens": int(statistics.median(out_tokens)) if out_tokens else None,
    }
    return kept, report, calls


def _example(record: dict[str, Any], sample: int, teacher: ModelHandle) -> dict[str, Any]:
    output = record.get("output") or {}
    return {
        "id": uuid.uuid4().hex,
        "step": record["step"],
        "input": record.get("inputs") or {},
        "reasoning": str(output.get("reasoning", "")),
        "output": output,
        "source": "teacher",
        "model": record.get("model") or teacher.name,
        "time": datetime.now(UTC).isoformat(timespec="seconds"),
        "quality": [],
        "sample": sample,
    }
