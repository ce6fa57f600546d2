"""The step cache: LangGraph `CachePolicy` on every LLM step, keyed by what the answer depends on."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from langgraph.cache.memory import InMemoryCache
from langgraph.graph import END, START, StateGraph

from skillc.cache.serde import JsonSerde
from skillc.graphs.config import RunConfig
from skillc.skills.skill import Skill
from tests.fakes import ScriptedChatModel, json_reply

ROOT = Path(__file__).resolve().parents[2]
GOOD_FIELDS = json_reply(quantity=3, unit_price=4.5, stated_total=13.5)
INVOICE = json_reply(kind="invoice")
TEXT = "Invoice: 3 pens at 4.50 each. Total 13.50"


def student(runs: int = 1, label: str = "gpt-4o-mini") -> ScriptedChatModel:
    return ScriptedChatModel(script={"kind": [INVOICE] * runs, "fields": [GOOD_FIELDS] * runs}, model_label=label)


def test_a_second_identical_run_makes_no_model_call_and_its_trace_says_cached(invoice_spec) -> None:
    model = student(2)
    config = RunConfig(student=model, cache=InMemoryCache(serde=JsonSerde()))
    skill = Skill(invoice_spec)
    first = skill.run({"text": TEXT}, config=config)
    assert first.ok and len(model.prompts) == 2 and first.cached_steps == 0 and first.cost_usd > 0
    second = skill.run({"text": TEXT}, config=config)
    assert second.ok and second.output == first.output
    assert len(model.prompts) == 2  # no new call
    llm = [r for r in second.trace if r.role == "student"]
    assert llm and all(r.cached and r.input_tokens == 0 and r.cost_usd == 0 for r in llm)
    assert second.cached_steps == 2 and second.cost_usd == 0 and second.saved_usd == first.cost_usd
    assert not any(r.cached for r in second.trace if r.role == "compute")  # compute is not an LLM step
    other = skill.run({"text": TEXT.replace("3 pens", "4 pens")}, config=config)
    assert other.cached_steps == 0 and len(model.prompts) == 4  # other inputs: a miss


def test_a_new_skill_version_and_another_student_miss(invoice_spec) -> None:
    cache = InMemoryCache(serde=JsonSerde())
    model = student(3)
    Skill(invoice_spec).run({"text": TEXT}, config=RunConfig(student=model, cache=cache))
    newer = invoice_spec.model_copy(update={"version": "0.2.0"})
    assert Skill(newer).run({"text": TEXT}, config=RunConfig(student=model, cache=cache)).cached_steps == 0
    another = student(1, label="another-mini")
    assert Skill(invoice_spec).run({"text": TEXT}, config=RunConfig(student=another, cache=cache)).cached_steps == 0
    assert len(model.prompts) == 4 and len(another.prompts) == 2


def parent_of(subgraph, cache):
    parent = StateGraph(dict)
    parent.add_node("invoice", subgraph)
    parent.add_edge(START, "invoice")
    parent.add_edge("invoice", END)
    return parent.compile(cache=cache)


def test_as_subgraph_inside_a_cached_parent_caches_its_steps_on_the_cache_it_is_given(invoice_spec) -> None:
    skill, cache = Skill(invoice_spec), InMemoryCache(serde=JsonSerde())
    model = student(4)
    alone = parent_of(skill.as_subgraph(config=RunConfig(student=model)), cache)
    alone.invoke({"text": TEXT})
    alone.invoke({"text": TEXT})
    assert len(model.prompts) == 4  # LangGraph gives a subgraph its parent's checkpointer, not its cache
    model = student(2)
    shared = parent_of(skill.as_subgraph(config=RunConfig(student=model, cache=cache)), cache)
    first, second = shared.invoke({"text": TEXT}), shared.invoke({"text": TEXT})
    assert first["total"] == second["total"] == 13.5
    assert len(model.prompts) == 2  # given the parent's cache, the subgraph's LLM steps hit it


SCRIPT = textwrap.dedent('''
    import json, sys
    from skillc.core.spec import SkillSpec
    from skillc.graphs.config import RunConfig
    from skillc.skills.skill import Skill
    from tests.fakes import ScriptedChatModel, json_reply
    spec = SkillSpec.model_validate_json(open(sys.argv[1]).read())
    model = ScriptedChatModel(script={"kind": [json_reply(kind="invoice")],
                                      "fields": [json_reply(quantity=3, unit_price=4.5, stated_total=13.5)]},
                              model_label="gpt-4o-mini")
    result = Skill(spec).run({"text": sys.argv[3]}, config=RunConfig(student=model, cache="sqlite:" + sys.argv[2]))
    print(json.dumps({"ok": result.ok, "calls": len(model.prompts), "cached": result.cached_steps}))
''')


def test_a_sqlite_cache_survives_a_process_restart(invoice_spec, tmp_path: Path) -> None:
    (tmp_path / "spec.json").write_text(invoice_spec.model_dump_json())
    (tmp_path / "run.py").write_text(SCRIPT)

    def run() -> str:
        done = subprocess.run([sys.executable, str(tmp_path / "run.py"), str(tmp_path / "spec.json"),
                               str(tmp_path / "cache.sqlite"), TEXT], capture_output=True, text=True, cwd=ROOT,
                              env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}, timeout=300)
        assert done.returncode == 0, done.stderr[-2000:]
        return done.stdout.strip().splitlines()[-1]

    assert run() == '{"ok": true, "calls": 2, "cached": 0}'
    assert run() == '{"ok": true, "calls": 0, "cached": 2}'  # a new process, the same file: every step a hit


class WordsEmbedding:
    """Bag of words hashed into 64 dims: a rewording with the same words embeds the same (a stand-in for MiniLM)."""

    def embed_documents(self, texts):
        import re
        import zlib

        out = []
        for text in texts:
            vector = [0.0] * 64
            for word in re.findall(r"\w+", text.lower()):
                vector[zlib.crc32(word.encode()) % 64] += 1.0
            out.append(vector)
        return out

    def embed_query(self, text):
        return self.embed_documents([text])[0]


def test_a_semantic_step_serves_a_rewording_and_the_guard_stops_a_changed_number(invoice_spec) -> None:
    from skillc.cache.semantic import SemanticCache
    from skillc.core.spec import StepCache

    spec = invoice_spec.model_copy(deep=True)
    spec.step("fields").cache = StepCache(semantic=0.8)
    model = ScriptedChatModel(script={"kind": [INVOICE] * 3,
                                      "fields": [GOOD_FIELDS, json_reply(quantity=4, unit_price=4.5, stated_total=18.0)]},
                              model_label="gpt-4o-mini")
    config = RunConfig(student=model, semantic_cache=SemanticCache(WordsEmbedding()))
    skill = Skill(spec)
    first = skill.run({"text": TEXT}, config=config)
    reworded = skill.run({"text": "Invoice - 3 pens, at 4.50 each; total 13.50"}, config=config)  # same anchors, in order
    assert first.ok and reworded.ok and reworded.output == first.output
    hit = next(r for r in reworded.trace if r.step == "fields")
    assert hit.cached and hit.semantic["similarity"] >= 0.8 and hit.input_tokens == 0
    assert model.steps_called() == ["kind", "fields", "kind"]  # only the semantic step was served
    changed = skill.run({"text": "Invoice: 4 pens at 4.50 each. Total 18.00"}, config=config)
    assert changed.output["total"] == 18.0 and not any(r.cached for r in changed.trace)  # the guard refused the hit
    assert model.steps_called()[-1] == "fields"


def test_as_node_with_a_cache_marks_the_steps_it_served_in_the_parents_trace(invoice_spec) -> None:
    model = student(1)
    node = Skill(invoice_spec).as_node(config=RunConfig(student=model, cache=InMemoryCache(serde=JsonSerde())))
    first, second = node({"text": TEXT}), node({"text": TEXT})
    assert second["total"] == first["total"] == 13.5 and len(model.prompts) == 2
    llm = [r for r in second["skillc_trace"] if r["role"] == "student"]
    assert llm and all(r["cached"] and r["cost_usd"] == 0 for r in llm)
    assert not any(r.get("cached") for r in first["skillc_trace"])
