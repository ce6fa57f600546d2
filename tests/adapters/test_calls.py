"""Token accounting per call, and run totals beside the teacher-only baseline."""

from __future__ import annotations

import pytest
from langchain_core.language_models import FakeListChatModel

from skillc.adapters.calls import call_model
from skillc.adapters.models import ModelHandle
from skillc.adapters.pricing import PriceTable
from skillc.adapters.tokens import count_tokens
from skillc.skills.skill import Skill
from tests.conftest import INVOICE_TEXT
from tests.fakes import ScriptedChatModel, json_reply


def test_usage_metadata_is_used_when_present():
    model = ScriptedChatModel(script=["x" * 40], model_label="gpt-4o")
    result = call_model(ModelHandle(model=model, name="gpt-4o"), [("user", "y" * 400)])
    assert (result.input_tokens, result.output_tokens, result.estimated) == (100, 10, False)
    assert result.cost_usd == pytest.approx(100 * 2.5e-6 + 10 * 10e-6)


def test_tiktoken_counts_when_usage_is_missing():
    model = FakeListChatModel(responses=["The answer is 42."])
    result = call_model(ModelHandle(model=model, name="gpt-4o"), [("user", "What is six times seven?")])
    assert result.estimated
    assert result.output_tokens == count_tokens("The answer is 42.") == 6
    assert result.input_tokens == count_tokens("What is six times seven?") + 4 + 2


def test_local_models_are_priced_by_time():
    model = ScriptedChatModel(script=["ok"])
    handle = ModelHandle(model=model, name="local:student", kind="local")
    result = call_model(handle, [("user", "hi")], prices=PriceTable(local_hourly_usd=3600.0))
    assert result.cost_usd == pytest.approx(result.latency_s)


def test_run_totals_add_up_and_carry_the_teacher_baseline(invoice_spec):
    student = ScriptedChatModel(
        script={"kind": [json_reply(kind="invoice")], "fields": ["oops", json_reply(quantity=3, unit_price=4.5, stated_total=13.5)]},
        model_label="gpt-4o-mini",
    )
    teacher = ScriptedChatModel(script={}, model_label="gpt-4-1106-preview")
    result = Skill(invoice_spec).run({"text": INVOICE_TEXT}, student=student, teacher=teacher)
    calls = [r for r in result.trace if r.model]
    assert result.cost_usd == pytest.approx(sum(r.cost_usd for r in calls))
    usage = result.by_model["gpt-4o-mini"]
    assert usage.calls == 3 and usage.input_tokens == sum(r.input_tokens for r in calls)
    expected = sum(r.input_tokens * 0.15e-6 + r.output_tokens * 0.6e-6 for r in calls)
    assert result.cost_usd == pytest.approx(expected)
    assert result.teacher_baseline_usd > 0
    assert result.teacher_baseline_usd > result.cost_usd  # GPT-4 prices vs mini prices on similar tokens
