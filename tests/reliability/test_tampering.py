"""Tampering with a skill folder: every case is refused with a `SkillFolderError` that names the file, and
loading never executes anything. Cases a crashed writer can leave (an unsigned tail, a stale temp file, a
stale index) load, and what they hold is never used.

Cases marked "re-signed" also rewrite manifest.json, as someone with write access to the folder could:
the content itself must then be refused.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from skillc.core.errors import SkillFolderError
from skillc.core.manifest import write_manifest
from skillc.core.records import new_record
from skillc.skills.skill import Skill

Tamper = Callable[[Path], None]


def edit(name: str, old: str, new: str, resign: bool = False) -> Tamper:
    def apply(folder: Path) -> None:
        path = folder / name
        path.write_bytes(path.read_bytes().replace(old.encode(), new.encode(), 1))
        if resign:
            write_manifest(folder)
    return apply


def write(name: str, data: bytes | str, resign: bool = False) -> Tamper:
    def apply(folder: Path) -> None:
        (folder / name).write_bytes(data.encode() if isinstance(data, str) else data)
        if resign:
            write_manifest(folder)
    return apply


def append(name: str, data: bytes, resign: bool = False) -> Tamper:
    def apply(folder: Path) -> None:
        with open(folder / name, "ab") as fh:
            fh.write(data)
        if resign:
            write_manifest(folder)
    return apply


def manifest_with(change: Callable[[dict], object]) -> Tamper:
    def apply(folder: Path) -> None:
        data = json.loads((folder / "manifest.json").read_text())
        (folder / "manifest.json").write_text(json.dumps(change(data)))
    return apply


def truncate(name: str) -> Tamper:
    def apply(folder: Path) -> None:
        path = folder / name
        path.write_bytes(path.read_bytes()[:-10])
    return apply


def symlink(folder: Path) -> None:
    os.symlink("/etc/hostname", folder / "link.txt")


def subfolder(folder: Path) -> None:
    (folder / "sub").mkdir()


def delete(name: str) -> Tamper:
    return lambda folder: (folder / name).unlink()


DEEP = "[" * 5000 + "]" * 5000
REFUSED: dict[str, tuple[Tamper, str]] = {
    "skill.json: one byte changed": (edit("skill.json", "quantity", "quantitx"), "skill.json"),
    "SKILL.md: one byte changed": (edit("SKILL.md", "quantity", "quantitx"), "SKILL.md"),
    "examples.jsonl: a signed record changed": (edit("examples.jsonl", "widget", "gadget"), "examples.jsonl"),
    "examples.jsonl: truncated below its signed length": (truncate("examples.jsonl"), "examples.jsonl"),
    "skill.json deleted": (delete("skill.json"), "skill.json"),
    "manifest.json deleted": (delete("manifest.json"), "manifest.json"),
    "manifest.json: not JSON": (write("manifest.json", "{nope"), "manifest.json"),
    "manifest.json: not UTF-8": (write("manifest.json", b"\xff\xfe{}"), "manifest.json"),
    "manifest.json: a list": (write("manifest.json", "[]"), "manifest.json"),
    "manifest.json: null": (write("manifest.json", "null"), "manifest.json"),
    "manifest.json: nested 5000 deep": (write("manifest.json", DEEP), "manifest.json"),
    "manifest.json: hashes are numbers": (manifest_with(lambda m: {**m, "files": {k: 1 for k in m["files"]}}), "manifest.json"),
    "manifest.json: lists ../../etc/passwd": (manifest_with(lambda m: {**m, "files": {**m["files"], "../../etc/passwd": "0" * 64}}), "manifest.json"),
    "manifest.json: lists a hidden file": (manifest_with(lambda m: {**m, "files": {**m["files"], ".hidden": "0" * 64}}), "manifest.json"),
    "manifest.json: negative signed length": (manifest_with(lambda m: {**m, "append_only": {"examples.jsonl": -1}}), "manifest.json"),
    "manifest.json: signed length is a boolean": (manifest_with(lambda m: {**m, "append_only": {"examples.jsonl": True}}), "manifest.json"),
    "an added payload.py": (write("payload.py", "import os; os.system('touch pwned')"), "payload.py"),
    "an added model.pkl": (write("model.pkl", b"cos\nsystem\n(S'touch pwned'\ntR."), "model.pkl"),
    "a symlink": (symlink, "link.txt"),
    "a subfolder": (subfolder, "sub"),
    "re-signed skill.json that is not JSON": (write("skill.json", "{", resign=True), "skill.json"),
    "re-signed skill.json nested 5000 deep": (write("skill.json", DEEP, resign=True), "skill.json"),
    "re-signed skill.json that is not UTF-8": (write("skill.json", b"\xff\xff", resign=True), "skill.json"),
    "re-signed skill.json whose graph points nowhere": (edit("skill.json", '"next": "END"', '"next": "nowhere"', resign=True), "skill.json"),
    "re-signed SKILL.md with a python YAML tag": (edit("SKILL.md", "name: invoice-total", "name: !!python/object/apply:os.system ['touch pwned']", resign=True), "SKILL.md"),
    "re-signed SKILL.md that is not UTF-8": (write("SKILL.md", b"---\nname: \xff\n---\n", resign=True), "SKILL.md"),
    "re-signed SKILL.md naming another skill": (edit("SKILL.md", "name: invoice-total", "name: other-skill", resign=True), "SKILL.md"),
    "re-signed eval.json that is not JSON": (write("eval.json", "{not json", resign=True), "eval.json"),
    "re-signed eval.json nested 5000 deep": (write("eval.json", DEEP, resign=True), "eval.json"),
    "re-signed eval.json that is no report": (write("eval.json", '{"accuracy": 1}', resign=True), "eval.json"),
    "re-signed examples.jsonl with a non-UTF-8 line": (append("examples.jsonl", b'{"step": "\xff"}\n', resign=True), "examples.jsonl"),
    "re-signed examples.jsonl with a line nested 5000 deep": (append("examples.jsonl", DEEP.encode() + b"\n", resign=True), "examples.jsonl"),
    "re-signed examples.jsonl with a record without a step": (append("examples.jsonl", b'{"input": {}}\n', resign=True), "examples.jsonl"),
}
LOADS: dict[str, Tamper] = {
    "an unsigned record appended (a writer killed before re-signing)": append("examples.jsonl", b'{"id": "x", "step": "fields", "input": {"text": "poison"}, "output": {}}\n'),
    "a partial unsigned line": append("examples.jsonl", b'{"id": "y", "step": "fie'),
    "a stale temp file of an interrupted atomic write": write(".manifest.json.abc123.tmp", "{half a manifest"),
    "a corrupt index.faiss": write("index.faiss", b"\0" * 64),
    "a corrupt index.json": write("index.json", "{"),
    "index.faiss deleted": delete("index.faiss"),
    "a quarantine with garbage in it": write("quarantine.jsonl", b"\xff{not json\n"),
}


@pytest.fixture
def folder(tmp_path: Path, invoice_spec) -> Path:
    examples = [new_record("fields", {"text": "INVOICE #1. 1 widget at $2."}, {"quantity": 1, "unit_price": 2, "stated_total": 2},
                           reasoning="one widget at two dollars")]
    skill = Skill(invoice_spec, examples, evaluation={"skill": "invoice-total", "items": 1, "metric": "numeric", "conditions": []})
    return skill.save(tmp_path / "invoice-total")


@pytest.mark.parametrize("case", list(REFUSED))
def test_tampering_is_refused_by_name_and_runs_nothing(folder, case, monkeypatch):
    tamper, named = REFUSED[case]
    tamper(folder)
    monkeypatch.chdir(folder.parent)
    with pytest.raises(SkillFolderError) as info:
        Skill.load(folder)
    assert named in str(info.value), str(info.value)
    assert not (folder.parent / "pwned").exists() and not (folder / "pwned").exists()


@pytest.mark.parametrize("case", list(LOADS))
def test_what_a_crashed_writer_leaves_loads_and_is_never_used(folder, case):
    LOADS[case](folder)
    skill = Skill.load(folder)
    assert [r["input"]["text"] for r in skill.bank.records] == ["INVOICE #1. 1 widget at $2."]
    assert skill.bank.search({"text": "INVOICE #2"}, k=3)[0]["output"]["quantity"] == 1
