"""SkillSpec: the compiled skill as data (steps, contracts, decision and failure edges).

The teacher writes a `SkillDesign` (the graph); the compiler wraps it with the task's schemas and
provenance into a `SkillSpec`. `validate_graph` lists every structural problem in words a teacher
can repair from.

Example:
    >>> design = SkillDesign.model_validate({
    ...     "entry": "total",
    ...     "steps": [{"id": "total", "primitive": "compute", "instruction": "Multiply.",
    ...                "reads": ["price", "qty"], "writes": ["total"], "expression": "price * qty",
    ...                "contract": {"type": "object", "properties": {"total": {"type": "number"}}},
    ...                "next": "END"}]})
    >>> validate_graph(design, inputs={"price", "qty"}, outputs={"total"})
    []
"""

from __future__ import annotations

from typing import Any, Literal

import jsonschema
from pydantic import BaseModel, ConfigDict, Field, model_validator

from skillc.core.errors import UnsafeExpressionError
from skillc.core.safe_eval import names_in, parse_expression

FORMAT_VERSION = 1
MAX_STEPS = 12
END = "END"

Primitive = Literal[
    "extract", "classify", "transform", "compute", "verify", "compare",
    "search", "simplify", "ask", "retry", "escalate", "vote",
]
LLM_PRIMITIVES: frozenset[str] = frozenset(
    {"extract", "classify", "transform", "verify", "compare", "search", "simplify", "ask", "escalate"}
)
FailAction = Literal["retry", "simplify", "ask", "escalate", "give_up"]
RESERVED_IDS = frozenset({END, "__start__", "__end__", "skillc_finish", "skillc_escalate_task"})
_STATE_PREFIX = "skillc_"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Check(_Model):
    """A step's declared check, run after its output passed the contract.

    `expr`: `expr` must be truthy over the state. `compute`: `expr` is computed and must equal the
    value named by `equals` within `tolerance`. `states`: the text named by `equals` (the working) must state
    `expr`'s value as its final number, e.g. `{"kind": "states", "expr": "value(expression)", "equals":
    "working"}` (a working that ends on another number than its expression computes is retried).
    `verify`: a verify call by the student or teacher.
    """

    kind: Literal["expr", "compute", "states", "verify"]
    expr: str | None = None
    equals: str | None = None
    tolerance: float = 1e-6
    by: Literal["student", "teacher"] = "student"
    description: str = ""


class Compression(_Model):
    """LLMLingua on a student step's long input fields and its demos (needs the `compression` extra).

    Exactly one of `rate` (share of tokens kept) and `target_tokens`. A string input of at least `min_tokens`
    is compressed (only the named `fields`, when given); the question LongLLMLingua ranks by is `question`,
    or else the step's instruction with its short string inputs. Instructions, schemas, the contract and
    the output are never compressed, digits always kept. The teacher, on escalation, reads the originals.
    """

    rate: float | None = Field(None, gt=0, le=1, description="share of tokens kept, e.g. 0.5 for 2x")
    target_tokens: int | None = Field(None, ge=1, description="tokens kept per field (scorer tokens)")
    min_tokens: int = Field(400, ge=0, description="shorter fields pass through untouched")
    fields: list[str] = Field(default_factory=list, description="input fields to compress (default: every long string)")
    question: str | None = Field(None, description="what the kept text must answer (default: instruction + short inputs)")
    token_level: bool = Field(True, description="drop tokens inside chunks too (false: keep or drop whole chunks, faster)")
    demos: bool = Field(True, description="also compress the long fields of this step's demos")

    @model_validator(mode="after")
    def _one_budget(self) -> Compression:
        if (self.rate is None) == (self.target_tokens is None):
            raise ValueError("compression takes exactly one of rate and target_tokens")
        return self


class RetrievalPolicy(_Model):
    """How many worked examples each student step sees, within how many tokens.

    With `fixed`, every input is shown the same records (by id, in that order) instead of its nearest ones:
    a prompt prefix that never changes, which a server's prompt cache reuses. On a `vote` step, `k` is the
    number of labelled neighbours that vote.
    """

    k: int = Field(3, ge=0, le=20, description="demos retrieved per student step (0: none)")
    token_budget: int = Field(800, ge=0, description="most tokens the demos may take, fewest-token demos first")
    mmr: bool = Field(False, description="re-rank candidates by maximal marginal relevance for variety")
    fixed: list[str] = Field(default_factory=list, description="ids of bank records shown to every input instead")


class Passages(_Model):
    """A `search` step that finds passages by embedding, with no model call: `source` (a long text value) is cut
    into windows of `window` lines, and the `top` windows most like the query (the step's other reads) are
    written, in their order in the text."""

    source: str = Field(description="the long text value to search")
    top: int = Field(3, ge=1, le=20, description="windows kept")
    window: int = Field(4, ge=1, le=200, description="lines per window (windows overlap by half)")
    max_chars: int = Field(1500, ge=50, description="a longer line is cut into pieces of this size")


class StepCache(_Model):
    """The semantic step cache of one step: an earlier answer serves an input that embeds this close (cosine)
    and carries the same numbers, identifiers, names and negations (see `skillc.cache.guard`)."""

    semantic: float | None = Field(None, gt=0, le=1, description="least cosine similarity for a semantic hit (None: off)")


class Step(_Model):
    """One node of the skill graph: one primitive, one contract, its failure edges."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")
    primitive: Primitive
    instruction: str = Field(min_length=1)
    reads: list[str] = Field(default_factory=list)
    writes: list[str] = Field(default_factory=list)
    contract: dict[str, Any] = Field(description="JSON Schema (type object) of this step's output")
    check: Check | None = None
    on_fail: list[FailAction] = Field(default_factory=lambda: ["retry", "escalate", "give_up"])
    max_retries: int = Field(1, ge=0, le=5)
    max_visits: int = Field(1, ge=1, le=20)
    next: str | None = Field(None, description="next step id, or END; omit when a decision leaves this step")
    expression: str | None = Field(None, description="compute: expression over state values")
    expression_from: str | None = Field(None, description="compute: state value holding a model-written expression")
    target: str | None = Field(None, description="retry: the step to go back to")
    prompt: str = Field("", description="extra guidance shown to the executor for this step")
    compression: Compression | None = Field(None, description="LLMLingua on long inputs and demos (student only)")
    retrieval: RetrievalPolicy | None = Field(None, description="this step's demos (or, on a vote step, neighbours); "
                                                                "None: the skill's `retrieval`")
    examples_from: str | None = Field(None, description="the step whose bank records this step shows or votes over "
                                                        "(default: its own)")
    min_share: float | None = Field(None, gt=0, le=1, description="vote: below this share of agreeing neighbours "
                                                                  "the step writes null, for a later step to answer")
    passages: Passages | None = Field(None, description="search: find passages by embedding, no model call")
    cache: StepCache | None = Field(None, description="opt-in semantic cache of this step (the exact step cache needs none)")

    @property
    def uses_model(self) -> bool:
        """Whether running this step calls a model (a `search` with `passages` and a `vote` do not)."""
        return self.primitive in LLM_PRIMITIVES and not (self.primitive == "search" and self.passages is not None)

    @property
    def bank_step(self) -> str:
        """The step id whose example-bank records this step reads."""
        return self.examples_from or self.id


class Branch(_Model):
    when: str = Field(description="condition over state values, e.g. \"kind == 'invoice'\"")
    to: str


class Decision(_Model):
    """Conditional edges after a step: the first branch whose condition holds wins."""

    after: str
    branches: list[Branch] = Field(min_length=1)
    default: str


class FailureMode(_Model):
    name: str
    when: str
    action: FailAction
    description: str = ""


class SkillDesign(_Model):
    """What the teacher writes: the task decomposition graph and its failure modes."""

    entry: str
    steps: list[Step] = Field(min_length=1, max_length=MAX_STEPS)
    decisions: list[Decision] = Field(default_factory=list)
    failure_modes: list[FailureMode] = Field(default_factory=list)


class LearnedGate(_Model):
    """A logistic model over a step's confidence signals, learned on held-out items (`skillc.eval.gate`).

    score = 1 / (1 + exp(-(bias + sum(weights[i] * signal[i])))); the step escalates when score < threshold.
    Plain numbers only: loading it runs no code. A signal missing from a step reads as `defaults[i]`.
    """

    kind: Literal["logistic"] = "logistic"
    features: list[str] = Field(min_length=1)
    weights: list[float]
    bias: float = 0.0
    defaults: list[float] = Field(default_factory=list)
    threshold: float = Field(0.5, description="escalate below this score (above 1: every item)")

    @model_validator(mode="after")
    def _same_length(self) -> LearnedGate:
        if len(self.weights) != len(self.features) or (self.defaults and len(self.defaults) != len(self.features)):
            raise ValueError("a learned gate needs one weight (and default) per feature")
        return self


class EscalationPolicy(_Model):
    """When a student step goes to the teacher: on a failed check always, and on low confidence.

    `signals` are measured on every student LLM step (see `skillc.graphs.confidence`); a step escalates
    when one of them is below its entry in `thresholds` (set by `skillc.eval.calibrate`).
    """

    mode: Literal["step", "task", "off"] = "step"
    signals: list[Literal["consistency", "logprobs", "verify", "neighbours", "peer"]] = Field(
        default_factory=list, description="confidence signals measured per student step")
    peer: str | None = Field(None, description="peer: the second cheap model's URI (a run's RunConfig.peer wins; "
                                               "default local:tiny)")
    neighbours: int = Field(8, ge=1, le=50, description="neighbours: labelled bank records compared with the answer")
    samples: int = Field(3, ge=1, le=16, description="consistency: extra answers sampled per step")
    temperature: float = Field(0.7, gt=0.0, le=2.0, description="consistency: sampling temperature")
    vote: bool | None = Field(None, description="consistency: answer with the majority of the answer and its samples; "
                                                "the confidence is the majority's share (unset: off)")
    thresholds: dict[str, float] = Field(default_factory=dict, description="signal -> escalate below this value")
    calibration: dict[str, Any] | None = Field(None, description="how the thresholds were calibrated")
    gate: LearnedGate | None = Field(None, description="signals combined into one score, escalating below its threshold")


class GrowthPolicy(_Model):
    """Whether validated teacher answers from escalations join the bank, up to a cap."""

    enabled: bool = True
    max_records: int = Field(10_000, ge=0)


class RunLimits(_Model):
    """Time and size bounds on one run; a `RunConfig` (or `--timeout`, `--deadline`, `--max-input-bytes`) overrides them."""

    timeout_s: float | None = Field(None, gt=0, description="per model call (None: the backend's own, 600 s API / 900 s local)")
    deadline_s: float | None = Field(None, gt=0, description="the whole run, retries and escalations included (None: none)")
    max_input_bytes: int | None = Field(1_000_000, gt=0, description="largest input as UTF-8 JSON (None: no limit)")


class Budget(_Model):
    """What a skill may spend on the teacher (None: no limit). A `RunConfig(budget=...)` or `--budget` overrides it.

    An escalation that would break one is refused: the step gives up with `BudgetExceeded` naming the budget.
    The daily limit is kept in a ledger shared by every process that names the same file (`--ledger`).
    """

    max_teacher_calls_per_run: int | None = Field(None, ge=0, description="teacher calls in one run")
    max_usd_per_run: float | None = Field(None, ge=0, description="USD on the teacher in one run")
    max_usd_per_day: float | None = Field(None, ge=0, description="USD on the teacher per UTC day, all runs of this skill")


class Provenance(_Model):
    teacher: str
    design: str = Field("architect", description="architect; fallback: the architect's designs failed; or the kept "
                                                   "candidate of a search on a dev split (e.g. `classify`, `vote`)")
    compiled_at: str
    skillc_version: str
    repairs: int = 0
    compile_cost_usd: float = 0.0
    compile_tokens: dict[str, int] = Field(default_factory=dict)
    traces: dict[str, Any] = Field(default_factory=dict)
    normalized: list[str] = Field(default_factory=list, description="gaps in the teacher's design that skillc filled")
    student: str | None = Field(None, description="the student the candidates were scored with")
    search: dict[str, Any] | None = Field(None, description="the search: splits, every candidate's dev score, the kept one and why")


class SkillSpec(SkillDesign):
    """The whole skill: the design plus the task's contracts, policy and provenance."""

    name: str = Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length=64)
    version: str = "0.1.0"
    format_version: int = FORMAT_VERSION
    task: str = Field(min_length=1, max_length=1024)
    input_schema: dict[str, Any]
    output_schema: dict[str, Any]
    escalation: EscalationPolicy = Field(default_factory=EscalationPolicy)
    retrieval: RetrievalPolicy = Field(default_factory=RetrievalPolicy)
    growth: GrowthPolicy = Field(default_factory=GrowthPolicy)
    limits: RunLimits = Field(default_factory=RunLimits)
    budget: Budget | None = Field(None, description="teacher spend limits per run and per day")
    baseline_output_tokens: int | None = None
    provenance: Provenance | None = None

    def step(self, step_id: str) -> Step:
        for s in self.steps:
            if s.id == step_id:
                return s
        raise KeyError(step_id)

    @property
    def input_fields(self) -> list[str]:
        return list(self.input_schema.get("properties", {}))

    @property
    def output_fields(self) -> list[str]:
        return list(self.output_schema.get("properties", {}))

    def problems(self) -> list[str]:
        """Every structural problem of this spec (empty when valid)."""
        return validate_graph(self, inputs=set(self.input_fields), outputs=set(self.output_fields))


def skill_spec_json_schema() -> dict[str, Any]:
    """JSON Schema of skill.json."""
    return SkillSpec.model_json_schema()


def successors(design: SkillDesign, step: Step) -> list[str]:
    """Targets a step can go to on success (END included)."""
    out: list[str] = []
    if step.next is not None:
        out.append(step.next)
    if step.primitive == "retry" and step.target:
        out.append(step.target)
    for d in design.decisions:
        if d.after == step.id:
            out.extend([b.to for b in d.branches] + [d.default])
    return out


def validate_graph(design: SkillDesign, *, inputs: set[str], outputs: set[str]) -> list[str]:
    """List the structural problems of a design, each in one actionable sentence."""
    errors: list[str] = []
    ids = [s.id for s in design.steps]
    known = set(ids)
    for dup in sorted({i for i in ids if ids.count(i) > 1}):
        errors.append(f"step id {dup!r} is used more than once")
    for sid in known & RESERVED_IDS:
        errors.append(f"step id {sid!r} is reserved")
    values = set(inputs) | {w for s in design.steps for w in s.writes}
    if design.entry not in known:
        errors.append(f"entry {design.entry!r} is not a step id (steps: {sorted(known)})")
    deciders = {d.after for d in design.decisions}
    for d in design.decisions:
        if d.after not in known:
            errors.append(f"decision after {d.after!r}: no such step")
        for target in [b.to for b in d.branches] + [d.default]:
            if target != END and target not in known:
                errors.append(f"decision after {d.after!r} goes to {target!r}, which is not a step or END")
        for b in d.branches:
            errors.extend(_expression_errors(f"decision after {d.after!r}", b.when, values))
    for step in design.steps:
        errors.extend(_step_errors(step, design, known, values, deciders))
    for output in sorted(outputs - {w for s in design.steps for w in s.writes}):
        errors.append(f"output field {output!r} is written by no step")
    if not errors:
        errors.extend(_reachability_errors(design))
        errors.extend(_loop_errors(design))
    return errors


def _step_errors(step: Step, design: SkillDesign, known: set[str], values: set[str], deciders: set[str]) -> list[str]:
    where = f"step {step.id!r}"
    errors: list[str] = []
    for w in step.writes:
        if w.startswith(_STATE_PREFIX):
            errors.append(f"{where} writes {w!r}: names starting with {_STATE_PREFIX!r} are reserved")
    if step.id in deciders and step.next is not None:
        errors.append(f"{where} has both `next` and a decision; keep one")
    if step.id not in deciders and step.next is None and step.primitive != "retry":
        errors.append(f"{where} has no `next` and no decision: set `next` to a step id or END")
    if step.next is not None and step.next != END and step.next not in known:
        errors.append(f"{where} has next {step.next!r}, which is not a step or END")
    for r in step.reads:
        if r not in values:
            errors.append(f"{where} reads {r!r}, which is neither an input field nor written by a step")
    errors.extend(_contract_errors(step))
    if not step.on_fail:
        errors.append(f"{where} has no failure path: on_fail must list at least one action")
    if step.primitive == "compute":
        if not (step.expression or step.expression_from):
            errors.append(f"{where} is a compute step without `expression` or `expression_from`")
        if step.expression:
            errors.extend(_expression_errors(where, step.expression, values))
            if step.expression.strip().count(",") and _is_tuple(step.expression):
                errors.append(f"{where}: expression {step.expression!r} is a list of names; write one arithmetic formula")
        if step.expression_from and step.expression_from not in values:
            errors.append(f"{where} takes its expression from {step.expression_from!r}, which no step writes")
        if len(step.writes) != 1:
            errors.append(f"{where} is a compute step and must write exactly one value")
    if step.primitive == "retry" and (not step.target or step.target not in known):
        errors.append(f"{where} is a retry step whose `target` is not a step id")
    if step.primitive == "retry" and step.id in deciders:
        errors.append(f"{where} is a retry step: it takes `next`, not a decision")
    if step.primitive == "classify" and not _has_enum(step.contract):
        errors.append(f"{where} is a classify step: its contract must give the labels as an `enum`")
    if step.check is not None:
        errors.extend(_check_errors(where, step.check, values))
    if step.examples_from is not None and step.examples_from not in known:
        errors.append(f"{where} takes its examples from {step.examples_from!r}, which is not a step id")
    if step.primitive == "vote" and not step.writes:
        errors.append(f"{where} is a vote step: it must write the label its neighbours vote on")
    if step.min_share is not None and step.primitive != "vote":
        errors.append(f"{where}: min_share applies to vote steps only")
    if step.passages is not None:
        if step.primitive != "search":
            errors.append(f"{where}: passages apply to search steps only")
        elif step.passages.source not in step.reads:
            errors.append(f"{where} searches {step.passages.source!r}, which it does not read")
        elif len(step.writes) != 1:
            errors.append(f"{where} finds passages and must write exactly one value (the passages' text)")
    return errors


def _contract_errors(step: Step) -> list[str]:
    where = f"step {step.id!r}"
    try:
        jsonschema.Draft202012Validator.check_schema(step.contract)
    except jsonschema.SchemaError as exc:
        return [f"{where} has an invalid contract: {exc.message}"]
    if step.contract.get("type") != "object":
        return [f"{where} contract must be a JSON Schema with \"type\": \"object\""]
    props = set(step.contract.get("properties", {}))
    if step.primitive == "ask":
        return [] if "question" in props else [f"{where} is an ask step: its contract needs a `question` property"]
    missing = [w for w in step.writes if w not in props]
    if missing:
        return [f"{where} writes {missing} but its contract has no such properties"]
    return []


def _check_errors(where: str, check: Check, values: set[str]) -> list[str]:
    if check.kind in ("expr", "compute", "states") and not check.expr:
        return [f"{where} has a {check.kind} check without `expr`"]
    errors: list[str] = []
    if check.expr:
        errors.extend(_expression_errors(f"{where} check", check.expr, values))
    if check.kind in ("compute", "states") and (not check.equals or check.equals not in values):
        errors.append(f"{where} has a {check.kind} check whose `equals` is not a known value")
    return errors


def _expression_errors(where: str, text: str, values: set[str]) -> list[str]:
    try:
        unknown = names_in(text) - values
        parse_expression(text)
    except UnsafeExpressionError as exc:
        return [f"{where}: expression {text!r} is not allowed: {exc}"]
    if unknown:
        return [f"{where}: expression {text!r} uses unknown names {sorted(unknown)}"]
    return []


def _is_tuple(text: str) -> bool:
    try:
        import ast

        return isinstance(ast.parse(text.strip(), mode="eval").body, ast.Tuple)
    except SyntaxError:
        return False


def _has_enum(schema: dict[str, Any]) -> bool:
    return any("enum" in p for p in schema.get("properties", {}).values() if isinstance(p, dict))


def _reachability_errors(design: SkillDesign) -> list[str]:
    by_id = {s.id: s for s in design.steps}
    seen: set[str] = set()
    stack = [design.entry]
    while stack:
        sid = stack.pop()
        if sid in seen or sid == END:
            continue
        seen.add(sid)
        stack.extend(successors(design, by_id[sid]))
    errors = [f"step {s!r} cannot be reached from entry {design.entry!r}" for s in by_id if s not in seen]
    reaches_end = {END}
    changed = True
    while changed:
        changed = False
        for s in design.steps:
            if s.id not in reaches_end and any(t in reaches_end for t in successors(design, s)):
                reaches_end.add(s.id)
                changed = True
    errors += [f"END cannot be reached from step {s!r}" for s in by_id if s not in reaches_end]
    return errors


def _loop_errors(design: SkillDesign) -> list[str]:
    by_id = {s.id: s for s in design.steps}
    errors = []
    for component in _cycles(design):
        if all(by_id[s].max_visits < 2 for s in component):
            loop = " -> ".join(sorted(component))
            errors.append(f"loop {loop} has no bound: set max_visits >= 2 on one of its steps")
    return errors


def _cycles(design: SkillDesign) -> list[set[str]]:
    """Strongly connected components that form a loop (Tarjan)."""
    graph = {s.id: [t for t in successors(design, s) if t != END] for s in design.steps}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[set[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp: set[str] = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.add(w)
                if w == v:
                    break
            if len(comp) > 1 or v in graph[v]:
                found.append(comp)

    for v in graph:
        if v not in index:
            visit(v)
    return found
