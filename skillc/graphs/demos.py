"""Few-shot demos for a student step: the bank's nearest worked examples, within a token budget.

Of the `k` nearest records of the step, the ones with the fewest tokens go in first (ties: the more
similar first) until the budget is spent; they are shown in similarity order, each as a user turn
(the example's inputs) and an assistant turn (the teacher's answer).

Example:
    >>> import tempfile
    >>> from langchain_core.embeddings import DeterministicFakeEmbedding
    >>> from skillc.core.records import new_record
    >>> from skillc.skills.bank import ExampleBank
    >>> from skillc.core.spec import RetrievalPolicy
    >>> bank = ExampleBank(embeddings=DeterministicFakeEmbedding(size=8))
    >>> _ = bank.add([new_record("add", {"q": "2+3"}, {"answer": 5}, reasoning="2 plus 3 makes 5")])
    >>> [role for role, _ in demo_messages(bank, "add", {"q": "4+4"}, RetrievalPolicy(k=2))]
    ['user', 'assistant']
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Protocol

from skillc.adapters.tokens import count_tokens
from skillc.core.spec import RetrievalPolicy

DEMO_INTRO = "Worked example of this step. Inputs:\n"


class DemoBank(Protocol):
    """What a graph needs of an example bank (`skillc.skills.bank.ExampleBank` is one)."""

    def __len__(self) -> int: ...

    def search(self, input: Any, k: int = 3, *, step: str | None = None, mmr: bool = False) -> list[dict[str, Any]]:
        """The `k` records of `step` nearest to `input`."""
        ...

    def grow(self, record: dict[str, Any]) -> Any:
        """Add an escalation's validated answer (a no-op when growth is off)."""
        ...


def demo_messages(bank: DemoBank | None, step: str, inputs: dict[str, Any], policy: RetrievalPolicy,
                  shown: Callable[[dict[str, Any]], dict[str, Any]] | None = None) -> list[tuple[str, str]]:
    """User/assistant message pairs of the chosen demos (empty when there is no bank or k is 0).

    `shown` maps a record to the record its demo shows (default: itself; compression passes one with the
    compressed inputs and reasoning), and the token budget counts what is shown.
    """
    out: list[tuple[str, str]] = []
    for record in demo_records(bank, step, inputs, policy, shown):
        user, assistant = _pair(shown(record) if shown else record)
        out += [("user", user), ("assistant", assistant)]
    return out


def demo_records(bank: DemoBank | None, step: str, inputs: dict[str, Any], policy: RetrievalPolicy,
                 shown: Callable[[dict[str, Any]], dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """The records a step's prompt shows for `inputs`: the `fixed` ones, else the `k` nearest, within the token
    budget (fewest-token records first; ties: the more similar), in similarity order."""
    if bank is None or len(bank) == 0 or (policy.k <= 0 and not policy.fixed):
        return []
    found = fixed_records(bank, policy.fixed) if policy.fixed else bank.search(inputs, k=policy.k, step=step, mmr=policy.mmr)
    pairs = [(r, _pair(shown(r) if shown else r)) for r in found]
    cost = {id(r): count_tokens(u) + count_tokens(a) for r, (u, a) in pairs}
    chosen: set[int] = set()
    spent = 0
    for record, _ in sorted(pairs, key=lambda p: (cost[id(p[0])], -(p[0].get("score") or 0.0))):
        if spent + cost[id(record)] <= policy.token_budget:
            chosen.add(id(record))
            spent += cost[id(record)]
    return [record for record, _ in pairs if id(record) in chosen]


TEACHER_K = 4  # demos the teacher sees for a step whose own policy shows none


def teacher_demo_records(bank: DemoBank | None, step: str, inputs: dict[str, Any], policy: RetrievalPolicy) -> list[dict[str, Any]]:
    """The demos the teacher sees when it answers the whole task for a step: the step's own (its `fixed` or its
    k nearest; a vote's neighbours), or `TEACHER_K` nearest when the step shows none. The same function serves
    escalation and the *teacher + demos* baseline, so the baseline is what escalation gets."""
    return demo_records(bank, step, inputs, teacher_policy(policy))


def teacher_policy(policy: RetrievalPolicy) -> RetrievalPolicy:
    """The demo policy of a step when the teacher answers it: the step's own, or `TEACHER_K` nearest when it has none.

    >>> teacher_policy(RetrievalPolicy(k=0)).k, teacher_policy(RetrievalPolicy(k=8)).k
    (4, 8)
    """
    if policy.k <= 0 and not policy.fixed:
        return policy.model_copy(update={"k": TEACHER_K})
    return policy


def fixed_records(bank: DemoBank, ids: list[str]) -> list[dict[str, Any]]:
    """The bank's records with these ids, in the order given (ids the bank lacks are skipped)."""
    by_id = {r.get("id"): r for r in getattr(bank, "records", [])}
    return [by_id[i] for i in ids if i in by_id]


def _pair(record: dict[str, Any]) -> tuple[str, str]:
    user = DEMO_INTRO + json.dumps(record.get("input", {}), ensure_ascii=False, default=str)
    return user, json.dumps(record.get("output", {}), ensure_ascii=False, default=str)
