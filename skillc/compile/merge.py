"""Merging extract steps that read the same input: one student call instead of several over the same text.

A small architect often writes one `extract` step per field (vendor, quantity, unit price, discount), each
reading the whole invoice: four calls that each pay for the full text and its demos. `merge_extracts`
joins every run of such steps into one step that writes all their fields under one contract. Compile works
the task's samples with the merged design and keeps it only when it gets no more of them wrong than the
design as written (see `skillc.compile.compiler`).

A run is merged only when it is safe to: consecutive `extract` steps joined by plain `next` edges, reading
the same values, with no decision after them, entered only from the previous step of the run, named by no
retry step, and with checks that are expressions (joined with `and`) or none.

Example:
    >>> from skillc.core.spec import SkillDesign
    >>> def extract(i, field, nxt):
    ...     return {"id": i, "primitive": "extract", "instruction": f"Find the {field}.", "reads": ["text"],
    ...             "writes": [field], "contract": {"type": "object", "properties": {field: {"type": "number"}},
    ...             "required": [field]}, "check": {"kind": "expr", "expr": f"{field} > 0"}, "next": nxt}
    >>> design = SkillDesign.model_validate({"entry": "qty", "steps": [extract("qty", "quantity", "price"),
    ...                                      extract("price", "unit_price", "END")]})
    >>> merged, notes = merge_extracts(design)
    >>> [(s.id, s.writes, s.check.expr) for s in merged.steps], notes
    ([('extract_quantity_unit_price', ['quantity', 'unit_price'], '(quantity > 0) and (unit_price > 0)')], ['merged extract steps qty + price into extract_quantity_unit_price (same reads: text)'])
"""

from __future__ import annotations

from typing import Any, TypeVar

from skillc.core.spec import Check, SkillDesign, Step

Design = TypeVar("Design", bound=SkillDesign)


def merge_extracts(design: Design) -> tuple[Design, list[str]]:
    """`design` with each mergeable run of same-input `extract` steps joined into one; and what was merged."""
    steps = list(design.steps)
    notes: list[str] = []
    i = 0
    while i < len(steps):
        run = _run_from(design, steps, steps[i])
        if len(run) > 1:
            ids = {s.id for s in run}
            merged = _merged(run, _merged_id(run, {s.id for s in steps} - ids))
            steps = [merged if s.id == run[0].id else s for s in steps if s.id == run[0].id or s.id not in ids]
            design = _renamed(design.model_copy(update={"steps": steps}), run[0].id, merged.id)
            steps = list(design.steps)
            notes.append(f"merged extract steps {' + '.join(s.id for s in run)} into {merged.id} "
                         f"(same reads: {', '.join(run[0].reads)})")
        i += 1
    return design, notes


def _merged_id(run: list[Step], taken: set[str]) -> str:
    """A name for the merged step that says what it writes (`extract_quantity_unit_price`), unique in the design."""
    name = "extract_" + "_".join(w for s in run for w in s.writes)
    if len(name) > 48:
        name = "extract_fields"
    unique, n = name, 2
    while unique in taken:
        unique, n = f"{name}_{n}", n + 1
    return unique


def _renamed(design: Design, old: str, new: str) -> Design:
    """`design` with every reference to step `old` (entry, edges, retry targets, decisions) pointing at `new`."""
    if old == new:
        return design

    def ref(value: str | None) -> str | None:
        return new if value == old else value

    steps = [s.model_copy(update={"next": ref(s.next), "target": ref(s.target)}) for s in design.steps]
    decisions = [d.model_copy(update={"after": ref(d.after), "default": ref(d.default),
                                      "branches": [b.model_copy(update={"to": ref(b.to)}) for b in d.branches]})
                 for d in design.decisions]
    return design.model_copy(update={"entry": ref(design.entry), "steps": steps, "decisions": decisions})


def _run_from(design: SkillDesign, steps: list[Step], first: Step) -> list[Step]:
    """The longest run of mergeable steps that starts at `first`."""
    if not _mergeable(first):
        return [first]
    by_id = {s.id: s for s in steps}
    deciders = {d.after for d in design.decisions}
    run = [first]
    while True:
        last = run[-1]
        following = by_id.get(last.next or "")
        if (last.id in deciders or following is None or following.id in deciders or not _mergeable(following)
                or sorted(following.reads) != sorted(first.reads) or _entered_elsewhere(design, steps, following, last)):
            return run
        run.append(following)


def _mergeable(step: Step) -> bool:
    return (step.primitive == "extract" and bool(step.writes) and not step.compression and not step.prompt
            and (step.check is None or step.check.kind == "expr"))


def _entered_elsewhere(design: SkillDesign, steps: list[Step], step: Step, previous: Step) -> bool:
    """Whether anything but `previous`'s `next` leads to `step` (the entry, another edge, a decision, a retry)."""
    if design.entry == step.id or any(s.target == step.id for s in steps):
        return True
    if any(s.next == step.id for s in steps if s.id != previous.id):
        return True
    return any(step.id in {d.default, *(b.to for b in d.branches)} for d in design.decisions)


def _merged(run: list[Step], step_id: str) -> Step:
    properties: dict[str, Any] = {}
    required: list[str] = []
    for s in run:
        properties.update(s.contract.get("properties") or {})
        required += [r for r in s.contract.get("required") or [] if r not in required]
    contract: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        contract["required"] = required
    checks = [s.check.expr for s in run if s.check is not None and s.check.expr]
    check = None if not checks else Check(kind="expr", expr=checks[0] if len(checks) == 1 else
                                          " and ".join(f"({c})" for c in checks))
    first, last = run[0], run[-1]
    return first.model_copy(update={
        "id": step_id,
        "instruction": " ".join(s.instruction.strip() for s in run),
        "writes": [w for s in run for w in s.writes],
        "contract": contract,
        "check": check,
        "max_retries": max(s.max_retries for s in run),
        "max_visits": max(s.max_visits for s in run),
        "next": last.next,
    })
