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
from dataclasses import dataclass, field
from typing import Any, Literal

from skillc.adapters.models import ModelHandle, resolve_model
from skillc.adapters.pricing import PriceTable

Escalation = Literal["step", "task", "off"]


@dataclass(frozen=True)
class RunConfig:
    """What a run needs besides its inputs.

    Args:
        student: the model that runs every step.
        teacher: the model a failed step escalates to (None: no escalation, the ladder skips it).
        escalation: `step`, `task` or `off`; None keeps the skill's own mode.
        prices: the price table that costs every call.
    """

    student: Any = None
    teacher: Any = None
    escalation: Escalation | None = None
    prices: PriceTable = field(default_factory=PriceTable)

    @classmethod
    def of(cls, config: RunConfig | None = None, **given: Any) -> RunConfig:
        """`config` (or the defaults) with every given field that is not None replaced."""
        return (config or cls()).with_(**{k: v for k, v in given.items() if v is not None})

    def with_(self, **changes: Any) -> RunConfig:
        """A copy with `changes` applied (None values included)."""
        return dataclasses.replace(self, **changes)

    def handle(self, role: str) -> ModelHandle | None:
        """The resolved `student` or `teacher`, or None when it was not given."""
        model = self.teacher if role == "teacher" else self.student
        return None if model is None else resolve_model(model)
