"""Failure edges: a step that fails its checks walks its `on_fail` ladder.

The ladder runs in order: retry with the error shown → lower the bar (simplify) → ask a human
(`interrupt`) → the teacher does the step with the student's attempt as context → give up with a
typed error in the result. Transport errors are retried first by langgraph's `RetryPolicy`; what
still fails skips straight to escalation. Handlers are langgraph node `error_handler`s that return
`Command(goto=...)`.

Example:
    >>> expand_ladder(["retry", "escalate"], max_retries=2)
    ['retry', 'retry', 'escalate', 'give_up']
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from langgraph.errors import NodeError
from langgraph.graph import END
from langgraph.types import Command, RetryPolicy, interrupt

from skillc.core.errors import (
    BackendUnavailable,
    BudgetExceeded,
    DeadlineExceeded,
    RequestRefused,
    SkillcError,
)
from skillc.core.spec import Step
from skillc.graphs.config import call_limits
from skillc.graphs.state import ATTEMPTS, ERROR, FEEDBACK, MODE, TRACE

ESCALATE_TASK = "skillc_escalate_task"
FINISH = "skillc_finish"


class StepFailure(SkillcError):
    """A step's attempt failed: malformed output, broken contract, failed check, or a bad expression."""

    def __init__(self, kind: str, message: str, *, record: dict[str, Any] | None = None, attempt: str = "",
                 detail: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.record = record
        self.attempt = attempt
        self.detail = detail


def is_transport_error(exc: BaseException) -> bool:
    """Connection errors, timeouts, 429 and 5xx: worth retrying the same call."""
    try:
        import httpx
        import openai

        if isinstance(exc, (openai.APIConnectionError, openai.RateLimitError, openai.InternalServerError)):
            return True
        if isinstance(exc, openai.APIStatusError) and exc.status_code >= 500:
            return True
        if isinstance(exc, httpx.TransportError):
            return True
    except ImportError:  # pragma: no cover - both ship with langchain-openai
        pass
    return isinstance(exc, (ConnectionError, TimeoutError))


def transport_retry_policy(max_attempts: int = 3, initial_interval: float = 0.5) -> RetryPolicy:
    """langgraph `RetryPolicy` for transport errors only."""
    return RetryPolicy(max_attempts=max_attempts, initial_interval=initial_interval, retry_on=is_transport_error)


def expand_ladder(on_fail: list[str], max_retries: int) -> list[str]:
    """The on_fail list with `retry` repeated `max_retries` times and `give_up` at the end."""
    ladder: list[str] = []
    for action in on_fail:
        if action == "give_up":
            break
        ladder.extend([action] * (max_retries if action == "retry" else 1))
    return ladder + ["give_up"]


def as_failure(exc: BaseException, step_id: str) -> StepFailure:
    """Any exception from a step, classified as a `StepFailure`."""
    if isinstance(exc, StepFailure):
        return exc
    if isinstance(exc, DeadlineExceeded):
        return StepFailure("deadline", str(exc), record=None)
    if isinstance(exc, BudgetExceeded):  # refused before the call: nothing was spent, the step gives up
        return StepFailure("budget", str(exc), record=None,
                           detail={"budget": exc.budget, "limit": exc.limit, "spent": exc.spent, "needed": exc.needed})
    if isinstance(exc, RequestRefused):  # the same request would be refused again: no retry, the teacher may take it
        return StepFailure("refused", str(exc), record=None)
    kind = "backend" if is_transport_error(exc) or isinstance(exc, BackendUnavailable) else "error"
    message = f"{type(exc).__name__}: {exc}"
    if "timeout" in type(exc).__name__.lower() or isinstance(exc, TimeoutError):
        timeout = call_limits().get("timeout_s")
        message += (f" (the per-call timeout is {timeout:g} s; --timeout / limits.timeout_s)" if timeout
                    else " (no per-call timeout was set, so the backend's own applied; set --timeout / limits.timeout_s)")
    return StepFailure(kind, message, record=None)


def choose_action(
    ladder: list[str], pos: int, failure: StepFailure, *, mode: str, step: Step | None, escalation: str,
    has_teacher: bool = True,
) -> tuple[str, int]:
    """The next applicable action from position `pos`, and the position after it.

    `escalate` is skipped when escalation is off, when no teacher was given, or when the teacher already
    had the step; so a run without a teacher gives up with the student's real failure, not "no teacher".

    >>> ladder = expand_ladder(["retry", "escalate"], max_retries=1)
    >>> failure = StepFailure("contract", "total: 'x' is not of type 'number'")
    >>> choose_action(ladder, 1, failure, mode="student", step=None, escalation="step", has_teacher=False)
    ('give_up', 3)
    """
    if failure.kind in ("loop_bound", "deadline", "budget"):
        return "give_up", len(ladder)
    for i in range(pos, len(ladder)):
        action = ladder[i]
        deterministic = step is not None and step.primitive == "compute" and mode != "teacher"
        if action in ("retry", "simplify", "ask") and (failure.kind in ("backend", "low_confidence", "refused") or deterministic):
            continue
        if action == "simplify" and mode == "simplified":
            continue
        if action == "escalate" and (escalation == "off" or not has_teacher or mode == "teacher"
                                     or (step and step.primitive == "escalate")):
            continue
        return action, i + 1
    return "give_up", len(ladder)


def give_up(failure: StepFailure, step_id: str | None, trace: list[dict[str, Any]]) -> Command:
    """End the run with a typed error in the result."""
    error = {"kind": failure.kind, "step": step_id, "message": failure.message,
             **({"detail": failure.detail} if failure.detail else {})}
    return Command(goto=END, update={ERROR: error, TRACE: trace})


def step_error_handler(step: Step, escalation: str, has_teacher: bool = True) -> Callable[[dict[str, Any], NodeError], Command]:
    """The `error_handler` of a step node: walks the step's failure ladder."""
    ladder = expand_ladder(list(step.on_fail), step.max_retries)

    def handle(state: dict[str, Any], error: NodeError) -> Command:
        failure = as_failure(error.error, step.id)
        pos = (state.get(ATTEMPTS) or {}).get(step.id, 0)
        mode = (state.get(MODE) or {}).get(step.id, "student")
        action, new_pos = choose_action(ladder, pos, failure, mode=mode, step=step, escalation=escalation,
                                        has_teacher=has_teacher)
        record = _failed_record(failure, step, mode, pos, action)
        trace = [record, *(failure.record or {}).get("_extra", [])]
        if action == "give_up":
            return give_up(failure, step.id, trace)
        if action == "escalate" and escalation == "task":
            return Command(goto=ESCALATE_TASK, update={TRACE: trace})
        feedback: dict[str, Any] = {"error": failure.message, "attempt": failure.attempt}
        new_mode = {"retry": mode, "simplify": "simplified", "ask": mode, "escalate": "teacher"}[action]
        if action == "escalate":
            feedback["by"] = "student"
        if action == "ask":
            feedback["human"] = interrupt({"step": step.id, "question": failure.message, "reason": failure.kind})
        update = {TRACE: trace, ATTEMPTS: {step.id: new_pos}, MODE: {step.id: new_mode}, FEEDBACK: {step.id: feedback}}
        return Command(goto=step.id, update=update)

    return handle


def final_error_handler(escalation: str, has_teacher: bool = True) -> Callable[[dict[str, Any], NodeError], Command]:
    """The `error_handler` of the finish node: whole-task escalation once (when there is a teacher), else give up."""

    def handle(state: dict[str, Any], error: NodeError) -> Command:
        failure = as_failure(error.error, FINISH)
        tried = any(r.get("step") == ESCALATE_TASK for r in state.get(TRACE) or [])
        record = _failed_record(failure, None, "student", 0, "give_up")
        if escalation != "off" and has_teacher and not tried and failure.kind not in ("backend", "deadline", "budget"):
            record["action"] = "escalate"
            return Command(goto=ESCALATE_TASK, update={TRACE: [record]})
        return give_up(failure, None, [record])

    return handle


def task_error_handler(state: dict[str, Any], error: NodeError) -> Command:
    """The `error_handler` of whole-task escalation: give up."""
    failure = as_failure(error.error, ESCALATE_TASK)
    return give_up(failure, ESCALATE_TASK, [_failed_record(failure, None, "teacher", 0, "give_up", ESCALATE_TASK)])


def _failed_record(
    failure: StepFailure, step: Step | None, mode: str, pos: int, action: str, step_id: str = FINISH
) -> dict[str, Any]:
    base = {k: v for k, v in (failure.record or {}).items() if k != "_extra"}
    role = "teacher" if mode == "teacher" else "student"
    record = {
        "step": step.id if step else step_id,
        "primitive": step.primitive if step else "finish",
        "role": base.get("role", role),
        "attempt": pos + 1,
        **base,
        "ok": False,
        "error_kind": failure.kind,
        "error": failure.message,
        "action": action,
    }
    return record
