"""SIGKILL bank writers of a signed skill folder at random moments: no acknowledged record is lost and the
folder always loads (the issue's reproduction: 6 of 12 kills left it unloadable, reported as tampering).

A writer prints a record's id only after `add` (or `grow`, through the quarantine) returned; every printed
id must be found afterwards in the bank or, for a grown record caught between its two writes, in the
quarantine.
"""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from skillc.skills.skill import Skill

WRITER = r"""
import sys, uuid
from langchain_core.embeddings import DeterministicFakeEmbedding
from skillc.core.records import new_record
from skillc.skills.bank import ExampleBank
bank = ExampleBank(sys.argv[1], embeddings=DeterministicFakeEmbedding(size=64))
tag, i = sys.argv[2], 0
while True:
    pad = "x" * 200_000  # big records, so that a kill often lands inside a write
    record = new_record("kind", {"text": f"{tag} invoice {i} {uuid.uuid4().hex} {pad}"}, {"kind": "invoice"},
                        reasoning=f"worked example {i} of writer {tag}", checked=True, source="escalation")
    if i % 3 == 0:
        bank.grow(record)  # an escalation: quarantine, then promotion (its check passed)
    else:
        bank.add([record])
    print(record["id"], flush=True)
    i += 1
"""


def start(folder: Path, tag: str) -> tuple[subprocess.Popen, list[str]]:
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(folder), tag], stdout=subprocess.PIPE, text=True)
    acked: list[str] = []

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            acked.append(line.strip())

    threading.Thread(target=read, daemon=True).start()
    return proc, acked


def wait_until_each_acknowledged(writers: list[tuple[subprocess.Popen, list[str]]], timeout_s: float = 120) -> None:
    """Wait until every running writer has acknowledged a record (or exited), at most `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and any(not acked and proc.poll() is None for proc, acked in writers):
        time.sleep(0.05)


def stored_ids(folder: Path) -> set[str]:
    skill = Skill.load(folder)  # raises if the folder does not verify
    quarantined = skill.bank.quarantine.pending() if skill.bank.quarantine else []
    return {r["id"] for r in skill.bank.records} | {r["id"] for r in quarantined}


@pytest.fixture
def folder(tmp_path: Path, invoice_spec) -> Path:
    return Skill(invoice_spec).save(tmp_path / "invoice-total")


def test_twenty_kills_of_a_single_writer_lose_nothing_acknowledged(folder):
    rng = random.Random(7)
    acknowledged: list[str] = []
    for _ in range(20):
        proc, acked = start(folder, "solo")
        wait_until_each_acknowledged([(proc, acked)])  # let it get going (imports take a moment)
        time.sleep(rng.uniform(0.0, 0.4))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        time.sleep(0.05)  # let the reader thread drain the pipe
        acknowledged += acked
        missing = set(acknowledged) - stored_ids(folder)
        assert not missing, f"{len(missing)} acknowledged record(s) lost"
    assert len(acknowledged) >= 20


def test_four_writers_one_killed_the_survivors_leave_a_folder_that_loads(folder):
    writers = [start(folder, f"w{n}") for n in range(4)]
    wait_until_each_acknowledged(writers)  # imports take seconds on a loaded machine; a fixed sleep is not enough
    time.sleep(1)
    victim, _ = writers[0]
    victim.send_signal(signal.SIGKILL)
    time.sleep(2)
    for proc, _ in writers[1:]:
        proc.send_signal(signal.SIGTERM)
    for proc, _ in writers:
        proc.wait(timeout=30)
    time.sleep(0.1)
    acknowledged = {i for _, acked in writers for i in acked}
    assert acknowledged and not acknowledged - stored_ids(folder)
    signed = json.loads((folder / "manifest.json").read_text())["files"]
    assert not [name for name in signed if name.startswith(".") or name.endswith(".tmp")]  # no temp file ever signed
