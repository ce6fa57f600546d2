"""Quality filter for the teacher's worked examples: each rejection keeps its reason.

Example:
    >>> reject_reason({"raw": "I'm sorry, but I can't help with that.", "output": {"a": 1}})
    'refusal'
    >>> reject_reason({"raw": '{"answer": 42, "why": "6*7"}', "output": {"answer": 42}}) is None
    True
"""

from __future__ import annotations

import re
from typing import Any

REFUSAL_PATTERNS = re.compile(
    r"(i'?m sorry|i am sorry|i cannot|i can'?t (help|assist|do)|i am unable|i'?m unable|as an ai\b|"
    r"i won'?t be able|cannot comply|抱歉|对不起|我不能|我无法|无法(回答|提供|完成)|作为(一个)?人工智能)",
    re.IGNORECASE,
)
MIN_CHARS = 8


def reject_reason(record: dict[str, Any], *, min_chars: int = MIN_CHARS) -> str | None:
    """Why a worked example must not enter the bank, or None when it passes."""
    raw = str(record.get("raw") or "")
    output = record.get("output")
    if not raw.strip() or not output:
        return "empty"
    if REFUSAL_PATTERNS.search(raw[:300]):
        return "refusal"
    if len(raw.strip()) < min_chars:
        return "too_short"
    if not record.get("ok", True):
        return "schema_invalid"
    return None
