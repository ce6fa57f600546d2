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


TEXT_FIELDS = ("reasoning", "explanation", "rationale", "steps", "work", "working", "thoughts", "solution", "analysis")
MIN_TOKENS, MAX_TOKENS = 64, 2048


def contract_max_tokens(schema: dict[str, Any]) -> int:
    """How many output tokens an answer under `schema` can need: a bound for the model call.

    Numbers and booleans are short, labels as long as the longest label, free text by its `maxLength`
    (reasoning-like fields get more), lists by `maxItems` (16 when unset); JSON punctuation on top.

    >>> contract_max_tokens({"type": "object", "properties": {"total": {"type": "number"}}})
    64
    >>> contract_max_tokens({"type": "object", "properties": {"reasoning": {"type": "string"}, "answer": {"type": "number"}}})
    840
    """
    return max(MIN_TOKENS, min(MAX_TOKENS, _tokens(schema, "") + 32))


def _tokens(schema: Any, name: str) -> int:
    if not isinstance(schema, dict):
        return 192
    if "enum" in schema:
        return max((len(str(v)) for v in schema["enum"]), default=8) // 2 + 6
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    if kind == "object" or "properties" in schema:
        return sum(_tokens(sub, key) + 8 for key, sub in (schema.get("properties") or {}).items()) or 192
    if kind == "array":
        return _tokens(schema.get("items", {}), name) * int(schema.get("maxItems", 16)) + 4
    if kind in ("number", "integer"):
        return 24
    if kind in ("boolean", "null"):
        return 6
    if kind == "string" and "maxLength" in schema:
        return int(schema["maxLength"]) // 2 + 8
    return 768 if name.lower() in TEXT_FIELDS else 192


def repeated_run(text: str, *, min_repeats: int = 12, min_words: int = 48) -> tuple[str, int] | None:
    """A phrase the text repeats back to back at least `min_repeats` times, over `min_words` words or more
    (a degenerate generation loop), with how many repeats were seen when it was found.

    >>> repeated_run('["Lender", ' + '"Lender", ' * 400)  # found as soon as the loop is long enough
    ('"Lender",', 48)
    >>> repeated_run("The total is 12. The tax is 2.") is None
    True
    """
    words = text.split()[-1200:]
    for period in range(1, 13):
        run = 0
        for i in range(period, len(words)):
            run = run + 1 if words[i] == words[i - period] else 0
            if run >= period * (min_repeats - 1) and run + period >= min_words:
                return " ".join(words[i - period + 1: i + 1]), run // period + 1
    return None
