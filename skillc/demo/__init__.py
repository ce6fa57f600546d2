"""`skillc demo`: compile the bundled invoice task with the local teacher, then measure it.

Four conditions run on the same bundled inputs, each with reference answers: teacher only (one call
per input), raw student (the same one-shot prompt and output contract), the skill on the student
without escalation, and the skill with escalation to the teacher. The conditions are `skillc eval`'s
(`skillc.eval.conditions`); the demo only adds the compile and its own report.

Example:
    >>> task, items = bundled_task()
    >>> task.name, len(items), sorted({i.model_extra["category"] for i in items})
    ('invoice-total', 12, ['discount', 'no discount'])
"""

from __future__ import annotations

import json
from importlib.resources import files
from pathlib import Path
from typing import Any

from skillc.core.answers import TOLERANCE
from skillc.core.report import ConditionRow
from skillc.core.task import Sample, Task, load_samples
from skillc.eval.conditions import ASSUMED_API
from skillc.skills.skill import Skill

ASSUMED = ASSUMED_API  # price the local teacher as gpt-4o and the student as gpt-4o-mini (assumed)

__all__ = ["ASSUMED", "TOLERANCE", "bundled_dataset", "bundled_task", "demo_row", "save_report"]


def bundled_dataset() -> Path:
    """The path of the bundled invoices (JSONL with input, expected, category, difficulty)."""
    return Path(str(files("skillc.demo") / "invoices.jsonl"))


def bundled_task() -> tuple[Task, list[Sample]]:
    """The demo task and its evaluation inputs, shipped inside the package."""
    task = Task.from_file(Path(str(files("skillc.demo") / "invoice_task.yaml")))
    return task, load_samples(bundled_dataset())


def demo_skill(folder: str | Path, teacher: str = "local:teacher") -> Skill:
    """The bundled invoice skill in `folder` (manifest verified), compiled there first if it is missing."""
    from skillc.compile.compiler import compile_skill

    folder = Path(folder)
    if not folder.exists():
        print(f"compiling the bundled invoice task with {teacher} into {folder} …", flush=True)
        compile_skill(bundled_task()[0], teacher=teacher).save(folder)
    return Skill.load(folder)


def demo_row(row: ConditionRow) -> dict[str, Any]:
    """One condition of the demo's report.json, from an eval report row (API $ at the assumed prices).

    >>> demo_row(ConditionRow(key="raw_student", condition="raw student", items=2, field_accuracy=0.5))["accuracy"]
    0.0
    """
    keys = ("condition", "accuracy", "field_accuracy", "items", "escalation_rate", "tokens", "seconds")
    return {**row.model_dump(include=set(keys)), "assumed_api_cost_usd": row.cost_usd, "local_cost_usd": row.local_cost_usd}


def save_report(path: Path, report: dict[str, Any]) -> None:
    """Write the demo report as JSON, atomically."""
    from skillc.core.files import atomic_write_text

    atomic_write_text(path, json.dumps(report, indent=2) + "\n")
