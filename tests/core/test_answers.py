"""The one equality rule for answers, as checks, confidence, metrics and the compiler use it."""

from __future__ import annotations

from skillc.core.answers import TOLERANCE, answers_equal, outputs_match, to_number


def test_numbers_compare_within_tolerance_whatever_their_spelling() -> None:
    assert answers_equal(18, 18.0000000001)
    assert answers_equal("1,200", 1200)
    assert answers_equal("$18.00", 18)
    assert not answers_equal(18, 18.01)
    assert answers_equal(91.8, 91.805, TOLERANCE)
    assert not answers_equal(91.8, 91.805)


def test_text_compares_case_and_space_insensitively() -> None:
    assert answers_equal("Invoice", " invoice ")
    assert answers_equal("New  York", "new york")
    assert not answers_equal("Invoice", "Receipt")


def test_arithmetic_is_compared_by_value_only_when_asked() -> None:
    assert answers_equal("(48 + 24)", "72", arithmetic=True)
    assert answers_equal("3 * 4", 12, arithmetic=True)
    assert not answers_equal("3 * 4", "13", arithmetic=True)
    assert not answers_equal("3 * 4", 12)
    assert not answers_equal("import os", 0, arithmetic=True)


def test_other_values_compare_by_equality_and_booleans_are_not_numbers() -> None:
    assert not answers_equal(None, 0)
    assert answers_equal(None, None)
    assert answers_equal(["a", "b"], ["a", "b"])
    assert not answers_equal(True, 1)
    assert to_number(True) is None


def test_outputs_match_needs_every_expected_field() -> None:
    assert outputs_match({"total": 18}, {"total": "18.0", "extra": 1})
    assert not outputs_match({"total": 18, "tax": 2}, {"total": 18})
    assert not outputs_match({"total": 18}, None)
