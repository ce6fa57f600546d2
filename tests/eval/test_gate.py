"""The learned gate: fitted on the dev items' signals, stored as plain numbers, loaded without running code."""

from __future__ import annotations

import json

import numpy as np
import pytest
from pydantic import ValidationError

from skillc.core.spec import LearnedGate, SkillSpec
from skillc.eval.gate import cross_validated, fit_logistic, learn_gate
from skillc.graphs.confidence import gate_reasons, gate_score
from skillc.skills import Skill
from tests.level_skill import LEVEL_SPEC

SPEC = LEVEL_SPEC


def test_two_signals_together_separate_what_neither_does_alone() -> None:
    rng = np.random.default_rng(0)
    pairs = []
    for _ in range(80):
        a, b = float(rng.random()), float(rng.random())
        pairs.append(({"neighbours": a, "peer": b, "check": 1.0}, a + b > 1.0))  # right when both lean right
    gate, found = learn_gate(pairs, ["check", "neighbours", "peer"], max_wrong_pass=0.1)
    assert gate.weights[1] > 1 and gate.weights[2] > 1
    assert found.signal == "gate" and found.wrong_pass_rate <= 0.1 and found.escalation_rate < 0.7


def test_the_threshold_comes_from_scores_of_items_the_model_never_saw() -> None:
    x = np.array([[0.0], [1.0]] * 10)
    y = np.array([0.0, 1.0] * 10)
    cv = cross_validated(x, y)
    w, b = fit_logistic(x, y)
    assert np.all(cv[y == 1] > 0.5) and np.all(cv[y == 0] < 0.5) and w[0] > 0 and np.isfinite(b)


def test_one_class_only_gives_a_gate_that_says_so() -> None:
    all_wrong, _ = learn_gate([({"neighbours": 0.9}, False)] * 4, ["neighbours"], max_wrong_pass=0.1)
    assert all_wrong.threshold > 1  # every item escalates
    all_right, found = learn_gate([({"neighbours": 0.2}, True)] * 4, ["neighbours"], max_wrong_pass=0.1)
    assert all_right.threshold == 0.0 and found.escalation_rate == 0.0


def test_a_learned_gate_round_trips_through_skill_json_as_plain_numbers(tmp_path) -> None:
    gate = LearnedGate(features=["check", "neighbours", "peer"], weights=[0.5, 3.25, 1.5], bias=-2.0,
                       defaults=[1.0, 1.0, 1.0], threshold=0.62)
    spec = SkillSpec.model_validate(SPEC)
    spec = spec.model_copy(update={"escalation": spec.escalation.model_copy(update={"gate": gate, "signals": ["neighbours", "peer"]})})
    folder = Skill(spec).save(tmp_path / "level")
    stored = json.loads((folder / "skill.json").read_text())["escalation"]["gate"]
    assert stored == {"kind": "logistic", "features": ["check", "neighbours", "peer"], "weights": [0.5, 3.25, 1.5],
                      "bias": -2.0, "defaults": [1.0, 1.0, 1.0], "threshold": 0.62}
    loaded = Skill.load(folder).spec.escalation.gate
    assert loaded == gate
    assert gate_reasons(loaded, {"neighbours": 0.1, "peer": 0.0}) and not gate_reasons(loaded, {"neighbours": 1.0, "peer": 1.0})
    assert 0.0 < gate_score(loaded, {}) < 1.0


def test_a_gate_that_smuggles_code_is_refused_not_run(tmp_path) -> None:
    with pytest.raises(ValidationError):
        LearnedGate.model_validate({"features": ["check"], "weights": ["__import__('os').system('true')"], "bias": 0})
    with pytest.raises(ValidationError):
        LearnedGate.model_validate({"kind": "pickle", "features": ["check"], "weights": [1.0]})
    with pytest.raises(ValidationError, match="one weight"):
        LearnedGate.model_validate({"features": ["check", "peer"], "weights": [1.0]})
