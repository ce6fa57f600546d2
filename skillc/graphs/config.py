"""`RunConfig`: the models, escalation mode and prices one skill run uses, travelling as one value.

Models may be URIs (`local:student`, `openai:gpt-4o-mini`), LangChain chat models or `ModelHandle`s;
`escalation=None` means the skill's own mode.

Example:
    >>> config = RunConfig(student="local:student")
    >>> config.with_(teacher="local:teacher", escalation=None).teacher, config.escalation
    ('local:teacher', None)
    >>> RunConfig.of(config, escalation="off").escalation
    'off'
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from typing import Any, Literal

from skillc.adapters.models import ModelHandle, resolve_model
from skillc.adapters.pricing import PriceTable
from skillc.core.spec import Budget, RunLimits
from skillc.spend import Ledger, RunBudget
from skillc.spend.ledger import default_ledger_path

Escalation = Literal["step", "task", "off"]
DEFAULT_PEER = "local:tiny"  # the second cheap model of the `peer` signal, unless the skill or the run names one
LIMITS_KEY = "skillc_limits"  # in the graph's `configurable`: {"timeout_s", "deadline", "deadline_s", "budget"}


def call_limits() -> dict[str, Any]:
    """The running graph's limits (empty outside a run, or when the caller set none).

    A parent graph that runs a skill as a subgraph can set them too:
    `parent.invoke(x, {"configurable": {LIMITS_KEY: {"timeout_s": 30, "deadline": time.time() + 120}}})`.
    """
    try:
        from langgraph.config import get_config

        return dict((get_config().get("configurable") or {}).get(LIMITS_KEY) or {})
    except RuntimeError:  # not inside a runnable
        return {}


@dataclass(frozen=True)
class RunConfig:
    """What a run needs besides its inputs.

    Args:
        student: the model that runs every step.
        teacher: the model a failed step escalates to (None: no escalation, the ladder skips it).
        escalation: `step`, `task` or `off`; None keeps the skill's own mode.
        prices: the price table that costs every call.
        timeout_s, deadline_s, max_input_bytes: per-call timeout, whole-run deadline and input size cap;
            None keeps the skill's `limits` (see `SkillSpec.limits`).
        compressor: what runs the steps' `compression` (None: the process-wide LLMLingua compressor).
        peer: the second cheap model of the `peer` confidence signal (None: the skill's `escalation.peer`).
        budget: teacher spend limits (a `Budget` or its fields as a dict) over the skill's `budget`, each run
            counted on its own; or one `RunBudget`, shared by every run given this config (a batch's budget).
        ledger: the daily ledger (a path or `Ledger`) for `max_usd_per_day` (None: `default_ledger_path()`).
        cache: the step cache, a LangGraph `BaseCache` or a spec (`memory`, `sqlite:PATH`, `redis://…`); None: off.
        semantic_cache: the store of the steps that opt in to a semantic cache (`step.cache.semantic`): a
            `SemanticCache` or a JSONL path (None: one in memory per graph).
    """

    student: Any = None
    teacher: Any = None
    escalation: Escalation | None = None
    prices: PriceTable = field(default_factory=PriceTable)
    timeout_s: float | None = None
    deadline_s: float | None = None
    max_input_bytes: int | None = None
    compressor: Any = None
    peer: Any = None
    budget: Any = None
    ledger: Any = None
    cache: Any = None
    semantic_cache: Any = None

    @classmethod
    def of(cls, config: RunConfig | None = None, **given: Any) -> RunConfig:
        """`config` (or the defaults) with every given field that is not None replaced."""
        return (config or cls()).with_(**{k: v for k, v in given.items() if v is not None})

    def with_(self, **changes: Any) -> RunConfig:
        """A copy with `changes` applied (None values included)."""
        return dataclasses.replace(self, **changes)

    def limits(self, spec_limits: RunLimits) -> RunLimits:
        """The skill's limits with this configuration's overrides applied."""
        given = {k: getattr(self, k) for k in ("timeout_s", "deadline_s", "max_input_bytes") if getattr(self, k) is not None}
        return spec_limits.model_copy(update=given)

    def invoke_config(self, spec_limits: RunLimits, spec_budget: Budget | None = None, skill: str = "skill") -> dict[str, Any]:
        """The `configurable` entries a run passes to the graph: its per-call timeout, absolute deadline and budget."""
        limits = self.limits(spec_limits)
        deadline = time.time() + limits.deadline_s if limits.deadline_s else None
        return {LIMITS_KEY: {"timeout_s": limits.timeout_s, "deadline": deadline, "deadline_s": limits.deadline_s,
                             "budget": self.run_budget(spec_budget, skill)}}

    def run_budget(self, spec_budget: Budget | None = None, skill: str = "skill") -> RunBudget | None:
        """This run's budget: the shared `RunBudget` given, else the skill's limits with this config's over them
        (None when there are none).

        >>> RunConfig(budget={"max_teacher_calls_per_run": 2}).run_budget().max_teacher_calls_per_run
        2
        """
        if isinstance(self.budget, RunBudget):
            return self.budget
        given = self.budget.model_dump(exclude_none=True) if isinstance(self.budget, Budget) else \
            Budget.model_validate(self.budget or {}).model_dump(exclude_none=True)
        merged = {**(spec_budget.model_dump(exclude_none=True) if spec_budget else {}), **given}
        if not merged:
            return None
        ledger = None
        if merged.get("max_usd_per_day") is not None:
            ledger = self.ledger if isinstance(self.ledger, Ledger) else Ledger(self.ledger or default_ledger_path())
        return RunBudget.from_limits(merged, ledger=ledger, skill=skill)

    def step_cache(self) -> Any:
        """The LangGraph cache this config names (opened once per spec string), or None."""
        if self.cache is None or not isinstance(self.cache, str):
            return self.cache
        from skillc.cache.backends import open_cache

        if self.cache not in _OPENED:
            _OPENED[self.cache] = open_cache(self.cache)
        return _OPENED[self.cache]

    def handle(self, role: str) -> ModelHandle | None:
        """The resolved `student` or `teacher`, or None when it was not given."""
        model = {"teacher": self.teacher, "peer": self.peer}.get(role, self.student)
        return None if model is None else resolve_model(model)


_OPENED: dict[str, Any] = {}  # cache spec → the opened cache, shared by the runs of a process


def step_compressor(spec: Any, given: Any = None) -> Any:
    """The compressor for a spec's steps: `given`, else the shared LLMLingua one when a step asks for
    compression (raising `CompressionUnavailable`, naming the extra, when it is not installed), else None."""
    if given is not None or not any(s.compression is not None for s in spec.steps):
        return given
    from skillc.compression import shared_compressor

    return shared_compressor()
