"""The teacher's proposed values and expressions: parsed strictly, repaired once, and never a copied constant."""

from __future__ import annotations

import json

import pytest

from skillc.adapters.models import resolve_model
from skillc.compile.expressions import parse_proposal, propose
from skillc.compile.patterns import values_design
from skillc.core.errors import MalformedOutputError
from skillc.core.task import Sample, Task
from skillc.skills import Skill
from tests.fakes import ScriptedChatModel

TASK = Task.model_validate({
    "name": "unit-cost", "description": "The cost per kWh of a bill.", "metric": "numeric",
    "inputs": {"bill": {"type": "string"}},
    "output_schema": {"type": "object", "properties": {"unit_cost": {"type": "number"}}},
})
GOOD = {"values": [{"name": "charges", "what": "the total charges"}, {"name": "kwh", "what": "the energy used"}],
        "expressions": {"unit_cost": "round_sig(charges / kwh, 2)"}}


def test_a_proposal_naming_an_input_field_or_copying_a_number_is_refused() -> None:
    assert parse_proposal(json.dumps(GOOD), ["unit_cost"])[1] == {"unit_cost": "round_sig(charges / kwh, 2)"}
    bad = {**GOOD, "expressions": {"unit_cost": "charges / bill"}}
    with pytest.raises(MalformedOutputError, match="undefined names"):
        parse_proposal(json.dumps(bad), ["unit_cost"])
    copied = {**GOOD, "expressions": {"unit_cost": "charges / 423"}}
    with pytest.raises(MalformedOutputError, match="writes out 423"):
        parse_proposal(json.dumps(copied), ["unit_cost"], "Supply 423 kWh, 46.53 dollars")


def test_an_unusable_proposal_is_sent_back_once_with_its_problem() -> None:
    teacher = ScriptedChatModel(script=[json.dumps({**GOOD, "expressions": {"unit_cost": "bill.total"}}), json.dumps(GOOD)])
    found, problems, calls = propose(resolve_model(teacher), TASK, ["unit_cost"], [], samples=1)
    assert found and len(calls) == 2 and problems == []  # repaired: nothing left to report
    assert "That cannot be used" in teacher.prompts[1][-1].text and "not allowed" in teacher.prompts[1][-1].text


def test_the_values_design_copies_then_computes() -> None:
    values, expressions = parse_proposal(json.dumps(GOOD), ["unit_cost"])
    spec = values_design(TASK, values, expressions)
    student = ScriptedChatModel(script=[json.dumps({"charges": 30.23, "kwh": 121})])
    result = Skill(spec).run({"bill": "121 kWh ... total 30.23"}, student=student)
    assert result.output == {"unit_cost": 0.25} and [r.primitive for r in result.trace] == ["extract", "compute"]
    assert Sample(input={}, expected={"unit_cost": 0.25}).expected == result.output


def test_a_task_asking_for_working_gets_a_valid_values_design() -> None:
    task = Task.model_validate({**TASK.model_dump(), "output_schema": {
        "type": "object", "properties": {"reasoning": {"type": "string"}, "unit_cost": {"type": "number"}},
        "required": ["reasoning", "unit_cost"]}})
    values, expressions = parse_proposal(json.dumps(GOOD), ["unit_cost"])
    spec = values_design(task, values, expressions)
    assert spec.problems() == [] and "reasoning" in spec.steps[0].writes  # the extract step writes the working
    student = ScriptedChatModel(script=[json.dumps({"charges": 30.23, "kwh": 121, "reasoning": "total, then kWh"})])
    result = Skill(spec).run({"bill": "121 kWh ... total 30.23"}, student=student)
    assert result.output == {"reasoning": "total, then kWh", "unit_cost": 0.25}
