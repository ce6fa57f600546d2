"""Confidence signals: the measurements, and the gate that escalates a low-confidence student step."""

from __future__ import annotations

import math
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage
from pydantic import Field

from skillc.core.spec import SkillSpec
from skillc.graphs.confidence import (
    answer_fields,
    below,
    consistency,
    logprob_confidence,
    verify_confidence,
)
from skillc.skills.skill import Skill
from tests.fakes import ScriptedChatModel, json_reply, step_of

SOLVE = {
    "name": "math", "task": "Solve the word problem.",
    "input_schema": {"type": "object", "properties": {"question": {"type": "string"}}, "required": ["question"]},
    "output_schema": {"type": "object", "properties": {"answer": {"type": "number"}}, "required": ["answer"]},
    "entry": "solve",
    "steps": [
        {"id": "solve", "primitive": "transform", "instruction": "Write the expression.", "reads": ["question"],
         "writes": ["reasoning", "expression"], "on_fail": ["retry", "escalate", "give_up"], "next": "answer",
         "contract": {"type": "object", "properties": {"reasoning": {"type": "string"}, "expression": {"type": "string"}},
                      "required": ["reasoning", "expression"]}},
        {"id": "answer", "primitive": "compute", "instruction": "Evaluate.", "reads": ["expression"], "writes": ["answer"],
         "expression_from": "expression", "next": "END",
         "contract": {"type": "object", "properties": {"answer": {"type": "number"}}, "required": ["answer"]}},
    ],
}


def math_skill(**escalation: Any) -> Skill:
    return Skill(SkillSpec.model_validate({**SOLVE, "escalation": {"mode": "step", **escalation}}))


def test_answer_fields_prefer_typed_fields_then_non_reasoning_ones() -> None:
    contract = SOLVE["steps"][0]["contract"]
    assert answer_fields(contract, ["reasoning", "expression"]) == ["expression"]
    assert answer_fields({"properties": {"kind": {"enum": ["a", "b"]}, "why": {"type": "string"}}}, ["kind", "why"]) == ["kind"]
    assert answer_fields({"properties": {"reasoning": {"type": "string"}}}, ["reasoning"]) == ["reasoning"]


def test_consistency_is_the_share_of_agreeing_samples() -> None:
    assert consistency({"answer": 5}, [{"answer": 5}, {"answer": 5.0}], ["answer"]) == 1.0
    assert consistency({"answer": 5}, [{"answer": 5}, {"answer": 6}, None, {}], ["answer"]) == 0.25
    assert consistency({"answer": 5}, [], ["answer"]) == 1.0


def test_logprob_confidence_reads_the_answer_value_tokens() -> None:
    text = '{"reasoning": "2+2", "answer": 4}'
    tokens = ['{"', "reasoning", '":', ' "', "2", "+", "2", '",', ' "', "answer", '":', " ", "4", "}"]
    assert "".join(tokens) == text
    lps = [0.0] * len(tokens)
    lps[4] = math.log(0.1)  # inside the reasoning: ignored
    lps[12] = math.log(0.6)  # the answer's value
    assert math.isclose(logprob_confidence(text, tokens, lps, ["answer"]), 0.6)
    # a string value counts all its tokens, quotes included
    text2 = '{"expression": "3*4"}'
    tokens2 = ['{"', "expression", '":', ' "', "3", "*", "4", '"}']
    lps2 = [0.0, 0.0, 0.0, math.log(0.9), math.log(0.5), 0.0, 0.0, 0.0]
    assert math.isclose(logprob_confidence(text2, tokens2, lps2, ["expression"]), 0.45)


def test_logprob_confidence_falls_back_to_the_mean_and_handles_no_data() -> None:
    lps = [math.log(0.5), math.log(0.5)]
    assert math.isclose(logprob_confidence("xy", ["x", "z"], lps, ["answer"]), 0.5)  # tokens do not spell the text
    assert logprob_confidence("{}", None, [], ["answer"]) is None


def test_verify_confidence_and_below() -> None:
    assert verify_confidence('{"ok": true, "reason": "fine"}') == 1.0
    assert verify_confidence('{"ok": false, "reason": "off by one"}') == 0.0
    assert verify_confidence("I think so") is None
    assert below({"logprobs": 0.2}, {"logprobs": 0.5, "consistency": 0.9}) == ["logprobs 0.2 < 0.5"]
    assert below({"logprobs": 0.7}, {"logprobs": 0.5}) == []


class SamplingStudent(ScriptedChatModel):
    """Greedy calls get `primary`; calls with a temperature (consistency samples) get `samples` in turn."""

    primary: str = ""
    samples: list[str] = Field(default_factory=list)

    def _generate(self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kwargs: Any) -> Any:
        self.script = (lambda m: self.samples.pop(0)) if "temperature" in kwargs else (lambda m: self.primary)
        return super()._generate(messages, stop, run_manager, **kwargs)


def _student(primary: str, samples: list[str]) -> SamplingStudent:
    return SamplingStudent(primary=primary, samples=list(samples), model_label="student-model")


def teacher_model() -> ScriptedChatModel:
    return ScriptedChatModel(script={"solve": [json_reply(reasoning="48 + 24", expression="48 + 24")]}, model_label="gpt-4o")


def test_disagreeing_samples_escalate_the_step_when_the_threshold_says_so() -> None:
    student = _student(json_reply(reasoning="48 - 24", expression="48 - 24"),
                       [json_reply(reasoning="", expression="72"), json_reply(reasoning="", expression="48+24")])
    skill = math_skill(signals=["consistency"], samples=2, thresholds={"consistency": 0.5})
    result = skill.run({"question": "48 and 24?"}, student=student, teacher=teacher_model())
    assert result.ok and result.output == {"answer": 72}
    assert result.escalated
    failed = [r for r in result.trace if r.error_kind == "low_confidence"]
    assert len(failed) == 1 and failed[0].confidence == {"consistency": 0.0} and failed[0].action == "escalate"
    assert sum(r.step == "solve.sample" for r in result.trace) == 2  # the samples' cost is in the trace


def test_agreeing_samples_pass_and_escalation_off_only_records() -> None:
    agree = json_reply(reasoning="48 + 24", expression="48 + 24")
    student = _student(agree, [json_reply(reasoning="", expression="72"), json_reply(reasoning="", expression="24+48")])
    skill = math_skill(signals=["consistency"], samples=2, thresholds={"consistency": 0.5})
    result = skill.run({"question": "48 and 24?"}, student=student, teacher=teacher_model())
    assert result.ok and not result.escalated and result.output == {"answer": 72}
    assert result.trace[0].confidence == {"consistency": 1.0}

    low = _student(json_reply(reasoning="", expression="48 - 24"), [json_reply(reasoning="", expression="72")])
    off = math_skill(signals=["consistency"], samples=1, thresholds={"consistency": 0.5})
    recorded = off.run({"question": "48 and 24?"}, student=low, escalation="off")
    assert recorded.ok and recorded.output == {"answer": 24} and recorded.trace[0].confidence == {"consistency": 0.0}


def test_logprobs_signal_reads_the_backends_token_logprobs() -> None:
    text = '{"reasoning": "x", "expression": "7"}'
    tokens = ['{"reasoning": "x", "expression": ', '"', "7", '"}']
    content = [{"token": t, "logprob": lp} for t, lp in zip(tokens, [0.0, 0.0, math.log(0.2), 0.0], strict=True)]
    message = AIMessage(content=text, response_metadata={"logprobs": {"content": content}})
    student = ScriptedChatModel(script=lambda m: message.model_copy(), model_label="student-model")
    skill = math_skill(signals=["logprobs"], thresholds={"logprobs": 0.5})
    result = skill.run({"question": "seven?"}, student=student, teacher=teacher_model())
    assert result.escalated and result.output == {"answer": 72}
    assert math.isclose(result.trace[0].confidence["logprobs"], 0.2)


def test_verify_signal_uses_one_student_check_call() -> None:
    def reply(messages: list[BaseMessage]) -> str:
        if step_of(messages) == "verify":
            return json_reply(ok=False, reason="wrong operation")
        return json_reply(reasoning="", expression="48 - 24")

    student = ScriptedChatModel(script=reply, model_label="student-model")
    skill = math_skill(signals=["verify"], thresholds={"verify": 0.5})
    result = skill.run({"question": "48 and 24?"}, student=student, teacher=teacher_model())
    assert result.escalated and result.output == {"answer": 72}
    assert student.steps_called().count("verify") == 1


def test_an_escalate_everything_gate_escalates_when_its_signal_is_not_measured() -> None:
    # a student whose backend returns no logprobs: the calibrated "escalate every item" gate must still escalate
    student = ScriptedChatModel(script={"solve": [json_reply(reasoning="48 + 24", expression="48 + 24")]},
                                model_label="student-model")
    skill = math_skill(signals=["logprobs"], thresholds={"logprobs": 1.01})
    result = skill.run({"question": "48 and 24?"}, student=student, teacher=teacher_model())
    assert result.escalated and result.output == {"answer": 72}
    failed = [r for r in result.trace if r.error_kind == "low_confidence"]
    assert len(failed) == 1 and "not measured" in failed[0].error
    ordinary = math_skill(signals=["logprobs"], thresholds={"logprobs": 0.5})
    student = ScriptedChatModel(script={"solve": [json_reply(reasoning="48 + 24", expression="48 + 24")]},
                                model_label="student-model")
    assert not ordinary.run({"question": "48 and 24?"}, student=student, teacher=teacher_model()).escalated


def test_a_vote_answers_with_the_majority_program_and_its_share_is_the_confidence() -> None:
    wrong = json_reply(reasoning="48 - 24", expression="48 - 24")
    student = _student(wrong, [json_reply(reasoning="", expression="48 + 24"), json_reply(reasoning="", expression="24+48")])
    skill = math_skill(signals=["consistency"], samples=2, vote=True, thresholds={"consistency": 0.5})
    result = skill.run({"question": "48 and 24?"}, student=student, teacher=teacher_model())
    assert result.ok and not result.escalated and result.output == {"answer": 72}  # two programs of three say 72
    first = result.trace[0]
    assert first.confidence == {"consistency": 2 / 3} and first.vote == {"answers": 3, "share": 2 / 3, "chose_sample": 1}
    assert first.output["expression"] == "48 + 24"


def test_a_sample_that_fails_the_steps_check_does_not_vote() -> None:
    spec = {**SOLVE, "escalation": {"mode": "step", "signals": ["consistency"], "samples": 2, "vote": True}}
    spec["steps"] = [{**spec["steps"][0], "check": {"kind": "states", "expr": "value(expression)", "equals": "reasoning"}},
                     spec["steps"][1]]
    skill = Skill(SkillSpec.model_validate(spec))
    student = _student(json_reply(reasoning="48 - 24 = 24", expression="48 - 24"),
                       [json_reply(reasoning="so 80", expression="48 + 24"), json_reply(reasoning="= 90", expression="24+48")])
    result = skill.run({"question": "48 and 24?"}, student=student, escalation="off")
    assert result.output == {"answer": 24}  # the samples agree with each other, but each contradicts its own working
    assert result.trace[0].vote == {"answers": 3, "share": 1 / 3, "chose_sample": 0}


class BarrierStudent(ScriptedChatModel):
    """Consistency samples wait for each other at a barrier: sent one after another, the first would time out."""

    primary: str = ""
    barrier: Any = None

    def _generate(self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kwargs: Any) -> Any:
        if "temperature" in kwargs:
            self.barrier.wait()  # BrokenBarrierError unless all samples are in flight at once
            value = 72 if kwargs["seed"] != 2 else 71
            self.script = lambda m: json_reply(reasoning="", expression=f"{value}")
        else:
            self.script = lambda m: self.primary
        return super()._generate(messages, stop, run_manager, **kwargs)


def test_samples_go_out_at_once_when_the_backend_serves_several_and_keep_their_seed_order() -> None:
    import threading

    from skillc.adapters.handle import ModelHandle

    model = BarrierStudent(primary=json_reply(reasoning="48 + 24", expression="48 + 24"), barrier=threading.Barrier(3, timeout=10),
                           model_label="api-student")
    student = ModelHandle(model=model, name="api-student", parallel=3)
    skill = math_skill(signals=["consistency"], samples=3)
    result = skill.run({"question": "48 and 24?"}, student=student)
    assert result.ok and result.output == {"answer": 72}
    samples = [r for r in result.trace if r.step == "solve.sample"]
    assert [s.output for s in samples] == [{"reasoning": "", "expression": "72"}, {"reasoning": "", "expression": "71"},
                                           {"reasoning": "", "expression": "72"}]  # seed 1, 2, 3
    assert [r.confidence for r in result.trace if r.step == "solve"] == [{"consistency": 2 / 3}]
    # one at a time (the default, as on the embedded llama.cpp server), the first sample waits at the barrier alone
    lone = BarrierStudent(primary=model.primary, barrier=threading.Barrier(3, timeout=0.5), model_label="one-at-a-time")
    assert not skill.run({"question": "48 and 24?"}, student=lone).ok
