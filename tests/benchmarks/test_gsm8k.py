"""`skillc bench gsm8k` on a tiny GSM8K-shaped folder, with a scripted architect and student."""

from __future__ import annotations

import csv
import json
import re
import shutil
from pathlib import Path

import pytest
from langchain_core.messages import BaseMessage

from skillc.benchmarks.gsm8k import (
    Settings,
    cheapest_point,
    check_data,
    check_settings,
    eval_samples,
    final_expression,
    heldout_rows,
    run_benchmark,
    strip_annotations,
    write_summary,
)
from skillc.core.errors import InvalidInputError
from tests.fakes import ScriptedChatModel, json_reply, step_of

DESIGN = {
    "entry": "solve",
    "steps": [
        {"id": "solve", "primitive": "transform", "instruction": "Work it out; write the final expression.",
         "reads": ["question"], "writes": {"reasoning": "string", "expression": "string"},
         "on_fail": ["retry", "escalate", "give_up"], "next": "answer"},
        {"id": "answer", "primitive": "compute", "instruction": "Evaluate the expression.", "reads": ["expression"],
         "writes": {"answer": "number"}, "expression_from": "expression", "next": "END"},
    ],
    "decisions": [],
}
# question -> (reference, the student's answer, whether its samples agree)
TEST = {
    "Tom has 3 bags of 4 apples. How many apples?": (12, 12, True),
    "Ann reads 5 pages a day for 6 days. How many pages?": (30, 35, False),
    "A box holds 7 eggs; 2 boxes. How many eggs?": (14, 14, True),
    "Sam had 9 cards and gave away 4. How many are left?": (5, 6, True),
}
TRAIN = [(f"Train problem {i}: {i} plus {i}?", f"{i}+{i} = <<{i}+{i}={2 * i}>>{2 * i}\n#### {2 * i}", 2 * i) for i in range(1, 9)]


@pytest.fixture
def data(tmp_path: Path) -> Path:
    folder = tmp_path / "gsm8k"
    folder.mkdir()
    questions = ["Old logged problem 1: 2 and 2?", "Old logged problem 2: 3 and 3?", "Old logged problem 3: 9 and 1?",
                 *TEST]
    answers = [4, 6, 10, *[v[0] for v in TEST.values()]]
    gpt4 = [4, 6, 10, 12, 30, 14, 4]  # GPT-4 gets the last test row wrong
    with open(folder / "teacher_logs.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["prompt", "gpt-4-1106-preview", "gpt-4-1106-preview_response"])
        for q, a, g in zip(questions, answers, gpt4, strict=True):
            w.writerow([q, str(a == g), f"Working through it step by step gives {g}.\nThe answer is {g}."])
    (folder / "test.jsonl").write_text("".join(json.dumps({"question": q, "answer": f"...\n#### {a}"}) + "\n"
                                               for q, a in zip(questions, answers, strict=True)))
    (folder / "train.jsonl").write_text("".join(json.dumps({"question": q, "answer": a}) + "\n" for q, a, _ in TRAIN))
    (folder / "contaminated_prompts.jsonl").write_text(json.dumps({"train_prompt": "Old logged problem 3: 9 and 1?"}) + "\n")
    return folder


def _question(messages: list[BaseMessage]) -> str:
    text = "\n".join(m.text for m in messages)
    found = [q for q in [*TEST, *(t[0] for t in TRAIN)] if q in text]
    return max(found, key=text.rfind)  # demos come first: the question asked is the last one


def _student_answer(q: str) -> tuple[int, bool]:
    """The student's answer and whether its samples agree: test rows per TEST; train problems right and sure
    for even numbers, wrong (off by one) and unsure for odd ones."""
    if q in TEST:
        return TEST[q][1], TEST[q][2]
    i = int(re.search(r"(\d+) plus", q).group(1))
    return (2 * i, True) if i % 2 == 0 else (2 * i + 1, False)


def student() -> ScriptedChatModel:
    def reply(messages: list[BaseMessage]) -> str:
        answer, _ = _student_answer(_question(messages))
        if step_of(messages) == "task":
            return json_reply(answer=answer)
        return json_reply(reasoning=f"counting gives {answer}", expression=str(answer))

    class Sampling(ScriptedChatModel):
        def _generate(self, messages, stop=None, run_manager=None, **kwargs):  # type: ignore[no-untyped-def]
            if "temperature" in kwargs:
                answer, agree = _student_answer(_question(messages))
                value = answer if agree else -1
                self.script = lambda m: json_reply(reasoning=f"so {value}", expression=str(value))
            else:
                self.script = reply
            return super()._generate(messages, stop, run_manager, **kwargs)

    return Sampling(model_label="student-model")


def test_annotations_and_final_expression() -> None:
    text, exprs = strip_annotations("2 bags: 2*4 = <<2*4=8>>8.\nThen 8+1 = <<8+1=9>>9\n#### 9")
    assert text == "2 bags: 2*4 = 8.\nThen 8+1 = 9\nThe answer is 9." and exprs == ["2*4", "8+1"]
    assert final_expression(exprs, 9) == "8+1"
    assert final_expression(exprs, 10) == "10"  # the last calculation is not the answer: use the number
    assert final_expression([], 2.5) == "2.5"


def test_data_and_settings_are_checked(tmp_path: Path, data: Path) -> None:
    with pytest.raises(InvalidInputError, match="missing teacher_logs.csv"):
        check_data(tmp_path)
    with pytest.raises(InvalidInputError, match="--calibrate"):
        check_settings(Settings(calibrate=0))
    with pytest.raises(InvalidInputError, match="--signals"):
        check_settings(Settings(signals=("vibes",)))
    samples = eval_samples(data, 3, 10)
    assert [s.expected for s in samples] == [{"answer": v[0]} for v in TEST.values()]
    assert heldout_rows(TRAIN, Settings(seed=1)) == heldout_rows(TRAIN, Settings(seed=1)) != heldout_rows(TRAIN, Settings(seed=2))


def test_benchmark_end_to_end_with_scripted_models(tmp_path: Path, data: Path) -> None:
    architect = ScriptedChatModel(script={"design": [json.dumps(DESIGN)]}, model_label="architect")
    settings = Settings(student=student(), teacher=architect, start=3, limit=4, signals=("check", "consistency"),  # type: ignore[arg-type]
                        samples=2, calibrate=4, max_wrong_pass=0.0, vote=False)
    report = run_benchmark(data, settings, tmp_path / "out")
    assert report["items"] == 4
    assert report["gpt4_accuracy"] == 0.75 and report["gpt4_recorded_accuracy"] == 0.75
    assert report["raw_student_accuracy"] == 0.5 and report["skill_accuracy"] == 0.5
    # calibration: the held-out problems the student gets wrong are the unsure ones, which only consistency
    # sees (every run passes its checks), so consistency becomes the gate at 1.0 (escalate unless all agree)
    gate = report["gate"]
    assert gate["signal"] == "consistency" and gate["threshold"] == 1.0
    calib = gate["calibration"]["signals"]
    assert calib["check"]["escalation_rate"] == 1.0 and calib["consistency"]["wrong_pass_rate"] == 0.0
    # test rows: only Ann's (wrong, unsure) goes to GPT-4, which gets it right; Sam's (wrong, sure) stays wrong
    assert report["escalation_share"] == 0.25 and report["skill_escalation_accuracy"] == 0.75
    assert report["retention_percent"] == 100.0 and report["goal_met"]  # 100% of GPT-4 with 25% escalated
    # the bound: escalating exactly the two wrong rows (Ann's, Sam's) reaches GPT-4's 75% with 50% escalated
    assert report["oracle"]["accuracy"] == 0.75 and report["oracle"]["escalation_share"] == 0.5
    assert [(w["expected"], w["answer"], w["escalated"]) for w in report["wrong_answers"]] == [(30, 35, True), (5, 6, False)]
    assert report["wrong_answers"][0]["expression"] == "35"
    # the compiled design got the cross-check: solve's working must arrive at its expression's value
    assert json.loads((tmp_path / "out" / "student-model" / "skill.json").read_text())["steps"][0]["check"]["kind"] == "states"
    assert calib["consistency"]["wrong_pass_ci"][0] == 0.0 and calib["consistency"]["wrong_pass_ci"][1] > 0.3
    assert 0 < report["skill_cost_per_item_usd"] < report["gpt4_cost_per_item_usd"] / 2
    curve = [(p["threshold"], p["accuracy"], p["escalation_rate"]) for p in report["curves"]["consistency"]]
    assert curve == [(0.0, 0.5, 0.0), (1.0, 0.75, 0.25), (None, 0.75, 1.0)]
    assert set(report["curves"]) == {"check", "consistency"}
    bank = json.loads((tmp_path / "out" / "skill-info.json").read_text())["bank"]
    assert bank["logs"]["kept"] == 2  # the contaminated logged problem is blocklisted
    assert bank["train"]["held_out"] == 4 and bank["train"]["kept"] == 4
    assert Path(report["files"]["png"]).stat().st_size > 1000
    again = run_benchmark(data, settings, tmp_path / "out")  # resumes from the caches: no model calls
    assert again["skill_accuracy"] == report["skill_accuracy"]


def test_a_new_checkout_rebuilds_the_pinned_design_and_resumes_from_the_caches(tmp_path: Path, data: Path) -> None:
    """Only design.json and the per-item caches are committed: the skill folder is rebuilt without the architect,
    and the caches (keyed by the design) still answer every item, so neither model is called again."""
    architect = ScriptedChatModel(script={"design": [json.dumps(DESIGN)]}, model_label="architect")
    settings = Settings(student=student(), teacher=architect, start=3, limit=4, signals=("check", "consistency"),  # type: ignore[arg-type]
                        samples=2, calibrate=4, max_wrong_pass=0.0, vote=False)
    out = tmp_path / "out"
    report = run_benchmark(data, settings, out)
    assert (out / "design.json").exists()
    shutil.rmtree(out / "gsm8k-math")
    (out / "skill-info.json").unlink()
    silent = ScriptedChatModel(script={}, model_label="student-model")  # any call fails: no reply is scripted
    rebuilt = run_benchmark(data, Settings(**{**settings.__dict__, "student": silent, "teacher": silent}), out)
    assert rebuilt["skill_accuracy"] == report["skill_accuracy"] and rebuilt["gate"] == report["gate"]
    assert json.loads((out / "skill-info.json").read_text())["bank"]["logs"]["kept"] == 2  # same quality filter


def test_the_majority_of_the_samples_answers_when_voting(tmp_path: Path, data: Path) -> None:
    """Greedy answers as in TEST, but every sample gives the reference: the vote turns both wrong rows right."""

    class RightSamples(ScriptedChatModel):
        def _generate(self, messages, stop=None, run_manager=None, **kwargs):  # type: ignore[no-untyped-def]
            q = _question(messages)
            greedy, _ = _student_answer(q)
            right = TEST[q][0] if q in TEST else 2 * int(re.search(r"(\d+) plus", q).group(1))
            value = right if "temperature" in kwargs else greedy
            if step_of(messages) == "task":
                self.script = lambda m: json_reply(answer=value)
            else:
                self.script = lambda m: json_reply(reasoning=f"so {value}", expression=str(value))
            return super()._generate(messages, stop, run_manager, **kwargs)

    architect = ScriptedChatModel(script={"design": [json.dumps(DESIGN)]}, model_label="architect")
    settings = Settings(student=RightSamples(model_label="voter"), teacher=architect, start=3, limit=4,  # type: ignore[arg-type]
                        signals=("check", "consistency"), samples=2, calibrate=4, max_wrong_pass=0.0)
    report = run_benchmark(data, settings, tmp_path / "out")
    assert report["raw_student_accuracy"] == 0.5 and report["skill_accuracy"] == 1.0  # 2 of 3 answers outvote the greedy one
    assert report["oracle"]["escalation_share"] == 0.0 and not report["wrong_answers"]


def test_summary_of_several_students(tmp_path: Path, data: Path) -> None:
    architect = ScriptedChatModel(script={"design": [json.dumps(DESIGN)]}, model_label="architect")
    settings = Settings(student=student(), teacher=architect, start=3, limit=4, signals=("check", "consistency"),  # type: ignore[arg-type]
                        samples=2, calibrate=4, max_wrong_pass=0.0, vote=False)
    report = run_benchmark(data, settings, tmp_path / "out")
    signal, point = cheapest_point(report) or ("", None)
    # check never fires (every run passes), so only consistency reaches 97% of GPT-4 before escalating everything
    assert signal == "consistency" and point is not None and point.escalation_rate == 0.25
    other = {**report, "settings": {**report["settings"], "student": "other-student"}, "curves": {"check": report["curves"]["check"]}}
    assert cheapest_point(other)[1].escalation_rate == 1.0  # type: ignore[index]
    files = write_summary([report, other], tmp_path / "out")
    table = Path(files["table"]).read_text().splitlines()
    assert len(table) == 16 and table[6].startswith("| RouteLLM")  # calibration: check, consistency, learned gate, per student
    assert sum("| gate |" in line for line in table) == 2
    assert table[3].startswith("| oracle bound for `student-model`") and "| 75% (100% of GPT-4) | 50% |" in table[3]
    assert "`student-model`" in table[2] and "25% on `consistency`" in table[2]
    assert "`other-student`" in table[4] and "100% on `check`" in table[4]
    assert "| `student-model` | consistency | 4 (2) | 1 | 50% | 0% [0%–66%] |" in "\n".join(table[7:])
    assert "| 3-6 | 75% (3/4) | 50% | 50% | 75% (100% of GPT-4; gate `consistency`) | 25% |" in table[2]
    from PIL import Image

    with Image.open(files["png"]) as png:
        assert png.width > 2 * 600  # one panel per student, side by side
