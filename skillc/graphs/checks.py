"""Checks: the contract always, then the step's declared check (expr, compute cross-check, states, verify).

Example:
    >>> from skillc.core.spec import Check
    >>> run_check(Check(kind="compute", expr="a * b", equals="total"), {"a": 6, "b": 7, "total": 42})[0].ok
    True
    >>> run_check(Check(kind="states", expr="value(expression)", equals="working"),
    ...           {"expression": "48 + 48 / 2", "working": "48 / 2 = 24 in May, so 48 + 24 = 72."})[0].ok
    True
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from skillc.adapters.json_output import parse_json_object
from skillc.core.answers import answers_equal, final_number
from skillc.core.contracts import contract_errors
from skillc.core.errors import MalformedOutputError, UnsafeExpressionError
from skillc.core.safe_eval import safe_eval
from skillc.core.spec import Check
from skillc.core.trace import CheckResult
from skillc.graphs.prompts import VERIFY_CONTRACT

VerifyCall = Callable[[str], str]
"""Calls the verifier (`student` or `teacher`) and returns its reply text."""


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
            ok = answers_equal(expected, actual, check.tolerance)
            msg = "" if ok else f"{check.equals} is {actual!r} but {check.expr} gives {expected!r}"
            return [CheckResult(name=name, ok=ok, message=msg)]
        if check.kind == "states":
            expected = safe_eval(check.expr or "", values)
            stated = final_number(str(values.get(check.equals or "") or ""))
            ok = stated is not None and answers_equal(expected, stated, check.tolerance)
            msg = "" if ok else (f"{check.equals} arrives at {stated!r} but {check.expr} gives {expected!r}: "
                                 f"write the expression that computes the number the {check.equals} arrives at")
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
