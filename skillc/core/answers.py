"""The one rule for "two answers are equal", used by checks, confidence, metrics and the compiler.

Numbers (or strings that read as numbers, like "1,200" or "$18") are equal within a relative-or-absolute
`tolerance`; strings are equal after lower-casing and collapsing spaces; with `arithmetic=True` a string
that is an arithmetic expression is compared by its value; booleans equal only booleans; anything else by `==`.

Example:
    >>> answers_equal(18, "18.0"), answers_equal("Yes", " yes"), answers_equal("3 * 4", 12)
    (True, True, False)
    >>> answers_equal("24 + 48", "48+24", arithmetic=True)
    True
    >>> outputs_match({"total": 18}, {"total": "18.0", "note": "x"})
    True
"""

from __future__ import annotations

import math
import re
from typing import Any

from skillc.core.errors import UnsafeExpressionError
from skillc.core.safe_eval import safe_eval

TOLERANCE = 1e-4  # numbers within 0.01% (cents on invoice totals) count as equal in evaluations
EXACT = 1e-6  # the default: numbers that differ only by float noise


NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?")


def final_number(text: str) -> int | float | None:
    """The last number stated in `text` (after `####` when present), as int when integral.

    >>> final_number("so she makes 9 * $2 = $18 every day.")
    18
    >>> final_number("#### 1,250.5") , final_number("no digits")
    (1250.5, None)
    """
    tail = text.rsplit("####", 1)[-1] if "####" in text else text
    found = NUMBER.findall(tail) or NUMBER.findall(text)
    if not found:
        return None
    value = float(found[-1].replace(",", ""))
    return int(value) if value.is_integer() else value


def to_number(value: Any) -> float | None:
    """The number a value stands for (`"1,200"` → 1200.0), or None; booleans are not numbers.

    >>> to_number("$1,200"), to_number(True), to_number("twelve")
    (1200.0, None, None)
    """
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value)
    try:
        return float(str(value).replace(",", "").replace("$", "").strip())
    except ValueError:
        return None


def answers_equal(a: Any, b: Any, tolerance: float = EXACT, *, arithmetic: bool = False) -> bool:
    """Whether two answer values are the same answer (see the module docstring for the rule)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    x, y = to_number(a), to_number(b)
    if x is not None and y is not None:
        return math.isclose(x, y, rel_tol=tolerance, abs_tol=tolerance)
    if isinstance(a, str) and isinstance(b, str) and _text(a) == _text(b):
        return True
    if isinstance(a, str) or isinstance(b, str):
        if not arithmetic:
            return False
        x = _arithmetic(a) if isinstance(a, str) else to_number(a)
        y = _arithmetic(b) if isinstance(b, str) else to_number(b)
        return x is not None and y is not None and math.isclose(x, y, rel_tol=tolerance, abs_tol=tolerance)
    return bool(a == b)


def outputs_match(expected: dict[str, Any], actual: dict[str, Any] | None, tolerance: float = EXACT) -> bool:
    """Every expected field has an equal answer in `actual` (extra fields are ignored)."""
    if actual is None:
        return False
    return all(answers_equal(v, actual.get(k), tolerance) for k, v in expected.items())


def _text(value: str) -> str:
    return " ".join(value.lower().split())


def _arithmetic(text: str) -> float | None:
    try:
        value = safe_eval(text.replace(",", "").replace("$", ""), {})
    except (UnsafeExpressionError, RecursionError, ValueError, TypeError, ZeroDivisionError, OverflowError):
        return None
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None
