"""Same-input extract steps merged into one, only where that is safe and only when the samples hold."""

from __future__ import annotations

import copy
import json

from skillc.compile.compiler import compile_skill
from skillc.compile.merge import merge_extracts
from skillc.core.spec import SkillDesign, validate_graph
from tests.conftest import INVOICE_DESIGN
from tests.fakes import ScriptedChatModel, json_reply


def _extract(step_id: str, field: str, nxt: str, reads: tuple[str, ...] = ("text",), **extra):
    return {"id": step_id, "primitive": "extract", "instruction": f"Find the {field}.", "reads": list(reads),
            "writes": [field], "contract": {"type": "object", "properties": {field: {"type": "number"}}, "required": [field]},
            "next": nxt, **extra}


def _design(*steps, **extra) -> SkillDesign:
    return SkillDesign.model_validate({"entry": steps[0]["id"], "steps": list(steps), **extra})


def test_a_chain_of_same_input_extracts_becomes_one_step() -> None:
    design = _design(_extract("a", "x", "b", check={"kind": "expr", "expr": "x > 0"}), _extract("b", "y", "c"),
                     _extract("c", "z", "END", check={"kind": "expr", "expr": "z < 9"}))
    merged, notes = merge_extracts(design)
    (step,) = merged.steps
    assert step.id == "extract_x_y_z" and step.writes == ["x", "y", "z"] and step.next == "END"
    assert merged.entry == "extract_x_y_z"  # the entry follows the rename
    assert step.contract["required"] == ["x", "y", "z"] and set(step.contract["properties"]) == {"x", "y", "z"}
    assert step.check.expr == "(x > 0) and (z < 9)"
    assert step.instruction == "Find the x. Find the y. Find the z."
    assert notes == ["merged extract steps a + b + c into extract_x_y_z (same reads: text)"]


def test_the_merged_step_is_renamed_everywhere_it_is_named() -> None:
    """A decision leads into the run and a retry goes back to its first step: both follow the new name."""
    design = _design({"id": "k", "primitive": "classify", "instruction": "Kind?", "reads": ["text"], "writes": ["kind"],
                      "contract": {"type": "object", "properties": {"kind": {"enum": ["a", "b"]}}}},
                     _extract("a", "x", "b", max_visits=2), _extract("b", "y", "r"),
                     {"id": "r", "primitive": "retry", "instruction": "Again.", "target": "a",
                      "contract": {"type": "object"}, "next": "extract_x_y"},
                     _extract("extract_x_y", "w", "END"),
                     decisions=[{"after": "k", "branches": [{"when": "kind == 'a'", "to": "a"}], "default": "END"}])
    merged, notes = merge_extracts(design)
    new = "extract_x_y_2"  # extract_x_y is taken by another step
    assert [s.id for s in merged.steps] == ["k", new, "r", "extract_x_y"] and notes
    assert merged.decisions[0].branches[0].to == new and merged.steps[2].target == new
    assert not validate_graph(merged, inputs={"text"}, outputs={"kind", "x", "y", "w"})


def test_unsafe_runs_are_left_alone() -> None:
    different_reads = _design(_extract("a", "x", "b"), _extract("b", "y", "END", reads=("text", "x")))
    entered_by_decision = _design(_extract("a", "x", "b"), _extract("b", "y", "END"),
                                  decisions=[{"after": "a", "branches": [{"when": "x > 1", "to": "b"}], "default": "END"}])
    other_check = _design(_extract("a", "x", "b"),
                          _extract("b", "y", "END", check={"kind": "verify", "by": "student"}))
    a_retry_returns = _design(_extract("a", "x", "b"), _extract("b", "y", "r"),
                              {"id": "r", "primitive": "retry", "instruction": "Again.", "target": "b",
                               "contract": {"type": "object"}, "next": "END"})
    for design in (different_reads, entered_by_decision, other_check, a_retry_returns):
        assert merge_extracts(design) == (design, [])


def _split_invoice_design() -> str:
    design = copy.deepcopy(INVOICE_DESIGN)
    fields = design["steps"][1]
    qty = {**fields, "id": "qty", "instruction": "Extract the quantity.", "writes": ["quantity"],
           "contract": {"type": "object", "properties": {"quantity": {"type": "number"}}, "required": ["quantity"]},
           "check": {"kind": "expr", "expr": "quantity > 0"}, "next": "price"}
    price = {**fields, "id": "price", "instruction": "Extract the unit price.", "writes": ["unit_price"],
             "contract": {"type": "object", "properties": {"unit_price": {"type": "number"}}, "required": ["unit_price"]},
             "check": {"kind": "expr", "expr": "unit_price > 0"}, "next": "total"}
    design["steps"][1:2] = [qty, price]
    design["decisions"][0]["branches"][0]["to"] = "qty"
    return json.dumps(design)


def _teacher(merged_price: float) -> ScriptedChatModel:
    script = {"design": [_split_invoice_design()],
              "kind": [json_reply(kind="invoice"), json_reply(kind="other")] * 2,
              "qty": [json_reply(quantity=3)], "price": [json_reply(unit_price=4.5)],
              "extract_quantity_unit_price": [json_reply(quantity=3, unit_price=merged_price)]}
    return ScriptedChatModel(script=script, model_label="gpt-4o")


def test_compile_keeps_the_merged_design_when_it_gets_the_samples_right(invoice_task) -> None:
    skill = compile_skill(invoice_task, teacher=_teacher(merged_price=4.5))
    merged = "extract_quantity_unit_price"
    assert [s.id for s in skill.spec.steps] == ["kind", merged, "total"]
    assert skill.spec.step(merged).writes == ["quantity", "unit_price"]
    assert skill.spec.decisions[0].branches[0].to == merged
    assert f"merged extract steps qty + price into {merged} (same reads: text)" in skill.spec.provenance.normalized
    assert {r["step"] for r in skill.examples} == {"kind", merged}  # the demos are the merged step's


def test_compile_keeps_the_steps_as_written_when_the_merged_design_does_worse(invoice_task) -> None:
    skill = compile_skill(invoice_task, teacher=_teacher(merged_price=5.0))
    assert [s.id for s in skill.spec.steps] == ["kind", "qty", "price", "total"]
    assert not any("merged" in n for n in skill.spec.provenance.normalized)
