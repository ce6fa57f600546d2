"""`EvalReport`: the typed content of a skill's `eval.json` (built by `skillc.eval`, read everywhere else).

Example:
    >>> row = ConditionRow(key="teacher_only", condition="teacher only", items=2, correct=1, accuracy=0.5)
    >>> report = EvalReport(skill="mul", items=2, metric="numeric", conditions=[row])
    >>> report.row("teacher_only").accuracy, report.row("skill") is None
    (0.5, True)
    >>> EvalReport.model_validate_json(report.to_json()) == report
    True
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from skillc.core.errors import SkillFolderError


class RolePricing(BaseModel):
    """How one role's tokens are priced: the model, the API model it is priced as, and whether that is assumed."""

    model: str
    priced_as: str | None = None
    assumed: bool = False
    usd_per_1m: list[float] | None = Field(None, description="[input, output] USD per 1M tokens")


class RoleUsage(BaseModel):
    """One role's tokens and cost per item in one condition."""

    model: str
    priced_as: str | None = None
    input_tokens: float = 0.0
    output_tokens: float = 0.0
    cost_usd: float = 0.0


class ConditionRow(BaseModel):
    """One condition (teacher only, raw student, skill, skill + escalation) over every item."""

    key: str
    condition: str
    items: int
    correct: int = 0
    accuracy: float = 0.0
    field_accuracy: float = 0.0
    escalation_rate: float = 0.0
    errors: int = 0
    tokens: dict[str, list[int]] = Field(default_factory=dict, description="role -> [input, output] in total")
    per_item: dict[str, RoleUsage] = Field(default_factory=dict)
    cost_usd: float = 0.0
    cost_per_item_usd: float = 0.0
    seconds: float = 0.0
    local_cost_usd: float = 0.0
    accuracy_ci: list[float] | None = Field(None, description="95% Wilson interval of the share of items right")
    macro_f1: float | None = Field(None, description="for a lone label output: the mean of the per-label F1")
    macro_f1_ci: list[float] | None = Field(None, description="95% bootstrap interval of macro_f1")


class Retention(BaseModel):
    """Skill-with-escalation accuracy over teacher-only accuracy; None when the teacher got nothing right."""

    ratio: float | None = None
    points: float | None = None
    note: str = ""


class CompileCost(BaseModel):
    usd: float | None = None
    source: str = ""


class RoiFigures(BaseModel):
    """Saving per call, break-even volume and monthly saving (see `skillc.eval.roi`)."""

    compile_cost_usd: float | None = None
    teacher_per_item_usd: float
    skill_per_item_usd: float
    saving_per_call_usd: float
    break_even_calls: int | None = None
    calls_per_month: int
    monthly_saving_usd: float
    note: str = ""


class CurvePoint(BaseModel):
    """One point of the cost–quality curve: escalate items whose confidence is below `threshold` (None: all)."""

    threshold: float | None = None
    accuracy: float
    cost_per_item: float
    escalation_rate: float


class DatasetInfo(BaseModel):
    name: str | None = None
    items: int
    sha256: str


class RunInfo(BaseModel):
    model_calls_items: int
    cached_items: int
    wall_seconds: float
    cache: str | None = None


class BaselineCheck(BaseModel):
    result: str
    max_drop: float


class EvalReport(BaseModel):
    """Everything `skillc eval` measured on one dataset; written as the skill's `eval.json`.

    Unknown keys are kept (`extra="allow"`), so a newer skillc's report still loads.
    """

    model_config = ConfigDict(extra="allow")

    summary: dict[str, Any] = Field(default_factory=dict, description="the few numbers worth reading first")
    skill: str
    skill_version: str | None = None
    items: int
    metric: str
    tolerance: float | None = None
    models: dict[str, str] = Field(default_factory=dict)
    pricing: dict[str, RolePricing] = Field(default_factory=dict)
    local_hourly_usd: float = 0.0
    conditions: list[ConditionRow]
    strata: dict[str, dict[str, dict[str, int | float]]] = Field(default_factory=dict)
    retention: Retention | None = None
    compile_cost: CompileCost | None = None
    roi: RoiFigures | None = None
    sweep: list[CurvePoint] | None = None
    confidence: str | None = None
    signals: dict[str, list[CurvePoint]] | None = None
    judge: dict[str, Any] | None = None
    dataset: DatasetInfo | None = None
    run: RunInfo | None = None
    baseline_check: BaselineCheck | None = None
    compression: dict[str, Any] | None = Field(
        None, description="with --compress: the runs without and with compression, and whether it was adopted")
    plot: str | None = None

    def row(self, key: str) -> ConditionRow | None:
        """The condition row with this key (`teacher_only`, `raw_student`, `skill`, `skill_escalation`)."""
        return next((r for r in self.conditions if r.key == key), None)

    def to_json(self) -> str:
        """The report as `eval.json` text (absent parts left out)."""
        return self.model_dump_json(indent=2, exclude_none=True) + "\n"

    def summary_line(self) -> str:
        """One line: items, retention, cost per item of skill vs teacher.

        >>> rows = [ConditionRow(key="teacher_only", condition="t", items=12, cost_per_item_usd=0.01),
        ...         ConditionRow(key="skill_escalation", condition="s", items=12, cost_per_item_usd=0.002)]
        >>> EvalReport(skill="x", items=12, metric="numeric", conditions=rows, retention=Retention(points=95.0)).summary_line()
        '12 items · retention 95.0 points · skill $0.002000/item vs teacher $0.010000/item (5.0x cheaper)'
        """
        parts = [f"{self.items} items"]
        if self.retention is not None:
            points = self.retention.points
            parts.append(f"retention {points:.1f} points" if points is not None else f"retention {self.retention.note}")
        skill, teacher = self.row("skill_escalation"), self.row("teacher_only")
        if skill is not None and teacher is not None:
            s, t = skill.cost_per_item_usd, teacher.cost_per_item_usd
            parts.append(f"skill ${s:.6f}/item vs teacher ${t:.6f}/item" + (f" ({t / s:.1f}x cheaper)" if s > 0 else ""))
        return " · ".join(parts)


def read_report(path: Path) -> EvalReport:
    """Read an `eval.json`; an unreadable, non-JSON or non-report file raises `SkillFolderError` naming it."""
    try:
        return EvalReport.model_validate_json(path.read_bytes())
    except OSError as exc:
        raise SkillFolderError(f"{path}: cannot read it: {exc.strerror or exc}") from None
    except (ValidationError, RecursionError, ValueError) as exc:
        first = exc.errors()[0] if isinstance(exc, ValidationError) else {"msg": str(exc)[:200], "loc": ()}
        where = "/".join(str(p) for p in first.get("loc", ()))
        raise SkillFolderError(f"{path}: not an eval report: {where + ': ' if where else ''}{first['msg']}") from None
