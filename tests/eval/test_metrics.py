"""Each eval metric: exact, numeric (tolerance), field-level F1, label accuracy, and the LLM judge."""

from __future__ import annotations

import pytest

from skillc.adapters.models import resolve_model
from skillc.core.errors import InvalidInputError
from skillc.eval.judge import judge
from skillc.eval.metrics import (
    exact_match,
    field_f1,
    field_recall,
    label_field,
    label_match,
    outputs_match,
    score,
)
from tests.fakes import ScriptedChatModel


def test_exact_is_strict_on_numbers_and_types():
    assert exact_match({"total": 91.8, "vendor": "Acme"}, {"total": 91.8, "vendor": "Acme ", "extra": 1})
    assert not exact_match({"total": 91.8}, {"total": 91.80001})
    assert not exact_match({"total": 18}, {"total": "18"})
    assert not exact_match({"ok": True}, {"ok": 1})
    assert not exact_match({"vendor": "Acme"}, {"vendor": "acme"})
    assert not exact_match({"a": 1}, None)


def test_numeric_uses_a_relative_tolerance():
    assert outputs_match({"total": 1000.0}, {"total": 1000.09}, tolerance=1e-4)
    assert not outputs_match({"total": 1000.0}, {"total": 1000.2}, tolerance=1e-4)
    assert outputs_match({"total": 18}, {"total": "18.0"})
    assert score("numeric", {"total": 91.8, "vendor": "ACME  co"}, {"total": 91.80001, "vendor": "acme co"}).correct
    assert not score("numeric", {"total": 91.8}, {"total": 92}).correct


def test_field_f1_precision_and_recall():
    expected = {"a": 1, "b": 2, "c": 3, "d": 4}
    assert field_f1(expected, expected) == 1.0
    # 2 right of 4 expected (recall 0.5), of 2 given (precision 1.0): F1 = 2/3
    assert field_f1(expected, {"a": 1, "b": 2}) == pytest.approx(2 / 3)
    # extra wrong fields lower precision: 2 right of 4 given, 4 expected
    assert field_f1(expected, {"a": 1, "b": 2, "c": 0, "x": 9}) == pytest.approx(0.5)
    assert field_f1(expected, {"a": 0}) == 0.0 and field_f1(expected, None) == 0.0
    assert field_recall(expected, {"a": 1, "b": 2}) == 0.5
    s = score("f1", expected, {"a": 1, "b": 2})
    assert s.value == pytest.approx(2 / 3) and not s.correct


def test_label_accuracy_uses_the_enum_field():
    schema = {"properties": {"kind": {"enum": ["invoice", "other"]}, "total": {"type": "number"}}}
    assert label_field({"kind": "invoice", "total": 3}, schema) == "kind"
    assert score("label", {"kind": "invoice", "total": 3}, {"kind": "Invoice", "total": 999}, output_schema=schema).correct
    assert not score("label", {"kind": "invoice"}, {"kind": "other"}, output_schema=schema).correct
    assert not label_match({"kind": "invoice"}, {"total": 1}, "kind")
    assert score("label", {"a": "x", "b": "y"}, {"a": "x", "b": "z"}, label="a").correct
    with pytest.raises(InvalidInputError, match="label-field"):
        score("label", {"a": "x", "b": "y"}, {"a": "x"})


def test_judge_is_not_a_model_free_metric():
    with pytest.raises(InvalidInputError):
        score("judge", {"a": 1}, {"a": 1})


def _judge(replies):
    model = ScriptedChatModel(script=list(replies), model_label="gpt-4o")
    return model, judge(resolve_model(model), "Add.", {"a": 1, "b": 2}, {"sum": 3}, {"sum": 3})


def test_judge_sees_input_reference_and_candidate_and_returns_a_validated_verdict():
    model, result = _judge(['{"correct": true, "reason": "same sum"}'])
    assert result.verdict is not None and result.verdict.correct and result.failure is None
    prompt = model.prompts[0][-1].text
    assert '"a": 1' in prompt and 'Reference answer: {"sum": 3}' in prompt and 'Candidate answer: {"sum": 3}' in prompt
    assert result.calls == 1 and result.tokens[0] > 0 and result.cost_usd > 0


def test_malformed_verdict_is_retried_once_with_the_error():
    model, result = _judge(["looks right to me", '{"correct": false, "reason": "off by one"}'])
    assert result.verdict is not None and result.verdict.correct is False
    assert result.calls == 2 and "not a valid verdict" in model.prompts[1][-1].text


def test_twice_malformed_verdict_is_a_typed_failure_never_a_guess():
    _, result = _judge(['{"correct": "yes", "reason": "ok"}', "Correct!"])
    assert result.verdict is None and result.failure == "malformed_verdict" and result.calls == 2


def test_includes_and_set_f1_fit_the_public_task_sets():
    from skillc.eval.metrics import score

    assert score("includes", {"year": "2030"}, {"year": "Reasoning... so the answer is [2030]"}).correct
    assert not score("includes", {"year": "2030"}, {"year": "2031"}).correct
    assert score("includes", {"area": ["Saúde"]}, {"area": "saúde "}).correct
    exact = score("set_f1", {"entities": ["Acme - ORG", "Paris - LOC"]}, {"entities": ["Paris - LOC", "Acme - ORG"]})
    half = score("set_f1", {"entities": ["Acme - ORG", "Paris - LOC"]}, {"entities": ["Acme - ORG"]})
    assert (exact.value, exact.correct) == (1.0, True) and round(half.value, 4) == 0.6667 and not half.correct
    assert score("set_f1", {"entities": []}, {"entities": []}).correct
