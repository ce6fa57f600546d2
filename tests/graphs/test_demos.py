"""Retrieved demos in student prompts, within the token budget, and escalations growing the bank."""

from __future__ import annotations

from langchain_core.embeddings import DeterministicFakeEmbedding

from skillc.core.records import new_record
from skillc.core.spec import RetrievalPolicy
from skillc.graphs.demos import DEMO_INTRO, demo_messages
from skillc.skills.bank import ExampleBank
from skillc.skills.skill import Skill
from tests.conftest import INVOICE_TEXT
from tests.fakes import ScriptedChatModel, json_reply

GOOD_FIELDS = json_reply(quantity=3, unit_price=4.5, stated_total=13.5)
INVOICE = json_reply(kind="invoice")


def fields_example(n: int, pad: str = "") -> dict:
    return new_record("fields", {"text": f"INVOICE #{n}. {n} widgets at $2 each.{pad}"},
                      {"quantity": n, "unit_price": 2, "stated_total": 2 * n}, reasoning=f"{n} widgets times 2 dollars")


def skill_with_bank(spec, examples, tmp_path) -> Skill:
    skill = Skill(spec)
    skill._bank = ExampleBank(tmp_path, embeddings=DeterministicFakeEmbedding(size=64))
    skill._bank.add(examples)
    return skill


def test_student_steps_see_their_own_steps_demos_as_turns(invoice_spec, tmp_path):
    skill = skill_with_bank(invoice_spec, [fields_example(1), fields_example(2)], tmp_path)
    student = ScriptedChatModel(script={"kind": [INVOICE], "fields": [GOOD_FIELDS]})
    result = skill.run({"text": INVOICE_TEXT}, student=student, teacher=ScriptedChatModel(script={}))
    assert result.ok
    kind_prompt, fields_prompt = student.prompts
    assert [m.type for m in kind_prompt] == ["system", "human"]  # no demos recorded for `kind`
    assert [m.type for m in fields_prompt] == ["system", "human", "ai", "human", "ai", "human"]
    assert fields_prompt[1].text.startswith(DEMO_INTRO) and '"stated_total": 4' in fields_prompt[2].text + fields_prompt[4].text
    assert "Step `fields`" in fields_prompt[-1].text
    assert next(r for r in result.trace if r.step == "fields").demos == 2


def test_budget_takes_the_fewest_token_demos_first(tmp_path):
    bank = ExampleBank(tmp_path, embeddings=DeterministicFakeEmbedding(size=64))
    bank.add([fields_example(1, " " + "long padding words " * 60), fields_example(2), fields_example(3)])
    everything = demo_messages(bank, "fields", {"text": "INVOICE #9"}, RetrievalPolicy(k=3, token_budget=10_000))
    tight = demo_messages(bank, "fields", {"text": "INVOICE #9"}, RetrievalPolicy(k=3, token_budget=120))
    assert len(everything) == 6
    assert len(tight) == 4 and all("padding" not in text for _, text in tight)
    assert demo_messages(bank, "fields", {"text": "x"}, RetrievalPolicy(k=0)) == []


def test_a_validated_escalation_joins_the_bank(invoice_spec, tmp_path):
    spec = invoice_spec.model_copy(deep=True)
    spec.step("fields").on_fail = ["escalate", "give_up"]
    wrong = json_reply(quantity=3, unit_price=4.5, stated_total=99)
    skill = skill_with_bank(spec, [], tmp_path)
    student = ScriptedChatModel(script={"kind": [INVOICE], "fields": [wrong]})
    teacher = ScriptedChatModel(script={"fields": [GOOD_FIELDS]}, model_label="gpt-4o")
    assert skill.run({"text": INVOICE_TEXT}, student=student, teacher=teacher).ok
    [learned] = skill.bank.records
    assert learned["source"] == "escalation" and learned["step"] == "fields" and learned["model"] == "gpt-4o"
    assert learned["input"] == {"text": INVOICE_TEXT} and learned["output"]["stated_total"] == 13.5

    # the next time, the student sees the teacher's answer as a demo for a similar invoice
    student = ScriptedChatModel(script={"kind": [INVOICE], "fields": [GOOD_FIELDS]})
    skill.run({"text": INVOICE_TEXT}, student=student, teacher=teacher)
    assert '"stated_total": 13.5' in student.prompts[1][2].text


def test_growth_off_records_nothing(invoice_spec, tmp_path):
    spec = invoice_spec.model_copy(deep=True)
    spec.step("fields").on_fail = ["escalate", "give_up"]
    spec.growth.enabled = False
    skill = Skill(spec)
    skill._bank = ExampleBank(tmp_path, embeddings=DeterministicFakeEmbedding(size=64), grow=spec.growth.enabled)
    student = ScriptedChatModel(script={"kind": [INVOICE], "fields": [json_reply(quantity=3, unit_price=4.5, stated_total=99)]})
    teacher = ScriptedChatModel(script={"fields": [GOOD_FIELDS]})
    assert skill.run({"text": INVOICE_TEXT}, student=student, teacher=teacher).ok
    assert len(skill.bank) == 0
