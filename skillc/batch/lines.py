"""One JSON line per input of a batch: output, error, provenance per step, and cost beside the baseline.

Example:
    >>> echo_input({"text": "x" * 20_000})["input_bytes"]
    20012
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from skillc.core.trace import RunResult
from skillc.skills.skill import Skill


def result_line(skill: Skill, payload: dict[str, Any] | None, result: RunResult, *, trace: bool = False) -> dict[str, Any]:
    """One JSON line per input: output, error, provenance per step, and cost beside the baseline."""
    line: dict[str, Any] = {
        "input": payload,
        "output": result.output,
        "error": result.error.model_dump() if result.error else None,
        "provenance": {
            "skill": skill.name,
            "version": skill.spec.version,
            **{k: v for k, v in (result.skill or {}).items() if k in ("digest", "registry")},
            "steps": [{"step": r.step, "role": r.role, "model": r.model, **({"cached": True} if r.cached else {})}
                      for r in result.trace if r.ok],
        },
        "escalated": result.escalated,
        "cost_usd": result.cost_usd,
        "teacher_baseline_usd": result.teacher_baseline_usd,
        "tokens": {m: {"input": u.input_tokens, "output": u.output_tokens} for m, u in result.by_model.items()},
        **({"cached_steps": result.cached_steps, "saved_usd": result.saved_usd} if result.cached_steps else {}),
    }
    if payload is None:
        line.pop("input")
    if trace:
        line["trace"] = [r.model_dump(exclude_none=True) for r in result.trace]
    return line


ECHO_LIMIT = 10_000  # bytes of a refused input written back into its result line


def echo_input(payload: Any) -> Any:
    """A refused input as its result line shows it: itself when small, else its size and sha256."""
    data = json.dumps(payload, ensure_ascii=False, default=str).encode("utf-8", "replace")
    if len(data) <= ECHO_LIMIT:
        return payload
    return {"input_bytes": len(data), "input_sha256": hashlib.sha256(data).hexdigest()}


__all__ = ["echo_input", "result_line"]
