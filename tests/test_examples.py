"""The scripts in examples/ run as a user would run them, offline on the real local models."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from skillc.adapters.local import MODELS
from skillc.adapters.local.weights import is_installed
from skillc.skills.skill import Skill

ROOT = Path(__file__).resolve().parents[1]

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        not (is_installed(MODELS["teacher"]) and is_installed(MODELS["student"])),
        reason="local teacher/student weights are not installed (make test installs them)",
    ),
]


def run_example(name: str, *args: str, cwd: Path) -> str:
    done = subprocess.run([sys.executable, str(ROOT / "examples" / name), *args], check=False, cwd=cwd,
                          capture_output=True, text=True, timeout=1200)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


@pytest.fixture(scope="module")
def agent_run(tmp_path_factory) -> tuple[Path, str]:
    """The agent example, given a folder that does not exist yet: it compiles the skill there first."""
    work = tmp_path_factory.mktemp("examples")
    folder = work / "invoice-total"
    return folder, run_example("agent_with_skill_tool.py", str(folder), cwd=work)


def test_agent_example_calls_the_skill_as_a_tool(agent_run):
    folder, out = agent_run
    assert "compiling the bundled invoice task with local:teacher" in out
    skill = Skill.load(folder)  # the compiled folder was saved and verifies
    tool_line = re.search(r"^\[tool\] (.*)$", out, re.MULTILINE)
    assert tool_line, out
    answer = json.loads(tool_line.group(1))
    assert set(answer) == set(skill.spec.output_fields) or set(answer) == {"error"}
    assert "[ai] The invoice skill answered:" in out
    traced = re.findall(r"^  (\w+) +(student|teacher|compute|human) +(\S+) +(\d+)/(\d+) tokens$", out, re.MULTILINE)
    assert traced and traced[0][0] == skill.spec.entry
    assert {step for step, *_ in traced} <= {s.id for s in skill.spec.steps}
    assert any(role == "student" and model == "local:student" and int(tokens_in) > 0
               for _, role, model, tokens_in, _ in traced)


def test_subgraph_example_streams_step_progress(agent_run):
    folder, _ = agent_run
    out = run_example("subgraph_in_parent.py", str(folder), cwd=folder.parent)
    assert "compiling" not in out  # the existing folder is loaded, not recompiled
    skill = Skill.load(folder)
    progress = re.findall(r"^    skill step (\w+) ", out, re.MULTILINE)
    assert progress.count(skill.spec.entry) == 2  # two invoices, each starting at the entry step
    assert set(progress) <= {s.id for s in skill.spec.steps} | {"skillc_finish", "skillc_escalate_task"}
    assert len(re.findall(r"^  parent node  approve ", out, re.MULTILINE)) == 2
    assert len(re.findall(r"^  → total ", out, re.MULTILINE)) == 2
