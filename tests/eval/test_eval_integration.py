"""`skillc eval` offline on the real local teacher and student: a hand-written invoice skill, three items."""

from __future__ import annotations

import json
import time

import pytest
from typer.testing import CliRunner

from skillc.adapters.local import MODELS, stop_all
from skillc.adapters.local.weights import is_installed
from skillc.cli import app
from skillc.core.spec import SkillSpec
from skillc.demo import bundled_dataset, bundled_task
from skillc.skills.skill import Skill

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not (is_installed(MODELS["teacher"]) and is_installed(MODELS["student"])),
                       reason="local teacher/student weights are not installed (make test installs them)"),
]

FIELDS = {"vendor": {"type": "string"}, "quantity": {"type": "number"}, "unit_price": {"type": "number"},
          "discount_percent": {"type": "number"}}


def invoice_skill(folder) -> Skill:
    task, _ = bundled_task()
    spec = SkillSpec.model_validate({
        "name": task.name, "task": task.description, "entry": "fields",
        "input_schema": task.input_schema, "output_schema": task.output_schema,
        "steps": [
            {"id": "fields", "primitive": "extract", "reads": ["text"], "writes": list(FIELDS), "next": "total",
             "instruction": "Extract the vendor, the quantity, the unit price and the discount in percent (0 if none).",
             "contract": {"type": "object", "properties": FIELDS, "required": list(FIELDS)},
             "check": {"kind": "expr", "expr": "quantity > 0 and unit_price > 0"}},
            {"id": "total", "primitive": "compute", "reads": ["quantity", "unit_price", "discount_percent"],
             "writes": ["total"], "instruction": "The total to pay.", "next": "END",
             "expression": "quantity * unit_price * (1 - discount_percent / 100)",
             "contract": {"type": "object", "properties": {"total": {"type": "number"}}, "required": ["total"]}},
        ],
    })
    skill = Skill(spec)
    skill.save(folder)
    return skill


@pytest.fixture(scope="module", autouse=True)
def _stop_servers():
    yield
    stop_all()


def test_eval_runs_offline_on_local_models_and_resumes(tmp_path):
    folder = tmp_path / "skills" / "invoice-total"
    invoice_skill(folder)
    data = tmp_path / "items.jsonl"
    lines = bundled_dataset().read_text(encoding="utf-8").splitlines()
    data.write_text("\n".join(lines[:3]) + "\n", encoding="utf-8")
    args = ["eval", str(folder), "--dataset", str(data), "--student", "local:student", "--teacher", "local:teacher"]
    started = time.perf_counter()
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    first = time.perf_counter() - started
    report = json.loads((folder / "eval.json").read_text())
    assert report["items"] == 3 and len(report["conditions"]) == 4
    assert report["pricing"]["teacher"] == {"model": "local:teacher", "priced_as": "gpt-4o", "assumed": True,
                                            "usd_per_1m": [2.5, 10.0]}
    assert all(0.0 <= row["accuracy"] <= 1.0 and row["cost_per_item_usd"] > 0 for row in report["conditions"])
    assert report["strata"]["category"] and report["sweep"] and (folder / "eval.png").stat().st_size > 5000
    assert report["run"]["model_calls_items"] == 12
    Skill.load(folder)  # the manifest was re-signed
    started = time.perf_counter()
    again = CliRunner().invoke(app, [*args, "--baseline", str(folder / "eval.json"), "--max-drop", "0"])
    assert again.exit_code == 0, again.output
    report2 = json.loads((folder / "eval.json").read_text())
    assert report2["run"]["model_calls_items"] == 0 and report2["run"]["cached_items"] == 12
    assert report2["conditions"] == report["conditions"] and time.perf_counter() - started < first
