"""The compiled skills shipped in the repo's `skills/` load as a user loads them: manifest verified, SKILL.md
front matter valid, the graph valid, and each with the evaluation it was measured with."""

from __future__ import annotations

from pathlib import Path

import pytest

from skillc.skills import Skill

SHIPPED = sorted(p for p in (Path(__file__).resolve().parents[2] / "skills").iterdir() if p.is_dir())


def test_the_suite_and_the_demo_skills_are_shipped() -> None:
    assert {p.name for p in SHIPPED} >= {"invoice-total", "event-level", "law-subject", "product-attribute",
                                          "savings-depletion-year", "lesson-booking", "electricity-unit-cost",
                                          "sales-call-question"}


@pytest.mark.parametrize("folder", SHIPPED, ids=[p.name for p in SHIPPED])
def test_a_shipped_skill_verifies_and_carries_its_evaluation(folder: Path) -> None:
    skill = Skill.load(folder)  # refuses a folder whose files do not match manifest.json's sha256
    assert skill.name == folder.name and skill.spec.provenance is not None
    assert skill.evaluation is not None and skill.evaluation.conditions
    assert (folder / "eval.png").read_bytes().startswith(b"\x89PNG")
    assert not list(folder.glob("*.pkl")) and not list(folder.glob("*.pickle"))
