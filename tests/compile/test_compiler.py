"""compile_skill: the teacher designs, repairs on errors, works the samples; bad traces are dropped."""

from __future__ import annotations

import copy
import json

from skillc.compile.compiler import compile_skill
from tests.conftest import INVOICE_DESIGN
from tests.fakes import ScriptedChatModel, json_reply

GOOD_FIELDS = json_reply(quantity=3, unit_price=4.5, stated_total=13.5)


def broken_design() -> str:
    design = copy.deepcopy(INVOICE_DESIGN)
    design["steps"][1]["reads"] = ["ghost"]  # a value no step writes: no normalization can know what was meant
    return json.dumps(design)


def teacher_for(design_replies, step_replies=None):
    return ScriptedChatModel(script={"design": design_replies, **(step_replies or {})}, model_label="gpt-4o")


def test_invalid_design_is_repaired_with_the_errors_listed(invoice_task):
    teacher = teacher_for([broken_design(), json.dumps(INVOICE_DESIGN)])
    skill = compile_skill(invoice_task, teacher=teacher, trace_samples=False)
    assert [s.id for s in skill.spec.steps] == ["kind", "fields", "total"]
    assert skill.spec.provenance.repairs == 1
    repair = teacher.prompts[1][-1].text
    assert "That design is not valid" in repair and "reads 'ghost'" in repair
    assert teacher.prompts[1][-2].text == broken_design()


def test_malformed_design_json_is_repaired(invoice_task):
    teacher = teacher_for(["Here is my plan: steps...", json.dumps(INVOICE_DESIGN)])
    skill = compile_skill(invoice_task, teacher=teacher, trace_samples=False)
    assert skill.spec.provenance.repairs == 1
    assert "no JSON object" in teacher.prompts[1][-1].text


def test_an_unrepairable_design_falls_back_to_one_step_and_says_why(invoice_task):
    # the samples: an invoice (total 13.5) and a letter; the teacher answers the fallback step right
    answers = [json_reply(kind="invoice", total=13.5), json_reply(kind="other")]
    teacher = teacher_for([broken_design()] * 3, {"answer": answers})
    lines: list[str] = []
    skill = compile_skill(invoice_task, teacher=teacher, max_repairs=2, progress=lines.append)
    assert len([p for p in teacher.prompts if "architect" in p[0].text]) == 3
    assert skill.spec.provenance.design == "fallback" and skill.spec.problems() == []
    step = skill.spec.steps[0]
    assert (step.id, step.reads, step.writes, step.contract) == ("answer", ["text"], ["kind", "total"], invoice_task.output_schema)
    assert "ghost" in skill.spec.provenance.normalized[0]
    assert len(skill.examples) == 2  # the worked samples (the task's own samples add nothing new: same inputs)
    assert any(line.startswith("fallback:") and "ghost" in line for line in lines)
    assert sum(line.startswith("worked sample") for line in lines) == 2


def test_a_schema_invalid_design_is_reported_by_field_then_falls_back(invoice_task):
    teacher = teacher_for([json_reply(entry="kind", steps=[{"id": "Bad Id"}])] * 2, {"answer": [json_reply(kind="other")] * 2})
    lines: list[str] = []
    skill = compile_skill(invoice_task, teacher=teacher, max_repairs=1, progress=lines.append)
    assert any("steps.0" in line for line in lines if line.startswith("architect: the design is not valid"))
    assert skill.spec.provenance.design == "fallback"


def test_a_valid_design_that_gets_every_sample_wrong_loses_to_the_fallback(invoice_task):
    # the designed graph calls the invoice "other" and the letter an invoice: every sample wrong
    wrong = {"kind": [json_reply(kind="other"), json_reply(kind="invoice")] * 3, "fields": [GOOD_FIELDS] * 3}
    right = {"answer": [json_reply(kind="invoice", total=13.5), json_reply(kind="other")]}
    teacher = teacher_for([json.dumps(INVOICE_DESIGN)] * 3, {**wrong, **right})
    skill = compile_skill(invoice_task, teacher=teacher, max_repairs=2)
    assert skill.spec.provenance.design == "fallback"
    assert "got all 2 checkable sample(s) wrong" in skill.spec.provenance.normalized[0]


def test_samples_become_filtered_worked_examples(invoice_task):
    steps = {"kind": [json_reply(kind="invoice"), json_reply(kind="other")], "fields": [GOOD_FIELDS]}
    teacher = teacher_for([json.dumps(INVOICE_DESIGN)], steps)
    skill = compile_skill(invoice_task, teacher=teacher)
    assert [e["step"] for e in skill.examples] == ["kind", "fields", "kind"]
    assert all(e["source"] == "teacher" and e["model"] == "gpt-4o" for e in skill.examples)
    assert skill.examples[1]["input"] == {"text": invoice_task.samples[0].input["text"]}
    report = skill.spec.provenance.traces
    assert report["kept"] == 3 and report["dropped"] == {}
    assert skill.spec.baseline_output_tokens and skill.spec.provenance.compile_cost_usd > 0


def test_refusals_and_wrong_answers_are_dropped_with_reasons(invoice_task):
    steps = {
        "kind": [json_reply(kind="invoice"), json_reply(kind="invoice", note="I'm sorry, I cannot be sure")],
        "fields": [json_reply(quantity=3, unit_price=4.5, stated_total=13.5)],
    }
    teacher = teacher_for([json.dumps(INVOICE_DESIGN)], steps)
    teacher.script["fields"] = [GOOD_FIELDS, GOOD_FIELDS]
    skill = compile_skill(invoice_task, teacher=teacher, max_repairs=0)
    report = skill.spec.provenance.traces
    # sample 2 expects kind=other; the teacher said invoice → every step of that sample is dropped
    assert report["dropped"].get("wrong_final_answer", 0) >= 1
    assert report["kept"] == 2


def test_wrong_samples_send_the_design_back_and_the_best_design_is_kept(invoice_task):
    wrong = copy.deepcopy(INVOICE_DESIGN)
    wrong["steps"][2]["expression"] = "quantity + unit_price"  # the teacher's formula is wrong
    wrong["steps"][1].pop("check")
    steps = {
        "kind": [json_reply(kind="invoice"), json_reply(kind="other")] * 2,
        "fields": [GOOD_FIELDS] * 2,
    }
    teacher = teacher_for([json.dumps(wrong), json.dumps(INVOICE_DESIGN)], steps)
    skill = compile_skill(invoice_task, teacher=teacher)
    assert skill.spec.step("total").expression == "quantity * unit_price"
    assert skill.spec.provenance.repairs == 1
    design_prompts = [p for p in teacher.prompts if p[0].text.startswith("You are the architect")]
    repair = design_prompts[1][-1].text
    assert "wrong results on these samples" in repair
    assert '"total": 13.5' in repair and '"total": 7.5' in repair


def test_normalization_fills_gaps_and_is_recorded(invoice_task):
    gappy = copy.deepcopy(INVOICE_DESIGN)
    gappy["entry"] = "start_here"
    del gappy["steps"][1]["next"]
    gappy["steps"][2]["expression_from"] = gappy["steps"][2].pop("expression")
    teacher = teacher_for([json.dumps(gappy)])
    skill = compile_skill(invoice_task, teacher=teacher, trace_samples=False)
    assert skill.spec.entry == "kind" and skill.spec.step("fields").next == "total"
    assert skill.spec.step("total").expression == "quantity * unit_price"
    assert skill.spec.provenance.repairs == 0
    assert set(skill.spec.provenance.normalized) == {
        "fields.next = total", "total.expression = expression_from", "entry 'start_here' → 'kind'"
    }


def test_compact_plan_with_typed_and_untyped_writes_is_expanded(invoice_task):
    plan = {
        "entry": "kind",
        "steps": [
            {"id": "kind", "primitive": "classify", "instruction": "Invoice?", "reads": ["text"],
             "writes": ["kind"], "labels": ["invoice", "other"], "next": "fields"},
            {"id": "fields", "primitive": "extract", "instruction": "Fields.", "reads": ["text"],
             "writes": {"quantity": "number", "unit_price": "number"}, "check": "quantity > 0", "next": "total"},
            {"id": "total", "primitive": "compute", "instruction": "Multiply.", "reads": ["quantity", "unit_price"],
             "writes": {"total": "number"}, "expression": "quantity * unit_price", "next": "END"},
        ],
    }
    skill = compile_skill(invoice_task, teacher=teacher_for([json.dumps(plan)]), trace_samples=False)
    assert skill.spec.step("kind").contract["properties"] == {"kind": {"enum": ["invoice", "other"]}}
    assert skill.spec.step("fields").contract["properties"]["quantity"] == {"type": "number"}
    assert skill.spec.step("fields").check.expr == "quantity > 0"
    assert skill.spec.step("total").writes == ["total"]


def test_an_invalid_constrained_design_is_asked_again_without_the_grammar(invoice_task):
    """A grammar can corner a small architect into closing the JSON early; the retry goes without it, and
    the reply's `// comments` and a step that only copies the input are tidied away."""
    from skillc.adapters.models import ModelHandle

    cornered = {"entry": "read_text", "steps": [{"id": "read_text", "primitive": "extract", "instruction": "Read.",
                                                 "reads": ["text"], "writes": {"text": "string"}, "next": "kind"}]}
    plan = copy.deepcopy(INVOICE_DESIGN)
    plan["steps"].insert(0, {"id": "read_text", "primitive": "extract", "instruction": "Read.", "reads": ["text"],
                             "writes": ["text"], "next": "kind"})
    plan["entry"] = "read_text"
    commented = json.dumps(plan, indent=1).replace('"next": "kind"', '"next": "kind" // then classify', 1)
    formats: list[object] = []

    class Recording(ScriptedChatModel):
        def _generate(self, messages, stop=None, run_manager=None, **kwargs):  # type: ignore[no-untyped-def]
            formats.append(kwargs.get("response_format"))
            return super()._generate(messages, stop, run_manager, **kwargs)

    teacher = Recording(script={"design": [json.dumps(cornered), f"```json\n{commented}\n```"]}, model_label="t")
    skill = compile_skill(invoice_task, teacher=ModelHandle(model=teacher, name="t", structured="json_object"),
                          trace_samples=False)
    assert formats[0] is not None and formats[1] is None  # constrained first, then free
    assert [s.id for s in skill.spec.steps] == ["kind", "fields", "total"] and skill.spec.entry == "kind"
    assert "dropped step 'read_text': it only copies the input ['text']" in skill.spec.provenance.normalized
    design_prompts = [p for p in teacher.prompts if p[0].text.startswith("You are the architect")]
    assert design_prompts[1] == design_prompts[0]  # the same request, not a repair turn
