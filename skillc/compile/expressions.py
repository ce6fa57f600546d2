"""The teacher proposes how numeric outputs follow from values in the input; compile keeps what reproduces labels.

For a task whose outputs are numbers computed from numbers in the text (a unit cost from a bill, a total
from an invoice), the seeds' core pattern is `extract` the values → `compute` the answer: the model copies,
the evaluator does the arithmetic. The teacher is shown the task and a few labelled items and asked for the
values to copy and one expression per output. A proposal is only a candidate: `skillc.compile.search` runs it
(the teacher copying the values) on labelled train items and keeps it only when its expressions reproduce
the labels there.

Example:
    >>> parse_proposal('{"values": [{"name": "kwh", "what": "energy used"}, {"name": "supply", "what": "supply charges"}],'
    ...                ' "expressions": {"unit_cost": "round_sig(supply / kwh, 2)"}}', ["unit_cost"])
    ({'kwh': 'energy used', 'supply': 'supply charges'}, {'unit_cost': 'round_sig(supply / kwh, 2)'})
"""

from __future__ import annotations

import json
import re
from typing import Any

from skillc.adapters.calls import call_model
from skillc.adapters.json_output import parse_json_object
from skillc.adapters.models import ModelHandle
from skillc.adapters.pricing import PriceTable
from skillc.compile.architect import shortened
from skillc.core.errors import MalformedOutputError, UnsafeExpressionError
from skillc.core.safe_eval import FUNCTIONS, names_in, parse_expression
from skillc.core.task import Sample, Task

SYSTEM = ("You design a calculation once, so that a small model only copies numbers out of a text and a calculator "
          "does the arithmetic. Answer with one JSON object and nothing else.")
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,40}$")


def proposal_schema(outputs: list[str]) -> dict[str, Any]:
    """The JSON Schema the teacher's proposal must match (constrained decoding where the backend allows)."""
    return {
        "type": "object",
        "properties": {
            "values": {"type": "array", "minItems": 1, "maxItems": 8, "items": {
                "type": "object", "properties": {"name": {"type": "string"}, "what": {"type": "string"}},
                "required": ["name", "what"]}},
            "expressions": {"type": "object", "properties": {o: {"type": "string"} for o in outputs},
                            "required": outputs},
        },
        "required": ["values", "expressions"],
    }


def proposal_messages(task: Task, outputs: list[str], examples: list[Sample]) -> list[tuple[str, str]]:
    """Ask for the values to copy and one expression per numeric output, showing labelled examples."""
    functions = ", ".join(sorted(FUNCTIONS))
    lines = [
        f"Task: {task.description}",
        f"Input fields: {', '.join(task.inputs)}",
        f"Numeric outputs: {', '.join(outputs)}",
        "Name the numbers a small model must copy out of the input (snake_case names; say what each is, e.g. "
        "'total supply charges in dollars'), and for each output one arithmetic expression over those names.",
        f"Expressions may use + - * / ** ( ) and the functions {functions}; round_sig(x, n) rounds x to n "
        "significant figures. An expression names only the values you list (never an input field, never "
        "`value.attribute`) and numbers.",
        'For example, for "the price of one item on an invoice", a good answer is {"values": [{"name": "total", '
        '"what": "the invoice total in dollars"}, {"name": "count", "what": "the number of items"}], '
        '"expressions": {"unit_price": "round(total / count, 2)"}}.',
    ]
    for n, item in enumerate(examples, 1):
        lines.append(f"Example {n} input: {json.dumps(shortened(item.input), ensure_ascii=False)}")
        lines.append(f"Example {n} expected output: {json.dumps(item.expected, ensure_ascii=False)}")
    lines.append('Answer as {"values": [{"name": ..., "what": ...}], "expressions": {output: expression}}.')
    return [("system", SYSTEM), ("user", "\n".join(lines))]


GENERIC_CONSTANTS = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 24, 60, 100, 1000}  # units and rounding, not an example's data


def constants_from(expression: str, examples: str) -> list[float]:
    """The numbers an expression writes out that also stand in the example inputs: a value of one example
    copied into the formula, where it should be a value to extract.

    >>> constants_from("round(supply / 423, 2)", "Supply 423 kWh @ 11 cents")
    [423]
    """
    import ast

    found = []
    stated = {float(x.replace(",", "")) for x in re.findall(r"\d[\d,]*\.?\d*", examples)}
    for node in ast.walk(ast.parse(expression, mode="eval")):
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
            if node.value not in GENERIC_CONSTANTS and float(node.value) in stated:
                found.append(node.value)
    return found


def parse_proposal(text: str, outputs: list[str], examples: str = "") -> tuple[dict[str, str], dict[str, str]]:
    """(values name → description, output → expression) from the teacher's reply; raises `MalformedOutputError`
    when a name is not an identifier, an expression is unsafe, uses a name it does not define, or writes out a
    number of the `examples` text (a value that must be copied per input, not fixed)."""
    data = parse_json_object(text)
    raw_values = data.get("values")
    values: dict[str, str] = {}
    for entry in raw_values if isinstance(raw_values, list) else []:
        if isinstance(entry, dict) and isinstance(entry.get("name"), str):
            name = entry["name"].strip().lower().replace(" ", "_")
            if _NAME.match(name):
                values[name] = str(entry.get("what") or name)
    expressions = data.get("expressions") if isinstance(data.get("expressions"), dict) else {}
    chosen: dict[str, str] = {}
    for output in outputs:
        expression = expressions.get(output)
        if not isinstance(expression, str) or not expression.strip():
            raise MalformedOutputError(f"no expression for {output!r}")
        try:
            parse_expression(expression)
            unknown = names_in(expression) - set(values)
        except UnsafeExpressionError as exc:
            raise MalformedOutputError(f"expression for {output!r} is not allowed: {exc}") from None
        if unknown:
            raise MalformedOutputError(f"expression for {output!r} uses undefined names {sorted(unknown)}")
        copied = constants_from(expression, examples) if examples else []
        if copied:
            raise MalformedOutputError(f"expression for {output!r} writes out {copied[0]}, a number of one example's "
                                       "input; make it a value to copy from each input instead")
        chosen[output] = expression.strip()
    used = set().union(*(names_in(e) for e in chosen.values())) if chosen else set()
    values = {k: v for k, v in values.items() if k in used}
    if not values:
        raise MalformedOutputError("the proposal names no value its expressions use")
    return values, chosen


def propose(teacher: ModelHandle, task: Task, outputs: list[str], examples: list[Sample], *, samples: int = 2,
            prices: PriceTable | None = None, temperature: float = 0.7) -> tuple[list[tuple[dict[str, str], dict[str, str]]],
                                                                                  list[str], list[Any]]:
    """Up to `samples` distinct proposals (the first greedy, the rest sampled), the problems of the rejected ones,
    and the calls made (for the compile's cost)."""
    messages = proposal_messages(task, outputs, examples)
    stated = " ".join(json.dumps(e.input, ensure_ascii=False) for e in examples)
    schema = proposal_schema(outputs) if teacher.structured != "none" else None
    found: list[tuple[dict[str, str], dict[str, str]]] = []
    problems: list[str] = []
    calls: list[Any] = []
    for n in range(samples):
        kwargs: dict[str, Any] = {"temperature": temperature, "seed": n} if n else {}
        asked, last = messages, ""
        for _ in range(2):  # a proposal that cannot be used is sent back once with its problem
            call = call_model(teacher, asked, prices=prices, json_schema=schema, max_tokens=600, **kwargs)
            calls.append(call)
            try:
                proposal = parse_proposal(call.text, outputs, stated)
            except MalformedOutputError as exc:
                last = str(exc)
                asked = [*messages, ("assistant", call.text[:3000]),
                         ("user", f"That cannot be used: {exc}. Answer again with the corrected JSON object.")]
                continue
            last = ""
            if proposal not in found:
                found.append(proposal)
            break
        if last:
            problems.append(last)
    return found, problems, calls
