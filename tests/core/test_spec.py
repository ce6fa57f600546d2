"""SkillSpec validation: every edge target exists, contracts, failure paths, loop bounds, reachability."""

from __future__ import annotations

import copy

import pytest

from skillc.core.spec import SkillDesign, skill_spec_json_schema, validate_graph
from tests.conftest import INVOICE_DESIGN

INPUTS, OUTPUTS = {"text"}, {"kind", "total"}


def problems(mutate) -> list[str]:
    design = copy.deepcopy(INVOICE_DESIGN)
    mutate(design)
    return validate_graph(SkillDesign.model_validate(design), inputs=INPUTS, outputs=OUTPUTS)


def test_the_fixture_is_valid():
    assert problems(lambda d: None) == []


def step(design, sid):
    return next(s for s in design["steps"] if s["id"] == sid)


@pytest.mark.parametrize(
    "mutate, expected",
    [
        (lambda d: d.update(entry="nope"), "entry 'nope' is not a step id"),
        (lambda d: step(d, "fields").update(next="ghost"), "next 'ghost', which is not a step or END"),
        (lambda d: d["decisions"][0].update(default="ghost"), "goes to 'ghost'"),
        (lambda d: step(d, "total").update(next=None), "has no `next` and no decision"),
        (lambda d: step(d, "fields").update(on_fail=[]), "has no failure path"),
        (lambda d: step(d, "fields").update(reads=["secret"]), "reads 'secret'"),
        (lambda d: step(d, "fields").update(contract={"type": "object", "properties": {}}), "has no such properties"),
        (lambda d: step(d, "fields").update(contract={"type": "array"}), 'must be a JSON Schema with "type": "object"'),
        (lambda d: step(d, "total").update(expression="__import__('os')"), "is not allowed"),
        (lambda d: step(d, "total").update(expression="quantity * rate"), "unknown names ['rate']"),
        (lambda d: step(d, "kind").update(contract={"type": "object", "properties": {"kind": {"type": "string"}}}),
         "labels as an `enum`"),
        (lambda d: step(d, "total").update(writes=["sum"], contract={"type": "object", "properties": {"sum": {}}}),
         "output field 'total' is written by no step"),
        (lambda d: d["steps"].append({**step(d, "total"), "id": "orphan"}), "'orphan' cannot be reached"),
        (lambda d: step(d, "total").update(next="fields"), "loop fields -> total has no bound"),
    ],
)
def test_structural_problems_are_named(mutate, expected):
    found = problems(mutate)
    assert any(expected in p for p in found), found


def test_end_unreachable_is_reported():
    def trap(d):
        step(d, "total").update(next="fields", max_visits=3)
        d["decisions"][0]["default"] = "fields"

    assert any("END cannot be reached from step 'fields'" in p for p in problems(trap))


def test_bounded_loop_is_accepted():
    def loop(d):
        d["decisions"][0]["branches"].append({"when": "total > 100", "to": "fields"})
        step(d, "fields").update(max_visits=2)

    assert problems(loop) == []


def test_json_schema_is_exported():
    schema = skill_spec_json_schema()
    assert {"steps", "entry", "input_schema", "output_schema", "provenance"} <= set(schema["properties"])
