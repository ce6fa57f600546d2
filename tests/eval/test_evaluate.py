"""`skillc eval` end to end on scripted models: the four conditions, the report, eval.json/eval.png, resume."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from skillc.adapters.models import resolve_model
from skillc.cli import app
from skillc.cli.tables import print_eval_report
from skillc.core.errors import BackendUnavailable, RegressionError
from skillc.core.report import EvalReport, Retention
from skillc.eval import conditions as evaluate_module
from skillc.eval.conditions import EvalCache
from skillc.eval.evaluate import CACHE_DIR, evaluate_skill, write_evaluation
from skillc.skills.skill import Skill
from tests.eval.eval_fixtures import (
    ITEMS,
    Killer,
    save_skill,
    student_model,
    teacher_model,
    write_dataset,
)


@pytest.fixture
def skill(tmp_path, invoice_spec) -> Skill:
    return save_skill(invoice_spec, tmp_path / "skills" / "invoice-total")


@pytest.fixture
def dataset(tmp_path) -> Path:
    return write_dataset(tmp_path / "data" / "items.jsonl")


ITEMS_IDS = evaluate_module.item_ids([evaluate_module.Sample.model_validate(i) for i in ITEMS])


def rows(report: EvalReport) -> dict:
    return {r.key: r.model_dump() for r in report.conditions}


def test_four_conditions_on_the_same_items(skill, dataset):
    report = evaluate_skill(skill, dataset, student=student_model(), teacher=teacher_model())
    r, data = rows(report), report.model_dump()
    assert [x.condition for x in report.conditions] == [
        "teacher only", "raw student", "skill on student, no escalation", "skill on student + escalation"]
    assert {k: v["accuracy"] for k, v in r.items()} == {
        "teacher_only": 1.0, "raw_student": 0.25, "skill": 0.75, "skill_escalation": 1.0}
    assert r["skill_escalation"]["escalation_rate"] == 0.25 and r["skill"]["escalation_rate"] == 0.0
    assert r["skill"]["errors"] == 1  # the lamps invoice gives up without the teacher
    assert data["retention"]["points"] == 100.0
    assert set(r["teacher_only"]["per_item"]) == {"teacher"} and set(r["raw_student"]["per_item"]) == {"student"}
    assert set(r["skill_escalation"]["per_item"]) == {"student", "teacher"}
    assert r["teacher_only"]["per_item"]["teacher"]["priced_as"] is None  # an API model: its own price, no assumption
    assert 0 < r["raw_student"]["cost_per_item_usd"] < r["teacher_only"]["cost_per_item_usd"]
    assert data["strata"]["difficulty"]["hard"]["skill"] == 0.0
    assert data["strata"]["difficulty"]["hard"]["skill_escalation"] == 1.0
    assert data["strata"]["category"]["letter"] == {"items": 1, "teacher_only": 1.0, "raw_student": 1.0,
                                                       "skill": 1.0, "skill_escalation": 1.0}
    # sweep: the lamps item (gave up: confidence 0) goes to the teacher at t=1
    assert [(p["threshold"], p["accuracy"], p["escalation_rate"]) for p in data["sweep"]] == [
        (0.0, 0.75, 0.0), (1.0, 1.0, 0.25), (None, 1.0, 1.0)]
    skill_cost, teacher_cost = r["skill"]["cost_per_item_usd"], r["teacher_only"]["cost_per_item_usd"]
    assert data["sweep"][0]["cost_per_item"] == pytest.approx(skill_cost)
    assert data["sweep"][-1]["cost_per_item"] == pytest.approx(skill_cost + teacher_cost)
    assert data["roi"]["saving_per_call_usd"] == pytest.approx(teacher_cost - r["skill_escalation"]["cost_per_item_usd"])
    assert data["compile_cost"]["usd"] is None and data["roi"]["break_even_calls"] is None


def test_metric_and_prices_change_without_new_calls(skill, dataset):
    student, teacher = student_model(), teacher_model()
    evaluate_skill(skill, dataset, student=student, teacher=teacher)
    calls = len(student.prompts), len(teacher.prompts)
    report = evaluate_skill(skill, dataset, student=student, teacher=teacher, metric="label",
                            priced_as={"teacher": "gpt-4", "student": None}, compile_cost_usd=0.5)
    data = report.model_dump()
    assert (len(student.prompts), len(teacher.prompts)) == calls
    assert rows(report)["raw_student"]["accuracy"] == 1.0  # the kind is right everywhere
    assert data["pricing"]["teacher"] == {"model": "gpt-4o", "priced_as": "gpt-4", "assumed": True, "usd_per_1m": [30.0, 60.0]}
    assert data["run"] == {"model_calls_items": 0, "cached_items": 16, "wall_seconds": data["run"]["wall_seconds"],
                             "cache": data["run"]["cache"]}


def test_judge_metric_uses_the_teacher_and_counts_malformed_verdicts_as_failures(skill, dataset):
    # 16 answers, 15 with an output; the first verdict is malformed twice: a typed failure, scored wrong
    teacher = teacher_model(verdicts=["no idea", "still no idea"])
    report = evaluate_skill(skill, dataset, student=student_model(), teacher=teacher, metric="judge")
    data = report.model_dump()
    assert data["judge"]["failures"] == 1 and data["judge"]["calls"] == 16
    assert rows(report)["teacher_only"]["accuracy"] == 0.75
    assert rows(report)["skill_escalation"]["accuracy"] == 1.0
    n = len(teacher.prompts)
    again = evaluate_skill(skill, dataset, student=student_model(), teacher=teacher, metric="judge")
    assert len(teacher.prompts) == n and again.conditions == report.conditions  # verdicts are cached too


def test_a_killed_run_resumes_where_it_stopped(skill, dataset):
    killer = Killer(at=3)  # the teacher dies on its third call: two teacher-only items are done
    with pytest.raises(BackendUnavailable):
        evaluate_skill(skill, dataset, student=student_model(), teacher=teacher_model(killer))
    cache = next((dataset.parent / CACHE_DIR).glob("*.jsonl"))
    assert len(cache.read_text().splitlines()) == 2
    with open(cache, "a") as fh:  # a line cut short by the kill is ignored
        fh.write('{"kind": "run", "condition": "teacher_only", "item": ')
    student, teacher = student_model(), teacher_model()
    report = evaluate_skill(skill, dataset, student=student, teacher=teacher)
    one_shot_teacher = [p for p in teacher.prompts if "Solve the task completely" in p[0].text]
    assert len(one_shot_teacher) == 2  # only the two teacher-only items that were missing
    assert report.run.cached_items == 2 and report.run.model_calls_items == 14
    assert rows(report)["teacher_only"]["accuracy"] == 1.0
    # killed in the middle of the skill conditions this time, then resumed: nothing runs twice
    fresh_student = student_model(Killer(at=7))  # raw student: 4 calls; skill: item 1 (2), dies on item 2
    with pytest.raises(BackendUnavailable):
        evaluate_skill(skill, dataset, student=fresh_student, teacher=teacher_model(), fresh=True)
    done = EvalCache(cache).runs
    assert 8 <= len(done) < 12 and ("skill", ITEMS_IDS[0]) in done  # died inside the skill condition
    student, teacher = student_model(), teacher_model()
    evaluate_skill(skill, dataset, student=student, teacher=teacher)
    asked = {p[-1].text for p in student.prompts}
    assert not any("Solve the task completely" in p[0].text for p in student.prompts)  # raw student was done
    assert sum("3 widgets" in t for t in asked) == 2  # first item: only its skill_escalation run (kind, fields)
    assert len(EvalCache(cache).runs) == 16
    third_student, third_teacher = student_model(), teacher_model()
    evaluate_skill(skill, dataset, student=third_student, teacher=third_teacher)
    assert third_student.prompts == [] and third_teacher.prompts == []


def test_eval_json_and_png_are_written_and_the_folder_still_loads(skill, dataset):
    report = evaluate_skill(skill, dataset, student=student_model(), teacher=teacher_model())
    path, png, _ = write_evaluation(skill, report)
    assert path.name == "eval.json" and png is not None and png.read_bytes()[:4] == b"\x89PNG"
    loaded = Skill.load(skill.path)  # the manifest was re-signed
    assert loaded.evaluation == report and loaded.evaluation.summary["retention_points"] == 100.0
    assert json.loads((skill.path / "manifest.json").read_text())["files"].keys() >= {"eval.json", "eval.png"}
    loaded.save(skill.path)  # re-saving a skill folder that holds eval.png works
    console = Console(record=True, width=200)
    print_eval_report(console, report)
    text = console.export_text()
    assert "skill on student + escalation" in text and "accuracy by difficulty" in text and "retention 100.0" in text


def test_regression_against_a_baseline_raises_and_keeps_the_old_eval(skill, dataset):
    report = evaluate_skill(skill, dataset, student=student_model(), teacher=teacher_model())
    write_evaluation(skill, report)
    before = (skill.path / "eval.json").read_text()
    baseline = report.model_copy(update={"retention": Retention(points=103.0)})
    with pytest.raises(RegressionError, match="-3.0 points"):
        write_evaluation(skill, report, baseline=baseline, max_drop=2)
    assert (skill.path / "eval.json").read_text() == before
    _, _, line = write_evaluation(skill, report, baseline=baseline, max_drop=3)
    assert "allowed -3" in line


def test_cli_eval_writes_the_report_and_exits_7_on_regression(skill, dataset, monkeypatch, tmp_path):
    fakes = {"fake:student": resolve_model(student_model()), "fake:teacher": resolve_model(teacher_model())}
    real = evaluate_module.resolve_model
    monkeypatch.setattr(evaluate_module, "resolve_model", lambda m: fakes[m] if isinstance(m, str) and m in fakes else real(m))
    runner = CliRunner()
    args = ["eval", str(skill.path), "--dataset", str(dataset), "--student", "fake:student", "--teacher", "fake:teacher",
            "--cache-dir", str(tmp_path / "cache")]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "teacher only" in result.stdout and "accuracy by category" in result.stdout and "wrote" in result.stdout
    assert (skill.path / "eval.json").exists() and (skill.path / "eval.png").exists()
    assert len(list((tmp_path / "cache").glob("*.jsonl"))) == 1
    baseline = tmp_path / "old_eval.json"
    old = json.loads((skill.path / "eval.json").read_text())
    baseline.write_text(json.dumps({**old, "retention": {"points": 105.0}}))
    result = runner.invoke(app, [*args, "--baseline", str(baseline), "--max-drop", "2"])
    assert result.exit_code == 7 and "quality regression" in result.stderr
    result = runner.invoke(app, [*args, "--metric", "nope"])
    assert result.exit_code == 2


def test_items_need_references(skill, tmp_path):
    data = write_dataset(tmp_path / "bare.jsonl", [{"input": ITEMS[0]["input"]}])
    with pytest.raises(Exception, match="no `expected`"):
        evaluate_skill(skill, data, student=student_model(), teacher=teacher_model())


def test_the_cache_keeps_what_the_models_did_but_not_the_items_text(skill, tmp_path):
    """A committed cache must not copy the dataset: no step's inputs are written, outputs and signals are."""
    items = [evaluate_module.Sample.model_validate(i) for i in ITEMS]
    evaluate_module.run_conditions(skill, items, student=student_model(), teacher=teacher_model(),
                                   cache=EvalCache(tmp_path / "runs.jsonl"))
    written = (tmp_path / "runs.jsonl").read_text(encoding="utf-8")
    texts = [v for i in ITEMS for v in i["input"].values() if isinstance(v, str) and len(v) > 20]
    assert texts and not any(json.dumps(t)[1:-1] in written for t in texts)
    steps = [s for line in written.splitlines() for s in json.loads(line).get("trace") or []]
    assert steps and all("inputs" not in s for s in steps) and any(s.get("output") for s in steps)
    reloaded = EvalCache(tmp_path / "runs.jsonl")
    assert reloaded.runs.keys() and all(r.trace is None or all(s.inputs is None for s in r.trace)
                                        for r in reloaded.runs.values())


def test_a_run_served_from_the_cache_resolves_no_model(skill, dataset, tmp_path):
    from skillc.core.errors import ModelURIError

    items = [evaluate_module.Sample.model_validate(i) for i in ITEMS]
    cache = EvalCache(tmp_path / "runs.jsonl")
    evaluate_module.run_conditions(skill, items, student=student_model(), teacher=teacher_model(), cache=cache)
    # every (condition, item) is cached: an unknown local model is never resolved, so no server would start
    again = evaluate_module.run_conditions(skill, items, student="local:not-a-model", teacher="local:not-a-model",
                                           cache=EvalCache(tmp_path / "runs.jsonl"))
    assert again.ran == 0 and again.cached == len(items) * len(evaluate_module.BASE_CONDITIONS)
    with pytest.raises(ModelURIError, match="unknown local model"):
        evaluate_module.run_conditions(skill, items, student="local:not-a-model", teacher=teacher_model(),
                                       cache=EvalCache(tmp_path / "other.jsonl"))


def test_a_new_gate_reruns_the_skill_conditions_but_not_the_one_shot_ones(skill, dataset):
    evaluate_skill(skill, dataset, student=student_model(), teacher=teacher_model())
    policy = skill.spec.escalation.model_copy(update={"thresholds": {"logprobs": 0.5}})
    gated = skill.replace(spec=skill.spec.model_copy(update={"escalation": policy}))
    student, teacher = student_model(), teacher_model()
    report = evaluate_skill(gated, dataset, student=student, teacher=teacher)
    assert not any("Solve the task completely" in p[0].text for p in [*student.prompts, *teacher.prompts])
    assert report.run.cached_items == 12 and report.run.model_calls_items == 4  # skill_escalation only: the gate
