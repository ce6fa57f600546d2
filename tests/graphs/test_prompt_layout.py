"""The stable part of a step prompt comes first, so a server's prompt cache reuses it across inputs."""

from __future__ import annotations

import json

from langchain_core.embeddings import DeterministicFakeEmbedding

from skillc.core.records import new_record
from skillc.core.spec import RetrievalPolicy, SkillSpec
from skillc.graphs.prompts import step_messages, step_preamble, task_messages
from skillc.skills import Skill
from skillc.skills.bank import ExampleBank
from tests.fakes import ScriptedChatModel
from tests.level_skill import LEVEL_SPEC

SPEC = SkillSpec.model_validate(LEVEL_SPEC)


def test_the_prompt_order_puts_the_stable_prefix_first() -> None:
    step = SPEC.steps[0]
    a, b = step_messages(SPEC.task, step, {"event": "disk full"}), step_messages(SPEC.task, step, {"event": "update ok"})
    assert a[0] == b[0] and a[0][0] == "system"  # everything before the input is the same for every input
    system = a[0][1]
    for part in ("Label the event's level.", "Instruction: Label it.", 'Allowed labels: ["Info", "Error"]', "matches this contract"):
        assert part in system
    assert "disk full" not in system and "disk full" in a[1][1]
    assert step_preamble(SPEC.task, step) == system


def test_demos_sit_between_the_stable_prefix_and_the_input() -> None:
    bank = ExampleBank(embeddings=DeterministicFakeEmbedding(size=8))
    records = [new_record("answer", {"event": f"event {i}"}, {"level": "Info"}, source="label") for i in range(3)]
    bank.add(records, check=False)
    fixed = [r["id"] for r in records[:2]]
    step = SPEC.steps[0].model_copy(update={"retrieval": RetrievalPolicy(k=2, fixed=fixed)})
    skill = Skill(SPEC.model_copy(update={"steps": [step]}))
    skill._bank = bank
    student = ScriptedChatModel(script=[json.dumps({"level": "Error"})] * 2)
    skill.run({"event": "disk full"}, student=student)
    skill.run({"event": "fan failed"}, student=student)
    first, second = student.prompts
    assert [m.type for m in first] == ["system", "human", "ai", "human", "ai", "human"]
    # fixed demos: the whole prompt up to the input is identical, so the cache reuses all of it
    assert [m.text for m in first[:-1]] == [m.text for m in second[:-1]]
    assert "event 0" in first[1].text and "disk full" in first[-1].text and "fan failed" in second[-1].text


def test_the_one_shot_prompt_also_keeps_its_stable_part_first() -> None:
    with_demos = task_messages("T", {"x": 1}, {"type": "object"}, demos=[{"input": {"x": 0}, "output": {"y": 2}}])
    assert [role for role, _ in with_demos] == ["system", "user", "assistant", "user"]
    assert with_demos[0] == task_messages("T", {"x": 5}, {"type": "object"})[0]
