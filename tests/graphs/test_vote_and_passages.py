"""`vote` answers from labelled neighbours with no model; `search` with passages finds text with no model."""

from __future__ import annotations

import json

from langchain_core.embeddings import DeterministicFakeEmbedding

from skillc.compile.patterns import passages_design, vote_design, vote_then_design
from skillc.core.records import new_record
from skillc.core.task import Task
from skillc.skills import Skill
from skillc.skills.bank import ExampleBank
from tests.fakes import ScriptedChatModel

TASK = Task.model_validate({
    "name": "level", "description": "Label the event's level.",
    "inputs": {"event": {"type": "string"}},
    "output_schema": {"type": "object", "properties": {"level": {"enum": ["Info", "Error"]}}, "required": ["level"]},
})


def bank_of(pairs: list[tuple[str, str]]) -> ExampleBank:
    bank = ExampleBank(embeddings=DeterministicFakeEmbedding(size=16))
    bank.add([new_record("answer", {"event": e}, {"level": lab}, source="label") for e, lab in pairs], check=False)
    return bank


def with_bank(spec, bank: ExampleBank) -> Skill:
    skill = Skill(spec)
    skill._bank = bank
    return skill


def test_a_vote_answers_with_no_model_call_and_records_its_share() -> None:
    skill = with_bank(vote_design(TASK, k=3), bank_of([("disk full", "Error")] * 2 + [("disk full", "Info")]))
    result = skill.run({"event": "disk full"})
    assert result.output == {"level": "Error"} and result.by_model == {}
    [record] = result.trace
    assert record.primitive == "vote" and record.confidence == {"neighbours": 2 / 3}


def test_a_vote_with_nothing_to_vote_on_gives_up_clearly() -> None:
    result = with_bank(vote_design(TASK), ExampleBank(embeddings=DeterministicFakeEmbedding(size=16))).run({"event": "x"})
    assert result.error is not None and "no record of step" in result.error.message


def test_an_unsure_vote_hands_the_input_to_the_student() -> None:
    bank = bank_of([("fan", "Error"), ("fan", "Info"), ("fan", "Error"), ("fan", "Info")])
    student = ScriptedChatModel(script=[json.dumps({"level": "Info"})])
    result = with_bank(vote_then_design(TASK, min_share=0.8, k=4), bank).run({"event": "fan"}, student=student)
    assert result.output == {"level": "Info"} and [r.primitive for r in result.trace] == ["vote", "classify"]
    sure = with_bank(vote_then_design(TASK, min_share=0.5, k=2), bank_of([("fan", "Error")] * 2))
    assert sure.run({"event": "fan"}, student=ScriptedChatModel(script=[])).output == {"level": "Error"}


def test_passages_keep_the_lines_that_match_the_question_and_nothing_else() -> None:
    task = Task.model_validate({
        "name": "call", "description": "Answer a question about a call.",
        "inputs": {"transcript": {"type": "string"}, "question": {"type": "string"}},
        "output_schema": {"type": "object", "properties": {"answer": {"enum": ["Yes", "No"]}}, "required": ["answer"]},
    })
    lines = [f"Rep\nline {i} about the weather" for i in range(40)] + ["Jane\nPizza is my favorite dish."]
    transcript = "\n".join(lines)
    student = ScriptedChatModel(script=[json.dumps({"answer": "Yes"})])
    spec = passages_design(task, "transcript", top=2, window=2)
    skill = Skill(spec)
    skill._bank = ExampleBank(embeddings=DeterministicFakeEmbedding(size=16))
    result = skill.run({"transcript": transcript, "question": "Pizza is my favorite dish."}, student=student)
    assert result.output == {"answer": "Yes"} and [r.primitive for r in result.trace] == ["search", "classify"]
    shown = student.prompts[0][-1].text
    assert len(shown) < len(transcript) / 5 and result.trace[0].role == "compute"


def test_an_unsure_vote_with_an_empty_bank_passes_on_instead_of_giving_up() -> None:
    student = ScriptedChatModel(script=[json.dumps({"level": "Error"})])
    empty = ExampleBank(embeddings=DeterministicFakeEmbedding(size=16))
    result = with_bank(vote_then_design(TASK, min_share=0.8), empty).run({"event": "fan"}, student=student)
    assert result.output == {"level": "Error"} and result.trace[0].confidence is None  # passed on: not an answer


def test_short_texts_give_each_line_once() -> None:
    from skillc.core.spec import Passages
    from skillc.graphs.passages import find_passages

    text = "\n".join(f"line {i}" for i in range(8))
    found = find_passages(text, "line 3", Passages(source="t", top=3, window=4), DeterministicFakeEmbedding(size=8))
    assert found.splitlines() == [f"line {i}" for i in range(8)]
