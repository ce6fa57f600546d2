"""A step's `compression`: long inputs and demos compressed for the student only, traced, stored once."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from langchain_core.embeddings import DeterministicFakeEmbedding
from pydantic import ValidationError

from skillc.adapters.tokens import count_tokens
from skillc.core.records import new_record
from skillc.core.spec import Compression, SkillSpec
from skillc.graphs.compress import (
    compress_inputs,
    compress_records,
    demo_shown,
    settings_key,
    step_question,
    with_compression,
)
from skillc.graphs.config import RunConfig, step_compressor
from skillc.skills.bank import ExampleBank
from skillc.skills.skill import Skill
from tests.fakes import ScriptedChatModel, json_reply

LONG = " ".join(f"line {i} of the call, nothing much." for i in range(200))
HALF = " ".join(LONG.split()[::2])
ANSWER = json_reply(answer="Yes")


@dataclass
class Squeezed:
    text: str
    origin_tokens: int
    compressed_tokens: int
    seconds: float = 0.01
    passed_through: bool = False

    def as_record(self) -> dict:
        return {"origin_tokens": self.origin_tokens, "compressed_tokens": self.compressed_tokens,
                "seconds": self.seconds, "passed_through": self.passed_through}


class HalvingCompressor:
    """Keeps every other word; counts words as tokens; remembers what it was asked."""

    def __init__(self) -> None:
        self.asked: list[dict] = []

    def count(self, text: str) -> int:
        return len(text.split())

    def compress(self, text, *, rate=None, target_tokens=None, question="", min_tokens=0, token_level=True):
        self.asked.append({"text": text, "rate": rate, "question": question, "token_level": token_level})
        words = text.split()
        kept = " ".join(words[::2])
        return Squeezed(kept, len(words), len(kept.split()))


def qa_spec(compression: Compression | None = Compression(rate=0.5, min_tokens=50)) -> SkillSpec:
    return SkillSpec.model_validate({
        "name": "qa", "task": "Answer a yes/no question about a call.", "entry": "answer",
        "input_schema": {"type": "object", "properties": {"transcript": {"type": "string"}, "question": {"type": "string"}}},
        "output_schema": {"type": "object", "properties": {"answer": {"enum": ["Yes", "No"]}}, "required": ["answer"]},
        "steps": [{"id": "answer", "primitive": "classify", "instruction": "Answer the question from the transcript.",
                   "reads": ["transcript", "question"], "writes": ["answer"], "next": "END",
                   "contract": {"type": "object", "properties": {"answer": {"enum": ["Yes", "No"]}}, "required": ["answer"]},
                   **({"compression": compression.model_dump(exclude_none=True)} if compression else {})}],
    })


def test_the_student_reads_the_compressed_transcript_and_the_trace_says_how_much():
    compressor = HalvingCompressor()
    student = ScriptedChatModel(script={"answer": [ANSWER]})
    result = Skill(qa_spec()).run({"transcript": LONG, "question": "Did they mention a price?"},
                                  config=RunConfig(student=student, compressor=compressor))
    assert result.ok
    prompt = student.prompts[0][-1].text
    assert HALF in prompt and LONG not in prompt
    assert "Did they mention a price?" in prompt  # the short field passes untouched
    [note] = [r.compression for r in result.trace if r.compression]
    # an API student: counted with tiktoken, not by the compressor's scorer
    assert note["transcript"]["origin_tokens"] == count_tokens(LONG) and note["transcript"]["compressed_tokens"] == count_tokens(HALF)
    # LongLLMLingua's question: the instruction and the short string inputs
    assert compressor.asked[0]["question"] == "Answer the question from the transcript.\nquestion: Did they mention a price?"
    assert compressor.asked[0]["rate"] == 0.5


def test_an_escalated_step_shows_the_teacher_the_original_text():
    compressor = HalvingCompressor()
    student = ScriptedChatModel(script={"answer": ["not json", "still not json"]})
    teacher = ScriptedChatModel(script={"task": [ANSWER]})  # a one-step skill escalates as the whole task
    result = Skill(qa_spec()).run({"transcript": LONG, "question": "Q?"},
                                  config=RunConfig(student=student, teacher=teacher, compressor=compressor))
    assert result.ok and result.escalated
    assert LONG in teacher.prompts[0][1].text


def test_fields_under_min_tokens_and_non_strings_pass_through():
    spec = qa_spec(Compression(rate=0.5, min_tokens=5000))
    compressor = HalvingCompressor()
    shown, notes = compress_inputs(spec.steps[0], {"transcript": LONG, "question": "Q?"}, compressor)
    assert shown["transcript"] == LONG and notes == {} and compressor.asked == []
    step = qa_spec().steps[0]
    shown, notes = compress_inputs(step, {"transcript": 12345, "question": None}, compressor)
    assert shown == {"transcript": 12345, "question": None} and notes == {}


def test_named_fields_and_a_given_question_win():
    step = qa_spec(Compression(rate=0.25, min_tokens=1, fields=["question"], question="price?")).steps[0]
    compressor = HalvingCompressor()
    shown, notes = compress_inputs(step, {"transcript": LONG, "question": "one two three four"}, compressor)
    assert shown["transcript"] == LONG and shown["question"] == "one three" and list(notes) == ["question"]
    assert compressor.asked[0]["question"] == "price?" and step_question(step, {}, []) == "price?"


def test_a_compression_needs_exactly_one_budget():
    with pytest.raises(ValidationError, match="exactly one of rate and target_tokens"):
        Compression()
    with pytest.raises(ValidationError, match="exactly one of rate and target_tokens"):
        Compression(rate=0.5, target_tokens=100)
    with pytest.raises(ValidationError):
        Compression(rate=1.5)


def test_demos_are_compressed_once_and_stored_beside_the_original(tmp_path):
    spec = qa_spec()
    compressor = HalvingCompressor()
    record = new_record("answer", {"transcript": LONG, "question": "Q?"}, {"answer": "No"})
    [stored] = compress_records(spec.steps, [record], compressor)
    key = settings_key(spec.steps[0].compression)
    assert stored["input"]["transcript"] == LONG  # the original stays
    assert stored["compressed"][key] == {"input": {"transcript": HALF}, "output": {}}
    asked = len(compressor.asked)
    assert demo_shown(spec.steps[0], stored, compressor)["input"]["transcript"] == HALF
    assert len(compressor.asked) == asked  # served from the record, not compressed again
    # other settings: compressed when shown
    other = qa_spec(Compression(rate=0.25, min_tokens=50)).steps[0]
    demo_shown(other, stored, compressor)
    assert len(compressor.asked) == asked + 1


def test_a_demos_reasoning_is_compressed_its_answer_and_the_live_input_are_not():
    reasoning = " ".join(f"then {i} plus {i} makes {2 * i}" for i in range(40))
    step = qa_spec(Compression(rate=0.5, min_tokens=50, fields=["reasoning"])).steps[0]
    compressor = HalvingCompressor()
    record = new_record("answer", {"transcript": LONG, "question": "Q?"}, {"reasoning": reasoning, "answer": "No"})
    shown = demo_shown(step, record, compressor)
    assert shown["output"] == {"reasoning": " ".join(reasoning.split()[::2]), "answer": "No"}
    assert shown["input"]["transcript"] == LONG  # not a named field
    assert record["output"]["reasoning"] == reasoning  # the record itself is untouched
    assert compressor.asked[0]["question"].endswith("question: Q?")  # asked by the demo's own question
    live, notes = compress_inputs(step, {"transcript": LONG, "question": "Q?"}, compressor)
    assert live["transcript"] == LONG and notes == {}


def test_the_trace_counts_tokens_with_the_models_own_counter():
    compressor = HalvingCompressor()
    _, notes = compress_inputs(qa_spec().steps[0], {"transcript": LONG, "question": "Q?"}, compressor, count=len)
    assert notes["transcript"]["origin_tokens"] == len(LONG) and notes["transcript"]["compressed_tokens"] == len(HALF)
    assert notes["transcript"]["tokenizer"] == "model"


def test_the_student_sees_compressed_demos_that_now_fit_the_budget(tmp_path):
    spec = qa_spec()
    spec.retrieval.token_budget = 1_500  # the demo's transcript takes ~2,400 tokens, half of it ~1,200
    compressor = HalvingCompressor()
    bank = ExampleBank(tmp_path, embeddings=DeterministicFakeEmbedding(size=32))
    bank.add([new_record("answer", {"transcript": LONG, "question": "Q?"}, {"answer": "No"})])
    skill = Skill(spec)
    skill._bank = bank
    student = ScriptedChatModel(script={"answer": [ANSWER, ANSWER]})
    uncompressed = Skill(with_compression(spec, None))
    uncompressed._bank = bank
    uncompressed.run({"transcript": LONG, "question": "Q?"}, config=RunConfig(student=student))
    skill.run({"transcript": LONG, "question": "Q?"}, config=RunConfig(student=student, compressor=compressor))
    plain, squeezed = student.prompts
    assert [m.type for m in plain] == ["system", "human"]  # the full demo is over budget
    assert [m.type for m in squeezed] == ["system", "human", "ai", "human"]


def test_growth_stores_the_compressed_demo_with_the_teachers_answer(tmp_path):
    spec = qa_spec()
    compressor = HalvingCompressor()
    skill = Skill(spec)
    skill._bank = ExampleBank(tmp_path, embeddings=DeterministicFakeEmbedding(size=32))
    student = ScriptedChatModel(script={"answer": ["x", "y"]})
    teacher = ScriptedChatModel(script={"task": [ANSWER]})
    assert skill.run({"transcript": LONG, "question": "Q?"},
                     config=RunConfig(student=student, teacher=teacher, compressor=compressor)).escalated
    [learned] = skill.bank.quarantine.pending()  # no declared check: staged for review first
    assert learned["input"]["transcript"] == LONG
    assert learned["compressed"][settings_key(spec.steps[0].compression)]["input"]["transcript"] == HALF


def test_a_spec_without_compression_needs_no_compressor():
    assert step_compressor(qa_spec(None)) is None
    given = HalvingCompressor()
    assert step_compressor(qa_spec(), given) is given


def test_with_compression_sets_and_clears_every_llm_step():
    on = with_compression(qa_spec(None), Compression(rate=0.5))
    assert on.steps[0].compression == Compression(rate=0.5)
    assert with_compression(on, None).steps[0].compression is None
