"""The browsable index, rendered by a real headless Chromium: the list of skills, then a skill's page with its
graph, steps, eval table, cost–quality plot and pull command. The screenshots land in `build/test-output/`."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import httpx
import pytest

from skillc.core.manifest import write_manifest
from skillc.core.report import ConditionRow, EvalReport, Retention
from skillc.eval.plot import plot_curve
from skillc.eval.sweep import SweepPoint
from skillc.registry.client import HttpRegistry, publish
from skillc.skills.skill import Skill

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
OUTPUT = Path(__file__).resolve().parents[2] / "build" / "test-output"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--hide-scrollbars"]

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (make test installs it)")


def chromium(url: str, profile: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args, url], capture_output=True, text=True,
                          timeout=120)


@pytest.fixture
def evaluated_skill(skill_dir: Path) -> Path:
    skill = Skill.load(skill_dir)
    rows = [ConditionRow(key="teacher_only", condition="teacher only", items=12, accuracy=0.75, cost_per_item_usd=0.004),
            ConditionRow(key="skill_escalation", condition="skill on student + escalation", items=12, accuracy=1.0,
                         escalation_rate=0.08, cost_per_item_usd=0.0011)]
    skill.evaluation = EvalReport(skill=skill.name, items=12, metric="numeric", conditions=rows, retention=Retention(points=133.3))
    skill.save(skill_dir)
    plot_curve([SweepPoint(0.5, 0.9, 0.001, 0.0), SweepPoint(float("inf"), 0.75, 0.005, 1.0)], skill_dir / "eval.png",
               marks={"teacher only": (0.004, 0.75)})
    write_manifest(skill_dir)
    return skill_dir


def test_the_index_and_a_skill_page_render_in_a_real_browser(tmp_path, server, token, evaluated_skill):
    publish(evaluated_skill, HttpRegistry(server.base_url, token), tags=["prod"])
    OUTPUT.mkdir(parents=True, exist_ok=True)
    profile = tmp_path / "chromium-profile"

    index = chromium(f"{server.base_url}/", profile, "--dump-dom").stdout
    assert "<table id=\"skills\">" in index and ">invoice-total</a>" in index and "skillc pull invoice-total@0.1.0" in index

    page_url = f"{server.base_url}/skill/invoice-total"
    dom = chromium(page_url, profile, "--dump-dom").stdout
    assert '<h1 id="name">invoice-total' in dom
    graph = dom.split('<pre id="graph">')[1].split("</pre>")[0]
    assert all(step in graph for step in ("kind", "fields", "total"))  # the ASCII drawing names every step
    steps = dom.split('<table id="steps">')[1].split("</table>")[0]
    assert steps.count("<tr>") == 4 and "quantity * unit_price" in steps
    evaluation = dom.split('<div id="eval">')[1].split("</div>")[0]
    assert "skill on student + escalation" in evaluation and "100%" in evaluation and "retention 133.3 points" in evaluation
    assert 'id="curve"' in evaluation and 'id="pull"' in dom and "prod → 0.1.0" in dom
    image = httpx.get(f"{server.base_url}/skills/invoice-total/0.1.0/eval.png")
    assert image.status_code == 200 and image.content[:4] == b"\x89PNG"

    for name, url in {"registry-index.png": f"{server.base_url}/", "registry-skill.png": page_url}.items():
        shot = OUTPUT / name
        shot.unlink(missing_ok=True)
        chromium(url, profile, f"--screenshot={shot}", "--window-size=1280,1600")
        assert shot.exists() and shot.stat().st_size > 10_000
        print(f"screenshot: {shot}")
