"""Example-bank records: the teacher's (or a log's, a human's) worked example of one step.

Example:
    >>> r = new_record("add", {"q": "2+3"}, {"answer": 5}, reasoning="2 plus 3 makes 5")
    >>> r["step"], r["source"], len(r["id"])
    ('add', 'teacher', 32)
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, Literal

Source = Literal["teacher", "log", "human", "escalation", "label"]


def new_record(
    step: str,
    input: dict[str, Any],
    output: dict[str, Any],
    *,
    reasoning: str = "",
    source: Source = "teacher",
    model: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A bank record with a fresh id and the current time.

    >>> new_record("s", {"q": "x"}, {"a": 1}, source="human")["source"]
    'human'
    """
    return {
        "id": uuid.uuid4().hex,
        "step": step,
        "input": input,
        "reasoning": reasoning,
        "output": output,
        "source": source,
        "model": model,
        "time": datetime.now(UTC).isoformat(timespec="seconds"),
        "quality": [],
        **extra,
    }
