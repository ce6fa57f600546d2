"""Typed errors. Each carries the CLI exit code that reports it.

Example:
    >>> from skillc.core.errors import SkillGaveUp
    >>> SkillGaveUp("no valid answer", step="extract").exit_code
    3
"""

from __future__ import annotations


class SkillcError(Exception):
    """Base class of every error skillc raises on purpose."""

    exit_code: int = 1


class InvalidInputError(SkillcError, ValueError):
    """The user's input, task file or option is wrong (exit code 2)."""

    exit_code = 2


class SkillGaveUp(SkillcError):
    """A run exhausted its failure edges without a valid answer (exit code 3)."""

    exit_code = 3

    def __init__(self, message: str, *, step: str | None = None, kind: str = "gave_up") -> None:
        super().__init__(message)
        self.step = step
        self.kind = kind


class BackendUnavailable(SkillcError):
    """A model backend is down, rate-limited past its retries, or cannot answer (exit code 4)."""

    exit_code = 4


class DeadlineExceeded(BackendUnavailable):
    """The run's deadline passed before a model call could be made (exit code 4)."""


class RequestRefused(InvalidInputError):
    """The backend refused a request as invalid (HTTP 400), e.g. a prompt longer than its context (exit code 2)."""


class ReplayMissError(BackendUnavailable):
    """A `replay:` model has no recorded answer for the prompt it was given."""


class ModelURIError(InvalidInputError):
    """A model URI cannot be resolved to a chat model."""


class SkillFolderError(SkillcError):
    """A skill folder is missing, corrupt, or fails its manifest check (exit code 5)."""

    exit_code = 5


class SpecCompileError(SkillcError):
    """The teacher could not produce a valid SkillSpec within the repair budget (exit code 6)."""

    exit_code = 6

    def __init__(self, message: str, *, errors: list[str] | None = None) -> None:
        super().__init__(message)
        self.errors = errors or []


class UnsafeExpressionError(SkillcError, ValueError):
    """An expression uses something the `compute` evaluator does not allow."""

    exit_code = 2


class MalformedOutputError(SkillcError, ValueError):
    """A model answered with text that holds no JSON object."""


class RegressionError(SkillcError):
    """`skillc eval --baseline`: quality retention fell by more than the allowed points (exit code 7)."""

    exit_code = 7


class BudgetExceeded(SkillGaveUp):
    """An escalation would break a budget, so it was refused and the step gave up (exit code 3, kind `budget`).

    `budget` names the limit (`max_teacher_calls_per_run`, `max_usd_per_run`, `max_usd_per_day`), `limit` is its
    value and `spent` what had been spent (or reserved) against it before the refused call.

    >>> e = BudgetExceeded("max_usd_per_day", limit=1.0, spent=0.98, needed=0.05, step="answer")
    >>> e.kind, e.budget, str(e).split(":")[0]
    ('budget', 'max_usd_per_day', 'budget max_usd_per_day exceeded')
    """

    def __init__(self, budget: str, *, limit: float, spent: float, needed: float, step: str | None = None) -> None:
        super().__init__(f"budget {budget} exceeded: {spent:g} spent of {limit:g}, the escalation needs {needed:g} more",
                         step=step, kind="budget")
        self.budget, self.limit, self.spent, self.needed = budget, limit, spent, needed
