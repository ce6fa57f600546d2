"""normalize_design: the states check a working-plus-expression step gets."""

from skillc.compile.normalize import normalize_design
from skillc.core.spec import SkillSpec
from skillc.graphs.checks import run_check


def _design(check=None, writes=("reasoning", "expression")):
    solve = {"id": "solve", "primitive": "transform", "instruction": "Work it out.", "reads": ["question"], "writes": list(writes),
             "contract": {"type": "object", "properties": {w: {"type": "string"} for w in writes}}, "next": "answer"}
    if check:
        solve["check"] = check
    answer = {"id": "answer", "primitive": "compute", "instruction": "Evaluate.", "expression_from": "expression", "reads": ["expression"],
              "writes": ["answer"], "contract": {"type": "object", "properties": {"answer": {"type": "number"}}},
              "next": "END"}
    return {"entry": "solve", "steps": [solve, answer]}


def test_a_step_writing_working_and_the_computed_expression_gets_a_states_check():
    design = _design()
    fixes = normalize_design(design, {"question"})
    check = design["steps"][0]["check"]
    assert check == {"kind": "states", "expr": "value(expression)", "equals": "reasoning"}
    assert any("states" in f for f in fixes)
    # the check it adds is one the spec accepts and that tells a slip from a match
    spec = SkillSpec.model_validate({"name": "m", "task": "t",
                                     "input_schema": {"type": "object", "properties": {"question": {"type": "string"}}},
                                     "output_schema": {"type": "object", "properties": {"answer": {"type": "number"}}},
                                     **design})
    slipped = {"expression": "3 + 5 + 2 * 8 + 2", "reasoning": "So the couch is 18 feet."}
    assert not run_check(spec.steps[0].check, slipped)[0].ok
    assert run_check(spec.steps[0].check, {**slipped, "expression": "3 + 5 + 8 + 2"})[0].ok


def test_an_own_check_or_no_working_field_is_left_alone():
    own = {"kind": "expr", "expr": "len(expression) > 0"}
    design = _design(check=own)
    normalize_design(design, {"question"})
    assert design["steps"][0]["check"] == own
    bare = _design(writes=("expression",))
    normalize_design(bare, {"question"})
    assert "check" not in bare["steps"][0]
