"""Compile for the student: the search keeps what the *student* does best on, on held-out labelled items."""

from __future__ import annotations

import json
import re

import pytest
from langchain_core.messages import AIMessage, BaseMessage

from skillc.compile.candidates import pattern_candidates
from skillc.compile.compiler import compile_skill
from skillc.compile.search import search
from skillc.core.task import Sample, Task
from skillc.skills import Skill
from tests.fakes import ScriptedChatModel

TASK = Task.model_validate({
    "name": "parity", "description": "Say whether the number in the text is even.", "metric": "label",
    "inputs": {"text": {"type": "string"}},
    "output_schema": {"type": "object", "properties": {"parity": {"enum": ["even", "odd"]}}, "required": ["parity"]},
})


def items(n: int, start: int = 0) -> list[Sample]:
    # labels that text similarity cannot predict (a neighbour vote is near chance), a model with demos can
    return [Sample(input={"text": f"ticket {i} was filed"}, expected={"parity": "even" if i % 2 == 0 else "odd"}, id=f"t{i}")
            for i in range(start, start + n)]


def right_answer(messages: list[BaseMessage]) -> str:
    number = int(re.findall(r"ticket (\d+)", messages[-1].text)[-1])
    return json.dumps({"parity": "even" if number % 2 == 0 else "odd"})


def shown_demos(messages: list[BaseMessage]) -> bool:
    return any(isinstance(m, AIMessage) for m in messages)


def student() -> ScriptedChatModel:
    """Right only when it is shown demos; otherwise always says `even` (half wrong)."""
    return ScriptedChatModel(script=lambda m: right_answer(m) if shown_demos(m) else json.dumps({"parity": "even"}),
                             model_label="student-model")


def teacher() -> ScriptedChatModel:
    """The opposite: right without demos, always `even` with them. A search scored by it keeps `k=0`."""
    return ScriptedChatModel(script=lambda m: json.dumps({"parity": "even"}) if shown_demos(m) else right_answer(m),
                             model_label="teacher-model")


def test_the_search_keeps_the_candidate_the_student_does_best_on() -> None:
    pool = pattern_candidates(TASK, items(24))
    result = search(pool, items(10, start=100), student=student(), metric="label")
    assert result.kept.demos != "k=0" and result.kept.model_steps == 1
    assert result.score.accuracy == 1.0 and result.raw.accuracy == 0.5
    zero = next(s for s in result.table if s.demos == "k=0")
    assert zero.accuracy == 0.5  # the same candidate the teacher would be perfect on
    # scored with the teacher instead, the kept candidate would be the one without demos
    assert search(pool, items(10, start=100), student=teacher(), metric="label").kept.demos == "k=0"


def test_compile_with_a_trainset_records_every_candidate_and_fills_the_bank_with_labels(tmp_path) -> None:
    lines: list[str] = []
    skill = compile_skill(TASK, teacher=None, student=student(), trainset=items(30), dev_share=0.3, seed=1,
                          signals=(), progress=lines.append, cache_dir=tmp_path / "cache")
    search_info = skill.spec.provenance.search
    assert {k: v for k, v in search_info["splits"].items() if k != "items"} == {"train": 21, "dev": 9, "seed": 1, "source": ""}
    assert len(search_info["splits"]["items"]) == 16
    assert {c["candidate"] for c in search_info["candidates"]} >= {"vote · k=8", "classify · k=0", "classify · k=3"}
    assert skill.spec.provenance.student == "student-model" and skill.spec.provenance.design in ("classify", "vote → classify")
    assert all(r["source"] == "label" and r["output"]["parity"] in ("even", "odd") for r in skill.bank.records)
    assert any(line.startswith("search 1/") and "dev " in line for line in lines)  # a line per candidate
    folder = skill.save(tmp_path / "parity")
    text = (folder / "SKILL.md").read_text()
    assert "## How it was chosen" in text and "(kept)" in text and "raw student (one call)" in text
    assert Skill.load(folder).spec.provenance.search == search_info


def test_a_killed_search_resumes_from_its_cache(tmp_path) -> None:
    pool = pattern_candidates(TASK, items(24))
    first = student()
    search(pool, items(8, start=100), student=first, metric="label", cache_dir=tmp_path)
    again = student()
    result = search(pool, items(8, start=100), student=again, metric="label", cache_dir=tmp_path)
    assert first.prompts and again.prompts == [] and result.score.accuracy == 1.0


def test_the_budget_skips_candidates_and_says_so() -> None:
    pool = pattern_candidates(TASK, items(24))
    result = search(pool, items(10, start=100), student=student(), metric="label", budget=25)
    statuses = {s.name: s.status for s in result.table}
    assert "over budget" in statuses.values() and statuses["vote · k=8"] == "scored"
    assert result.student_calls <= 25


def test_student_and_search_options_need_a_trainset() -> None:
    from skillc.core.errors import InvalidInputError

    with pytest.raises(InvalidInputError, match="need --trainset"):
        compile_skill(TASK, teacher=teacher(), student=student())


def test_a_slow_raw_student_says_it_is_alive_per_chunk(monkeypatch) -> None:
    """The raw student's dev run (minutes on long inputs) prints a line per chunk, as a slow candidate does."""
    import skillc.compile.search as search_module

    monkeypatch.setattr(search_module, "PROGRESS_AFTER_S", 0.0)
    lines: list[str] = []
    pool = pattern_candidates(TASK, items(24))
    search(pool, items(10, start=100), student=student(), metric="label", say=lines.append)
    raw_lines = [re.sub(r"\d+ s$", "N s", line) for line in lines if line.startswith("search: raw student ·")]
    assert raw_lines == ["search: raw student · 4/10 dev items, 2 right so far, N s",
                         "search: raw student · 8/10 dev items, 4 right so far, N s"]
    assert any(line.startswith("search: raw student (one call") for line in lines)
