"""`skillc compile --trainset --student` on the real local models: a small labelled task, scored on the 0.5B student."""

from __future__ import annotations

import json

import pytest
import yaml
from typer.testing import CliRunner

from skillc.adapters.local import MODELS, stop_all
from skillc.adapters.local.weights import is_installed
from skillc.cli import app
from skillc.skills import Skill

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not all(is_installed(MODELS[m]) for m in ("teacher", "student", "tiny")),
                       reason="local teacher/student/tiny weights are not installed (make test installs them)"),
]

TASK = {
    "name": "ticket-team", "description": "Route a support ticket to the team that handles it: billing, shipping or login.",
    "metric": "label",
    "inputs": {"ticket": {"type": "string", "description": "the customer's message"}},
    "output_schema": {"type": "object", "properties": {"team": {"enum": ["billing", "shipping", "login"]}},
                      "required": ["team"]},
}
TICKETS = {
    "billing": ["I was charged twice this month", "My invoice shows the wrong amount", "Please refund my last payment",
                "Why did my card get billed again?", "The price on my receipt is wrong"],
    "shipping": ["My parcel has not arrived yet", "The box came damaged", "Where is my delivery?",
                 "The courier left the package at the wrong door", "Tracking has not moved in a week"],
    "login": ["I cannot sign in to my account", "The password reset link does not work", "My account is locked",
              "Two-factor code never arrives", "It says my username does not exist"],
}


@pytest.fixture(scope="module", autouse=True)
def _stop_servers():
    yield
    stop_all()


def test_compile_with_a_trainset_scores_candidates_on_the_real_student(tmp_path):
    (tmp_path / "task.yaml").write_text(yaml.safe_dump(TASK))
    lines = [json.dumps({"input": {"ticket": text}, "expected": {"team": team}, "id": f"{team}-{n}"})
             for team, texts in TICKETS.items() for n, text in enumerate(texts)]
    (tmp_path / "items.jsonl").write_text("\n".join(lines) + "\n")
    out = tmp_path / "skills" / "ticket-team"
    result = CliRunner().invoke(app, [
        "compile", str(tmp_path / "task.yaml"), "--teacher", "local:teacher", "--student", "local:student",
        "--trainset", str(tmp_path / "items.jsonl"), "--dev-share", "0.4", "--architect-samples", "0",
        "--search-budget", "40", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "search 1/" in result.stderr and "dev " in result.stderr  # a line per candidate, while it works
    assert "kept" in result.output and "raw student (one call)" in result.output  # the search table
    skill = Skill.load(out)
    search = skill.spec.provenance.search
    assert search["splits"]["dev"] == 6 and skill.spec.provenance.student == "local:student"
    scored = [c for c in search["candidates"] if c["status"] == "scored"]
    # the student really ran the candidates (a perfect vote can prune every model candidate after its first chunk)
    assert any(c["student_calls"] > 0 for c in search["candidates"]) and any(c["design"] == "vote" for c in scored)
    kept = next(c for c in search["candidates"] if c["candidate"] == search["kept"])
    assert kept["dev_accuracy"] == max(c["dev_accuracy"] for c in scored)
    assert {r["source"] for r in skill.bank.records} == {"label"} and len(skill.bank) == 9
    assert skill.spec.escalation.calibration["items"] == 6  # the gate was learned on the dev split
    assert "## How it was chosen" in (out / "SKILL.md").read_text()
    run = skill.run({"ticket": "I was billed twice for one order"}, student="local:student", escalation="off")
    assert run.ok and run.output["team"] in TICKETS
