"""Confidence signals for a student step's answer: self-consistency, token logprobs and a verify call.

Each signal maps one step's answer to [0, 1]. A step records the signals its skill asks for
(`escalation.signals`) in its trace record; when escalation is on and a signal falls below its calibrated
threshold (`escalation.thresholds`), the step fails with kind `low_confidence` and escalates. The fourth
signal, a schema or check failure, needs no extra work: it is the failure itself (see
`skillc.eval.sweep.trace_confidence`).

- `consistency`: the share of `samples` extra answers, sampled at `temperature`, that agree with the
  answer on its answer fields (numbers within a tolerance; arithmetic expressions by value). With
  `escalation.vote`, the step answers with the majority of the answer and its samples instead (`majority`;
  a sample must meet the contract and the step's check to vote) and the confidence is the majority's share.
- `logprobs`: the probability the model gave the answer fields' value tokens (the product of their token
  probabilities), from the backend's token logprobs (OpenAI, llama.cpp with `local:NAME?logprobs`).
- `verify`: 1 if the student, asked to check the answer, says it is correct, else 0.
- `neighbours`: the share of the bank's k nearest labelled records that carry the same answer (no model call;
  on a `vote` step, the vote's share).
- `peer`: 1 if a second cheap model (`escalation.peer`, e.g. `local:tiny`), asked the same step, gives the same
  answer, else 0.

A `LearnedGate` (`escalation.gate`, fitted by `skillc.eval.gate`) combines the signals into one score.

Example:
    >>> answer_fields({"reasoning": {"type": "string"}, "answer": {"type": "number"}}, ["reasoning", "answer"])
    ['answer']
    >>> consistency({"answer": 18}, [{"answer": 18.0}, {"answer": 20}, None], ["answer"])
    0.3333333333333333
"""

from __future__ import annotations

import math
import re
from typing import Any

from skillc.core.answers import answers_equal
from skillc.core.contracts import TEXT_FIELDS, contract_errors
from skillc.core.spec import LearnedGate
from skillc.graphs.prompts import VERIFY_CONTRACT

SIGNALS = ("check", "consistency", "logprobs", "verify", "neighbours", "peer")
STEP_SIGNALS = ("consistency", "logprobs", "verify", "neighbours", "peer")  # per step; `check` is read from the trace
_KEY = r'"{name}"\s*:\s*'
_VALUE = re.compile(r'"(?:[^"\\]|\\.)*"|-?\d[\d.eE+\-]*|true|false|null')


def answer_fields(contract: dict[str, Any], writes: list[str]) -> list[str]:
    """The fields that carry the answer: numbers, booleans and labels first; else every non-reasoning field."""
    props = contract.get("properties", {}) if isinstance(contract, dict) else {}
    typed = [w for w in writes if isinstance(props.get(w), dict)
             and (props[w].get("type") in ("number", "integer", "boolean") or "enum" in props[w])]
    if typed:
        return typed
    rest = [w for w in writes if w.lower() not in TEXT_FIELDS]
    return rest or list(writes)


def consistency(answer: dict[str, Any], samples: list[dict[str, Any] | None], fields: list[str]) -> float:
    """Share of `samples` that agree with `answer` on every field in `fields` (an unusable sample disagrees)."""
    if not samples:
        return 1.0
    agree = sum(s is not None and all(answers_equal(answer.get(f), s.get(f), arithmetic=True) for f in fields) for s in samples)
    return agree / len(samples)


def majority(answers: list[dict[str, Any] | None], fields: list[str]) -> tuple[int, float]:
    """Self-consistency by vote: the index of the answer the most answers agree with on `fields` (ties go to
    the earliest, so the first answer wins a tie), and the share of all answers that agree with it.
    Unusable answers (None) count in the total but never win.

    >>> majority([{"x": "2 * 3"}, {"x": 7}, {"x": "7"}, None], ["x"])
    (1, 0.5)
    """
    usable = [i for i, a in enumerate(answers) if a is not None]
    if not usable:
        return 0, 0.0
    def agreeing(i: int) -> int:
        return sum(all(answers_equal(answers[i].get(f), answers[j].get(f), arithmetic=True) for f in fields)  # type: ignore[union-attr]
                   for j in usable)
    counts = {i: agreeing(i) for i in usable}
    best = max(usable, key=lambda i: (counts[i], -i))
    return best, counts[best] / len(answers)


def logprob_confidence(text: str, tokens: list[str] | None, logprobs: list[float], fields: list[str]) -> float | None:
    """exp(sum of the logprobs of the tokens that spell the `fields`' values in `text`).

    The value of each field is its last `"field": value` in the reply. When the tokens do not spell the
    reply or no field is found, it is the geometric mean probability of the whole reply instead.

    >>> logprob_confidence('{"a": 12}', ['{"', 'a', '":', ' ', '12', '}'], [0.0, 0.0, 0.0, 0.0, math.log(0.5), 0.0], ["a"])
    0.5
    """
    if not logprobs:
        return None
    spans = _value_spans(text, fields) if tokens and "".join(tokens) == text else []
    if not spans:
        return math.exp(sum(logprobs) / len(logprobs))
    total, start = 0.0, 0
    for token, lp in zip(tokens or [], logprobs, strict=False):
        end = start + len(token)
        if any(start < s_end and end > s_start for s_start, s_end in spans):
            total += lp
        start = end
    return math.exp(total)


def _value_spans(text: str, fields: list[str]) -> list[tuple[int, int]]:
    spans = []
    for name in fields:
        keys = list(re.finditer(_KEY.format(name=re.escape(name)), text))
        if not keys:
            continue
        match = _VALUE.match(text, keys[-1].end())
        if match:
            spans.append((match.start(), match.end()))
    return spans


def verify_confidence(reply: str) -> float | None:
    """1.0 when a verifier's reply says the answer is correct, 0.0 when it says not, None when unusable."""
    from skillc.adapters.json_output import parse_json_object
    from skillc.core.errors import MalformedOutputError

    try:
        verdict = parse_json_object(reply)
    except MalformedOutputError:
        return None
    if contract_errors(verdict, VERIFY_CONTRACT):
        return None
    return 1.0 if verdict["ok"] else 0.0


def gate_score(gate: LearnedGate, confidence: dict[str, float]) -> float:
    """The learned gate's score of one step's signals (a signal not measured reads as its default).

    >>> g = LearnedGate(features=["neighbours"], weights=[4.0], bias=-2.0, defaults=[0.5])
    >>> round(gate_score(g, {"neighbours": 1.0}), 3), gate_score(g, {})
    (0.881, 0.5)
    """
    defaults = gate.defaults or [1.0] * len(gate.features)
    z = gate.bias + sum(w * float(confidence.get(f, d)) for f, w, d in zip(gate.features, gate.weights, defaults, strict=True))
    return 1.0 / (1.0 + math.exp(-max(min(z, 60.0), -60.0)))


def gate_reasons(gate: LearnedGate | None, confidence: dict[str, float]) -> list[str]:
    """Why the learned gate escalates this answer (empty when it passes or there is no gate)."""
    if gate is None:
        return []
    value = gate_score(gate, confidence)
    return [f"gate score {value:.3g} < {gate.threshold:.3g}"] if value < gate.threshold else []


def below(confidence: dict[str, float], thresholds: dict[str, float]) -> list[str]:
    """The signals under their thresholds, as readable reasons.

    A threshold above 1 (calibrated as "escalate every item") holds even when its signal could not be measured
    (a backend without logprobs): no reading can pass it.

    >>> below({"consistency": 0.5, "logprobs": 0.9}, {"consistency": 0.67, "logprobs": 0.5})
    ['consistency 0.5 < 0.67']
    >>> below({}, {"logprobs": 1.01, "verify": 0.5})
    ['logprobs not measured; the gate escalates every item (threshold 1.01)']
    """
    reasons = []
    for name, t in thresholds.items():
        if name in confidence and confidence[name] < t:
            reasons.append(f"{name} {confidence[name]:.3g} < {t:.3g}")
        elif name not in confidence and t > 1:
            reasons.append(f"{name} not measured; the gate escalates every item (threshold {t:.3g})")
    return reasons
