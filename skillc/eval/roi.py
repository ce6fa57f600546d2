"""Return on the compile: saving per call, break-even volume and monthly saving at a stated volume.

saving per call = teacher-only cost per item − skill cost per item; break-even calls = compile cost /
saving per call (None when the skill saves nothing per call: it never pays back); monthly saving =
saving per call × calls per month.

Example:
    >>> r = roi(compile_cost=0.5, teacher_per_item=0.001, skill_per_item=0.0002, calls_per_month=100_000)
    >>> r.break_even_calls, round(r.monthly_saving_usd, 2)
    (625, 80.0)
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Roi:
    """What the compile costs and when it pays back."""

    compile_cost_usd: float | None
    teacher_per_item_usd: float
    skill_per_item_usd: float
    saving_per_call_usd: float
    break_even_calls: int | None
    calls_per_month: int
    monthly_saving_usd: float
    note: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def roi(*, compile_cost: float | None, teacher_per_item: float, skill_per_item: float, calls_per_month: int) -> Roi:
    """Break-even and monthly saving; `note` says in words why a number is missing.

    >>> roi(compile_cost=1.0, teacher_per_item=0.001, skill_per_item=0.002, calls_per_month=10).break_even_calls is None
    True
    """
    saving = teacher_per_item - skill_per_item
    if saving <= 0:
        breakeven, note = None, "the skill costs as much as or more than the teacher per call: it never pays back"
    elif compile_cost is None:
        breakeven, note = None, "compile cost unknown (no provenance; pass --compile-cost)"
    else:
        breakeven = math.ceil(compile_cost / saving) if compile_cost > 0 else 0
        note = f"pays back after {breakeven} calls"
    return Roi(compile_cost, teacher_per_item, skill_per_item, saving, breakeven, calls_per_month,
               saving * calls_per_month, note)
