"""Trace records: what every step did, with which model, at what cost.

A graph keeps its trace as plain JSON dicts in its state (so any checkpointer can store it);
`trace_records` turns them into `StepRecord`s once, where a run ends, and from there on a trace is typed.

Example:
    >>> trace = trace_records([{"step": "total", "primitive": "compute", "role": "compute", "ok": True}])
    >>> summarize(trace, output={"total": 3}, error=None, baseline_usd=0.01).ok
    True
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from skillc.core.errors import BackendUnavailable, BudgetExceeded, DeadlineExceeded, SkillGaveUp

Role = Literal["student", "teacher", "compute", "human"]


class CheckResult(BaseModel):
    name: str
    ok: bool
    message: str = ""


class StepRecord(BaseModel):
    """One attempt at one step."""

    step: str
    primitive: str
    role: Role
    model: str | None = None
    ok: bool
    attempt: int = 1
    input_tokens: int = 0
    output_tokens: int = 0
    tokens_estimated: bool = False
    cost_usd: float = 0.0
    latency_s: float = 0.0
    checks: list[CheckResult] = Field(default_factory=list)
    error_kind: str | None = None
    error: str | None = None
    action: str | None = Field(None, description="the failure edge taken after this attempt")
    demos: int = Field(0, description="worked examples from the bank shown in the prompt")
    inputs: dict[str, Any] | None = None
    output: dict[str, Any] | None = None
    raw: str | None = Field(None, description="the model's reply text")
    confidence: dict[str, float] | None = Field(None, description="confidence signals measured on this answer")
    compression: dict[str, dict[str, Any]] | None = Field(
        None, description="per compressed input field: origin_tokens, compressed_tokens (the model's own count when "
                          "it can tell, else the scorer's), seconds")
    vote: dict[str, Any] | None = Field(
        None, description="with escalation.vote: answers that voted, the majority's share, which sample won (0: the answer)")
    cached: bool = Field(False, description="served from the step cache: no call made, tokens and cost zero")
    saved: dict[str, Any] | None = Field(None, description="a cache hit: the tokens, cost and latency of the call it replayed")
    semantic: dict[str, Any] | None = Field(None, description="a semantic hit: the similarity and the earlier input it served")


class RunError(BaseModel):
    kind: str
    step: str | None = None
    message: str
    detail: dict[str, Any] | None = Field(None, description="budget: which budget, its limit, what was spent and needed")


class ModelUsage(BaseModel):
    role: Role
    calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    latency_s: float = 0.0


class RunResult(BaseModel):
    """The result of one skill run: output or typed error, the trace, and the cost beside the baseline."""

    output: dict[str, Any] | None
    error: RunError | None = None
    trace: list[StepRecord] = Field(default_factory=list)
    by_model: dict[str, ModelUsage] = Field(default_factory=dict)
    cost_usd: float = 0.0
    teacher_baseline_usd: float = Field(0.0, description="estimated cost of the teacher doing the task alone")
    escalated: bool = False
    skill: dict[str, Any] | None = Field(None, description="which skill answered: name, version, digest, registry")
    cached_steps: int = Field(0, description="steps served from the step cache (no model call)")
    saved_usd: float = Field(0.0, description="what the cached steps' calls had cost when they were made")

    @property
    def ok(self) -> bool:
        return self.error is None

    def raise_for_error(self) -> RunResult:
        """Raise `SkillGaveUp` (or `BackendUnavailable`) when the run has no valid output."""
        if self.error is None:
            return self
        message = f"{self.error.kind} at step {self.error.step!r}: {self.error.message}"
        if self.error.kind == "deadline":
            raise DeadlineExceeded(message)
        if self.error.kind == "backend":
            raise BackendUnavailable(message)
        if self.error.kind == "budget" and self.error.detail:
            raise BudgetExceeded(**self.error.detail, step=self.error.step)
        raise SkillGaveUp(message, step=self.error.step, kind=self.error.kind)


def trace_records(state_trace: list[dict[str, Any]]) -> list[StepRecord]:
    """The graph state's trace (JSON dicts) as typed records: the one place a trace changes shape."""
    return [StepRecord.model_validate(r) for r in state_trace]


def summarize(
    trace: list[StepRecord], *, output: dict[str, Any] | None, error: dict[str, Any] | RunError | None, baseline_usd: float,
    skill: dict[str, Any] | None = None,
) -> RunResult:
    """Fold a typed trace into per-model usage and totals."""
    by_model: dict[str, ModelUsage] = {}
    for rec in trace:
        if rec.model is None or rec.cached:
            continue
        usage = by_model.setdefault(rec.model, ModelUsage(role=rec.role))
        usage.calls += 1
        usage.input_tokens += rec.input_tokens
        usage.output_tokens += rec.output_tokens
        usage.cost_usd += rec.cost_usd
        usage.latency_s += rec.latency_s
    return RunResult(
        output=output if error is None else None,
        error=RunError.model_validate(error) if isinstance(error, dict) else error,
        trace=trace,
        by_model=by_model,
        cost_usd=sum(r.cost_usd for r in trace),
        teacher_baseline_usd=baseline_usd,
        escalated=any(r.role == "teacher" and not r.cached and r.error_kind != "budget" for r in trace),
        skill=skill,
        cached_steps=sum(r.cached for r in trace),
        saved_usd=sum(float((r.saved or {}).get("cost_usd") or 0.0) for r in trace if r.cached),
    )
