"""Labelled data for compile: a trainset, a dev split, and bank records whose output is the label.

A user's labelled items (`{"input", "expected"}` JSONL, as `skillc eval` reads) are ground truth. They fill the
example bank as `source: label` records (the demo's output is the label, never a model's guess), and a dev
split held out from them scores the candidate designs on the student (`skillc.compile.search`).

A label may list several accepted answers (`{"category": ["A", "B"]}`, as the `includes` metric reads it); a
demo shows the first, which is what the output contract allows.

Example:
    >>> from skillc.core.task import Sample
    >>> items = [Sample(input={"q": str(i)}, expected={"a": i}) for i in range(10)]
    >>> train, dev = split_dev(items, dev_share=0.3, seed=0)
    >>> len(train), len(dev), {s.input["q"] for s in train} & {s.input["q"] for s in dev}
    (7, 3, set())
    >>> label_output({"a": ["x", "y"], "why": "text"}, ["a"])
    {'a': 'x'}
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from skillc.core.contracts import TEXT_FIELDS
from skillc.core.errors import InvalidInputError
from skillc.core.files import json_digest
from skillc.core.records import new_record
from skillc.core.spec import Step
from skillc.core.task import Sample, Task, load_samples


@dataclass(frozen=True)
class Trainset:
    """The labelled items compile learns from (`train`) and scores candidates on (`dev`), and how they were split."""

    train: list[Sample]
    dev: list[Sample]
    seed: int = 0
    source: str = ""

    def describe(self) -> dict[str, Any]:
        """The split as the provenance records it (`items`: a digest of which items are in train and in dev)."""
        return {"train": len(self.train), "dev": len(self.dev), "seed": self.seed, "source": self.source,
                "items": split_digest(self.train, self.dev)}


def split_digest(train: list[Sample], dev: list[Sample]) -> str:
    """A digest of a split: the inputs and labels of its train and dev items, in order."""
    return json_digest([[[s.input, s.expected] for s in train], [[s.input, s.expected] for s in dev]])[:16]


def load_labelled(path: str | Path, task: Task | None = None) -> list[Sample]:
    """Labelled items from JSONL; every line needs an `expected` answer that names the task's output fields.

    Raises `InvalidInputError` naming the first line at fault.
    """
    try:
        items = load_samples(path)
    except OSError as exc:
        raise InvalidInputError(f"cannot read the labelled items {path}: {exc}") from None
    if not items:
        raise InvalidInputError(f"{path} holds no labelled items")
    fields = set(task.output_schema.get("properties", {})) if task else set()
    inputs = set(task.inputs) if task else set()
    for n, item in enumerate(items, 1):
        if not item.expected:
            raise InvalidInputError(f"{path}: line {n} has no `expected` answer; a trainset needs labels")
        answer_fields = {f for f in fields if f.lower() not in TEXT_FIELDS}
        if answer_fields and not answer_fields & set(item.expected):
            raise InvalidInputError(f"{path}: line {n}'s `expected` names none of the task's output fields "
                                    f"({', '.join(sorted(answer_fields))})")
        missing = inputs - set(item.input)
        if missing:
            raise InvalidInputError(f"{path}: line {n} lacks the input field(s) {', '.join(sorted(missing))}")
    return items


def split_dev(items: list[Sample], *, dev_share: float = 0.3, seed: int = 0,
              dev: list[Sample] | None = None) -> tuple[list[Sample], list[Sample]]:
    """(train, dev): `dev` when given (train items with the same input as a dev item are left out), else a
    seeded random `dev_share` of the items (at least one of each)."""
    if dev is not None:
        if not dev:
            raise InvalidInputError("the dev split is empty")
        held = {json_digest(s.input) for s in dev}  # an item in both would be its own nearest neighbour on dev
        return [s for s in items if json_digest(s.input) not in held], list(dev)
    if not 0 < dev_share < 1:
        raise InvalidInputError("--dev-share is the share of the trainset held out for scoring, between 0 and 1")
    if len(items) < 2:
        raise InvalidInputError("a trainset needs at least 2 labelled items to hold one out as dev (or pass --dev)")
    order = list(range(len(items)))
    random.Random(seed).shuffle(order)
    n_dev = min(len(items) - 1, max(1, round(len(items) * dev_share)))
    held = set(order[:n_dev])
    return [s for i, s in enumerate(items) if i not in held], [s for i, s in enumerate(items) if i in held]


def label_output(expected: dict[str, Any], writes: list[str], contract: dict[str, Any] | None = None) -> dict[str, Any]:
    """The label as a demo's output for a step writing `writes`: the first of several accepted answers (a list
    where the contract wants one value; a field the contract types as an array keeps its list), and only the
    fields the step writes (a label rarely carries working; the demo then shows the answer alone).

    >>> label_output({"tags": ["a", "b"], "area": ["x", "y"]}, ["tags", "area"],
    ...              {"properties": {"tags": {"type": "array"}, "area": {"enum": ["x", "y"]}}})
    {'tags': ['a', 'b'], 'area': 'x'}
    """
    props = (contract or {}).get("properties", {})
    out = {}
    for field in writes:
        if field in expected:
            value = expected[field]
            is_array = isinstance(props.get(field), dict) and props[field].get("type") == "array"
            out[field] = value[0] if isinstance(value, list) and value and not is_array else value
    return out


def labels_fit(step: Step, expected: dict[str, Any]) -> bool:
    """Whether a label gives every answer field a step writes (working-like text fields may be missing)."""
    return all(w in expected for w in step.writes if w.lower() not in TEXT_FIELDS)


def label_records(step: Step, items: list[Sample], *, inputs_of: Any = None) -> list[dict[str, Any]]:
    """Bank records of `step` from labelled items: the step's inputs, and the label as its output. A record's id is
    a digest of what it holds, so compiling the same items again gives the same records (and fixed demos the
    same ids).

    `inputs_of(item)` gives the step's inputs when they are not the item's own fields (e.g. passages found
    in a transcript); by default they are the item's fields the step reads.
    """
    out = []
    for n, item in enumerate(items):
        if not item.expected or not labels_fit(step, item.expected):
            continue
        given = inputs_of(item) if inputs_of else {k: item.input.get(k) for k in step.reads}
        output = label_output(item.expected, step.writes, step.contract)
        record = new_record(step.id, given, output, source="label", reasoning="", item=(item.model_extra or {}).get("id", n))
        record["id"] = json_digest([step.id, given, output, record["item"]])[:32]  # the same item, the same record
        out.append(record)
    return out
