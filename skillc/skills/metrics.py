"""Comparing an output with a reference output.

Example:
    >>> outputs_match({"total": 18}, {"total": "18.0"})
    True
"""

from __future__ import annotations

from typing import Any

from skillc.graphs.checks import to_number


def values_match(expected: Any, actual: Any, tolerance: float = 1e-6) -> bool:
    """Numbers within tolerance, else case- and space-insensitive equality."""
    x, y = to_number(expected), to_number(actual)
    if x is not None and y is not None:
        return abs(x - y) <= tolerance * max(1.0, abs(x))
    if isinstance(expected, str) and isinstance(actual, str):
        return " ".join(expected.lower().split()) == " ".join(actual.lower().split())
    return bool(expected == actual)


def outputs_match(expected: dict[str, Any], actual: dict[str, Any] | None, tolerance: float = 1e-6) -> bool:
    """Every expected field matches (numbers within a relative `tolerance`)."""
    if actual is None:
        return False
    return all(values_match(v, actual.get(k), tolerance) for k, v in expected.items())
