"""Every primitive runs with its fixed prompt shape and writes its contract's values."""

from __future__ import annotations

import pytest

from skillc.core.spec import SkillSpec
from skillc.graphs.prompts import EXECUTOR_SYSTEM, PRIMITIVE_LINES
from skillc.skills.skill import Skill
from tests.fakes import ScriptedChatModel, json_reply

CONTRACTS = {
    "extract": ({"amount": {"type": "number"}}, {"amount": 12}),
    "classify": ({"label": {"enum": ["pos", "neg"]}}, {"label": "pos"}),
    "transform": ({"upper": {"type": "string"}}, {"upper": "HELLO"}),
    "verify": ({"ok": {"type": "boolean"}, "reason": {"type": "string"}}, {"ok": True, "reason": "fine"}),
    "compare": ({"same": {"type": "boolean"}}, {"same": False}),
    "search": ({"answer": {"type": "string"}, "quote": {"type": "string"}}, {"answer": "Paris", "quote": "Paris is"}),
    "simplify": ({"short": {"type": "string"}}, {"short": "hi"}),
    "escalate": ({"hard": {"type": "string"}}, {"hard": "done"}),
}


def one_step_spec(primitive: str, properties: dict, **step_extra) -> SkillSpec:
    writes = list(properties)
    return SkillSpec.model_validate(
        {
            "name": f"one-{primitive}",
            "task": f"A one-step {primitive} task.",
            "input_schema": {"type": "object", "properties": {"text": {"type": "string"}}},
            "output_schema": {"type": "object", "properties": properties},
            "entry": "only",
            "steps": [
                {
                    "id": "only",
                    "primitive": primitive,
                    "instruction": f"Do the {primitive}.",
                    "reads": ["text"],
                    "writes": writes,
                    "contract": {"type": "object", "properties": properties, "required": writes},
                    "next": "END",
                    **step_extra,
                }
            ],
        }
    )


@pytest.mark.parametrize("primitive", sorted(CONTRACTS))
def test_llm_primitive_prompt_shape_and_output(primitive):
    properties, answer = CONTRACTS[primitive]
    student = ScriptedChatModel(script=[json_reply(**answer)])
    teacher = ScriptedChatModel(script=[json_reply(**answer)])
    result = Skill(one_step_spec(primitive, properties)).run({"text": "hello"}, student=student, teacher=teacher)
    assert result.ok, result.error
    assert result.output == answer
    used = teacher if primitive == "escalate" else student
    unused = student if primitive == "escalate" else teacher
    assert len(used.prompts) == 1 and unused.prompts == []
    system, user = used.prompts[0]
    assert system.text.startswith(EXECUTOR_SYSTEM)  # the stable part first: role, task, step, contract
    assert "Do this step only" in system.text and PRIMITIVE_LINES[primitive] in system.text
    assert "matches this contract" in system.text and "hello" not in system.text
    assert '"text": "hello"' in user.text
    assert result.trace[0].role == ("teacher" if primitive == "escalate" else "student")


def test_classify_prompt_lists_the_labels_and_rejects_others():
    properties, _ = CONTRACTS["classify"]
    student = ScriptedChatModel(script=[json_reply(label="meh"), json_reply(label="neg")])
    result = Skill(one_step_spec("classify", properties)).run({"text": "x"}, student=student)
    assert 'Allowed labels: ["pos", "neg"]' in student.prompts[0][0].text
    assert result.output == {"label": "neg"}
    assert result.trace[0].error_kind == "contract" and "'meh' is not one of" in result.trace[0].error


def test_compute_uses_no_model_and_reads_a_model_written_expression():
    spec = SkillSpec.model_validate(
        {
            "name": "word-math",
            "task": "Solve a word problem.",
            "input_schema": {"type": "object", "properties": {"question": {"type": "string"}}},
            "output_schema": {"type": "object", "properties": {"answer": {"type": "number"}}},
            "entry": "plan",
            "steps": [
                {"id": "plan", "primitive": "transform", "instruction": "Write one arithmetic expression.",
                 "reads": ["question"], "writes": ["expression"], "next": "solve",
                 "contract": {"type": "object", "properties": {"expression": {"type": "string"}}}},
                {"id": "solve", "primitive": "compute", "instruction": "Evaluate it.", "reads": ["expression"],
                 "writes": ["answer"], "expression_from": "expression", "next": "END",
                 "contract": {"type": "object", "properties": {"answer": {"type": "number"}}}},
            ],
        }
    )
    student = ScriptedChatModel(script=[json_reply(expression="$16 - 3 - 4) * 2")] )
    teacher = ScriptedChatModel(script=[json_reply(answer=18)])
    result = Skill(spec).run({"question": "eggs"}, student=student, teacher=teacher)
    assert result.ok and result.output == {"answer": 18}
    compute_failure = next(r for r in result.trace if not r.ok)
    assert compute_failure.role == "compute" and compute_failure.error_kind == "compute"
    assert compute_failure.action == "escalate"  # no pointless retry of a deterministic step
    ok = ScriptedChatModel(script=[json_reply(expression="(16 - 3 - 4) * 2")])
    direct = Skill(spec).run({"question": "eggs"}, student=ok)
    assert direct.output == {"answer": 18} and [r.role for r in direct.trace] == ["student", "compute"]


def test_verify_check_by_the_teacher_gates_a_step():
    properties, answer = CONTRACTS["transform"]
    spec = one_step_spec("transform", properties, check={"kind": "verify", "by": "teacher"},
                         on_fail=["retry", "give_up"])
    student = ScriptedChatModel(script=[json_reply(upper="hello"), json_reply(**answer)])
    teacher = ScriptedChatModel(script=[json_reply(ok=False, reason="not upper case"), json_reply(ok=True, reason="ok")])
    result = Skill(spec).run({"text": "hello"}, student=student, teacher=teacher)
    assert result.ok and result.output == answer
    assert [r.step for r in result.trace] == ["only", "only.verify", "only", "only.verify"]
    assert result.trace[0].error == "not upper case"
    assert "Check the answer of step `only`" in teacher.prompts[0][1].text


def working_spec(check: dict | None) -> SkillSpec:
    return SkillSpec.model_validate({
        "name": "word-math", "task": "Solve a word problem.", "entry": "plan",
        "input_schema": {"type": "object", "properties": {"question": {"type": "string"}}},
        "output_schema": {"type": "object", "properties": {"answer": {"type": "number"}}},
        "steps": [
            {"id": "plan", "primitive": "transform", "instruction": "Work it out, then write one expression.",
             "reads": ["question"], "writes": ["working", "expression"], "next": "solve",
             **({"check": check} if check else {}),
             "contract": {"type": "object", "properties": {"working": {"type": "string"}, "expression": {"type": "string"}},
                          "required": ["working", "expression"]}},
            {"id": "solve", "primitive": "compute", "instruction": "Evaluate it.", "reads": ["expression"],
             "writes": ["answer"], "expression_from": "expression", "next": "END",
             "contract": {"type": "object", "properties": {"answer": {"type": "number"}}}},
        ],
    })


def test_a_working_that_arrives_elsewhere_than_its_expression_is_retried_with_the_reason():
    check = {"kind": "states", "expr": "value(expression)", "equals": "working"}
    student = ScriptedChatModel(script=[
        json_reply(working="She sold 48, then half as many: 24. 48 + 24 = 72.", expression="48 + 48 * 2"),  # 144
        json_reply(working="She sold 48, then half as many: 24. 48 + 24 = 72.", expression="48 + 48 / 2"),
    ])
    result = Skill(working_spec(check)).run({"question": "clips"}, student=student)
    assert result.ok and result.output == {"answer": 72} and not result.escalated
    first = result.trace[0]
    assert first.error_kind == "check" and first.action == "retry"
    assert "working arrives at 72 but value(expression) gives 144" in first.error
    assert "working arrives at 72 but value(expression) gives 144" in student.prompts[1][-1].text  # the retry is told why


def test_a_states_check_needs_an_expression_and_a_known_text():
    from skillc.core.errors import InvalidInputError

    with pytest.raises(InvalidInputError, match="states check whose `equals` is not a known value"):
        Skill(working_spec({"kind": "states", "expr": "value(expression)", "equals": "notes"})).run(
            {"question": "q"}, student=ScriptedChatModel(script=[]))
