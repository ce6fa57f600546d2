"""`vote`: the majority answer of the k nearest labelled records in the example bank, with no model call.

A labelled bank often answers a classification better than a small model does (issue 26: the majority label
of 8 neighbours beat both local models on brazilian_laws). The vote's share (how many of the k neighbours
agree with the majority) is its confidence, recorded as the `neighbours` signal. With `min_share`, a vote
below that share writes null instead, so a decision edge can send the input on to a model step.

Example:
    >>> from langchain_core.embeddings import DeterministicFakeEmbedding
    >>> from skillc.core.records import new_record
    >>> from skillc.skills.bank import ExampleBank
    >>> bank = ExampleBank(embeddings=DeterministicFakeEmbedding(size=8))
    >>> _ = bank.add([new_record("level", {"event": e}, {"level": lab}, source="label")
    ...               for e, lab in [("disk full", "Error"), ("disk is full", "Error"), ("update ok", "Information")]],
    ...              check=False)
    >>> neighbour_vote(bank, "level", {"event": "disk full"}, ["level"], k=3)
    ({'level': 'Error'}, 0.6666666666666666, 3)
"""

from __future__ import annotations

from typing import Any

from skillc.graphs.confidence import majority
from skillc.graphs.demos import DemoBank


def neighbour_vote(bank: DemoBank | None, step: str, inputs: dict[str, Any], fields: list[str],
                   k: int) -> tuple[dict[str, Any] | None, float, int]:
    """(the majority answer on `fields`, its share of the neighbours found, how many were found).

    Neighbours are the `k` records of `step` nearest to `inputs` whose outputs give every field: its labels and
    what the bank learned since (validated escalations); ties go to the answer of the nearer neighbour. No
    neighbour: (None, 0.0, 0).
    """
    if bank is None or len(bank) == 0 or k <= 0:
        return None, 0.0, 0
    found = [r for r in bank.search(inputs, k=k, step=step) if _gives(r, fields)]
    if not found:
        return None, 0.0, 0
    answers: list[dict[str, Any] | None] = [{f: r["output"][f] for f in fields} for r in found]
    best, share = majority(answers, fields)
    return answers[best], share, len(found)


def agreement(bank: DemoBank | None, step: str, inputs: dict[str, Any], answer: dict[str, Any], fields: list[str],
              k: int) -> float | None:
    """The `neighbours` signal of a model's answer: the share of the step's k nearest records (labels and learned
    answers) that give the same answer on `fields` (None when the bank has no such records).

    >>> agreement(None, "s", {}, {"a": 1}, ["a"], 4) is None
    True
    """
    if bank is None or len(bank) == 0 or k <= 0:
        return None
    found = [r for r in bank.search(inputs, k=k, step=step) if _gives(r, fields)]
    if not found:
        return None
    from skillc.core.answers import answers_equal

    agree = sum(all(answers_equal(answer.get(f), r["output"][f]) for f in fields) for r in found)
    return agree / len(found)


def _gives(record: dict[str, Any], fields: list[str]) -> bool:
    output = record.get("output")
    return isinstance(output, dict) and all(output.get(f) is not None for f in fields)
