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


def _level_spec(design):
    return SkillSpec.model_validate({"name": "m", "task": "t",
                                     "input_schema": {"type": "object", "properties": {"text": {"type": "string"}}},
                                     "output_schema": {"type": "object", "properties": {"level": {"enum": ["a", "b"]}}},
                                     **design})


def test_an_announced_step_that_was_never_written_and_a_misnamed_output_make_a_valid_design():
    """What the 1.5B architect wrote on the suite: `extract` → next 'classify' (no such step), and its value named
    'category' where the output is 'level'. Before these two fixes, the design was refused."""
    design = {"entry": "extract", "steps": [
        {"id": "extract", "primitive": "extract", "instruction": "Find the level.", "reads": ["text"],
         "writes": ["reasoning", "category"], "next": "classify",
         "contract": {"type": "object", "properties": {"reasoning": {"type": "string"}, "category": {"enum": ["a", "b"]}},
                      "required": ["reasoning", "category"]}}]}
    assert _level_spec(json_copy(design)).problems()  # refused as written
    fixes = normalize_design(design, {"text"}, {"level"})
    step = design["steps"][0]
    assert step["next"] == "END" and step["writes"] == ["reasoning", "level"]
    assert list(step["contract"]["properties"]) == ["reasoning", "level"] and step["contract"]["required"] == ["reasoning", "level"]
    assert any("names no step" in f for f in fixes) and any("'category' is the output field 'level'" in f for f in fixes)
    assert _level_spec(design).problems() == []


def test_the_output_is_not_renamed_when_the_choice_is_not_clear():
    two_spare = {"entry": "s", "steps": [{"id": "s", "primitive": "extract", "instruction": "x", "reads": ["text"],
                                          "writes": ["first", "second"], "next": "END",
                                          "contract": {"type": "object", "properties": {"first": {}, "second": {}}}}]}
    assert not [f for f in normalize_design(two_spare, {"text"}, {"level"}) if "output field" in f]
    working_only = {"entry": "s", "steps": [{"id": "s", "primitive": "extract", "instruction": "x", "reads": ["text"],
                                             "writes": ["reasoning"], "next": "END",
                                             "contract": {"type": "object", "properties": {"reasoning": {}}}}]}
    normalize_design(working_only, {"text"}, {"level"})
    assert working_only["steps"][0]["writes"] == ["reasoning"]  # a working field never becomes the answer


def json_copy(data):
    import json

    return json.loads(json.dumps(data))
