"""Output contracts: JSON Schema validation with readable `path: message` lines.

Example:
    >>> contract_errors({"total": "12"}, {"type": "object", "properties": {"total": {"type": "number"}}})
    ["total: '12' is not of type 'number'"]
"""

from __future__ import annotations

from typing import Any

import jsonschema


def contract_errors(value: Any, schema: dict[str, Any]) -> list[str]:
    """Every way `value` breaks `schema`, as `path: message` lines (empty when it conforms)."""
    validator = jsonschema.Draft202012Validator(schema)
    out = []
    for err in sorted(validator.iter_errors(value), key=lambda e: list(e.path)):
        where = "/".join(str(p) for p in err.path)
        out.append(f"{where}: {err.message}" if where else err.message)
    return out
