"""Quality filter for worked examples before they enter the bank: each rejection keeps its reason.

`reject_reason` holds the checks that need only the record (empty, refusal, too short, schema-invalid);
`QualityFilter` adds echo, blocklist and an optional cross-check. Near-duplicates need the bank's index,
so `ExampleBank.add` checks those.

Example:
    >>> reject_reason({"raw": "I'm sorry, but I can't help with that.", "output": {"a": 1}})
    'refusal'
    >>> reject_reason({"raw": '{"answer": 42, "why": "6*7"}', "output": {"answer": 42}}) is None
    True
    >>> f = QualityFilter(blocklist=blocklist_of(["What is 6 times 7?"]))
    >>> f.reason({"input": {"q": "what is 6 times 7"}, "output": {"answer": 42}, "reasoning": "6*7 = 42"})
    'blocklisted_input'
    >>> f.reason({"input": {"q": "Copy this sentence back."}, "output": {"text": "Copy this sentence back."}})
    'echo_of_input'
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from skillc.core.errors import InvalidInputError

REFUSAL_PATTERNS = re.compile(
    r"(i'?m sorry|i am sorry|i cannot|i can'?t (help|assist|do)|i am unable|i'?m unable|as an ai\b|"
    r"i won'?t be able|cannot comply|抱歉|对不起|我不能|我无法|无法(回答|提供|完成)|作为(一个)?人工智能)",
    re.IGNORECASE,
)
MIN_CHARS = 8
CrossCheck = Callable[[dict[str, Any]], str | None]


def reject_reason(record: dict[str, Any], *, min_chars: int = MIN_CHARS) -> str | None:
    """Why a worked example must not enter the bank, or None when it passes."""
    raw = str(record.get("raw") or record.get("reasoning") or "") or (
        json.dumps(record["output"], ensure_ascii=False) if record.get("output") else ""
    )
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


def normalized_text(text: str) -> str:
    """Lower-case words only: how inputs are compared for echoes and the blocklist.

    >>> normalized_text("  Janet’s ducks lay 16 eggs!")
    'janet s ducks lay 16 eggs'
    """
    return " ".join(re.findall(r"\w+", text.lower()))


INPUT_TEXT_LAYOUT = "short-fields-first"  # stored beside a bank's index: a change of layout rebuilds it


def input_text(value: Any) -> str:
    """The text of a record's input: a lone string field as is, otherwise `key: value` lines, shortest first,
    so that one long field (a schedule, a transcript) cannot push the others past the embedding model's window.

    >>> input_text({"question": "2+2?"})
    '2+2?'
    >>> input_text({"schedule": "a long list of slots", "b": 1})
    'b: 1\\nschedule: a long list of slots'
    """
    if isinstance(value, dict):
        if len(value) == 1 and isinstance(next(iter(value.values())), str):
            return next(iter(value.values()))
        lines = [f"{k}: {v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)}" for k, v in value.items()]
        return "\n".join(sorted(lines, key=len))
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)


def output_text(record: dict[str, Any]) -> str:
    """The text of a record's answer: its reasoning and its output."""
    output = record.get("output")
    answer = input_text(output) if output else ""
    return f"{record.get('reasoning') or ''}\n{answer}".strip()


def blocklist_of(texts: Iterable[str]) -> frozenset[str]:
    """Normalized texts of contaminated inputs, for `QualityFilter(blocklist=...)`."""
    return frozenset(t for t in (normalized_text(x) for x in texts) if t)


def blocklist_from_jsonl(path: str | Path) -> frozenset[str]:
    """A blocklist from every string value of every line of a JSONL file (e.g. contaminated prompts)."""
    path = Path(path)
    if not path.is_file():
        raise InvalidInputError(f"blocklist file not found: {path}")
    from skillc.core.files import json_lines

    texts: list[str] = []
    for value in json_lines(path.read_text(encoding="utf-8").splitlines(), path, InvalidInputError):
        texts += [v for v in (value.values() if isinstance(value, dict) else [value]) if isinstance(v, str)]
    return blocklist_of(texts)


@dataclass
class QualityFilter:
    """The checks a record passes before it enters a bank.

    Args:
        min_chars: shorter answers are `too_short`.
        echo_threshold: an answer this similar to its input (0..1, difflib ratio) is `echo_of_input`.
        near_duplicate_threshold: cosine similarity to a bank record of the same step that makes a duplicate.
        blocklist: normalized contaminated inputs (see `blocklist_of`); an input equal to one, or containing
            one of 40+ characters, is `blocklisted_input`.
        cross_check: optional rule or second model: returns a rejection reason or None.
    """

    min_chars: int = MIN_CHARS
    echo_threshold: float = 0.9
    near_duplicate_threshold: float = 0.98
    blocklist: frozenset[str] = field(default_factory=frozenset)
    cross_check: CrossCheck | None = None

    def reason(self, record: dict[str, Any]) -> str | None:
        """Why `record` is rejected, or None (the near-duplicate check is the bank's)."""
        basic = reject_reason(record, min_chars=self.min_chars)
        if basic:
            return basic
        source = normalized_text(input_text(record.get("input", "")))
        if self.blocklist and _blocked(source, self.blocklist):
            return "blocklisted_input"
        answer = normalized_text(output_text(record))
        if source and answer and _similarity(source, answer) >= self.echo_threshold:
            return "echo_of_input"
        if self.cross_check is not None:
            verdict = self.cross_check(record)
            if verdict:
                return f"cross_check: {verdict}"
        return None


def _blocked(text: str, blocklist: frozenset[str]) -> bool:
    return text in blocklist or any(len(b) >= 40 and b in text for b in blocklist)


def _similarity(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, a[:2000], b[:2000], autojunk=False).ratio()
