"""The skill folder: SKILL.md front matter, manifest hashes, tamper refusal, no code execution."""

from __future__ import annotations

import json
import os

import pytest

from skillc.core.errors import SkillFolderError
from skillc.core.manifest import sha256_file
from skillc.skills.skill import Skill
from skillc.skills.skill_md import read_front_matter


@pytest.fixture
def folder(tmp_path, invoice_spec):
    skill = Skill(invoice_spec, examples=[{"id": "1", "step": "kind", "input": {"text": "x"}, "output": {"kind": "other"}}])
    return skill.save(tmp_path / "invoice-total")


def test_folder_has_the_format_files(folder):
    assert sorted(p.name for p in folder.iterdir()) == ["SKILL.md", "examples.jsonl", "index.faiss", "index.json", "manifest.json", "skill.json"]
    front = read_front_matter((folder / "SKILL.md").read_text())
    assert front["name"] == folder.name == "invoice-total"
    assert 0 < len(front["description"]) <= 1024
    assert front["metadata"] == {"version": "0.1.0", "skillc-format": "1"}
    assert "```mermaid" in (folder / "SKILL.md").read_text()


def test_manifest_holds_the_sha256_of_every_file(folder):
    manifest = json.loads((folder / "manifest.json").read_text())
    files = {p.name for p in folder.iterdir()} - {"manifest.json"}
    assert set(manifest["files"]) == files
    for name, digest in manifest["files"].items():
        assert digest == sha256_file(folder / name)


def test_load_round_trips(folder, invoice_spec):
    skill = Skill.load(folder)
    assert skill.spec == invoice_spec
    assert skill.examples[0]["step"] == "kind"


@pytest.mark.parametrize(("victim", "old", "new"), [("skill.json", "quantity", "quantitx"),
                                                     ("SKILL.md", "quantity", "quantitx"),
                                                     ("examples.jsonl", "other", "othex")])
def test_tampered_file_is_refused_by_name(folder, victim, old, new):
    path = folder / victim
    path.write_text(path.read_text().replace(old, new, 1))
    with pytest.raises(SkillFolderError, match=victim):
        Skill.load(folder)


def test_records_appended_after_signing_are_never_read_and_are_cut_by_the_next_writer(folder):
    signed = (folder / "examples.jsonl").read_bytes()
    poison = {"id": "2", "step": "kind", "input": {"text": "y"}, "output": {"kind": "invoice"}}
    with open(folder / "examples.jsonl", "a") as fh:  # a writer killed before re-signing, or an attacker
        fh.write(json.dumps(poison) + "\n")
    skill = Skill.load(folder)  # the signed prefix still verifies
    assert [r["id"] for r in skill.bank.records] == ["1"]
    skill.bank.add([{"id": "3", "step": "kind", "input": {"text": "a new question"}, "output": {"kind": "other"},
                     "reasoning": "an example that passes the quality filter"}])
    assert (folder / "examples.jsonl").read_bytes().startswith(signed)
    assert [r["id"] for r in Skill.load(folder).bank.records] == ["1", "3"]


def test_added_file_is_refused(folder):
    (folder / "payload.py").write_text("print('pwned')")
    with pytest.raises(SkillFolderError, match="payload.py.*not listed"):
        Skill.load(folder)


def test_symlink_and_subfolder_are_refused(folder, tmp_path):
    (tmp_path / "outside").write_text("x")
    os.symlink(tmp_path / "outside", folder / "link")
    with pytest.raises(SkillFolderError, match="only regular files"):
        Skill.load(folder)


def test_missing_file_is_refused(folder):
    (folder / "examples.jsonl").unlink()
    with pytest.raises(SkillFolderError, match="examples.jsonl.*missing"):
        Skill.load(folder)


def test_renamed_folder_is_refused(folder):
    moved = folder.rename(folder.parent / "other-name")
    with pytest.raises(SkillFolderError, match="must agree"):
        Skill.load(moved)


def test_bad_folder_name_is_refused(tmp_path, invoice_spec):
    with pytest.raises(SkillFolderError, match="lowercase"):
        Skill(invoice_spec).save(tmp_path / "Bad_Name")


def test_save_names_the_skill_after_its_folder(tmp_path, invoice_spec):
    folder = Skill(invoice_spec).save(tmp_path / "renamed-skill")
    assert Skill.load(folder).name == "renamed-skill"


def test_threads_sharing_an_unsaved_skill_share_one_bank(invoice_spec, monkeypatch):
    """A batch run's threads share one skill: the first calls must not each open a bank of their own."""
    import time
    from concurrent.futures import ThreadPoolExecutor

    import skillc.skills.skill as skill_module

    class SlowBank(skill_module.ExampleBank):
        def __init__(self, *args, **kwargs) -> None:
            time.sleep(0.05)  # opening a big bank reads and checks its JSONL
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(skill_module, "ExampleBank", SlowBank)
    skill = Skill(invoice_spec, examples=[{"id": "1", "step": "kind", "input": {"text": "x"}, "output": {"kind": "other"}}])
    with ThreadPoolExecutor(8) as pool:
        banks = list(pool.map(lambda _: skill.bank, range(16)))
    assert len({id(bank) for bank in banks}) == 1 and banks[0] is skill.bank
