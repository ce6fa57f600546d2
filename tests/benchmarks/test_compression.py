"""`skillc bench compression`: demos compressed once before the run, the comparison with `none`, the outputs."""

from __future__ import annotations

import json

from langchain_core.embeddings import DeterministicFakeEmbedding
from rich.console import Console

from skillc.benchmarks.compression import (
    Variant,
    compression_markdown,
    precompress_demos,
    summarise,
    write_outputs,
)
from skillc.core.records import new_record
from skillc.core.spec import Compression, RetrievalPolicy
from skillc.core.task import Sample
from skillc.graphs.compress import settings_key
from skillc.skills.bank import ExampleBank
from skillc.skills.skill import Skill
from tests.graphs.test_compress import HalvingCompressor

REASONING = " ".join(f"then {i} plus {i} makes {2 * i}" for i in range(30))
QUIET = Console(quiet=True)


def demo_skill() -> Skill:
    from skillc.benchmarks.gsm8k_demos import TASK_FILE, one_step_spec
    from skillc.core.task import Task

    skill = Skill(one_step_spec(Task.from_file(TASK_FILE), RetrievalPolicy(k=2, token_budget=3_000)))
    bank = ExampleBank(embeddings=DeterministicFakeEmbedding(size=16))
    bank.add([new_record("solve", {"question": f"question {i}"}, {"reasoning": f"{REASONING} {i}", "answer": i})
              for i in range(5)], check=False)
    skill._bank, skill.examples = bank, bank.records
    return skill


def test_the_demos_the_items_see_are_compressed_once_per_variant_and_stored():
    skill, compressor = demo_skill(), HalvingCompressor()
    variants = (Variant("none", None), Variant("half", Compression(rate=0.5, min_tokens=10, fields=["reasoning"])))
    items = [Sample(input={"question": "question 1"}, expected={"answer": 1})]
    once = precompress_demos(skill, items, variants, QUIET, compressor=compressor)
    assert list(once) == ["half"] and once["half"]["demos"] == 2 and len(compressor.asked) == 2
    key = settings_key(variants[1].settings)
    stored = [r for r in skill.bank.records if key in (r.get("compressed") or {})]
    assert len(stored) == 2
    for record in stored:
        assert record["output"]["reasoning"].startswith("then 0 plus 0")  # the original stays
        assert len(record["compressed"][key]["output"]["reasoning"].split()) < len(record["output"]["reasoning"].split())
    precompress_demos(skill, items, variants, QUIET, compressor=compressor)
    assert len(compressor.asked) == 2  # already stored: not compressed again


def row(name: str, correct: list[bool], tokens: float, student_s: float, compressor_s: float = 0.0,
        settings: dict | None = None) -> dict:
    return {"variant": name, "settings": settings, "items": len(correct), "accuracy": sum(correct) / len(correct),
            "errors": 0, "correct": correct,
            "median": {"input_tokens": tokens, "compressor_s": compressor_s, "student_s": student_s, "seconds": student_s + compressor_s}}


def test_each_variant_is_compared_with_no_compression_on_the_same_items(tmp_path):
    rows = [row("none", [True, True, False, False], 4000, 40),
            row("2x", [True, False, True, False], 1900, 20, compressor_s=8, settings={"rate": 0.5})]
    summary = summarise(rows, items=4, student="local:student", set_name="qa", skill="s")
    versus = summary["rows"][1]["versus_none"]
    assert round(versus["token_ratio"], 2) == 2.11 and versus["accuracy_change"] == 0.0
    assert versus["right_to_wrong"] == 1 and versus["wrong_to_right"] == 1
    assert versus["compressor_share"] == 8 / 20
    table = compression_markdown({"qa": summary})
    assert "tokens 2.11x (met), accuracy +0.0 pts (met), compressor 40% of the student time saved (missed)" in table
    written = write_outputs({"qa": summary}, tmp_path)
    assert json.loads((tmp_path / "compression.json").read_text())["qa"]["rows"][1]["versus_none"] == versus
    assert (tmp_path / "compression.png").stat().st_size > 10_000 and written["files"]["table"].endswith("compression.md")
