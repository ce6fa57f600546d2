"""`skillc eval --compress`: compression is adopted only when the eval holds, and both runs are recorded."""

from __future__ import annotations

import json

import pytest
from langchain_core.embeddings import DeterministicFakeEmbedding

import skillc.compression.compressor as compressor_module
from skillc.core.records import new_record
from skillc.core.spec import Compression
from skillc.core.task import Sample
from skillc.eval.compression import (
    adopt_compression,
    evaluate_compression,
    verdict_line,
)
from skillc.graphs.compress import settings_key
from skillc.skills.bank import ExampleBank
from skillc.skills.skill import Skill
from tests.fakes import ScriptedChatModel
from tests.graphs.test_compress import HalvingCompressor, qa_spec

FILLER = " ".join(f"w{i}" for i in range(120))


def transcript(clue_at_even_word: bool) -> str:
    """A long text whose clue word survives the halving compressor (even position) or not (odd)."""
    words = FILLER.split()
    words.insert(40 if clue_at_even_word else 41, "REFUND")
    return " ".join(words)


def reader(messages) -> str:
    """A student that answers Yes exactly when it can see the clue."""
    return json.dumps({"answer": "Yes" if "REFUND" in messages[-1].text else "No"})


def items(clue_survives: bool) -> list[Sample]:
    return [Sample(id=f"i{n}", input={"transcript": transcript(clue_survives), "question": "Was a refund asked?"},
                   expected={"answer": "Yes"}) for n in range(4)]


@pytest.fixture
def halving(monkeypatch):
    fake = HalvingCompressor()
    monkeypatch.setattr(compressor_module, "_SHARED", {"": fake})
    return fake


def options() -> dict:
    return {"student": ScriptedChatModel(script=reader), "teacher": ScriptedChatModel(script=reader), "metric": "label"}


def test_compression_that_keeps_the_answer_is_adopted(halving):
    report, adopted = evaluate_compression(Skill(qa_spec(None)), items(True), Compression(rate=0.5, min_tokens=50),
                                           **options())
    entry = report.compression
    assert adopted and entry["adopted"]
    assert entry["uncompressed"]["skill_accuracy"] == entry["compressed"]["skill_accuracy"] == 1.0
    assert entry["compressed"]["input_tokens_per_item"] < entry["uncompressed"]["input_tokens_per_item"]
    assert "compression adopted" in verdict_line(entry)


def test_compression_that_loses_the_answer_is_not_adopted_and_the_plain_run_is_kept(halving):
    report, adopted = evaluate_compression(Skill(qa_spec(None)), items(False), Compression(rate=0.5, min_tokens=50),
                                           **options())
    assert not adopted
    assert report.row("skill").accuracy == 1.0  # the report kept is the uncompressed run
    assert report.compression["compressed"]["skill_accuracy"] == 0.0
    assert verdict_line(report.compression).startswith("compression not adopted: skill accuracy 100% → 0%")


def test_a_tolerance_lets_a_small_loss_through(halving):
    mixed = items(True)[:3] + items(False)[:1]
    _, strict = evaluate_compression(Skill(qa_spec(None)), mixed, Compression(rate=0.5, min_tokens=50), **options())
    _, loose = evaluate_compression(Skill(qa_spec(None)), mixed, Compression(rate=0.5, min_tokens=50),
                                    tolerance_points=30, **options())
    assert (strict, loose) == (False, True)


def test_adoption_writes_the_settings_and_stores_compressed_demos_once(tmp_path, halving):
    skill = Skill(qa_spec(None), examples=[new_record("answer", {"transcript": transcript(True), "question": "Q?"},
                                                      {"answer": "Yes"})])
    skill._bank = ExampleBank(embeddings=DeterministicFakeEmbedding(size=16))
    skill._bank.add(skill.examples, check=False)
    skill.save(tmp_path / "qa")
    settings = Compression(rate=0.5, min_tokens=50)
    adopt_compression(Skill.load(tmp_path / "qa"), settings, halving)
    again = Skill.load(tmp_path / "qa")  # the manifest was re-signed
    assert again.spec.steps[0].compression == settings
    [record] = again.bank.records
    assert record["input"]["transcript"] == transcript(True)
    assert record["compressed"][settings_key(settings)]["input"]["transcript"] == " ".join(transcript(True).split()[::2])
