"""Compile for the student: candidates scored by the student on a dev split, a labelled bank, a learned gate.

`compile_for_student` is what `skillc compile --trainset items.jsonl --student URI` runs:

1. The labelled items split into train (the bank: `source: label` records) and dev (held out for scoring),
   by `--dev` or a seeded `--dev-share`.
2. Candidates (`skillc.compile.candidates`): the schema patterns with label demos, the teacher's `program`,
   its verified `values` → `compute` expressions, and sampled architect designs, each under several demo
   policies.
3. The search (`skillc.compile.search`) runs every candidate on dev with the student and keeps the most
   accurate (ties: the cheaper), within `search_budget` student calls; a line per candidate on stderr.
4. The gate is learned on the same dev items (`skillc.eval.calibrate_skill` with `neighbours` and `peer`
   signals by default), so the skill escalates what its student is unsure of.

Every decision is recorded in the provenance (`search`: splits, every candidate's dev score, the kept one
and why; `escalation.calibration`: the gate's figures), and SKILL.md shows the table.

Example:
    >>> from skillc.core.task import Task, Sample
    >>> task = Task.model_validate({"name": "level", "description": "Label the event's level.",
    ...     "inputs": {"event": {"type": "string"}},
    ...     "output_schema": {"type": "object", "properties": {"level": {"enum": ["Info", "Error"]}}}})
    >>> items = [Sample(input={"event": f"disk {i} failed" if i % 2 else f"update {i} done"},
    ...                 expected={"level": "Error" if i % 2 else "Info"}) for i in range(12)]
    >>> skill = compile_for_student(task, teacher=None, student=None, trainset=items, signals=())
    >>> skill.spec.provenance.design, skill.bank.counts()
    ('vote', {'label': 8})
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console

from skillc.adapters.models import resolve_model
from skillc.adapters.pricing import PriceTable
from skillc.compile.bootstrap import reporter
from skillc.compile.candidates import pattern_candidates, teacher_candidates
from skillc.compile.search import search
from skillc.compile.trainset import Trainset, split_dev
from skillc.core.spec import Provenance
from skillc.core.task import Sample, Task
from skillc.core.version import __version__
from skillc.eval.calibrate import calibrate_skill
from skillc.eval.conditions import EvalCache, model_label
from skillc.eval.metrics import MetricName, score
from skillc.skills.bank import ExampleBank
from skillc.skills.skill import Skill

DEFAULT_SIGNALS = ("check", "neighbours", "peer")


def compile_for_student(
    task: Task,
    *,
    teacher: Any,
    student: Any,
    trainset: list[Sample],
    dev: list[Sample] | None = None,
    dev_share: float = 0.3,
    seed: int = 0,
    search_budget: int = 600,
    metric: MetricName | None = None,
    signals: tuple[str, ...] | list[str] = DEFAULT_SIGNALS,
    max_wrong_pass: float = 0.1,
    target_retention: float | None = None,
    architect_samples: int = 2,
    bootstrap: int = 6,
    peer: Any = None,
    prices: PriceTable | None = None,
    cache_dir: str | Path | None = None,
    progress: bool | Callable[[str], None] = False,
    console: Console | None = None,
) -> Skill:
    """Compile `task` for `student` from labelled items: the design the student does best on, on held-out dev items.

    Args:
        teacher: writes the `program`, `values` and architect candidates and their worked demos (None: patterns only).
        student: scores every candidate (None: only model-free candidates can be scored, e.g. the vote).
        trainset: labelled items; `dev` (or a seeded `dev_share` of them) is held out for scoring.
        search_budget: most student calls the search may make.
        metric: how a dev answer is scored (default: the task's `metric`, else `exact`).
        signals: the gate's confidence signals, learned on dev (empty: no gate beyond failed checks).
        max_wrong_pass, target_retention: the gate's target on dev: at most this share of wrong answers passing,
            or (with a teacher) the fewest escalations that keep this share of the teacher's accuracy.
        architect_samples: architect designs asked for (the first greedy, the rest sampled).
        bootstrap: labelled items the teacher works per teacher-written design.
        cache_dir: where every candidate's dev results are cached, so a killed compile resumes.
        console: where the gate's per-item progress goes (default: stderr when `progress` is True).
    """
    say = reporter(progress)
    console = console or (Console(stderr=True) if progress is True else None)
    prices = prices or PriceTable()
    metric = metric or task.metric or "exact"
    train, held = split_dev(trainset, dev_share=dev_share, seed=seed, dev=dev)
    split = Trainset(train, held, seed)
    say(f"trainset: {len(train)} labelled item(s) fill the bank, {len(held)} held out as dev (seed {seed}); metric {metric}")
    pool = pattern_candidates(task, train)
    teacher_handle = resolve_model(teacher) if teacher is not None else None
    if teacher_handle is not None and student is not None:  # without a student only model-free candidates count
        pool.extend(teacher_candidates(task, train, teacher=teacher_handle, prices=prices, seed=seed, say=say,
                                       bootstrap=bootstrap, architect_samples=architect_samples,
                                       judge=lambda e, o: score(metric, e, o, output_schema=task.output_schema).correct))
    if student is None:
        pool.candidates = [c for c in pool.candidates if c.model_steps == 0]
    say(f"search: {len(pool.candidates)} candidate(s) on {len(held)} dev item(s), budget {search_budget} student calls")
    cache = Path(cache_dir) if cache_dir is not None else None
    result = search(pool, held, student=student, metric=metric, budget=search_budget, prices=prices, cache_dir=cache, say=say)
    say(f"search: kept {result.kept.name}: {result.why}")
    skill = _kept_skill(task, result.kept.spec, result.bank)
    if signals and student is not None:
        skill = learn_gate_on_dev(skill, held, student=student, teacher=teacher, signals=signals, metric=metric,
                                  max_wrong_pass=max_wrong_pass, target_retention=target_retention, peer=peer,
                                  cache=cache, say=say, console=console)
    teacher_calls = pool.calls
    provenance = Provenance(
        teacher=teacher_handle.uri or teacher_handle.name if teacher_handle else "none",
        design=result.kept.design,
        compiled_at=datetime.now(UTC).isoformat(timespec="seconds"),
        skillc_version=__version__,
        compile_cost_usd=sum(c.cost_usd for c in teacher_calls),
        compile_tokens={"input": sum(c.input_tokens for c in teacher_calls),
                        "output": sum(c.output_tokens for c in teacher_calls)},
        traces={"source": "trainset", "kept": len(skill.bank), "records": skill.bank.counts()},
        student=model_label(student) if student is not None else None,
        search={**result.describe(), "splits": split.describe(), "metric": metric, "budget": search_budget,
                "not_built": pool.rejected},
    )
    spec = skill.spec.model_copy(update={"provenance": provenance})
    final = skill.replace(spec=spec)
    final._bank, final.examples = skill.bank, skill.bank.records
    say(f"compiled {task.name}: {result.kept.name} ({len(spec.steps)} step(s)), bank of {len(skill.bank)} record(s)")
    return final


def learn_gate_on_dev(skill: Skill, dev: list[Sample], *, student: Any, teacher: Any, signals: tuple[str, ...] | list[str],
                      metric: MetricName, max_wrong_pass: float = 0.1, target_retention: float | None = None,
                      peer: Any = None, cache: Path | None = None, say: Callable[[str], None] = lambda line: None,
                      console: Console | None = None) -> Skill:
    """The skill with its escalation gate learned on the dev items (`skillc.eval.calibrate_skill`), a line per candidate."""
    target = (f"keep {target_retention:.0%} of the teacher's accuracy" if target_retention is not None
              else f"≤{max_wrong_pass:.0%} of wrong answers passing")
    say(f"gate: learning when to escalate on the {len(dev)} dev item(s), signals {', '.join(signals)}, target: {target}")
    gate_cache = EvalCache(cache / f"gate-{skill.name}.jsonl") if cache is not None else None
    tuned, found = calibrate_skill(skill, dev, student=student, signals=list(signals), metric=metric,
                                   max_wrong_pass=max_wrong_pass, cache=gate_cache, peer=peer, console=console,
                                   teacher=teacher if target_retention is not None else None, target_retention=target_retention)
    for c in found:
        say(f"gate: {c.signal}: escalates {c.escalation_rate:.0%}, lets {c.wrong_passed} of {c.wrong} wrong pass")
    say(f"gate: chose {tuned.spec.escalation.calibration['chosen']}")  # type: ignore[index]
    if peer is not None:  # the skill runs with the peer it was calibrated with
        policy = tuned.spec.escalation.model_copy(update={"peer": peer if isinstance(peer, str) else model_label(peer)})
        tuned = tuned.replace(spec=tuned.spec.model_copy(update={"escalation": policy}))
    return tuned


def _kept_skill(task: Task, spec: Any, bank: ExampleBank | None) -> Skill:
    """The kept candidate as a skill with its records as the bank (in memory until saved)."""
    skill = Skill(spec.model_copy(update={"escalation": spec.escalation.model_copy(update={"mode": "step"})}),
                  license=task.license)
    bank = bank if bank is not None else ExampleBank(grow=False)
    skill._bank, skill.examples = bank, bank.records
    return skill
