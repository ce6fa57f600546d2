"""Threshold calibration on held-out samples, and the per-signal sweep it shares with the eval."""

from __future__ import annotations

import math

import pytest
from langchain_core.messages import BaseMessage

from skillc.core.errors import InvalidInputError
from skillc.core.task import Sample
from skillc.core.trace import RunResult, StepRecord
from skillc.eval.calibrate import ALWAYS, calibrate_skill, threshold_for
from skillc.eval.sweep import measured_signals, signal_confidence
from tests.fakes import json_reply
from tests.graphs.test_confidence import SamplingStudent, math_skill


def test_threshold_is_the_lowest_that_meets_the_target() -> None:
    pairs = [(1.0, True), (1.0, True), (0.67, True), (0.67, False), (0.33, False), (0.0, False)]
    c = threshold_for(pairs, max_wrong_pass=0.0)
    assert c.threshold == 1.0 and c.wrong_pass_rate == 0.0
    assert c.escalation_rate == pytest.approx(4 / 6) and c.kept_accuracy == 1.0
    loose = threshold_for(pairs, max_wrong_pass=0.34)  # one wrong answer of three may pass
    assert loose.threshold == 0.67 and loose.escalation_rate == pytest.approx(2 / 6)
    assert loose.kept_accuracy == pytest.approx(3 / 4)


def test_the_rates_come_with_wilson_intervals_that_narrow_with_more_items() -> None:
    few = threshold_for([(1.0, True)] * 3 + [(1.0, False)] + [(0.0, False)] * 6, max_wrong_pass=0.2)
    assert (few.wrong_passed, few.wrong, few.kept) == (1, 7, 4)
    lo, hi = few.wrong_pass_ci
    assert lo < 1 / 7 < hi and hi > 0.4  # one of seven: the interval reaches far above the target
    many = threshold_for(([(1.0, True)] * 3 + [(1.0, False)] + [(0.0, False)] * 6) * 10, max_wrong_pass=0.2)
    assert many.wrong_pass_rate == few.wrong_pass_rate
    assert many.wrong_pass_ci[1] - many.wrong_pass_ci[0] < (hi - lo) / 2
    assert many.kept_error_ci[0] < 0.25 < many.kept_error_ci[1]
    assert few.as_dict()["wrong_pass_ci"] == [round(lo, 4), round(hi, 4)]


def test_threshold_edges() -> None:
    assert threshold_for([(0.2, True), (0.9, True)], max_wrong_pass=0.0).threshold == 0.2  # nothing wrong: escalate nothing
    everything = threshold_for([(1.0, False), (1.0, True)], max_wrong_pass=0.0)
    assert math.isinf(everything.threshold) and everything.escalation_rate == 1.0
    with pytest.raises(InvalidInputError):
        threshold_for([], max_wrong_pass=0.1)
    with pytest.raises(InvalidInputError):
        threshold_for([(1.0, True)], max_wrong_pass=2)


def test_signal_confidence_reads_one_signal_and_zero_on_failure() -> None:
    a = StepRecord(step="s", primitive="transform", role="student", ok=True, confidence={"logprobs": 0.4, "consistency": 1.0})
    b = StepRecord(step="t", primitive="transform", role="student", ok=True, confidence={"logprobs": 0.9})
    run = RunResult(output={"x": 1}, trace=[a, b])
    assert signal_confidence("logprobs")(run) == 0.4
    assert signal_confidence("consistency")(run) == 1.0
    assert signal_confidence("verify")(run) == 1.0  # never measured: no evidence against
    from skillc.core.trace import RunError

    failed = RunResult(output=None, trace=[a], error=RunError(kind="check", message="x"))
    assert signal_confidence("logprobs")(failed) == 0.0
    assert measured_signals([run]) == ["check", "consistency", "logprobs"]


QUESTIONS = {"q-right-sure": 10, "q-right-unsure": 20, "q-wrong-sure": 30, "q-wrong-unsure": 40}


class HeldOutStudent(SamplingStudent):
    """Answers each question right or wrong, with samples that agree or not, as its name says."""

    def _generate(self, messages: list[BaseMessage], stop=None, run_manager=None, **kwargs):  # type: ignore[no-untyped-def]
        text = "\n".join(m.text for m in messages)
        q = next(k for k in QUESTIONS if k in text)
        answer = QUESTIONS[q] if "right" in q else QUESTIONS[q] + 1
        self.primary = json_reply(reasoning="", expression=str(answer))
        other = answer if "sure" in q and "unsure" not in q else answer + 7
        self.samples = [json_reply(reasoning="", expression=str(other))] * 4
        return super()._generate(messages, stop, run_manager, **kwargs)


def test_calibrate_skill_sets_the_gate_from_held_out_runs() -> None:
    samples = [Sample(input={"question": q}, expected={"answer": v}) for q, v in QUESTIONS.items()]
    skill = math_skill(samples=2)
    tuned, found = calibrate_skill(skill, samples, student=HeldOutStudent(model_label="s"),
                                   signals=["check", "consistency"], max_wrong_pass=0.5)
    by = {c.signal: c for c in found}
    # check: every run passes its checks, so it cannot tell right from wrong: it escalates everything
    assert math.isinf(by["check"].threshold) and by["check"].escalation_rate == 1.0
    # consistency: the unsure answers get 0, the sure ones 1; escalating the unsure lets 1 of 2 wrong pass
    assert by["consistency"].threshold == 1.0 and by["consistency"].escalation_rate == 0.5
    gate = tuned.spec.escalation
    assert gate.signals == ["consistency"] and gate.thresholds == {"consistency": 1.0}
    assert gate.calibration["chosen"] == "consistency" and gate.calibration["items"] == 4
    assert skill.spec.escalation.thresholds == {}  # the original is untouched


def test_calibrate_skill_stores_escalate_everything_as_a_finite_threshold() -> None:
    samples = [Sample(input={"question": "q-wrong-sure"}, expected={"answer": 30})]
    tuned, _ = calibrate_skill(math_skill(samples=1), samples, student=HeldOutStudent(model_label="s"),
                               signals=["consistency"], max_wrong_pass=0.0)
    assert tuned.spec.escalation.thresholds == {"consistency": ALWAYS}
    tuned.spec.model_dump_json()  # JSON-safe (no infinity)


def test_calibrate_rejects_unknown_signals() -> None:
    with pytest.raises(InvalidInputError, match="unknown confidence signal"):
        calibrate_skill(math_skill(), [], student=HeldOutStudent(model_label="s"), signals=["vibes"])


def test_when_only_escalating_everything_holds_the_target_the_gate_says_so() -> None:
    # a confident wrong answer: neither checks nor consistency tell it apart; "check" ranks first on the tie, but
    # a check-only gate would escalate nothing, so the gate escalates every item through the measured signal
    samples = [Sample(input={"question": "q-wrong-sure"}, expected={"answer": 30})]
    tuned, found = calibrate_skill(math_skill(samples=1), samples, student=HeldOutStudent(model_label="s"),
                                   signals=["check", "consistency"], max_wrong_pass=0.0)
    assert all(c.escalation_rate == 1.0 for c in found)
    assert tuned.spec.escalation.signals == ["consistency"]
    assert tuned.spec.escalation.thresholds == {"consistency": ALWAYS}


def test_a_retention_target_escalates_only_what_the_teacher_must_fix() -> None:
    from skillc.eval.thresholds import threshold_for_retention

    # the skill is right on 3 of 5, the teacher on 4 of 5: escalating the lowest item already reaches the teacher's 80%
    triples = [(0.9, True, True), (0.8, True, False), (0.7, True, True), (0.3, False, True), (0.1, False, True)]
    strict = threshold_for([(c, ok) for c, ok, _ in triples], max_wrong_pass=0.0)
    loose = threshold_for_retention(triples, target=0.97)
    assert loose.threshold == 0.3 and loose.escalation_rate == pytest.approx(0.2) and loose.wrong_passed == 1
    assert strict.escalation_rate == pytest.approx(0.4)  # no wrong answer passing: both wrong ones escalate
    # when the skill alone already keeps the teacher's accuracy, nothing need escalate
    better = [(0.9, True, False), (0.5, True, True), (0.2, False, True)]
    assert threshold_for_retention(better, target=0.97).escalation_rate == 0.0
    with pytest.raises(InvalidInputError):
        threshold_for_retention([], target=0.97)


def test_calibration_for_retention_asks_the_teacher_and_records_the_target() -> None:
    from tests.fakes import ScriptedChatModel

    skill = math_skill()
    items = [Sample(input={"question": f"q{i}"}, expected={"answer": 4}) for i in range(4)]
    student = SamplingStudent(primary=json_reply(reasoning="2+2", expression="2+2"), model_label="student-model")
    teacher = ScriptedChatModel(script=lambda m: json_reply(answer=4), model_label="gpt-4o")
    with pytest.raises(InvalidInputError, match="needs the teacher"):
        calibrate_skill(skill, items, student=student, signals=["check"], metric="numeric", target_retention=0.97)
    tuned, found = calibrate_skill(skill, items, student=student, signals=["check"], metric="numeric",
                                   target_retention=0.97, teacher=teacher)
    target = tuned.spec.escalation.calibration["target"]
    assert target["kind"] == "retention" and target["value"] == 0.97 and target["teacher_accuracy"] == 1.0
    assert teacher.prompts and found[0].signal == "check"
