"""Each backend fault class, served by a real HTTP server on 127.0.0.1, through `skillc run`.

What a user should see: a dead or failing backend exits 4 with the cause; a slow one is cut by `--timeout`
or `--deadline` (named in the message); a 429/503 with `Retry-After` is retried no sooner than asked; a
student that answers badly gives up with exit 3 and the real cause when there is no teacher, and is
rescued by the teacher when there is one.
"""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from skillc.cli import app
from skillc.core.spec import SkillSpec
from skillc.skills.skill import Skill
from tests.reliability.fake_openai import FakeOpenAI

GOOD = json.dumps({"total": 12})
INPUT = json.dumps({"text": "Invoice: 3 chairs at $4 each."})


@pytest.fixture
def skill_dir(tmp_path: Path) -> Path:
    contract = {"type": "object", "properties": {"total": {"type": "number"}}, "required": ["total"]}
    spec = SkillSpec.model_validate({
        "name": "invoice-total", "task": "Read the invoice total.", "entry": "read",
        "input_schema": {"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]},
        "output_schema": contract,
        "retrieval": {"k": 0},
        "steps": [{"id": "read", "primitive": "extract", "instruction": "The total in dollars.", "reads": ["text"],
                   "writes": ["total"], "contract": contract, "on_fail": ["retry", "escalate", "give_up"],
                   "max_retries": 1, "next": "END"}],
    })
    return Skill(spec).save(tmp_path / "invoice-total")


def run(skill_dir: Path, fake: FakeOpenAI, *extra: str, teacher: bool = False) -> tuple[int, str, float]:
    args = ["run", str(skill_dir), "--input", INPUT, "--student", fake.uri("student"), "--json", *extra]
    if teacher:
        args += ["--teacher", fake.uri("teacher")]
    started = time.monotonic()
    result = CliRunner().invoke(app, args, env={"COLUMNS": "300"})
    return result.exit_code, result.stdout + result.stderr, time.monotonic() - started


def test_a_good_backend_answers(skill_dir):
    with FakeOpenAI({"student": [("ok", GOOD)]}) as fake:
        code, out, _ = run(skill_dir, fake)
    assert code == 0 and '"total": 12' in out


@pytest.mark.parametrize(("reply", "words"), [
    (("status", 500, {}), "500"),
    (("status", 502, {}), "502"),
    (("close",), "Connection"),
    (("garbage",), "not a chat completion"),
])
def test_a_failing_backend_exits_4_with_its_cause(skill_dir, reply, words):
    with FakeOpenAI({"student": [reply]}) as fake:
        code, out, seconds = run(skill_dir, fake)
    assert code == 4 and words in out, out
    assert seconds < 30


def test_a_dead_backend_exits_4(skill_dir):
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    args = ["run", str(skill_dir), "--input", INPUT, "--student",
            f"openai-compatible:http://127.0.0.1:{port}/v1#student?structured=json_object"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 4 and "Connection" in result.stderr


@pytest.mark.parametrize(("code", "header"), [(429, {"retry-after": "2"}), (503, {"retry-after-ms": "1500"})])
def test_retry_after_is_honoured(skill_dir, code, header):
    wait = 2.0 if "retry-after" in header else 1.5
    with FakeOpenAI({"student": [("status", code, header), ("ok", GOOD)]}) as fake:
        exit_code, out, _ = run(skill_dir, fake)
        first, second = fake.requests["student"][:2]
    assert exit_code == 0, out
    assert second - first >= wait  # the server asked for `wait` seconds; the retry came no sooner


def test_a_hung_backend_is_cut_by_the_per_call_timeout(skill_dir):
    with FakeOpenAI({"student": [("hang", 30)]}) as fake:
        code, out, seconds = run(skill_dir, fake, "--timeout", "1")
    assert code == 4 and "timeout is 1 s" in out, out
    assert seconds < 12  # three attempts of 1 s and the retry pauses, not 3 x 600 s


def test_a_run_deadline_bounds_retries_and_escalations(skill_dir):
    with FakeOpenAI({"student": [("hang", 30)], "teacher": [("hang", 30)]}) as fake:
        code, out, seconds = run(skill_dir, fake, "--timeout", "5", "--deadline", "2", teacher=True)
    assert code == 4 and "deadline" in out, out
    assert seconds < 8


@pytest.mark.parametrize(("reply", "kind"), [
    (("ok", "the total is twelve"), "malformed_output"),
    (("ok", json.dumps({"total": "twelve"})), "contract"),
    (("ok", ""), "malformed_output"),
    (("ok", json.dumps({"amount": 12})), "contract"),
    (("length", '{"total": 1'), "malformed_output"),
])
def test_a_bad_student_answer_without_a_teacher_exits_3_with_the_real_cause(skill_dir, reply, kind):
    with FakeOpenAI({"student": [reply]}) as fake:
        code, out, _ = run(skill_dir, fake)
    assert code == 3, out
    assert kind in out and "no teacher" not in out
    assert len(fake.requests["student"]) == 2  # the first try and one retry with the error shown; no escalation


def test_a_bad_student_answer_is_rescued_by_the_teacher(skill_dir):
    with FakeOpenAI({"student": [("ok", "twelve")], "teacher": [("ok", GOOD)]}) as fake:
        code, out, _ = run(skill_dir, fake, teacher=True)
    assert code == 0 and '"total": 12' in out and '"escalated": true' in out, out


def test_a_looping_student_is_cut_as_a_failed_attempt_and_every_call_is_bounded(skill_dir):
    loop = '{"total": ' + "12 " * 300  # the model repeats itself instead of closing the JSON
    with FakeOpenAI({"student": [("ok", loop), ("ok", GOOD)]}) as fake:
        code, out, _ = run(skill_dir, fake)
        bodies = fake.bodies["student"]
    assert code == 0 and '"total": 12' in out, out
    assert len(bodies) == 2 and "repeats" in bodies[1]["messages"][-1]["content"]  # the retry names the loop
    limits = [b.get("max_completion_tokens") or b.get("max_tokens") for b in bodies]
    assert all(limit == 64 for limit in limits), limits  # one number: the contract's bound, not the backend's


def test_a_request_the_backend_refuses_gives_up_with_its_reason_without_retrying(skill_dir):
    with FakeOpenAI({"student": [("status", 400, {})]}) as fake:
        code, out, _ = run(skill_dir, fake)
    assert code == 3 and "refused the request" in out, out
    assert len(fake.requests["student"]) == 1  # the same request would be refused again
