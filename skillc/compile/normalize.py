"""Filling the small gaps a teacher's design may leave, before validation (each fix is recorded).

Small teachers (and tired big ones) leave predictable gaps. Filling them costs nothing; a repair
round-trip costs a teacher call. Every fix is listed in the skill's provenance.

Example:
    >>> design = {"entry": "start", "steps": [
    ...     {"id": "a", "primitive": "extract", "contract": {"type": "object", "properties": {"x": {}}}},
    ...     {"id": "b", "primitive": "compute", "expression_from": "x * 2", "contract": {"type": "object",
    ...      "properties": {"y": {}}}}]}
    >>> normalize_design(design)
    ["a.writes = ['x']", "b.writes = ['y']", 'b.expression = expression_from', 'a.next = b', 'b.next = END', "entry 'start' → 'a'"]
"""

from __future__ import annotations

from typing import Any

from skillc.core.contracts import TEXT_FIELDS
from skillc.core.errors import UnsafeExpressionError
from skillc.core.safe_eval import names_in
from skillc.core.spec import LLM_PRIMITIVES


def normalize_design(data: dict[str, Any], inputs: set[str] | frozenset[str] = frozenset(),
                     outputs: set[str] | frozenset[str] = frozenset()) -> list[str]:
    """Fix `data` in place and return what was fixed.

    - A design that lists a step id twice is cut at the first repeat: a model that starts repeating
      itself has stopped designing.
    - A step without `writes` writes its contract's properties.
    - A compute step whose `expression_from` holds an expression, not a value name, gets it as `expression`.
    - A decision whose conditions read values no step writes is dropped; one whose branches all
      lead to the same place becomes a plain `next`.
    - An LLM step that only copies task inputs (it writes nothing but inputs) is dropped, and what led
      to it leads to where it led: it would cost a student call and could only corrupt the input.
    - A `next` naming no step (a small model that announced a step it never wrote) continues to the next
      listed step instead (the last to END).
    - A step with neither `next` nor a decision continues to the next listed step (the last to END).
    - When exactly one output field is written by no step, and the last model step writes exactly one value
      that is no output and that no step reads, that value is the output: it is renamed (writes and contract).
    - An `entry` that names no step becomes the first step.
    - A model step that writes its working (a text field such as `reasoning`) and the expression a compute
      step evaluates, and has no check of its own, gets a `states` check: the working must arrive at the
      expression's value, or the step retries with the mismatch shown (a slip between the two is caught
      without a teacher call).
    """
    steps = data.get("steps")
    if not isinstance(steps, list) or not all(isinstance(s, dict) for s in steps):
        return []
    fixes: list[str] = []
    ids = [s.get("id") for s in steps]
    repeat = next((i for i, sid in enumerate(ids) if sid in ids[:i]), None)
    if repeat is not None:
        fixes.append(f"cut {len(steps) - repeat} steps from the first repeated id {ids[repeat]!r}")
        del steps[repeat:]
        ids = ids[:repeat]
    for step in steps:
        fixes += _fill_step(step)
    fixes += _drop_copy_steps(data, steps, set(inputs))
    ids = [s.get("id") for s in steps]
    fixes += _drop_dangling_decisions(data, ids, steps, set(inputs))
    fixes += _plain_edges(data, steps)
    fixes += _unknown_next(steps)
    fixes += _name_the_lone_output(steps, set(outputs))
    deciders = {d.get("after") for d in data.get("decisions") or []}
    for i, step in enumerate(steps):
        if step.get("next") is None and step.get("id") not in deciders and step.get("primitive") != "retry":
            step["next"] = ids[i + 1] if i + 1 < len(ids) else "END"
            fixes.append(f"{step.get('id')}.next = {step['next']}")
    fixes += _states_checks(steps)
    if ids and data.get("entry") not in ids:
        fixes.append(f"entry {data.get('entry')!r} → {ids[0]!r}")
        data["entry"] = ids[0]
    return fixes


def _unknown_next(steps: list[dict[str, Any]]) -> list[str]:
    ids = [s.get("id") for s in steps]
    fixes = []
    for i, step in enumerate(steps):
        target = step.get("next")
        if isinstance(target, str) and target != "END" and target not in ids:
            step["next"] = ids[i + 1] if i + 1 < len(ids) else "END"
            fixes.append(f"{step.get('id')}.next {target!r} names no step → {step['next']}")
    return fixes


def _name_the_lone_output(steps: list[dict[str, Any]], outputs: set[str]) -> list[str]:
    written = {w for s in steps for w in (s.get("writes") or []) if isinstance(w, str)}
    missing = sorted(outputs - written)
    models = [s for s in steps if s.get("primitive") in LLM_PRIMITIVES]
    if len(missing) != 1 or not models:
        return []
    last = models[-1]
    writes = last.get("writes") if isinstance(last.get("writes"), list) else []
    read = {r for s in steps for r in (s.get("reads") or []) if isinstance(r, str)}
    spare = [w for w in writes if isinstance(w, str) and w not in outputs and w not in read
             and w.lower() not in TEXT_FIELDS]
    if len(spare) != 1:
        return []
    old, new = spare[0], missing[0]
    last["writes"] = [new if w == old else w for w in writes]
    contract = last.get("contract")
    if isinstance(contract, dict) and isinstance(contract.get("properties"), dict) and old in contract["properties"]:
        contract["properties"] = {new if k == old else k: v for k, v in contract["properties"].items()}
        if isinstance(contract.get("required"), list):
            contract["required"] = [new if k == old else k for k in contract["required"]]
    return [f"{last.get('id')}: {old!r} is the output field {new!r} (no step wrote it)"]


def _states_checks(steps: list[dict[str, Any]]) -> list[str]:
    fixes = []
    evaluated = {s.get("expression_from") for s in steps if s.get("primitive") == "compute"} - {None}
    for step in steps:
        writes = step.get("writes") if isinstance(step.get("writes"), list) else []
        expression = next((w for w in writes if w in evaluated), None)
        working = next((w for w in writes if isinstance(w, str) and w.lower() in TEXT_FIELDS), None)
        if step.get("primitive") not in LLM_PRIMITIVES or step.get("check") or not expression or not working:
            continue
        step["check"] = {"kind": "states", "expr": f"value({expression})", "equals": working}
        fixes.append(f"{step.get('id')}.check = states: {working} arrives at value({expression})")
    return fixes


def _fill_step(step: dict[str, Any]) -> list[str]:
    fixes = []
    props = list((step.get("contract") or {}).get("properties") or {}) if isinstance(step.get("contract"), dict) else []
    if not step.get("writes") and props and step.get("primitive") not in ("ask", "retry"):
        step["writes"] = props if step.get("primitive") != "compute" else props[:1]
        fixes.append(f"{step.get('id')}.writes = {step['writes']}")
    source = step.get("expression_from")
    if step.get("primitive") == "compute" and isinstance(source, str) and not source.isidentifier():
        step["expression"], step["expression_from"] = source, None
        fixes.append(f"{step.get('id')}.expression = expression_from")
    return fixes


def _drop_copy_steps(data: dict[str, Any], steps: list[dict[str, Any]], inputs: set[str]) -> list[str]:
    fixes = []
    for i, step in list(enumerate(steps))[::-1]:
        writes = step.get("writes")
        copies = (len(steps) > 1 and inputs and isinstance(writes, list) and writes
                  and step.get("primitive") in ("extract", "transform", "simplify") and set(writes) <= inputs)
        if not copies:
            continue
        following = steps[i + 1].get("id") if i + 1 < len(steps) else "END"
        target = step.get("next") or following
        del steps[i]
        for other in steps:
            if other.get("next") == step.get("id"):
                other["next"] = target
        if data.get("entry") == step.get("id"):
            data["entry"] = target
        fixes.append(f"dropped step {step.get('id')!r}: it only copies the input {sorted(writes)}")
    return fixes


def _drop_dangling_decisions(
    data: dict[str, Any], ids: list[Any], steps: list[dict[str, Any]], inputs: set[str]
) -> list[str]:
    decisions = data.get("decisions") or []
    if not isinstance(decisions, list):
        return []
    written = {w for s in steps for w in (s.get("writes") or []) if isinstance(w, str)} | inputs
    targets = set(ids) | {"END"}
    kept, fixes = [], []
    for d in decisions:
        if not isinstance(d, dict):
            continue
        branches = [b for b in d.get("branches") or [] if isinstance(b, dict)]
        ok = d.get("after") in ids and d.get("default") in targets and all(b.get("to") in targets for b in branches)
        ok = ok and all(_reads_only(b.get("when"), written) for b in branches)
        if ok:
            kept.append(d)
        else:
            fixes.append(f"dropped the decision after {d.get('after')!r}: it names unknown steps or values")
    data["decisions"] = kept
    return fixes


def _plain_edges(data: dict[str, Any], steps: list[dict[str, Any]]) -> list[str]:
    """A decision whose branches and default all lead to one place is a plain `next`."""
    by_id = {s.get("id"): s for s in steps}
    kept, fixes = [], []
    for d in data.get("decisions") or []:
        targets = {b.get("to") for b in d.get("branches") or []} | {d.get("default")}
        step = by_id.get(d.get("after"))
        if len(targets) == 1 and step is not None and step.get("next") in (None, *targets):
            step["next"] = targets.pop()
            fixes.append(f"{step.get('id')}: a decision with one destination became next = {step['next']}")
        else:
            kept.append(d)
    data["decisions"] = kept
    return fixes


def _reads_only(expression: Any, known: set[str]) -> bool:
    if not isinstance(expression, str):
        return False
    try:
        return names_in(expression) <= known
    except UnsafeExpressionError:
        return False
