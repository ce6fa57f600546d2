"""Budgets: an escalation that would break a limit is refused before the call, and the step gives up typed."""

from __future__ import annotations

from pathlib import Path

import pytest

from skillc.core.errors import BudgetExceeded
from skillc.core.spec import Budget
from skillc.graphs.config import RunConfig
from skillc.skills.skill import Skill
from skillc.spend import Ledger, RunBudget
from tests.conftest import INVOICE_TEXT
from tests.fakes import ScriptedChatModel, json_reply

GOOD_FIELDS = json_reply(quantity=3, unit_price=4.5, stated_total=13.5)
INVOICE = json_reply(kind="invoice")
BROKEN = "not json at all"


def models(runs: int):
    """A student that gets `fields` wrong every time (so every run escalates it), a teacher that gets it right."""
    student = ScriptedChatModel(script={"kind": [INVOICE] * runs, "fields": [BROKEN] * (4 * runs)}, model_label="gpt-4o-mini")
    teacher = ScriptedChatModel(script={"fields": [GOOD_FIELDS] * runs}, model_label="gpt-4o")
    return student, teacher


def test_a_batch_budget_of_three_escalations_lets_exactly_three_reach_the_teacher(invoice_spec) -> None:
    student, teacher = models(10)
    shared = RunBudget(max_teacher_calls_per_run=3)  # one RunBudget for every run of the batch
    config = RunConfig(student=student, teacher=teacher, budget=shared)
    results = [Skill(invoice_spec).run({"text": INVOICE_TEXT}, config=config) for _ in range(10)]
    assert sum(r.ok for r in results) == 3 and len(teacher.prompts) == 3
    refused = [r for r in results if not r.ok]
    assert {r.error.kind for r in refused} == {"budget"} and len(refused) == 7
    assert not any(r.escalated for r in refused)  # refused before the call: the teacher never saw them
    with pytest.raises(BudgetExceeded) as raised:
        refused[0].raise_for_error()
    assert raised.value.budget == "max_teacher_calls_per_run" and raised.value.limit == 3 and raised.value.spent == 3
    assert raised.value.step == "fields" and "give up" not in str(raised.value)


def test_the_skills_own_budget_counts_each_run_apart_and_a_run_config_overrides_it(invoice_spec) -> None:
    spec = invoice_spec.model_copy(update={"budget": Budget(max_teacher_calls_per_run=0)})
    student, teacher = models(3)
    refused = Skill(spec).run({"text": INVOICE_TEXT}, student=student, teacher=teacher)
    assert refused.error.kind == "budget" and teacher.prompts == []
    allowed = Skill(spec).run({"text": INVOICE_TEXT}, config=RunConfig(student=student, teacher=teacher,
                                                                        budget={"max_teacher_calls_per_run": 1}))
    again = Skill(spec).run({"text": INVOICE_TEXT}, config=RunConfig(student=student, teacher=teacher,
                                                                      budget={"max_teacher_calls_per_run": 1}))
    assert allowed.ok and again.ok and len(teacher.prompts) == 2  # per run: each run may make its one call


def test_a_usd_budget_reserves_the_calls_bound_and_the_daily_ledger_records_what_it_cost(invoice_spec, tmp_path: Path) -> None:
    student, teacher = models(2)
    ledger = tmp_path / "ledger.sqlite"
    config = RunConfig(student=student, teacher=teacher, ledger=ledger, budget={"max_usd_per_day": 1.0})
    result = Skill(invoice_spec).run({"text": INVOICE_TEXT}, config=config)
    assert result.ok and result.escalated
    spent = Ledger(ledger).spent_today(invoice_spec.name)
    teacher_cost = sum(r.cost_usd for r in result.trace if r.role == "teacher")
    assert spent == pytest.approx(teacher_cost) and spent > 0
    tight = RunConfig(student=student, teacher=teacher, ledger=ledger, budget={"max_usd_per_day": spent * 1.5})
    refused = Skill(invoice_spec).run({"text": INVOICE_TEXT}, config=tight)  # the bound (4096 reply tokens cap) is more
    assert refused.error.kind == "budget" and refused.error.detail["budget"] == "max_usd_per_day"
    assert Ledger(ledger).spent_today(invoice_spec.name) == pytest.approx(spent)  # the refusal spent nothing
