"""Labelled items as ground truth: the dev split, label records, and rationalised working marked as such."""

from __future__ import annotations

import json

import pytest

from skillc.adapters.models import resolve_model
from skillc.compile.bootstrap import rationalise
from skillc.compile.patterns import program_design
from skillc.compile.trainset import label_records, load_labelled, split_dev
from skillc.core.errors import InvalidInputError
from skillc.core.spec import Step
from skillc.core.task import Sample, Task
from tests.fakes import ScriptedChatModel

LAWS = Task.model_validate({
    "name": "law-subject", "description": "Classify the summary of a law.", "metric": "includes",
    "inputs": {"summary": {"type": "string"}},
    "output_schema": {"type": "object", "properties": {"category": {"enum": ["Saúde", "Educação"]}}},
})
YEAR = Task.model_validate({
    "name": "depletion-year", "description": "In which year does the money run out?", "metric": "numeric",
    "inputs": {"question": {"type": "string"}},
    "output_schema": {"type": "object", "properties": {"reasoning": {"type": "string"}, "year": {"type": "integer"}}},
})


def test_a_labelled_items_demo_carries_its_label() -> None:
    step = Step(id="answer", primitive="classify", instruction="Classify.", reads=["summary"], writes=["category"],
                next="END", contract=LAWS.output_schema)
    items = [Sample(input={"summary": "hospitais"}, expected={"category": ["Saúde", "Educação"]}, id="a"),
             Sample(input={"summary": "escolas"}, expected={"category": "Educação"}, id="b"),
             Sample(input={"summary": "sem rótulo"}, expected={"other": 1}, id="c")]
    records = label_records(step, items)
    assert [(r["input"], r["output"], r["source"], r["item"]) for r in records] == [
        ({"summary": "hospitais"}, {"category": "Saúde"}, "label", "a"),  # several accepted answers: the first
        ({"summary": "escolas"}, {"category": "Educação"}, "label", "b"),
    ]


def test_a_label_without_the_working_is_a_demo_of_the_answer_alone() -> None:
    step = Step(id="answer", primitive="transform", instruction="Solve.", reads=["question"],
                writes=["reasoning", "year"], next="END", contract=YEAR.output_schema)
    [record] = label_records(step, [Sample(input={"question": "q"}, expected={"year": 2030})])
    assert record["output"] == {"year": 2030}


def test_the_dev_split_is_seeded_disjoint_and_never_empty() -> None:
    items = [Sample(input={"q": str(i)}, expected={"a": i}) for i in range(20)]
    train, dev = split_dev(items, dev_share=0.25, seed=3)
    again, _ = split_dev(items, dev_share=0.25, seed=3)
    assert len(dev) == 5 and train == again and not {s.input["q"] for s in train} & {s.input["q"] for s in dev}
    assert split_dev(items, dev=items[:2])[1] == items[:2]
    with pytest.raises(InvalidInputError, match="at least 2"):
        split_dev(items[:1])


def test_a_trainset_line_without_a_label_is_refused_by_line(tmp_path) -> None:
    path = tmp_path / "train.jsonl"
    path.write_text(json.dumps({"input": {"summary": "x"}, "expected": {"category": "Saúde"}}) + "\n"
                    + json.dumps({"input": {"summary": "y"}}) + "\n")
    with pytest.raises(InvalidInputError, match="line 2 has no `expected`"):
        load_labelled(path, LAWS)


def test_a_rationalised_record_is_marked_and_kept_only_when_it_reaches_the_label() -> None:
    spec = program_design(YEAR)
    formula = spec.step("formula")
    item = Sample(input={"question": "67 dollars, 9 a year, from 2023"}, expected={"year": 2030}, id="x")
    good = json.dumps({"reasoning": "67 / 9 is 7.4, so 2023 + 7", "expression": "2023 + 7"})
    teacher = ScriptedChatModel(script=[good, json.dumps({"reasoning": "guess", "expression": "2023 + 5"})])
    record, call = rationalise(resolve_model(teacher), YEAR.description, formula, item, "year")
    assert record is not None and record["rationalised"] is True and record["source"] == "teacher"
    assert record["output"]["expression"] == "2023 + 7" and record["item"] == "x"
    assert "The correct year is 2030" in teacher.prompts[0][-1].text and call.role == "teacher"
    wrong, _ = rationalise(resolve_model(teacher), YEAR.description, formula, item, "year")
    assert wrong is None
