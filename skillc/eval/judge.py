"""LLM-as-judge: the teacher compares a candidate answer with the reference and returns a validated verdict.

The judge sees the item's input, the reference answer and the candidate. Its reply must be the JSON object
`{"correct": bool, "reason": str}` (validated with pydantic); a malformed verdict is asked for once more
with the error shown, then counted as a typed failure (`JudgeFailure`), never guessed.

Example:
    >>> Verdict.model_validate({"correct": True, "reason": "same total"}).correct
    True
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from skillc.adapters.calls import call_model
from skillc.adapters.json_output import parse_json_object
from skillc.adapters.models import ModelHandle
from skillc.adapters.pricing import PriceTable
from skillc.core.errors import MalformedOutputError

VERDICT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"correct": {"type": "boolean"}, "reason": {"type": "string"}},
    "required": ["correct", "reason"],
}
SYSTEM = (
    "You are a strict grader. Compare the candidate answer with the reference answer for the task and input. "
    "The candidate is correct only if it says the same thing as the reference in every field that matters "
    "(numbers equal up to rounding, names the same entity). Reply with JSON only: "
    '{"correct": true or false, "reason": "one short sentence"}'
)


class Verdict(BaseModel):
    """The judge's validated verdict."""

    model_config = ConfigDict(extra="ignore", strict=True)

    correct: bool
    reason: str


@dataclass
class Judgement:
    """A verdict, or the typed failure `malformed_verdict`, with the judge's token use."""

    verdict: Verdict | None
    failure: str | None = None
    tokens: list[int] = field(default_factory=lambda: [0, 0])
    cost_usd: float = 0.0
    calls: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"verdict": self.verdict.model_dump() if self.verdict else None, "failure": self.failure,
                "tokens": self.tokens, "cost_usd": self.cost_usd, "calls": self.calls}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Judgement:
        verdict = Verdict.model_validate(data["verdict"]) if data.get("verdict") else None
        return cls(verdict, data.get("failure"), list(data.get("tokens") or [0, 0]), float(data.get("cost_usd", 0.0)),
                   int(data.get("calls", 0)))


def judge_messages(task: str, inputs: dict[str, Any], reference: dict[str, Any], candidate: Any) -> list[tuple[str, str]]:
    """The judge's prompt: task, input, reference and candidate.

    >>> judge_messages("Add.", {"a": 1}, {"sum": 2}, {"sum": 2})[1][1].splitlines()[0]
    'Task: Add.'
    """
    user = "\n".join([
        f"Task: {task}",
        f"Input: {json.dumps(inputs, ensure_ascii=False)}",
        f"Reference answer: {json.dumps(reference, ensure_ascii=False)}",
        f"Candidate answer: {json.dumps(candidate, ensure_ascii=False)}",
        'Is the candidate correct? Answer {"correct": ..., "reason": ...}.',
    ])
    return [("system", SYSTEM), ("user", user)]


def parse_verdict(text: str) -> Verdict:
    """Validate a judge reply; raise `MalformedOutputError` when it is not a verdict.

    >>> parse_verdict('{"correct": false, "reason": "wrong total"}').correct
    False
    >>> parse_verdict('{"correct": "yes", "reason": "ok"}')
    Traceback (most recent call last):
    ...
    skillc.core.errors.MalformedOutputError: not a verdict: correct: Input should be a valid boolean
    """
    data = parse_json_object(text)
    try:
        return Verdict.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise MalformedOutputError(f"not a verdict: {'.'.join(map(str, first['loc']))}: {first['msg']}") from None


def judge(
    handle: ModelHandle,
    task: str,
    inputs: dict[str, Any],
    reference: dict[str, Any],
    candidate: Any,
    *,
    prices: PriceTable | None = None,
) -> Judgement:
    """Ask the judge; retry once on a malformed verdict (showing the error), then give a typed failure."""
    messages = judge_messages(task, inputs, reference, candidate)
    result = Judgement(None)
    for _ in range(2):
        call = call_model(handle, messages, prices=prices, json_schema=VERDICT_SCHEMA)
        result.calls += 1
        result.tokens[0] += call.input_tokens
        result.tokens[1] += call.output_tokens
        result.cost_usd += call.cost_usd
        try:
            result.verdict = parse_verdict(call.text)
            result.failure = None
            return result
        except MalformedOutputError as exc:
            result.failure = "malformed_verdict"
            messages = [*messages, ("assistant", call.text),
                        ("user", f"That was not a valid verdict ({exc}). Reply with the JSON object only.")]
    return result
