"""Score candidate skills by how the *student* does on held-out labelled items, and keep the best.

DSPy's optimizers score each candidate program with the model that will run it, on a dev set; so does this.
Every candidate (design × demo policy, `skillc.compile.candidates`) runs on the dev split with the student,
escalation off, and is scored with the task's metric. The best dev accuracy wins; ties go to the cheaper
candidate (student cost per item at the priced-as rates), then to the one with fewer model steps. The raw
student (one call, the task's own prompt) is scored beside them, so the table says whether the skill helps.

The work is bounded: `budget` counts student calls, and a candidate that would pass it is skipped; a
candidate that can no longer reach the best score so far is stopped early (`pruned`), which changes no
result. Each finished item is cached per candidate (`cache_dir`), so a killed search resumes. A line per
candidate goes to `say` (stderr from the CLI, also when piped).

Example:
    >>> s = Scored(name="vote · k=8", design="vote", demos="vote k=8", status="scored", items=10, correct=7,
    ...            student_calls=0, tokens=(0.0, 0.0), cost_per_item=0.0, seconds=0.4)
    >>> s.accuracy, s.line()
    (0.7, 'vote · k=8 · dev 7/10 = 70% · 0 student calls · 0/0 tokens per item · 0 s')
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from skillc.adapters.pricing import PriceTable
from skillc.compile.candidates import Candidate, CandidatePool
from skillc.core.errors import BackendUnavailable, DeadlineExceeded, SkillcError
from skillc.core.files import json_digest
from skillc.core.task import Sample
from skillc.core.version import __version__
from skillc.eval.conditions import EvalCache, ItemRecord, code_digest, item_ids, model_label, run_conditions, score_run
from skillc.eval.metrics import MetricName
from skillc.eval.report import item_cost, pricing_plan
from skillc.skills.bank import ExampleBank
from skillc.skills.skill import Skill

CHUNK = 4  # dev items run between two pruning checks
PROGRESS_AFTER_S = 20.0  # a candidate still running after this long prints a line per chunk
RAW = "raw student"


@dataclass
class Scored:
    """One candidate's dev result (or why it has none)."""

    name: str
    design: str
    demos: str
    status: str  # scored | pruned | over budget | failed: …
    items: int = 0
    correct: int = 0
    student_calls: int = 0
    tokens: tuple[float, float] = (0.0, 0.0)  # student input/output tokens per item
    cost_per_item: float = 0.0
    seconds: float = 0.0

    @property
    def accuracy(self) -> float | None:
        return self.correct / self.items if self.items else None

    def line(self) -> str:
        score = f"dev {self.correct}/{self.items} = {self.accuracy:.0%}" if self.items else "no score"
        status = "" if self.status == "scored" else f" ({self.status})"
        return (f"{self.name} · {score}{status} · {self.student_calls} student calls · "
                f"{self.tokens[0]:.0f}/{self.tokens[1]:.0f} tokens per item · {self.seconds:.0f} s")

    def row(self) -> dict[str, Any]:
        """The candidate's line of the search table, as the provenance stores it."""
        return {"candidate": self.name, "design": self.design, "demos": self.demos, "status": self.status,
                "dev_items": self.items, "dev_correct": self.correct,
                "dev_accuracy": round(self.accuracy, 4) if self.accuracy is not None else None,
                "student_calls": self.student_calls, "tokens_per_item": [round(t, 1) for t in self.tokens],
                "cost_per_item_usd": self.cost_per_item, "seconds": round(self.seconds, 1)}


@dataclass
class SearchResult:
    """The kept candidate and its score, every candidate's row, the raw student's row, and why."""

    kept: Candidate
    score: Scored
    table: list[Scored]
    raw: Scored
    why: str
    student_calls: int
    bank: ExampleBank | None = None  # the kept candidate's bank, embedded once

    def describe(self) -> dict[str, Any]:
        return {"kept": self.kept.name, "why": self.why, "raw_student": self.raw.row(),
                "candidates": [s.row() for s in self.table], "student_calls": self.student_calls}


def unique_ids(items: list[Sample]) -> list[Sample]:
    """The items with an `id` each (their own, else a hash; repeats numbered), so chunks never collide in a cache."""
    return [s.model_copy(update={"id": i}) if (s.model_extra or {}).get("id") != i else s
            for s, i in zip(items, item_ids(items), strict=True)]


class Banks:
    """One in-memory example bank per record family, embedded once and shared by the candidates that use it."""

    def __init__(self, records: dict[str, list[dict[str, Any]]]) -> None:
        self.records = records
        self._banks: dict[str, ExampleBank] = {}

    def __call__(self, family: str) -> ExampleBank:
        if family not in self._banks:
            bank = ExampleBank(grow=False)
            if self.records.get(family):
                bank.add(self.records[family], check=False)
            self._banks[family] = bank
        return self._banks[family]


def candidate_skill(candidate: Candidate, banks: Banks) -> Skill:
    """The candidate as a runnable skill (bank growth off: dev answers never become demos)."""
    spec = candidate.spec.model_copy(update={"growth": candidate.spec.growth.model_copy(update={"enabled": False})})
    skill = Skill(spec)
    skill._bank = banks(candidate.family)
    skill.examples = skill._bank.records
    return skill


def search(pool: CandidatePool, dev: list[Sample], *, student: Any, metric: MetricName, tolerance: float = 1e-4,
           budget: int = 600, prices: PriceTable | None = None, cache_dir: Path | None = None,
           say: Callable[[str], None] = lambda line: None) -> SearchResult:
    """Score every candidate of `pool` on `dev` with `student`; return the best and the whole table."""
    if not pool.candidates:
        raise SkillcError("the search has no candidate to score")
    prices = prices or PriceTable()
    dev = unique_ids(dev)
    banks = Banks(pool.records)
    plan = pricing_plan({"student": model_label(student)}, prices)
    first = candidate_skill(pool.candidates[0], banks)
    if student is not None:
        raw = _raw_student(first, dev, student, metric, tolerance, prices, plan, cache_dir,
                           say=lambda line: say(f"search: {line}"))
        say(f"search: {RAW} (one call, the task's prompt) · {raw.line().split(' · ', 1)[1]}")
    else:
        raw = Scored(RAW, "one call", "none", "no student given")
    spent = raw.student_calls
    table: list[Scored] = []
    best: Scored | None = None
    best_at = -1
    for n, candidate in enumerate(pool.candidates, 1):
        estimate = len(dev) * candidate.model_steps
        if candidate.model_steps and spent + estimate > budget:
            scored = Scored(candidate.name, candidate.design, candidate.demos, "over budget")
        else:
            scored = _score(candidate, banks, dev, student, metric, tolerance, prices, plan, cache_dir,
                            best.correct if best else -1, say=lambda line, n=n: say(f"search {n}/{len(pool.candidates)}: {line}"))
        spent += scored.student_calls
        table.append(scored)
        say(f"search {n}/{len(pool.candidates)}: {scored.line()}")
        if scored.status == "scored" and (best is None or _rank(scored) > _rank(best)):
            best, best_at = scored, n - 1
    if best is None:
        raise SkillcError("no candidate could be scored within the search budget; raise --search-budget")
    kept = pool.candidates[best_at]
    ties = [s for s in table if s.status == "scored" and s.correct == best.correct and s is not best]
    why = (f"the best dev accuracy on the student ({best.accuracy:.0%}; raw student {raw.accuracy or 0:.0%})"
           + (f", and the cheapest of {len(ties) + 1} tied" if ties else ""))
    if raw.accuracy is not None and best.accuracy is not None and best.accuracy <= raw.accuracy:
        why += "; no candidate beat the raw student on dev"
    return SearchResult(kept, best, table, raw, why, spent, banks(kept.family))


def _rank(s: Scored) -> tuple[float, float, int]:
    return (s.accuracy or 0.0, -s.cost_per_item, -s.student_calls)


def _cache(cache_dir: Path | None, name: str, parts: list[Any]) -> EvalCache:
    if cache_dir is None:
        return EvalCache()
    return EvalCache(Path(cache_dir) / f"search-{name}-{json_digest(parts)[:16]}.jsonl")


def _raw_student(skill: Skill, dev: list[Sample], student: Any, metric: MetricName, tolerance: float,
                 prices: PriceTable, plan: dict[str, Any], cache_dir: Path | None,
                 say: Callable[[str], None] = lambda line: None) -> Scored:
    started = time.perf_counter()
    spec = skill.spec
    cache = _cache(cache_dir, "raw", [spec.task, spec.output_schema, model_label(student), __version__,
                                      code_digest("one_shot")])
    done, right, _ = _run_chunks(RAW, skill, "raw_student", dev, student, metric, tolerance, prices, cache, -1, say)
    return _tally(RAW, "one call", "none", done, right, plan, prices, time.perf_counter() - started, "scored")


def _score(candidate: Candidate, banks: Banks, dev: list[Sample], student: Any, metric: MetricName, tolerance: float,
           prices: PriceTable, plan: dict[str, Any], cache_dir: Path | None, to_beat: int,
           say: Callable[[str], None] = lambda line: None) -> Scored:
    started = time.perf_counter()
    skill = candidate_skill(candidate, banks)
    records_digest = json_digest([[r.get("input"), r.get("output")] for r in banks.records.get(candidate.family, [])])
    cache = _cache(cache_dir, "candidate", [skill.spec.model_dump(mode="json", exclude_none=True), records_digest,
                                            model_label(student), __version__, code_digest()])
    done: list[ItemRecord] = []
    right: list[bool] = []
    try:
        done, right, status = _run_chunks(candidate.name, skill, "skill", dev, student, metric, tolerance, prices,
                                          cache, to_beat, say)
    except (BackendUnavailable, DeadlineExceeded):
        raise  # the student is down: no later candidate could be scored either (the cache resumes the search)
    except SkillcError as exc:
        status = f"failed: {type(exc).__name__}: {str(exc)[:120]}"
    return _tally(candidate.name, candidate.design, candidate.demos, done, right, plan, prices,
                  time.perf_counter() - started, status)


def _run_chunks(name: str, skill: Skill, condition: str, dev: list[Sample], student: Any, metric: MetricName,
                tolerance: float, prices: PriceTable, cache: EvalCache, to_beat: int,
                say: Callable[[str], None]) -> tuple[list[ItemRecord], list[bool], str]:
    """Run `condition` on `dev` CHUNK items at a time: a line per chunk once it runs long, pruned when it cannot
    reach `to_beat` right (-1: never pruned). Returns the records, which were right, and the status."""
    started = time.perf_counter()
    done: list[ItemRecord] = []
    right: list[bool] = []
    for start in range(0, len(dev), CHUNK):
        run = run_conditions(skill, dev[start : start + CHUNK], student=student, teacher=None, prices=prices,
                             cache=cache, conditions=[condition])
        scores, _ = score_run(run, metric=metric, task=skill.spec.task, output_schema=skill.spec.output_schema,
                              tolerance=tolerance)
        done += run.by_condition(condition)
        right += [scores[(condition, i)].correct for i in run.ids]
        left = len(dev) - len(done)
        if left and time.perf_counter() - started > PROGRESS_AFTER_S:  # a slow candidate says it is alive
            say(f"{name} · {len(done)}/{len(dev)} dev items, {sum(right)} right so far, "
                f"{time.perf_counter() - started:.0f} s")
        if left and sum(right) + left < to_beat:
            return done, right, f"pruned after {len(done)}: cannot reach {to_beat}"
    return done, right, "scored"


def _tally(name: str, design: str, demos: str, records: list[ItemRecord], right: list[bool], plan: dict[str, Any],
           prices: PriceTable, seconds: float, status: str) -> Scored:
    n = len(records)
    calls = sum(1 for r in records for t in (r.trace or []) if t.role == "student" and t.model)
    calls += sum(1 for r in records if r.trace is None and r.tokens.get("student"))  # one-shot records carry no trace
    tin = sum(r.tokens.get("student", [0, 0])[0] for r in records)
    tout = sum(r.tokens.get("student", [0, 0])[1] for r in records)
    cost = sum(sum(item_cost(r, plan, prices).values()) for r in records)
    model_seconds = sum(r.seconds for r in records)  # the models' time, also for items read from the cache
    return Scored(name, design, demos, status, n, int(sum(right)), calls, (tin / n if n else 0.0, tout / n if n else 0.0),
                  cost / n if n else 0.0, max(model_seconds, 0.0) if records else seconds)
