"""Run the conditions on the same items, with a per-item result cache so a killed run resumes.

Conditions: `teacher_only` (one call per item), `raw_student` (the same one-shot prompt and output
contract), `skill` (the skill on the student, escalation off) and `skill_escalation` (escalating failed
steps to the teacher). Two fair baselines join them where the skill's bank allows (`default_conditions`):
`teacher_demos`, the teacher's one call shown the demos the skill's answer step retrieves (what escalation
shows it too), so a skill cannot win by giving the student examples the teacher never saw; and `nn_vote`,
the majority label of the bank's nearest labelled items, no model call, for a lone label output. Each finished (condition, item) pair is appended to a JSONL cache with fsync; a
re-run skips the pairs it finds there. Scoring is done later from the recorded outputs, so changing the
metric or the prices needs no new model calls (the judge's verdicts are cached the same way).

Example:
    >>> item_ids([Sample(input={"a": 1}), Sample(input={"a": 1}, id="x")])
    ['8590a9409cb76fcb', 'x']
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)

from skillc.adapters.calls import call_model
from skillc.adapters.json_output import parse_json_object
from skillc.adapters.models import ModelHandle, resolve_model
from skillc.adapters.pricing import PriceTable
from skillc.core.contracts import contract_errors, contract_max_tokens
from skillc.core.errors import (
    BackendUnavailable,
    InvalidInputError,
    MalformedOutputError,
    RequestRefused,
    SkillcError,
)
from skillc.core.files import json_digest
from skillc.core.task import Sample
from skillc.core.trace import RunResult, StepRecord, summarize
from skillc.core.version import __version__
from skillc.eval.judge import Judgement, judge
from skillc.eval.metrics import MetricName, Score, score
from skillc.core.spec import SkillSpec, Step
from skillc.graphs.builder import whole_task_step
from skillc.graphs.config import RunConfig
from skillc.graphs.demos import teacher_demo_records
from skillc.graphs.prompts import task_messages
from skillc.graphs.vote import neighbour_vote
from skillc.skills.skill import Skill

CONDITIONS: dict[str, str] = {
    "teacher_only": "teacher only",
    "teacher_demos": "teacher + the skill's demos",
    "raw_student": "raw student",
    "nn_vote": "nearest-neighbour vote (no model)",
    "skill": "skill on student, no escalation",
    "skill_escalation": "skill on student + escalation",
}
BASE_CONDITIONS = ["teacher_only", "raw_student", "skill", "skill_escalation"]
TEACHER_CONDITIONS = ("teacher_only", "teacher_demos")  # retention is measured against the better of these
VOTE_K = 8  # neighbours of the nn_vote baseline when the skill has no vote step of its own
# API models that local models are priced as, unless told otherwise; always labelled "assumed".
ASSUMED_API = {"teacher": "gpt-4o", "student": "gpt-4o-mini"}


class ItemRecord(BaseModel):
    """What one condition did on one item: output or error, tokens per role, time, and the skill's trace."""

    condition: str
    item: str
    output: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    tokens: dict[str, list[int]] = Field(default_factory=dict, description="role -> [input, output]")
    models: dict[str, str] = Field(default_factory=dict, description="role -> model name")
    seconds: float = 0.0
    escalated: bool = False
    trace: list[StepRecord] | None = None
    key: str | None = Field(None, description="what the result depends on (see `condition_keys`); None = unkeyed cache")

    def run_result(self) -> RunResult:
        """The skill run rebuilt from the recorded trace (for confidence functions)."""
        return summarize(self.trace or [], output=self.output, error=self.error, baseline_usd=0.0)


def item_ids(items: list[Sample]) -> list[str]:
    """A stable id per item: its `id` field, else a hash of input and expected (repeats get `#2`, `#3`…)."""
    seen: dict[str, int] = {}
    out = []
    for item in items:
        given = (item.model_extra or {}).get("id")
        base = str(given) if given is not None else json_digest({"input": item.input, "expected": item.expected})[:16]
        seen[base] = seen.get(base, 0) + 1
        out.append(base if seen[base] == 1 else f"{base}#{seen[base]}")
    return out


def model_label(model: Any) -> str:
    """The name a model goes by in cache keys and reports: its URI, else its name.

    >>> model_label("local:student")
    'local:student'
    """
    if isinstance(model, str):
        return model
    if model is None:
        return "none"
    handle = resolve_model(model)
    return handle.uri or handle.name


# what a skill run's result depends on besides the spec, the bank and the models: prompts, demos, the nodes,
# the failure ladder, checks, signals, the answer contracts, the embedding text and the call itself
SKILL_CODE = ("skillc.graphs.prompts", "skillc.graphs.demos", "skillc.graphs.primitives", "skillc.graphs.vote",
              "skillc.graphs.passages", "skillc.graphs.compress", "skillc.graphs.builder", "skillc.graphs.failure",
              "skillc.graphs.confidence", "skillc.graphs.checks", "skillc.graphs.state", "skillc.core.contracts",
              "skillc.core.answers", "skillc.skills.quality", "skillc.adapters.calls", "skillc.adapters.json_output")
# what a one-shot baseline depends on: its prompt, the call, the contract's token bound (and `one_shot` itself)
ONE_SHOT_CODE = ("skillc.graphs.prompts", "skillc.adapters.calls", "skillc.core.contracts", "skillc.adapters.json_output")


@functools.cache
def code_digest(kind: str = "skill") -> str:
    """sha256 of the source that a condition's results depend on (`skill`: the modules that build prompts and run
    steps; `one_shot`: the one-call prompt and `one_shot`): part of every cache key, so a cache recorded with
    other code is never reused silently (the version alone does not change per edit), while an edit to a
    skill node does not re-run the teacher's baselines.

    >>> len(code_digest()), code_digest("skill") != code_digest("one_shot")
    (16, True)
    """
    import inspect

    digest = hashlib.sha256()
    for name in SKILL_CODE if kind == "skill" else ONE_SHOT_CODE:
        spec = importlib.util.find_spec(name)
        origin = spec.origin if spec else None
        digest.update(name.encode() + b"\0" + (Path(origin).read_bytes() if origin else b"") + b"\0")
    if kind != "skill":
        digest.update(inspect.getsource(one_shot).encode())
    return digest.hexdigest()[:16]


def condition_keys(skill: Skill, student: Any, teacher: Any, peer: Any = None) -> dict[str, str]:
    """What each condition's result depends on, as a digest: the one-shot conditions on the task text, the
    output contract and their model; the skill on its spec (less the gate's thresholds, for `skill`).

    >>> from skillc.core.spec import SkillSpec
    >>> spec = SkillSpec.model_validate({"name": "m", "task": "T", "entry": "s",
    ...     "input_schema": {"type": "object", "properties": {"a": {}}},
    ...     "output_schema": {"type": "object", "properties": {"x": {}}},
    ...     "steps": [{"id": "s", "primitive": "compute", "instruction": "i", "reads": ["a"], "writes": ["x"],
    ...                "expression": "a", "next": "END", "contract": {"type": "object", "properties": {"x": {}}}}]})
    >>> a, b = condition_keys(Skill(spec), "s", "t"), condition_keys(Skill(spec), "s2", "t")
    >>> a["teacher_only"] == b["teacher_only"], a["raw_student"] == b["raw_student"]
    (True, False)
    """
    spec = skill.spec.model_dump(mode="json", exclude_none=True)  # as skill.json holds it
    ungated = {**spec, "escalation": {k: v for k, v in spec.get("escalation", {}).items()
                                      if k not in ("thresholds", "calibration", "gate")}}
    one_shot = [skill.spec.task, skill.spec.output_schema, __version__, code_digest("one_shot")]
    step = baseline_step(skill.spec)
    bank = bank_digest(skill)
    shown = [step.model_dump(mode="json", exclude_none=True) if step else None, skill.spec.retrieval.model_dump(), bank]
    return {
        "teacher_demos": json_digest(["teacher_demos", *one_shot, model_label(teacher), shown])[:16],
        "nn_vote": json_digest(["nn_vote", *one_shot, shown])[:16],
        "teacher_only": json_digest(["one_shot", *one_shot, model_label(teacher)])[:16],
        "raw_student": json_digest(["one_shot", *one_shot, model_label(student)])[:16],
        "skill": json_digest(["skill", ungated, model_label(student), __version__, code_digest(), bank,
                              *([model_label(peer)] if peer is not None else [])])[:16],
        "skill_escalation": json_digest(["skill", spec, model_label(student), model_label(teacher), __version__,
                                         code_digest(), bank, *([model_label(peer)] if peer is not None else [])])[:16],
    }


def bank_digest(skill: Skill) -> str:
    """What the skill's demos and votes depend on: its bank records' steps, inputs, outputs and sources (not their
    ids, which a bank rebuilt from the same data draws anew)."""
    return json_digest([[r.get("step"), r.get("input"), r.get("output"), r.get("source")] for r in skill.bank.records])[:16]


class EvalCache:
    """Append-only JSONL of finished (condition, item) results and judge verdicts; `path=None` keeps them in memory.

    A line cut short by a kill is ignored on reading, so the pair it held simply runs again.
    """

    def __init__(self, path: Path | None = None, keys: dict[str, str] | None = None) -> None:
        self.path = Path(path) if path else None
        self.keys = keys or {}
        self.runs: dict[tuple[str, str], ItemRecord] = {}
        self.judgements: dict[tuple[str, str, str], Judgement] = {}
        if self.path and self.path.exists():
            for line in self.path.read_text(encoding="utf-8").splitlines():
                self._load_line(line)

    @classmethod
    def for_settings(cls, cache_dir: Path, skill: Skill, student: Any, teacher: Any) -> EvalCache:
        """The cache file for this skill name, student and teacher under `cache_dir`, keyed per condition.

        A record is reused only while what its condition depends on is unchanged (`condition_keys`): a new
        escalation gate re-runs the skill conditions, never the teacher-only or raw-student calls.
        """
        key = json_digest([skill.name, model_label(student), model_label(teacher), __version__])
        return cls(Path(cache_dir) / f"{skill.name}-{key[:16]}.jsonl", condition_keys(skill, student, teacher))

    def _load_line(self, line: str) -> None:
        try:
            data = json.loads(line)
            if data.pop("kind") == "judge":
                self.judgements[(data["condition"], data["item"], data["candidate"])] = Judgement.from_dict(data)
            else:
                record = ItemRecord.model_validate(data)
                if not self.keys or record.key == self.keys.get(record.condition):
                    self.runs[(record.condition, record.item)] = record
        except (ValueError, KeyError, TypeError):
            return  # a line cut short by a kill: that pair runs again

    def _append(self, data: dict[str, Any]) -> None:
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(data, ensure_ascii=False, default=str) + "\n")
            fh.flush()
            os.fsync(fh.fileno())

    def put(self, record: ItemRecord) -> None:
        """Record one finished pair. The file keeps no step's inputs (the dataset's own text): a cache holds what
        the models did, so it can be committed and shared without copying the data it was run on."""
        record.key = self.keys.get(record.condition)
        if record.trace:
            record = record.model_copy(update={"trace": [s.model_copy(update={"inputs": None}) for s in record.trace]})
        self.runs[(record.condition, record.item)] = record
        self._append({"kind": "run", **record.model_dump(mode="json", exclude_none=True)})

    def judgement(self, condition: str, item: str, candidate: Any) -> Judgement | None:
        return self.judgements.get((condition, item, json_digest(candidate)[:16]))

    def put_judgement(self, condition: str, item: str, candidate: Any, judgement: Judgement) -> None:
        key = (condition, item, json_digest(candidate)[:16])
        self.judgements[key] = judgement
        self._append({"kind": "judge", "condition": condition, "item": item, "candidate": key[2], **judgement.as_dict()})


@dataclass
class EvalRun:
    """The recorded results of one evaluation: every (condition, item) record, in dataset order."""

    items: list[Sample]
    ids: list[str]
    records: dict[tuple[str, str], ItemRecord]
    models: dict[str, str]
    ran: int = 0
    cached: int = 0
    seconds: float = 0.0
    conditions: list[str] = field(default_factory=lambda: list(CONDITIONS))

    def by_condition(self, condition: str) -> list[ItemRecord]:
        return [self.records[(condition, i)] for i in self.ids]


def frozen(skill: Skill) -> Skill:
    """The skill with example-bank growth off, so the eval never turns a test item's escalated answer into a
    demo for later items, nor writes into the skill folder."""
    growth = getattr(skill.spec, "growth", None)
    if growth is None or not growth.enabled:
        return skill
    spec = skill.spec.model_copy(update={"growth": growth.model_copy(update={"enabled": False})})
    return skill.replace(spec=spec)


def one_shot(handle: ModelHandle, role: str, task: str, output_schema: dict[str, Any], inputs: dict[str, Any],
             prices: PriceTable, demos: list[dict[str, Any]] | None = None) -> ItemRecord:
    """One model does the whole task in one call, under the skill's output contract (enforced where it can be);
    with `demos`, shown as solved examples first. The reply is bounded as an escalated answer is
    (`contract_max_tokens`): a model stuck repeating itself stops there, not at the backend's own cap."""
    started = time.perf_counter()
    try:
        call = call_model(handle, task_messages(task, inputs, output_schema, demos=demos), prices=prices,
                          json_schema=output_schema, max_tokens=contract_max_tokens(output_schema))
    except RequestRefused as exc:  # e.g. a prompt longer than the model's context: this item gets no answer
        return ItemRecord(condition="", item="", error={"kind": "refused", "message": str(exc)[:300]},
                          models={role: handle.name}, seconds=time.perf_counter() - started)
    except SkillcError:
        raise
    except Exception as exc:  # transport errors: the backend is down or cannot answer
        raise BackendUnavailable(f"{handle.name}: {type(exc).__name__}: {exc}") from exc
    output: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    try:
        output = parse_json_object(call.text)
        problems = contract_errors(output, output_schema)
        if problems:
            output, error = None, {"kind": "contract", "message": str(problems[0])}
    except MalformedOutputError as exc:
        error = {"kind": "malformed_output", "message": str(exc)}
    return ItemRecord(condition="", item="", output=output, error=error, tokens={role: [call.input_tokens, call.output_tokens]},
                      models={role: call.model}, seconds=time.perf_counter() - started)


def baseline_step(spec: SkillSpec) -> Step | None:
    """The step whose demos the baselines use: a one-step skill's step, else the last model or vote step that
    writes an output field (None when there is none)."""
    whole = whole_task_step(spec)
    if whole is not None:
        return whole
    outputs = set(spec.output_fields)
    return next((s for s in reversed(spec.steps) if (s.uses_model or s.primitive == "vote") and outputs & set(s.writes)),
                None)


def lone_label(spec: SkillSpec) -> str | None:
    """The output field when the skill's output is one `enum` label, else None."""
    props = spec.output_schema.get("properties", {})
    if len(props) == 1 and isinstance(next(iter(props.values())), dict) and "enum" in next(iter(props.values())):
        return next(iter(props))
    return None


def default_conditions(skill: Skill) -> list[str]:
    """The four conditions, plus `teacher_demos` when the skill's answer step has bank records to show, and
    `nn_vote` when its output is one label and the bank holds labelled records of that step."""
    step = baseline_step(skill.spec)
    records = [r for r in skill.bank.records if step is not None and r.get("step") == step.bank_step]
    out = list(BASE_CONDITIONS)
    if records:
        out.insert(1, "teacher_demos")
    if records and lone_label(skill.spec) and any(r.get("source") == "label" for r in records):
        out.insert(out.index("raw_student") + 1, "nn_vote")
    return out


def baseline_demos(skill: Skill, inputs: dict[str, Any]) -> list[dict[str, Any]]:
    """The demos of the *teacher + demos* baseline for one input: what escalation shows the teacher."""
    step = baseline_step(skill.spec)
    if step is None:
        return []
    policy = step.retrieval or skill.spec.retrieval
    return teacher_demo_records(skill.bank, step.bank_step, _step_query(step, inputs), policy)


def vote_item(skill: Skill, inputs: dict[str, Any]) -> ItemRecord:
    """The *nearest-neighbour vote* baseline on one input: the bank's k nearest labelled records' majority label."""
    started = time.perf_counter()
    step, field = baseline_step(skill.spec), lone_label(skill.spec)
    if step is None or field is None:
        return ItemRecord(condition="", item="", error={"kind": "no_vote", "message": "the skill's output is not one label"})
    k = (step.retrieval or skill.spec.retrieval).k if step.primitive == "vote" else VOTE_K
    labelled = [r for r in skill.bank.search(_step_query(step, inputs), k=k * 4, step=step.bank_step)
                if r.get("source") == "label"][:k]
    answer, share, found = neighbour_vote(_Fixed(labelled), step.bank_step, inputs, [field], k)
    if answer is None:
        return ItemRecord(condition="", item="", error={"kind": "no_vote", "message": "no labelled neighbour"})
    return ItemRecord(condition="", item="", output=answer, seconds=time.perf_counter() - started)


class _Fixed:
    """A bank of already-chosen records, best first (what `neighbour_vote` asks of a bank)."""

    def __init__(self, records: list[dict[str, Any]]) -> None:
        self.records = records

    def __len__(self) -> int:
        return len(self.records)

    def search(self, input: Any, k: int = 3, *, step: str | None = None, mmr: bool = False) -> list[dict[str, Any]]:
        return self.records[:k]

    def grow(self, record: dict[str, Any]) -> Any:
        return None


def _step_query(step: Step, inputs: dict[str, Any]) -> dict[str, Any]:
    """The input a step's neighbours are looked up by: the fields it reads that the task's input has, else all."""
    own = {k: inputs[k] for k in step.reads if k in inputs}
    return own or dict(inputs)


def skill_item(skill: Skill, inputs: dict[str, Any], config: RunConfig) -> ItemRecord:
    """The skill on one input; escalation is on when `config` has a teacher. A backend failure raises (not recorded)."""
    started = time.perf_counter()
    escalation = "off" if config.teacher is None else ("task" if skill.spec.escalation.mode == "task" else "step")
    try:
        result = skill.run(inputs, config=config.with_(escalation=escalation))
    except InvalidInputError as exc:
        return ItemRecord(condition="", item="", error={"kind": "invalid_input", "message": str(exc)})
    if result.error is not None and result.error.kind == "backend":
        result.raise_for_error()
    tokens: dict[str, list[int]] = {}
    models: dict[str, str] = {}
    for record in result.trace:
        if record.model:
            bucket = tokens.setdefault(record.role, [0, 0])
            bucket[0] += record.input_tokens
            bucket[1] += record.output_tokens
            models[record.role] = record.model
    return ItemRecord(condition="", item="", output=result.output, error=result.error.model_dump() if result.error else None,
                      tokens=tokens, models=models, seconds=time.perf_counter() - started, escalated=result.escalated,
                      trace=list(result.trace))


def run_conditions(
    skill: Skill,
    items: list[Sample],
    *,
    student: Any,
    teacher: Any,
    prices: PriceTable | None = None,
    cache: EvalCache | None = None,
    console: Console | None = None,
    conditions: list[str] | None = None,
    peer: Any = None,
) -> EvalRun:
    """Run every condition on every item that the cache does not hold yet; show a progress bar on `console`.

    `peer` is the second cheap model of the `peer` signal (default: the skill's own `escalation.peer`)."""
    prices = prices or PriceTable()
    cache = cache or EvalCache()
    conditions = conditions or default_conditions(skill)
    needs_teacher = {"teacher_only", "teacher_demos", "skill_escalation"} & set(conditions)
    if teacher is None and needs_teacher:
        raise InvalidInputError(f"the condition(s) {sorted(needs_teacher)} need a teacher model")
    handles: dict[str, ModelHandle] = {}

    def handle(role: str) -> ModelHandle:  # resolved on first use: a run served from the cache starts no server
        if role not in handles:
            handles[role] = resolve_model(student if role == "student" else teacher)
        return handles[role]

    skill = frozen(skill)
    ids = item_ids(items)
    labels = {"student": model_label(student), "teacher": model_label(teacher) if teacher is not None else "none"}
    run = EvalRun(items, ids, cache.runs, labels, conditions=conditions)
    started = time.perf_counter()
    spec = skill.spec
    with _progress(console) as progress:
        for condition in conditions:
            todo = [(i, item) for i, item in zip(ids, items, strict=True) if (condition, i) not in cache.runs]
            run.cached += len(items) - len(todo)
            bar = progress.add_task(f"{CONDITIONS[condition]:<32}", total=len(items), completed=len(items) - len(todo))
            for item_id, item in todo:
                if condition == "teacher_only":
                    record = one_shot(handle("teacher"), "teacher", spec.task, spec.output_schema, item.input, prices)
                elif condition == "teacher_demos":
                    record = one_shot(handle("teacher"), "teacher", spec.task, spec.output_schema, item.input, prices,
                                      demos=baseline_demos(skill, item.input))
                elif condition == "nn_vote":
                    record = vote_item(skill, item.input)
                elif condition == "raw_student":
                    record = one_shot(handle("student"), "student", spec.task, spec.output_schema, item.input, prices)
                else:
                    escalate_to = handle("teacher") if condition == "skill_escalation" else None
                    record = skill_item(skill, item.input, RunConfig(handle("student") if student is not None else None,
                                                                     escalate_to, prices=prices, peer=peer))
                record.condition, record.item = condition, item_id
                cache.put(record)
                run.ran += 1
                progress.advance(bar)
    run.seconds = time.perf_counter() - started
    return run


def score_run(
    run: EvalRun,
    *,
    metric: MetricName,
    task: str,
    output_schema: dict[str, Any],
    tolerance: float,
    label: str | None = None,
    judge_model: Any = None,
    prices: PriceTable | None = None,
    cache: EvalCache | None = None,
    console: Console | None = None,
) -> tuple[dict[tuple[str, str], Score], dict[str, Any]]:
    """Score every record; with `metric="judge"` the judge (the teacher) grades each answer against its reference.

    Returns the scores and the judge's totals (calls, tokens, failures), which are eval overhead, not a condition's cost.
    """
    cache = cache or EvalCache()
    scores: dict[tuple[str, str], Score] = {}
    judged = {"calls": 0, "tokens": [0, 0], "cost_usd": 0.0, "failures": 0}
    expected = {i: item.expected for i, item in zip(run.ids, run.items, strict=True)}
    missing = [i for i, e in expected.items() if e is None]
    if missing:
        raise InvalidInputError(f"{len(missing)} dataset item(s) have no `expected` answer (first: {missing[0]})")
    handle = resolve_model(judge_model) if metric == "judge" else None
    keys = [(c, i) for c in run.conditions for i in run.ids]
    with _progress(console if metric == "judge" else None) as progress:
        bar = progress.add_task("judging (the teacher grades)", total=len(keys))
        for condition, item_id in keys:
            record, reference = run.records[(condition, item_id)], expected[item_id] or {}
            if metric != "judge":
                scores[(condition, item_id)] = score(metric, reference, record.output, tolerance=tolerance,
                                                     output_schema=output_schema, label=label)
                continue
            scores[(condition, item_id)] = _judged(cache, handle, run, record, reference, task, prices, judged)  # type: ignore[arg-type]
            progress.advance(bar)
    return scores, judged


def _judged(cache: EvalCache, handle: ModelHandle, run: EvalRun, record: ItemRecord, reference: dict[str, Any],
            task: str, prices: PriceTable | None, totals: dict[str, Any]) -> Score:
    if record.output is None:
        return Score(0.0, False, "no answer")
    verdict = cache.judgement(record.condition, record.item, record.output)
    if verdict is None:
        inputs = run.items[run.ids.index(record.item)].input
        try:
            verdict = judge(handle, task, inputs, reference, record.output, prices=prices)
        except SkillcError:
            raise
        except Exception as exc:
            raise BackendUnavailable(f"judge {handle.name}: {type(exc).__name__}: {exc}") from exc
        cache.put_judgement(record.condition, record.item, record.output, verdict)
    totals["calls"] += verdict.calls
    totals["tokens"][0] += verdict.tokens[0]
    totals["tokens"][1] += verdict.tokens[1]
    totals["cost_usd"] += verdict.cost_usd
    if verdict.verdict is None:
        totals["failures"] += 1
        return Score(0.0, False, verdict.failure or "malformed_verdict")
    return Score(float(verdict.verdict.correct), verdict.verdict.correct, verdict.verdict.reason)


class _NoProgress:
    def add_task(self, *args: Any, **kwargs: Any) -> int:
        return 0

    def advance(self, *args: Any, **kwargs: Any) -> None:
        return None


class LineProgress:
    """Progress as one line per finished item, for a console that is not a terminal (a log, a pipe), where a
    live bar would print nothing until it ends.

    >>> import io
    >>> out = io.StringIO()
    >>> p = LineProgress(Console(file=out, width=80))
    >>> bar = p.add_task("skill", total=2, completed=1)
    >>> p.advance(bar)
    >>> out.getvalue().splitlines()[1].split()[:3]
    ['skill', '2/2', 'items,']
    """

    def __init__(self, console: Console) -> None:
        self.console = console
        self.tasks: dict[int, list[Any]] = {}

    def add_task(self, description: str, total: int = 0, completed: int = 0, **_: Any) -> int:
        self.tasks[len(self.tasks)] = [description.strip(), total, completed, time.perf_counter()]
        if completed:
            self.console.print(f"{description.strip()} {completed}/{total} items from the cache", highlight=False)
        return len(self.tasks) - 1

    def advance(self, task: int, advance: int = 1) -> None:
        entry = self.tasks[task]
        entry[2] += advance
        self.console.print(f"{entry[0]} {entry[2]}/{entry[1]} items, {time.perf_counter() - entry[3]:.0f} s", highlight=False)


@contextmanager
def _progress(console: Console | None) -> Iterator[Any]:
    if console is None:
        yield _NoProgress()
        return
    if not console.is_terminal:
        yield LineProgress(console)
        return
    columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()]
    with Progress(*columns, console=console) as progress:
        yield progress
