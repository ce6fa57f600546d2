"""Failure edges walk retry → escalate → give up, through langgraph error handlers."""

from __future__ import annotations

import httpx
import openai
import pytest
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command

from skillc.core.errors import BackendUnavailable, SkillGaveUp
from skillc.core.spec import SkillSpec
from skillc.graphs.builder import build_graph
from skillc.graphs.failure import transport_retry_policy
from skillc.skills.skill import Skill
from tests.conftest import INVOICE_TEXT
from tests.fakes import ScriptedChatModel, json_reply

GOOD_FIELDS = json_reply(quantity=3, unit_price=4.5, stated_total=13.5)
INVOICE = json_reply(kind="invoice")


def models(student_script, teacher_script=None):
    student = ScriptedChatModel(script=student_script, model_label="gpt-4o-mini")
    teacher = ScriptedChatModel(script=teacher_script or {}, model_label="gpt-4o")
    return student, teacher


def actions(result):
    return [(r.step, r.error_kind, r.action) for r in result.trace if not r.ok]


def test_happy_path_uses_only_the_student(invoice_spec):
    student, teacher = models({"kind": [INVOICE], "fields": [GOOD_FIELDS]})
    result = Skill(invoice_spec).run({"text": INVOICE_TEXT}, student=student, teacher=teacher)
    assert result.ok, result.error
    assert result.output == {"kind": "invoice", "total": 13.5}
    assert teacher.prompts == []
    assert [r.step for r in result.trace] == ["kind", "fields", "total"]
    assert result.escalated is False


def test_decision_default_goes_to_end(invoice_spec):
    student, teacher = models({"kind": [json_reply(kind="other")]})
    result = Skill(invoice_spec).run({"text": "hello"}, student=student, teacher=teacher)
    assert result.output == {"kind": "other", "total": None}
    assert student.steps_called() == ["kind"]


def test_malformed_json_retries_then_escalates_then_succeeds(invoice_spec):
    student, teacher = models(
        {"kind": [INVOICE], "fields": ["Sure, the fields are quantity 3", '{"quantity": 3, "unit_price": ']},
        {"fields": [GOOD_FIELDS]},
    )
    result = Skill(invoice_spec).run({"text": INVOICE_TEXT}, student=student, teacher=teacher)
    assert result.ok
    assert result.output["total"] == 13.5
    assert actions(result) == [("fields", "malformed_output", "retry"), ("fields", "malformed_output", "escalate")]
    retry_prompt = student.prompts[2]
    assert "rejected" in retry_prompt[-1].text and retry_prompt[-2].text.startswith("Sure")
    teacher_prompt = "\n".join(m.text for m in teacher.prompts[0])
    assert "A smaller model answered this step" in teacher_prompt
    assert {r.role for r in result.trace if r.step == "fields" and r.ok} == {"teacher"}
    assert result.escalated


def test_check_failure_escalates(invoice_spec):
    spec = invoice_spec.model_copy(deep=True)
    spec.step("fields").on_fail = ["escalate", "give_up"]
    wrong = json_reply(quantity=3, unit_price=4.5, stated_total=99)
    student, teacher = models({"kind": [INVOICE], "fields": [wrong]}, {"fields": [GOOD_FIELDS]})
    result = Skill(spec).run({"text": INVOICE_TEXT}, student=student, teacher=teacher)
    assert result.ok
    assert actions(result) == [("fields", "check", "escalate")]
    failed = next(r for r in result.trace if not r.ok)
    assert "stated_total is 99" in failed.error


def test_give_up_is_a_typed_error(invoice_spec):
    student, teacher = models({"kind": [INVOICE], "fields": ["nope", "nope"]}, {"fields": ["no idea"]})
    result = Skill(invoice_spec).run({"text": INVOICE_TEXT}, student=student, teacher=teacher)
    assert not result.ok and result.output is None
    assert result.error.kind == "malformed_output" and result.error.step == "fields"
    assert actions(result)[-1] == ("fields", "malformed_output", "give_up")
    with pytest.raises(SkillGaveUp, match="fields"):
        result.raise_for_error()


def test_escalation_off_gives_up_without_the_teacher(invoice_spec):
    student, teacher = models({"kind": [INVOICE], "fields": ["x", "y"]})
    result = Skill(invoice_spec).run({"text": INVOICE_TEXT}, student=student, teacher=teacher, escalation="off")
    assert result.error.kind == "malformed_output"
    assert teacher.prompts == []


def test_whole_task_escalation(invoice_spec):
    student, teacher = models(
        {"kind": [INVOICE], "fields": ["x", "y"]}, {"task": [json_reply(kind="invoice", total=13.5)]}
    )
    result = Skill(invoice_spec).run({"text": INVOICE_TEXT}, student=student, teacher=teacher, escalation="task")
    assert result.ok and result.output == {"kind": "invoice", "total": 13.5}
    assert teacher.steps_called() == ["task"]
    assert result.trace[-1].step == "skillc_escalate_task"


def test_final_output_contract_failure_escalates_the_task(invoice_spec):
    spec = invoice_spec.model_copy(deep=True)
    spec.output_schema = {**spec.output_schema, "required": ["kind", "total"]}
    student, teacher = models({"kind": [json_reply(kind="other")]}, {"task": [json_reply(kind="other", total=0)]})
    result = Skill(spec).run({"text": "hello"}, student=student, teacher=teacher)
    assert result.ok and result.output == {"kind": "other", "total": 0}
    assert actions(result) == [("skillc_finish", "output_contract", "escalate")]


def connection_error() -> openai.APIConnectionError:
    return openai.APIConnectionError(request=httpx.Request("POST", "http://127.0.0.1:9/v1/chat/completions"))


def test_transport_errors_use_retry_policy_then_escalate(invoice_spec):
    def student_down(messages):
        return connection_error()

    student, teacher = models(student_down, {"kind": [INVOICE], "fields": [GOOD_FIELDS]})
    graph = build_graph(
        invoice_spec, student=student, teacher=teacher, retry_policy=transport_retry_policy(3, 0.001)
    ).compile()
    final = graph.invoke({"text": INVOICE_TEXT})
    assert student.steps_called() == ["kind"] * 3 + ["fields"] * 3
    assert teacher.steps_called() == ["kind", "fields"]
    assert final["total"] == 13.5
    kinds = [(r["step"], r.get("error_kind"), r.get("action")) for r in final["skillc_trace"] if not r["ok"]]
    assert kinds == [("kind", "backend", "escalate"), ("fields", "backend", "escalate")]


def test_backend_down_everywhere_gives_up_as_backend_error(invoice_spec):
    down = connection_error()
    student, teacher = models({"kind": [down] * 2}, {"kind": [down] * 2})
    graph = build_graph(
        invoice_spec, student=student, teacher=teacher, retry_policy=transport_retry_policy(2, 0.001)
    ).compile()
    final = graph.invoke({"text": INVOICE_TEXT})
    assert final["skillc_error"]["kind"] == "backend"
    from skillc.core.trace import summarize, trace_records

    result = summarize(trace_records(final["skillc_trace"]), output=None, error=final["skillc_error"], baseline_usd=0)
    with pytest.raises(BackendUnavailable):
        result.raise_for_error()


def test_compiled_with_inmemorysaver_interrupted_and_resumed(invoice_spec):
    student, teacher = models({"kind": [INVOICE], "fields": [GOOD_FIELDS]})
    builder = Skill(invoice_spec).graph(student, teacher)
    graph = builder.compile(checkpointer=InMemorySaver(), interrupt_before=["total"])
    config = {"configurable": {"thread_id": "t1"}}
    graph.invoke({"text": INVOICE_TEXT}, config)
    snapshot = graph.get_state(config)
    assert snapshot.next == ("total",)
    assert snapshot.values["quantity"] == 3 and "total" not in snapshot.values
    final = graph.invoke(None, config)
    assert final["total"] == 13.5 and final["kind"] == "invoice"


def ask_spec() -> SkillSpec:
    return SkillSpec.model_validate(
        {
            "name": "ship-date",
            "task": "Find the shipping date of an order.",
            "input_schema": {"type": "object", "properties": {"order": {"type": "string"}}},
            "output_schema": {"type": "object", "properties": {"date": {"type": "string"}}, "required": ["date"]},
            "entry": "ask_date",
            "steps": [
                {
                    "id": "ask_date",
                    "primitive": "ask",
                    "instruction": "Ask the user for the shipping date.",
                    "reads": ["order"],
                    "writes": ["date"],
                    "contract": {"type": "object", "properties": {"question": {"type": "string"}}},
                    "next": "END",
                }
            ],
        }
    )


def test_ask_interrupts_and_resumes_with_the_human_answer():
    student = ScriptedChatModel(script=[json_reply(question="When did it ship?")] * 2)
    graph = build_graph(ask_spec(), student=student).compile(checkpointer=InMemorySaver())
    config = {"configurable": {"thread_id": "ask"}}
    first = graph.invoke({"order": "#12"}, config)
    assert first["__interrupt__"][0].value["question"] == "When did it ship?"
    final = graph.invoke(Command(resume="2026-11-20"), config)
    assert final["date"] == "2026-11-20"


def test_run_without_checkpointer_reports_needed_input():
    student = ScriptedChatModel(script=[json_reply(question="When did it ship?")])
    result = Skill(ask_spec()).run({"order": "#12"}, student=student)
    assert result.error.kind == "needs_input" and "ship" in result.error.message


def test_simplify_lowers_the_bar_to_required_fields(invoice_spec):
    spec = invoice_spec.model_copy(deep=True)
    fields = spec.step("fields")
    fields.contract["properties"]["currency"] = {"type": "string", "minLength": 3}
    fields.on_fail = ["simplify", "give_up"]
    student, teacher = models(
        {"kind": [INVOICE], "fields": [json_reply(quantity=3, unit_price=4.5, stated_total=13.5, currency="$"), GOOD_FIELDS]}
    )
    result = Skill(spec).run({"text": INVOICE_TEXT}, student=student, teacher=teacher)
    assert result.ok
    assert actions(result) == [("fields", "contract", "simplify")]
    assert "currency" in student.prompts[1][0].text and "currency" not in student.prompts[2][0].text


def loop_spec() -> SkillSpec:
    contract = {"type": "object", "properties": {"draft": {"type": "string"}}, "required": ["draft"]}
    return SkillSpec.model_validate(
        {
            "name": "polish",
            "task": "Polish a sentence.",
            "input_schema": {"type": "object", "properties": {"text": {"type": "string"}}},
            "output_schema": {"type": "object", "properties": {"draft": {"type": "string"}}},
            "entry": "write",
            "steps": [
                {"id": "write", "primitive": "transform", "instruction": "Polish it.", "reads": ["text"],
                 "writes": ["draft"], "contract": contract, "max_visits": 2, "next": "again"},
                {"id": "again", "primitive": "retry", "instruction": "Polish once more.", "target": "write",
                 "contract": {"type": "object"}, "next": "END"},
            ],
        }
    )


def test_retry_primitive_loops_within_its_bound():
    student = ScriptedChatModel(script=[json_reply(draft="one"), json_reply(draft="two")])
    result = Skill(loop_spec()).run({"text": "hi"}, student=student)
    assert result.ok and result.output == {"draft": "two"}
    assert [r.step for r in result.trace] == ["write", "again", "write", "again"]
    assert result.trace[-1].action == "bound reached"


def one_step_spec(reads: list[str]) -> SkillSpec:
    return SkillSpec.model_validate({
        "name": "level", "task": "Give the level of a log event.", "entry": "label",
        "input_schema": {"type": "object", "properties": {"event": {"type": "string"}, "source": {"type": "string"}}},
        "output_schema": {"type": "object", "properties": {"level": {"enum": ["Error", "Information"]}}, "required": ["level"]},
        "steps": [{"id": "label", "primitive": "classify", "instruction": "Label it.", "reads": reads, "writes": ["level"],
                   "next": "END", "contract": {"type": "object", "properties": {"level": {"enum": ["Error", "Information"]}},
                                               "required": ["level"]}}],
    })


def test_a_one_step_skill_escalates_as_the_whole_task_and_still_learns_the_case(tmp_path):
    from langchain_core.embeddings import DeterministicFakeEmbedding

    from skillc.graphs.builder import whole_task_step
    from skillc.skills.bank import ExampleBank

    spec = one_step_spec(["event", "source"])
    assert whole_task_step(spec) is spec.steps[0]
    skill = Skill(spec)
    skill._bank = ExampleBank(tmp_path, embeddings=DeterministicFakeEmbedding(size=16))
    student = ScriptedChatModel(script={"label": ["no", "still no"]})
    teacher = ScriptedChatModel(script={"task": [json_reply(level="Error")]})
    result = skill.run({"event": "disk failed", "source": "kernel"}, student=student, teacher=teacher)
    assert result.ok and result.escalated and result.output == {"level": "Error"}
    assert teacher.steps_called() == ["task"]  # the teacher-alone prompt, not the step's
    [learned] = skill.bank.quarantine.pending()
    assert learned["step"] == "label" and learned["input"] == {"event": "disk failed", "source": "kernel"}
    assert learned["output"] == {"level": "Error"}


def test_a_step_that_does_not_cover_the_task_escalates_as_its_step():
    from skillc.graphs.builder import whole_task_step

    spec = one_step_spec(["event"])  # does not read `source`: the task prompt would ask something else
    assert whole_task_step(spec) is None
    student = ScriptedChatModel(script={"label": ["no", "still no"]})
    teacher = ScriptedChatModel(script={"label": [json_reply(level="Error")]})
    result = Skill(spec).run({"event": "disk failed", "source": "kernel"}, student=student, teacher=teacher)
    assert result.ok and teacher.steps_called() == ["label"]
