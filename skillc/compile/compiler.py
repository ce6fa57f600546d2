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

from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from skillc.adapters.models import resolve_model
from skillc.adapters.pricing import PriceTable
from skillc.compile.architect import (
    architect_messages,
    ask_design,
    repair_message,
    sample_repair_message,
)
from skillc.compile.bootstrap import reporter, work_samples
from skillc.compile.fallback import fallback_spec, sample_demos
from skillc.compile.logs import LogColumns, log_records
from skillc.compile.merge import merge_extracts
from skillc.core.errors import (
    InvalidInputError,
)
from skillc.core.spec import Provenance, SkillSpec
from skillc.core.task import Sample, Task
from skillc.core.trace import StepRecord
from skillc.core.version import __version__
from skillc.graphs.config import Escalation
from skillc.skills.bank import ExampleBank
from skillc.skills.quality import QualityFilter
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
    trainset: list[Sample] | None = None,
    student: Any = None,
    **for_student: Any,
) -> Skill:
    """Compile `task` into a `Skill` with the teacher as architect and as worked-example author.

    The valid design with the fewest wrong samples is kept. With `repair_temperature`, a repair is a
    fresh sample at that temperature with the earlier problems listed, instead of a follow-up turn:
    small local teachers copy their previous reply, mistakes included.

    With `logs` (rows of recorded teacher calls, see `skillc.compile.logs`), the teacher designs the graph
    but works no samples: the bank comes from the logs. Every record passes `quality` (default filter).

    With `trainset` (labelled items) and a `student`, compile searches designs and demo policies by how the
    student does on a held-out dev split instead (`skillc.compile.for_student`; its options go in
    `for_student`: dev, dev_share, seed, search_budget, metric, signals, max_wrong_pass, architect_samples,
    bootstrap, peer, cache_dir).
    """
    if trainset is not None:
        from skillc.compile.for_student import compile_for_student

        return compile_for_student(task, teacher=teacher, student=student, trainset=trainset, prices=prices,
                                   progress=progress, **for_student)
    if for_student or student is not None:
        raise InvalidInputError("--student and the search options need --trainset (labelled items to score on)")
    handle = resolve_model(teacher)
    say = reporter(progress)
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
        reply, spec, notes = ask_design(handle, messages, task, escalation, prices, calls, constrained=constrained,
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
