"""The compiled skills shipped in the repo's `skills/` load as a user loads them: manifest verified, SKILL.md
front matter valid, the graph valid, and each with the evaluation it was measured with.

A suite skill compiled for the student (its set has a `bench/results/suite/<set>/compile.json`) keeps its bank out
of the repository (it is the `evals` data): its `examples.jsonl` is rebuilt from `../shared/data/evals` and the
committed skeleton, and the manifest then checks it byte for byte. A suite skill not yet recompiled ships whole.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from skillc.benchmarks.suite import redraw_suite
from skillc.benchmarks.suite_data import SETS
from skillc.core.manifest import read_manifest
from skillc.core.spec import SkillSpec
from skillc.skills import Skill

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT.parent / "shared" / "data" / "evals"
SHIPPED = sorted(p for p in (ROOT / "skills").iterdir() if p.is_dir())
SUITE = {"event-level", "law-subject", "product-attribute", "savings-depletion-year", "lesson-booking",
         "electricity-unit-cost", "sales-call-question"}
RESULTS = ROOT / "bench" / "results" / "suite"
# the suite skills `skillc bench suite` compiled for the student (the others are the earlier teacher-on-3-samples ones)
COMPILED = {json.loads(p.read_text())["skill"] for p in RESULTS.glob("*/compile.json")}


def test_the_suite_and_the_demo_skills_are_shipped() -> None:
    assert {p.name for p in SHIPPED} >= {"invoice-total", *SUITE}


@pytest.mark.parametrize("folder", SHIPPED, ids=[p.name for p in SHIPPED])
def test_a_shipped_skill_carries_its_provenance_evaluation_and_manifest(folder: Path) -> None:
    spec = SkillSpec.model_validate_json((folder / "skill.json").read_bytes())
    assert spec.name == folder.name and spec.provenance is not None and not spec.problems()
    assert (folder / "eval.png").read_bytes().startswith(b"\x89PNG") and (folder / "eval.json").is_file()
    assert not list(folder.glob("*.pkl")) and not list(folder.glob("*.pickle"))
    assert "examples.jsonl" in read_manifest(folder)["files"]
    if folder.name in COMPILED:  # compiled for the student on a labelled split, the search recorded
        assert spec.provenance.search and spec.provenance.student == "local:student"
    if (folder / "examples.jsonl").is_file():
        skill = Skill.load(folder)  # refuses a folder whose files do not match manifest.json's sha256
        assert skill.evaluation is not None and skill.evaluation.conditions


@pytest.mark.skipif(not DATA.is_dir(), reason="the suite skills' banks are rebuilt from ../shared/data/evals")
def test_the_suite_skills_banks_are_rebuilt_from_the_data_and_verify(tmp_path: Path) -> None:
    assert COMPILED, "no suite set has a committed compile.json"
    skills, out = tmp_path / "skills", tmp_path / "out"
    for folder in SHIPPED:
        if folder.name in COMPILED:
            shutil.copytree(folder, skills / folder.name, ignore=shutil.ignore_patterns("examples.jsonl", "index.*", ".*"))
    for name in SETS:
        (out / name).mkdir(parents=True)
        for file in ("eval.json", "split.json", "bank.jsonl", "compile.json"):
            if (RESULTS / name / file).is_file():
                shutil.copy(RESULTS / name / file, out / name / file)
    lines: list[str] = []
    redraw_suite(out, tasks=ROOT / "bench" / "suite", skills=skills, data=DATA, say=lines.append)
    for name in COMPILED:
        skill = Skill.load(skills / name)  # the manifest checks the rebuilt examples.jsonl
        assert len(skill.bank) > 0 and skill.evaluation is not None
    assert sum("rebuilt the bank" in line for line in lines) == len(COMPILED)


@pytest.mark.skipif(not (ROOT / ".git").exists() or shutil.which("git") is None, reason="needs the git checkout")
def test_no_bank_of_a_suite_skill_compiled_on_the_evals_data_is_committed() -> None:
    import subprocess

    tracked = subprocess.run(["git", "ls-files", "skills"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    leaked = [t for t in tracked if t.split("/")[1] in COMPILED and t.endswith(("examples.jsonl", "index.faiss", "index.json"))]
    assert not leaked, f"{leaked}: the evals data; add them to .gitignore and `git rm --cached` them"
