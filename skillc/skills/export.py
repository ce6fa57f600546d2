"""Fine-tune export: the example bank as JSONL for OpenAI chat, ShareGPT or Alpaca trainers.

The user turn is the exact prompt the student sees for that step at run time, so a model fine-tuned on
it is trained on what it will be asked. With `with_reasoning`, the assistant turn holds the teacher's
reasoning, a blank line, and then the answer JSON.

Example:
    >>> from skillc.core.spec import Step
    >>> step = Step(id="add", primitive="transform", instruction="Add the numbers.", reads=["q"],
    ...             writes=["answer"], next="END", contract={"type": "object", "properties": {"answer": {"type": "number"}}})
    >>> row = export_row("openai", "Do sums.", step, {"input": {"q": "2+3"}, "output": {"answer": 5}, "reasoning": "2+3 is 5"})
    >>> [m["role"] for m in row["messages"]], row["messages"][2]["content"]
    (['system', 'user', 'assistant'], '{"answer": 5}')
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from typing import Any, Literal

from skillc.core.spec import SkillSpec, Step
from skillc.graphs.prompts import step_messages

Format = Literal["openai", "sharegpt", "alpaca"]
FORMATS: tuple[Format, ...] = ("openai", "sharegpt", "alpaca")


def assistant_text(record: dict[str, Any], with_reasoning: bool) -> str:
    """The answer turn: the output JSON, after the reasoning when asked for and present."""
    answer = json.dumps(record.get("output", {}), ensure_ascii=False)
    reasoning = str(record.get("reasoning") or "").strip()
    return f"{reasoning}\n\n{answer}" if with_reasoning and reasoning else answer


def export_row(fmt: Format, task: str, step: Step, record: dict[str, Any], *, with_reasoning: bool = False) -> dict[str, Any]:
    """One training example in the trainer's format."""
    (_, system), (_, user) = step_messages(task, step, record.get("input") or {})[:2]
    answer = assistant_text(record, with_reasoning)
    if fmt == "openai":
        return {"messages": [{"role": "system", "content": system}, {"role": "user", "content": user},
                             {"role": "assistant", "content": answer}]}
    if fmt == "sharegpt":
        return {"conversations": [{"from": "system", "value": system}, {"from": "human", "value": user},
                                  {"from": "gpt", "value": answer}]}
    return {"instruction": system, "input": user, "output": answer}


def export_rows(
    spec: SkillSpec,
    records: Iterable[dict[str, Any]],
    fmt: Format,
    *,
    with_reasoning: bool = False,
    sources: set[str] | None = None,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Rows for every record (of the given sources) whose step is in the skill; and counts per source."""
    steps = {s.id: s for s in spec.steps}
    rows: list[dict[str, Any]] = []
    written: Counter[str] = Counter()
    skipped: Counter[str] = Counter()
    for record in records:
        source = str(record.get("source"))
        if sources and source not in sources:
            skipped["other_source"] += 1
        elif record.get("step") not in steps:
            skipped["step_not_in_skill"] += 1
        else:
            rows.append(export_row(fmt, spec.task, steps[record["step"]], record, with_reasoning=with_reasoning))
            written[source] += 1
    return rows, {"written": dict(written), "skipped": dict(skipped), "format": fmt}
