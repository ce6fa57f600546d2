"""The candidate skills a search scores: designs (patterns, the teacher's expressions, the architect's designs)
times demo policies, each with the bank records it needs.

A pattern (`skillc.compile.patterns`) whose model step reads the task's own inputs gets its demos straight
from the labels. A design whose step writes something a label does not carry (working and an expression,
copied values) gets them from the teacher: runs that reach the label are kept (rejection sampling), and for a
`program` step the teacher may then be shown the label and asked for the working (a rationalisation, marked
as such). Every design with a model step comes in four demo policies: k = 0, 3 and 8 retrieved demos, and a
fixed set shown to every input (one per label for a classifier), whose prompt never changes (a design the
teacher wrote, whose few demos are its own right runs: k = 0 and 3, and the fixed set).

Example:
    >>> from skillc.core.task import Task, Sample
    >>> task = Task.model_validate({"name": "level", "description": "Label the event's level.",
    ...     "inputs": {"event": {"type": "string"}},
    ...     "output_schema": {"type": "object", "properties": {"level": {"enum": ["Info", "Error"]}}}})
    >>> train = [Sample(input={"event": f"disk {i}"}, expected={"level": "Error" if i % 3 else "Info"}) for i in range(20)]
    >>> pool = pattern_candidates(task, train)
    >>> [c.name for c in pool.candidates][:4]
    ['vote · k=4', 'vote · k=8', 'vote · k=16', 'vote → classify · share ≥ 0.6, k=8']
"""

from __future__ import annotations

import random
import statistics
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from skillc.adapters.models import ModelHandle
from skillc.adapters.pricing import PriceTable
from skillc.adapters.tokens import count_tokens
from skillc.compile import patterns
from skillc.compile.architect import architect_messages, ask_design
from skillc.compile.bootstrap import Judge, rationalise, work_samples
from skillc.compile.expressions import propose
from skillc.compile.trainset import label_records
from skillc.core.errors import DeadlineExceeded, SkillcError
from skillc.core.spec import RetrievalPolicy, SkillSpec
from skillc.core.task import Sample, Task
from skillc.core.trace import StepRecord
from skillc.graphs.passages import find_passages, query_text
from skillc.skills.skill import Skill

DEMO_KS = (0, 3, 8)
FIXED_MAX = 8
TOKENS_PER_DEMO_BUDGET = 300  # a policy of k demos may spend max(800, k * this) tokens on them
VOTE_KS = (4, 8, 16)
VOTE_SHARES = (0.6, 0.8)


@dataclass
class Candidate:
    """One skill to score: its design, its demo policy, and which record set (`family`) fills its bank."""

    name: str
    design: str
    demos: str
    spec: SkillSpec
    family: str
    model_steps: int = 1  # model calls per item at most (vote: 0), for the search budget


@dataclass
class CandidatePool:
    """Candidates, the record sets they draw demos from, what was not built (and why), and the teacher's calls."""

    candidates: list[Candidate] = field(default_factory=list)
    records: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    rejected: list[dict[str, str]] = field(default_factory=list)
    calls: list[StepRecord] = field(default_factory=list)

    def extend(self, other: CandidatePool) -> None:
        self.candidates += other.candidates
        self.records.update(other.records)
        self.rejected += other.rejected
        self.calls += other.calls


def with_policy(spec: SkillSpec, step_id: str | None, policy: RetrievalPolicy) -> SkillSpec:
    """The spec with `policy` as the demo policy of step `step_id` (None: the skill's policy for every step)."""
    if step_id is None:
        return spec.model_copy(update={"retrieval": policy})
    steps = [s.model_copy(update={"retrieval": policy}) if s.id == step_id else s for s in spec.steps]
    return spec.model_copy(update={"steps": steps})


def fixed_demo_ids(records: list[dict[str, Any]], step: str, label: str | None, seed: int = 0) -> list[str]:
    """The fixed demos: for a label, the first record of each label, commonest labels first (up to 8); else 4
    records drawn with `seed`.

    >>> recs = [{"id": str(i), "step": "a", "output": {"y": "ab"[i % 3 == 0]}} for i in range(6)]
    >>> fixed_demo_ids(recs, "a", "y")
    ['1', '0']
    """
    own = [r for r in records if r.get("step") == step]
    if label is not None:
        counts = Counter(str(r["output"].get(label)) for r in own)
        firsts: dict[str, str] = {}
        for r in own:
            firsts.setdefault(str(r["output"].get(label)), r["id"])
        return [firsts[lab] for lab, _ in counts.most_common(FIXED_MAX)]
    order = list(own)
    random.Random(seed).shuffle(order)
    return [r["id"] for r in order[:4]]


def demo_variants(name: str, design: str, spec: SkillSpec, family: str, records: list[dict[str, Any]],
                  step_id: str | None, label: str | None, *, model_steps: int = 1,
                  ks: tuple[int, ...] = DEMO_KS) -> list[Candidate]:
    """The design under each demo policy that can show its demos: k in `ks` (a k whose demos cannot fit the
    token budget is left out) and the fixed set."""
    own = [r for r in records if step_id is None or r.get("step") == step_id]
    if not own:  # no demos to show: the design without them, once
        ks = tuple(k for k in ks if k == 0) or (0,)
    sizes = [count_tokens(str(r.get("input"))) + count_tokens(str(r.get("output"))) for r in own]
    typical = statistics.median(sizes) if sizes else 0
    out = []
    covered = False  # a k already shows every record: a larger k (or the fixed set) would show the same prompts
    for k in ks:
        budget = max(800, k * TOKENS_PER_DEMO_BUDGET)
        if k and (not own or typical > budget / 2 or covered):
            continue
        covered = covered or (k > 0 and k >= len(own))
        policy = RetrievalPolicy(k=k, token_budget=budget)
        out.append(Candidate(f"{name} · k={k}", design, f"k={k}", with_policy(spec, step_id, policy), family, model_steps))
    fixed = fixed_demo_ids(own, step_id or "", label) if step_id and own else []
    if fixed and not (covered and len(fixed) == len(own)) and typical * len(fixed) <= max(800, len(fixed) * TOKENS_PER_DEMO_BUDGET):
        policy = RetrievalPolicy(k=len(fixed), fixed=fixed, token_budget=max(800, len(fixed) * TOKENS_PER_DEMO_BUDGET))
        out.append(Candidate(f"{name} · fixed {len(fixed)}", design, f"fixed {len(fixed)}",
                             with_policy(spec, step_id, policy), family, model_steps))
    return out


def valid_only(pool: CandidatePool) -> CandidatePool:
    """The pool without candidates whose spec is not a valid graph (each named in `rejected` with its problem),
    e.g. a decision over a label field whose name is a Python keyword."""
    kept = []
    for candidate in pool.candidates:
        problems = candidate.spec.problems()
        if problems:
            pool.rejected.append({"design": candidate.name, "why": "not a valid graph: " + "; ".join(problems[:2])})
        else:
            kept.append(candidate)
    pool.candidates = kept
    return pool


def pattern_candidates(task: Task, train: list[Sample]) -> CandidatePool:
    """Every schema pattern that applies, with label records as demos: no model call."""
    pool = CandidatePool()
    label = patterns.label_field(task)
    answer = patterns.answer_design(task)
    step = answer.steps[0]
    pool.records["labels"] = label_records(step, train)
    if label and pool.records["labels"]:
        for k in [k for k in VOTE_KS if k == VOTE_KS[0] or k <= len(pool.records["labels"])]:  # a larger k votes the same
            pool.candidates.append(Candidate(f"vote · k={k}", "vote", f"vote k={k}", patterns.vote_design(task, k),
                                             "labels", model_steps=0))
        for share in VOTE_SHARES:
            spec = with_policy(patterns.vote_then_design(task, share), patterns.ANSWER, RetrievalPolicy(k=8, token_budget=2400))
            pool.candidates.append(Candidate(f"vote → classify · share ≥ {share:g}, k=8", "vote → classify",
                                             "vote k=8, then k=8", spec, "labels"))
    pool.candidates += demo_variants(step.primitive, step.primitive, answer, "labels", pool.records["labels"],
                                     patterns.ANSWER, label)
    long_field = patterns.long_text_input(task, train)
    if long_field:
        spec = patterns.passages_design(task, long_field)
        finder = spec.step(patterns.FIND)
        assert finder.passages is not None
        others = [r for r in finder.reads if r != long_field]

        def passage_inputs(item: Sample) -> dict[str, Any]:
            from skillc.adapters.embeddings import default_embeddings

            text = str(item.input.get(long_field) or "")
            found = find_passages(text, query_text(item.input, others, finder.instruction), finder.passages,
                                  default_embeddings())  # type: ignore[arg-type]
            return {patterns.PASSAGE: found, **{k: item.input.get(k) for k in others}}

        second = spec.step(patterns.ANSWER)
        pool.records["passages"] = label_records(second, train, inputs_of=passage_inputs)
        pool.candidates += demo_variants(f"search → {second.primitive}", f"search → {second.primitive}", spec,
                                         "passages", pool.records["passages"], patterns.ANSWER, label)
    return valid_only(pool)


def teacher_candidates(task: Task, train: list[Sample], *, teacher: ModelHandle, judge: Judge, prices: PriceTable,
                       bootstrap: int = 6, architect_samples: int = 2, seed: int = 0,
                       say: Callable[[str], None] = lambda line: None) -> CandidatePool:
    """The designs the teacher writes: a `program` bootstrapped on labelled items, `values` → `compute` with its
    verified expressions, and sampled architect designs; each with the teacher's right runs as demos. A teacher
    that fails on one of them (refuses a prompt, breaks off) costs that candidate only, which is named in
    `rejected` with the reason."""
    pool = CandidatePool()
    worked = random.Random(seed).sample(train, min(bootstrap, len(train)))

    def attempt(design: str, build: Callable[[], CandidatePool]) -> None:
        try:
            pool.extend(build())
        except DeadlineExceeded:
            raise
        except SkillcError as exc:
            pool.rejected.append({"design": design, "why": f"the teacher failed: {type(exc).__name__}: {str(exc)[:200]}"})
            say(f"candidates: {design}: the teacher failed ({type(exc).__name__}); left out")

    program = patterns.program_design(task)
    if program is not None and worked:
        say(f"candidates: `program` (working + expression → compute): the teacher works {len(worked)} labelled item(s)")
        attempt("program", lambda: _bootstrapped("program", program, worked, teacher, judge, prices, say, task=task))
    numeric = patterns.numeric_outputs(task)
    if numeric and worked:
        attempt("values", lambda: _values(task, numeric, worked, teacher, judge, prices, say))
    designs: list[list[Any]] = []
    for n in range(architect_samples):
        say(f"candidates: architect design {n + 1} of {architect_samples} ({'greedy' if n == 0 else 'sampled'})")
        attempt(f"architect {n + 1}", lambda n=n: _architect(task, train, n, designs, worked, teacher, judge, prices, say))
    return valid_only(pool)


def _architect(task: Task, train: list[Sample], n: int, designs: list[list[Any]], worked: list[Sample],
               teacher: ModelHandle, judge: Judge, prices: PriceTable, say: Callable[[str], None]) -> CandidatePool:
    """One architect design (greedy, then sampled), bootstrapped; a repeat of an earlier sample is left out."""
    pool = CandidatePool()
    calls: list[StepRecord] = []
    _, spec, notes = ask_design(teacher, architect_messages(task, train[:3], include_schema=teacher.structured == "none"),
                                task, "step", prices, calls, **({"temperature": 0.8, "seed": n} if n else {}))
    pool.calls += calls
    if spec is None:
        pool.rejected.append({"design": f"architect {n + 1}", "why": "not a valid design: " + "; ".join(notes[:2])})
        say(f"candidates: architect design {n + 1} is not valid ({'; '.join(notes[:2])})")
        return pool
    if spec.steps in designs:
        pool.rejected.append({"design": f"architect {n + 1}", "why": "the same design as an earlier sample"})
        return pool
    designs.append(spec.steps)
    pool.extend(_bootstrapped(f"architect {n + 1}", spec, worked, teacher, judge, prices, say, task=task))
    return pool


def _bootstrapped(design: str, spec: SkillSpec, items: list[Sample], teacher: ModelHandle, judge: Judge,
                  prices: PriceTable, say: Callable[[str], None], *, task: Task) -> CandidatePool:
    """A design whose demos are the teacher's runs that reach the label (and, for a program, rationalisations)."""
    pool = CandidatePool()
    model_steps = [s for s in spec.steps if s.uses_model]
    if not model_steps:
        pool.candidates.append(Candidate(design, design, "none", spec, "none", model_steps=0))
        return pool
    steps_text = " → ".join(f"{s.id}:{s.primitive}" for s in spec.steps)
    kept, report, calls, mistakes = work_samples(Skill(spec), teacher, items, prices=prices, judge=judge)
    pool.calls += calls
    right = len(items) - len(mistakes)
    rationalised = 0
    if design == "program" and mistakes:
        formula = spec.step(patterns.FORMULA)
        label = patterns.numeric_outputs(task)[0]
        for item in items:
            if not any(m["input"] == item.input for m in mistakes):
                continue
            record, used = rationalise(teacher, task.description, formula, item, label, prices=prices)
            pool.calls.append(used)
            if record is not None:
                kept.append(record)
                rationalised += 1
    say(f"candidates: {design} ({steps_text}): the teacher reached {right} of {len(items)} label(s)"
        + (f", {rationalised} rationalised" if design == "program" else "") + f"; {len(kept)} demo record(s)")
    family = f"teacher:{design}"
    pool.records[family] = kept
    step_id = model_steps[0].id if len(model_steps) == 1 else None
    if not kept:
        pool.candidates.append(Candidate(f"{design} · k=0", design, "k=0",
                                         with_policy(spec, step_id, RetrievalPolicy(k=0)), family, len(model_steps)))
        return pool
    pool.candidates += demo_variants(design, design, spec, family, kept, step_id, None, model_steps=len(model_steps),
                                     ks=(0, 3))
    return pool


def _values(task: Task, numeric: list[str], items: list[Sample], teacher: ModelHandle, judge: Judge,
            prices: PriceTable, say: Callable[[str], None]) -> CandidatePool:
    """`values` → `compute` candidates: the teacher's proposals whose expressions reproduce the labels it worked."""
    pool = CandidatePool()
    say("candidates: `values` → compute: the teacher proposes the values to copy and the expressions")
    proposals, problems, calls = propose(teacher, task, numeric, items[:3], prices=prices)
    pool.calls += [StepRecord(step="propose", primitive="design", role="teacher", model=c.model, ok=True,
                              input_tokens=c.input_tokens, output_tokens=c.output_tokens, cost_usd=c.cost_usd,
                              latency_s=c.latency_s) for c in calls]
    for why in problems:
        pool.rejected.append({"design": "values", "why": f"proposal not usable: {why}"})
        say(f"candidates: values: a proposal was not usable ({why})")
    for n, (values, expressions) in enumerate(proposals, 1):
        spec = patterns.values_design(task, values, expressions)
        if spec.problems():
            pool.rejected.append({"design": f"values {n}", "why": "; ".join(spec.problems()[:2])})
            continue
        kept, _, used, mistakes = work_samples(Skill(spec), teacher, items, prices=prices, judge=judge)
        pool.calls += used
        right = len(items) - len(mistakes)
        formulas = "; ".join(f"{k} = {v}" for k, v in expressions.items())
        if right * 2 < len(items):
            pool.rejected.append({"design": f"values {n}", "why": f"{formulas} reproduced {right} of {len(items)} labels"})
            say(f"candidates: values {n} ({formulas}) reproduced {right} of {len(items)} labels: not kept")
            continue
        say(f"candidates: values {n} ({formulas}) reproduced {right} of {len(items)} labels")
        family = f"teacher:values {n}"
        pool.records[family] = kept
        pool.candidates += demo_variants(f"values {n}", "values → compute", spec, family, kept, patterns.VALUES, None,
                                         ks=(0, 3))
    return pool
