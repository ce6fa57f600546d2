"""Checks: the contract always, then the step's declared check (expr, compute cross-check, verify).

Example:
    >>> contract_errors({"total": "12"}, {"type": "object", "properties": {"total": {"type": "number"}}})
    ["total: '12' is not of type 'number'"]
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import jsonschema

from skillc.adapters.json_output import parse_json_object
from skillc.errors import MalformedOutputError, UnsafeExpressionError
from skillc.graphs.prompts import VERIFY_CONTRACT
from skillc.graphs.safe_eval import safe_eval
from skillc.graphs.trace import CheckResult
from skillc.skills.spec import Check

VerifyCall = Callable[[str], str]
"""Calls the verifier (`student` or `teacher`) and returns its reply text."""


def contract_errors(value: Any, schema: dict[str, Any]) -> list[str]:
    """Every way `value` breaks `schema`, as `path: message` lines (empty when it conforms)."""
    validator = jsonschema.Draft202012Validator(schema)
    out = []
    for err in sorted(validator.iter_errors(value), key=lambda e: list(e.path)):
        where = "/".join(str(p) for p in err.path)
        out.append(f"{where}: {err.message}" if where else err.message)
    return out


def numbers_match(a: Any, b: Any, tolerance: float = 1e-6) -> bool:
    """Numeric equality with a relative-or-absolute tolerance; strings like "1,200" are read as numbers."""
    x, y = to_number(a), to_number(b)
    if x is None or y is None:
        return False
    return math.isclose(x, y, rel_tol=tolerance, abs_tol=tolerance)


def to_number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value)
    try:
        return float(str(value).replace(",", "").replace("$", "").strip())
    except ValueError:
        return None


def run_check(
    check: Check | None, values: dict[str, Any], verify: VerifyCall | None = None
) -> list[CheckResult]:
    """Run a declared check over the state values (the step's writes included)."""
    if check is None:
        return []
    name = f"{check.kind}: {check.expr or check.by}"
    try:
        if check.kind == "expr":
            ok = bool(safe_eval(check.expr or "", values))
            return [CheckResult(name=name, ok=ok, message="" if ok else f"{check.expr} is false")]
        if check.kind == "compute":
            expected = safe_eval(check.expr or "", values)
            actual = values.get(check.equals or "")
            ok = numbers_match(expected, actual, check.tolerance)
            msg = "" if ok else f"{check.equals} is {actual!r} but {check.expr} gives {expected!r}"
            return [CheckResult(name=name, ok=ok, message=msg)]
    except UnsafeExpressionError as exc:
        return [CheckResult(name=name, ok=False, message=f"check could not run: {exc}")]
    if verify is None:
        return [CheckResult(name=name, ok=False, message="no verifier model available")]
    raw = verify(check.by)
    try:
        verdict = parse_json_object(raw)
    except MalformedOutputError as exc:
        return [CheckResult(name=name, ok=False, message=f"verifier reply unusable: {exc}")]
    if contract_errors(verdict, VERIFY_CONTRACT):
        return [CheckResult(name=name, ok=False, message=f"verifier reply broke its contract: {raw[:100]!r}")]
    return [CheckResult(name=name, ok=bool(verdict["ok"]), message="" if verdict["ok"] else str(verdict["reason"]))]
