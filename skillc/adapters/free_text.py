"""Read a step's JSON contract out of a free-text answer (recorded logs, replayed teachers).

The answer is used as JSON when it fits the contract. Otherwise free-text fields (`reasoning`, ...) take
the whole text, number fields the final number, label fields the last label mentioned, and expression
fields (`expression`, `formula`, ...) the final number written as an expression.

Example:
    >>> contract = {"type": "object", "properties": {"reasoning": {"type": "string"},
    ...             "expression": {"type": "string"}}, "required": ["reasoning", "expression"]}
    >>> fill_contract(contract, "4 boxes of 6 is 4 * 6 = 24.")
    {'reasoning': '4 boxes of 6 is 4 * 6 = 24.', 'expression': '24'}
"""

from __future__ import annotations

from typing import Any

from skillc.adapters.json_output import parse_json_object
from skillc.core.answers import NUMBER, final_number
from skillc.core.contracts import TEXT_FIELDS, contract_errors
from skillc.core.errors import MalformedOutputError

EXPRESSION_FIELDS = ("expression", "formula", "equation", "calculation", "arithmetic")
__all__ = ["EXPRESSION_FIELDS", "NUMBER", "fill_contract", "final_number"]  # final_number lives in core.answers


def fill_contract(contract: dict[str, Any], response: str) -> dict[str, Any] | None:
    """The step's output read from a free-text response, or None when it cannot be filled."""
    try:
        parsed = parse_json_object(response)
        if not contract_errors(parsed, contract):
            return parsed
    except MalformedOutputError:
        pass
    props: dict[str, Any] = contract.get("properties", {})
    strings = [k for k, v in props.items() if isinstance(v, dict) and v.get("type") == "string" and "enum" not in v]
    prose = [k for k in strings if k.lower() not in EXPRESSION_FIELDS]
    out: dict[str, Any] = {}
    for name, prop in props.items():
        prop = prop if isinstance(prop, dict) else {}
        if "enum" in prop:
            mentioned = [(response.lower().rfind(str(e).lower()), e) for e in prop["enum"]]
            found = max((m for m in mentioned if m[0] >= 0), default=None, key=lambda m: m[0])
            if found is not None:
                out[name] = found[1]
        elif prop.get("type") in ("number", "integer") or (name in strings and name.lower() in EXPRESSION_FIELDS):
            number = final_number(response)
            if number is not None:
                out[name] = number if prop.get("type") in ("number", "integer") else str(number)
        elif name in prose and (name.lower() in TEXT_FIELDS or len(prose) == 1):
            out[name] = response.strip()
    return out if out and not contract_errors(out, contract) else None
