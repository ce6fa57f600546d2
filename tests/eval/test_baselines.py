"""Fair baselines: the teacher shown the skill's demos, the neighbour vote, and retention against the better teacher."""

from __future__ import annotations

import json

from langchain_core.embeddings import DeterministicFakeEmbedding
from langchain_core.messages import AIMessage

from skillc.compile.patterns import classify_design
from skillc.core.records import new_record
from skillc.core.spec import RetrievalPolicy
from skillc.core.task import Sample, Task
from skillc.eval import conditions
from skillc.eval.evaluate import evaluate_skill
from skillc.skills import Skill
from skillc.skills.bank import ExampleBank
from tests.fakes import ScriptedChatModel

TASK = Task.model_validate({
    "name": "level", "description": "Label the event's level.", "metric": "label",
    "inputs": {"event": {"type": "string"}},
    "output_schema": {"type": "object", "properties": {"level": {"enum": ["Info", "Error"]}}, "required": ["level"]},
})
ITEMS = [Sample(input={"event": f"event {i}"}, expected={"level": "Error"}, id=f"e{i}") for i in range(4)]


def labelled_skill(k: int = 2) -> Skill:
    spec = classify_design(TASK)
    spec = spec.model_copy(update={"retrieval": RetrievalPolicy(k=k)})
    skill = Skill(spec)
    bank = ExampleBank(embeddings=DeterministicFakeEmbedding(size=16), grow=False)
    bank.add([new_record("answer", {"event": f"event {i}"}, {"level": "Error"}, source="label") for i in range(6)], check=False)
    skill._bank = bank
    return skill


def test_the_teacher_plus_demos_baseline_sees_what_the_student_sees() -> None:
    skill = labelled_skill()
    assert conditions.default_conditions(skill) == ["teacher_only", "teacher_demos", "raw_student", "nn_vote", "skill",
                                                    "skill_escalation"]
    # the teacher is right only when shown demos; alone it says Info
    teacher = ScriptedChatModel(script=lambda m: json.dumps({"level": "Error" if any(isinstance(x, AIMessage) for x in m)
                                                                      else "Info"}), model_label="gpt-4o")
    student = ScriptedChatModel(script=lambda m: json.dumps({"level": "Error"}), model_label="gpt-4o-mini")
    report = evaluate_skill(skill, ITEMS, student=student, teacher=teacher, metric="label")
    rows = {r.key: r for r in report.conditions}
    assert rows["teacher_only"].accuracy == 0.0 and rows["teacher_demos"].accuracy == 1.0
    assert rows["nn_vote"].accuracy == 1.0 and rows["nn_vote"].per_item == {}  # no model call
    # retention is against the better teacher condition, so the skill cannot win by showing the student demos
    assert report.retention.points == 100.0 and "teacher + the skill's demos" in report.retention.note
    demo_prompt = next(p for p in teacher.prompts if any(isinstance(x, AIMessage) for x in p))
    assert demo_prompt[1].text.startswith("Solved example") and "event" in demo_prompt[1].text
    assert rows["skill"].macro_f1 is not None and rows["skill"].accuracy_ci[1] == 1.0


def test_a_skill_without_labels_gets_neither_baseline() -> None:
    skill = Skill(classify_design(TASK))
    assert conditions.default_conditions(skill) == ["teacher_only", "raw_student", "skill", "skill_escalation"]


def test_cache_keys_cover_the_prompt_code_and_the_bank(monkeypatch) -> None:
    skill = labelled_skill()
    before = conditions.condition_keys(skill, "s", "t")
    monkeypatch.setattr(conditions, "code_digest", lambda kind="skill": f"other {kind} code")
    changed = conditions.condition_keys(skill, "s", "t")
    assert all(before[k] != changed[k] for k in before)  # a cache from other prompt code is never reused
    monkeypatch.undo()
    skill.bank.add([new_record("answer", {"event": "new"}, {"level": "Info"}, source="label")], check=False)
    grown = conditions.condition_keys(skill, "s", "t")
    assert grown["skill"] != before["skill"] and grown["teacher_only"] == before["teacher_only"]


def test_a_prompt_the_backend_refuses_is_a_wrong_answer_not_a_crash() -> None:
    class TooLong(Exception):
        status_code = 400
        message = "the prompt has 5000 tokens, more than the context's 4096"

    skill = labelled_skill()
    student = ScriptedChatModel(script=lambda m: TooLong() if not any(isinstance(x, AIMessage) for x in m) and "Input:" in m[-1].text
                                else json.dumps({"level": "Error"}), model_label="gpt-4o-mini")
    teacher = ScriptedChatModel(script=lambda m: json.dumps({"level": "Error"}), model_label="gpt-4o")
    report = evaluate_skill(skill, ITEMS, student=student, teacher=teacher, metric="label",
                            conditions=["raw_student", "skill"])
    rows = {r.key: r for r in report.conditions}
    assert rows["raw_student"].accuracy == 0.0 and rows["raw_student"].errors == len(ITEMS)
    assert rows["skill"].accuracy == 1.0
