"""The suite skills' banks without the suite's data: a skeleton that the data fills back, byte for byte.

A skill compiled from a trainset carries its labelled items in `examples.jsonl`. For the public suite those
items are the `evals` package's data, which the project reads from `../shared/data/evals` and never copies in.
So the committed skeleton (`bench/results/suite/<set>/bank.jsonl`) is the bank with every value that comes
from the data replaced by a reference: `{"$data": "input.summary"}`, `{"$data": "expected.category.0"}`, or
`{"$data": "passages"}` (a passage search over the item's text, recomputed). What a model wrote (a teacher's
working, its copied values) and the record's own fields stay as they are. `attach` rebuilds the records from
the data; the folder's manifest then checks that the rebuilt `examples.jsonl` is the one the skill was
signed with.

Example:
    >>> from skillc.core.task import Sample
    >>> items = {"x-1": Sample(input={"q": "Is it hot?"}, expected={"a": ["Yes", "Y"]}, id="x-1")}
    >>> record = {"id": "r1", "step": "answer", "input": {"q": "Is it hot?"}, "output": {"a": "Yes"}, "item": "x-1"}
    >>> skeleton = detach([record], items)
    >>> skeleton[0]["input"], skeleton[0]["output"]
    ({'q': {'$data': 'input.q'}}, {'a': {'$data': 'expected.a.0'}})
    >>> attach(skeleton, items) == [record]
    True
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from skillc.core.errors import InvalidInputError
from skillc.core.files import atomic_write_text, json_lines
from skillc.core.spec import SkillSpec
from skillc.core.task import Sample
from skillc.graphs.passages import find_passages, query_text

REF = "$data"
Passages = Callable[[Sample], str | None]


def passages_of(spec: SkillSpec) -> Passages:
    """The passages a skill's passage-search step finds in an item (None for a skill without one)."""
    finder = next((s for s in spec.steps if s.passages is not None), None)

    def find(item: Sample) -> str | None:
        if finder is None or finder.passages is None:
            return None
        from skillc.adapters.embeddings import default_embeddings

        others = [r for r in finder.reads if r != finder.passages.source]
        return find_passages(str(item.input.get(finder.passages.source) or ""),
                             query_text(item.input, others, finder.instruction), finder.passages, default_embeddings())

    return find


def detach(records: list[dict[str, Any]], items: dict[str, Sample], passages: Passages | None = None) -> list[dict[str, Any]]:
    """The records with every value taken from their data item replaced by a reference to it."""
    out = []
    for record in records:
        item = items.get(str(record.get("item"))) if record.get("item") is not None else None
        if item is None:
            out.append(record)
            continue
        found: dict[str, Any] = {}
        skeleton = dict(record)
        skeleton["input"] = {k: _ref_input(k, v, item, passages, found) for k, v in (record.get("input") or {}).items()}
        skeleton["output"] = {k: _ref_output(k, v, item) for k, v in (record.get("output") or {}).items()}
        out.append(skeleton)
    return out


def attach(skeleton: list[dict[str, Any]], items: dict[str, Sample], passages: Passages | None = None) -> list[dict[str, Any]]:
    """The records back from a skeleton and the data items; raises `InvalidInputError` for an item not there."""
    out = []
    for record in skeleton:
        if record.get("item") is None or not _has_refs(record):
            out.append(record)
            continue
        item = items.get(str(record["item"]))
        if item is None:
            raise InvalidInputError(f"the bank refers to item {record['item']!r}, which the data does not hold")
        whole = dict(record)
        whole["input"] = {k: _resolve(v, item, passages) for k, v in record["input"].items()}
        whole["output"] = {k: _resolve(v, item, passages) for k, v in record["output"].items()}
        out.append(whole)
    return out


def write_skeleton(path: Path, records: list[dict[str, Any]], items: dict[str, Sample], passages: Passages | None = None) -> None:
    """Write the skeleton of `records` as JSONL (atomically)."""
    text = "".join(json.dumps(r, ensure_ascii=False, default=str) + "\n" for r in detach(records, items, passages))
    atomic_write_text(path, text)


def read_skeleton(path: Path) -> list[dict[str, Any]]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return list(json_lines(lines, path, InvalidInputError))


def _ref_input(key: str, value: Any, item: Sample, passages: Passages | None, found: dict[str, Any]) -> Any:
    if key in item.input and item.input[key] == value:
        return {REF: f"input.{key}"}
    if passages is not None and isinstance(value, str):
        if "passages" not in found:
            found["passages"] = passages(item)
        if found["passages"] == value:
            return {REF: "passages"}
    return value


def _ref_output(key: str, value: Any, item: Sample) -> Any:
    expected = (item.expected or {}).get(key)
    if expected is not None and expected == value:
        return {REF: f"expected.{key}"}
    if isinstance(expected, list) and expected and expected[0] == value:
        return {REF: f"expected.{key}.0"}
    return value


def _has_refs(record: dict[str, Any]) -> bool:
    values = [*(record.get("input") or {}).values(), *(record.get("output") or {}).values()]
    return any(isinstance(v, dict) and set(v) == {REF} for v in values)


def _resolve(value: Any, item: Sample, passages: Passages | None) -> Any:
    if not (isinstance(value, dict) and set(value) == {REF}):
        return value
    where = str(value[REF])
    if where == "passages":
        if passages is None:
            raise InvalidInputError("the bank refers to passages, but the skill has no passage-search step")
        return passages(item)
    part, _, rest = where.partition(".")
    source = item.input if part == "input" else (item.expected or {})
    key, _, index = rest.partition(".")
    if key not in source:
        raise InvalidInputError(f"the bank refers to {where}, which item {(item.model_extra or {}).get('id')!r} lacks")
    got = source[key]
    return got[int(index)] if index else got
