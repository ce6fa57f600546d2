"""`skillc demo`: compile the bundled invoice task with the local teacher, then measure it.

Four conditions run on the same bundled inputs, each with reference answers:
teacher only (one call per input), raw student (the same one-shot prompt and output contract),
the skill on the student without escalation, and the skill with escalation to the teacher.

Example:
    >>> task, items = bundled_task()
    >>> task.name, len(items)
    ('invoice-total', 12)
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import Any

from skillc.adapters.calls import call_model
from skillc.adapters.json_output import parse_json_object
from skillc.adapters.models import ModelHandle
from skillc.adapters.pricing import PriceTable
from skillc.errors import MalformedOutputError
from skillc.graphs.checks import contract_errors
from skillc.graphs.prompts import task_messages
from skillc.skills.metrics import outputs_match
from skillc.skills.skill import Skill
from skillc.skills.task import Sample, Task, load_samples

TOLERANCE = 1e-4  # numbers within 0.01% (cents on these totals) count as equal
ASSUMED = {"teacher": "gpt-4o", "student": "gpt-4o-mini"}


def bundled_task() -> tuple[Task, list[Sample]]:
    """The demo task and its evaluation inputs, shipped inside the package."""
    root = files("skillc.demo")
    task = Task.from_file(Path(str(root / "invoice_task.yaml")))
    return task, load_samples(Path(str(root / "invoices.jsonl")))


@dataclass
class Condition:
    """What one condition scored and spent over the inputs."""

    name: str
    correct: int = 0
    fields_right: int = 0
    fields_total: int = 0
    items: int = 0
    escalated: int = 0
    tokens: dict[str, list[int]] = field(default_factory=dict)  # role -> [input, output]
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)

    def add_tokens(self, role: str, input_tokens: int, output_tokens: int) -> None:
        bucket = self.tokens.setdefault(role, [0, 0])
        bucket[0] += input_tokens
        bucket[1] += output_tokens

    def score(self, expected: dict[str, Any], output: dict[str, Any] | None) -> None:
        self.items += 1
        self.correct += outputs_match(expected, output, tolerance=TOLERANCE)
        self.fields_total += len(expected)
        self.fields_right += sum(outputs_match({k: v}, output, tolerance=TOLERANCE) for k, v in expected.items())

    def assumed_cost(self, prices: PriceTable) -> float:
        """USD if the teacher were gpt-4o and the student gpt-4o-mini, on these token counts."""
        return sum(prices.cost(ASSUMED[role], t[0], t[1]) for role, t in self.tokens.items() if role in ASSUMED)

    def as_dict(self, prices: PriceTable, hourly_usd: float) -> dict[str, Any]:
        return {
            "condition": self.name,
            "accuracy": self.correct / self.items if self.items else 0.0,
            "field_accuracy": self.fields_right / self.fields_total if self.fields_total else 0.0,
            "items": self.items,
            "escalation_rate": self.escalated / self.items if self.items else 0.0,
            "tokens": self.tokens,
            "seconds": round(self.seconds, 1),
            "assumed_api_cost_usd": self.assumed_cost(prices),
            "local_cost_usd": hourly_usd * self.seconds / 3600,
        }


def one_shot(condition: Condition, role: str, handle: ModelHandle, task: Task, item: Sample, prices: PriceTable) -> None:
    """One model does the whole task in one call, under the same output contract (enforced where the
    backend can). Letting the local models reason in free text first was measured too: it was slower
    and scored lower, because their free-text JSON rarely survived (see BENCHMARKS.md).
    """
    messages = task_messages(task.description, item.input, task.output_schema)
    started = time.perf_counter()
    call = call_model(handle, messages, prices=prices, json_schema=task.output_schema)
    condition.seconds += time.perf_counter() - started
    condition.add_tokens(role, call.input_tokens, call.output_tokens)
    try:
        output: dict[str, Any] | None = parse_json_object(call.text)
        if contract_errors(output, task.output_schema):
            output = None
    except MalformedOutputError:
        output = None
    condition.score(item.expected or {}, output)


def skill_run(condition: Condition, skill: Skill, item: Sample, student: ModelHandle, teacher: ModelHandle | None,
              prices: PriceTable) -> None:
    """The compiled skill on one input; escalation is on when a teacher is given."""
    started = time.perf_counter()
    result = skill.run(item.input, student=student, teacher=teacher, escalation="step" if teacher else "off",
                       prices=prices)
    condition.seconds += time.perf_counter() - started
    for record in result.trace:
        if record.model:
            condition.add_tokens(record.role, record.input_tokens, record.output_tokens)
    condition.escalated += result.escalated
    if result.error:
        condition.errors.append(f"{result.error.kind} at {result.error.step}")
    condition.score(item.expected or {}, result.output)


def save_report(path: Path, report: dict[str, Any]) -> None:
    """Write the demo report as JSON, atomically."""
    from skillc.skills.files import atomic_write_text

    atomic_write_text(path, json.dumps(report, indent=2) + "\n")
