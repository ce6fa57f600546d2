"""`skillc run --inputs --concurrency N --student A --student B` as a user runs it (the real CLI, a subprocess), against
two fake OpenAI-compatible server processes on 127.0.0.1: one is killed mid-run and no input is lost or doubled; the
batch itself is killed and resumes without running a finished input again."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.servers import free_port, running

INVOICE = Path(__file__).resolve().parents[2] / "skills" / "invoice-total"


def fake_server(port: int, latency: float, log: Path):
    return running([sys.executable, "-m", "skillc.benchmarks.fake_openai", "--port", str(port), "--latency", str(latency)],
                   port, log=log)


def served(port: int) -> int:
    return httpx.get(f"http://127.0.0.1:{port}/stats").json()["requests"]


def inputs_file(tmp_path: Path, n: int) -> Path:
    path = tmp_path / "inputs.jsonl"
    path.write_text("".join(json.dumps({"text": f"INVOICE {i}. {i + 1} chairs at ${10 + i} each."}) + "\n" for i in range(n)))
    return path


def skillc_run(inputs: Path, out: Path, ports: list[int], concurrency: int, model: str = "fake") -> subprocess.Popen:
    students = [arg for port in ports for arg in ("--student", f"openai-compatible:http://127.0.0.1:{port}/v1#{model}")]
    return subprocess.Popen([sys.executable, "-m", "skillc.cli", "run", str(INVOICE), "--inputs", str(inputs), "--out", str(out),
                             "--concurrency", str(concurrency), "--escalation", "off", "--timeout", "30", *students],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "COLUMNS": "200"})


def wait_for_lines(path: Path, n: int, process: subprocess.Popen, timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and process.poll() is None:
        if path.exists() and len(path.read_text().splitlines()) >= n:
            return
        time.sleep(0.05)
    raise AssertionError(f"{path} never reached {n} lines")


def check_output(out: Path, inputs: Path) -> list[dict]:
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    expected = [json.loads(line) for line in inputs.read_text().splitlines()]
    assert [line["input"] for line in lines] == expected  # every input once, in input order
    assert all(line["error"] is None for line in lines), [line["error"] for line in lines if line["error"]]
    return lines


def test_a_replica_killed_mid_batch_loses_no_input_and_doubles_none(tmp_path) -> None:
    ports = [free_port(), free_port()]
    inputs, out = inputs_file(tmp_path, 24), tmp_path / "out.jsonl"
    with fake_server(ports[0], 0.3, tmp_path / "a.log") as first, fake_server(ports[1], 0.3, tmp_path / "b.log"):
        batch = skillc_run(inputs, out, ports, concurrency=4)
        wait_for_lines(out, 4, batch)
        first.kill()  # in-flight calls on it fail in transport: each goes to the other replica
        _, stderr = batch.communicate(timeout=180)
        assert batch.returncode == 0, stderr
        assert served(ports[1]) >= 12
    lines = check_output(out, inputs)
    assert len(lines) == 24 and "marked down" in stderr and "24/24 ok" in stderr
    assert not (tmp_path / "out.jsonl.journal").exists()


def test_a_killed_batch_resumes_and_runs_no_finished_input_again(tmp_path) -> None:
    port = free_port()
    inputs, out = inputs_file(tmp_path, 16), tmp_path / "out.jsonl"
    with fake_server(port, 0.2, tmp_path / "a.log"):
        batch = skillc_run(inputs, out, [port], concurrency=2)
        wait_for_lines(out, 5, batch)
        batch.send_signal(signal.SIGKILL)
        batch.wait(30)
        journal = tmp_path / "out.jsonl.journal"
        done = len(journal.read_text().splitlines()) - 1
        assert 5 <= done < 16
        time.sleep(0.6)  # calls the killed batch left in flight still finish on the server (0.2 s each)
        before = served(port)
        again = skillc_run(inputs, out, [port], concurrency=2)
        _, stderr = again.communicate(timeout=180)
        assert again.returncode == 0, stderr
        assert f"{done}/16 inputs already done" in stderr
        assert served(port) - before == 16 - done  # one model call per invoice: only the unfinished ran
    check_output(out, inputs)
    assert not journal.exists()


@pytest.mark.parametrize("rps", [5.0])
def test_the_rate_limit_bounds_calls_per_second(tmp_path, rps) -> None:
    port = free_port()
    inputs, out = inputs_file(tmp_path, 10), tmp_path / "out.jsonl"
    with fake_server(port, 0.0, tmp_path / "a.log"):
        started = time.monotonic()
        batch = subprocess.run([sys.executable, "-m", "skillc.cli", "run", str(INVOICE), "--inputs", str(inputs), "--out", str(out),
                                "--concurrency", "8", "--escalation", "off", "--rps", str(rps),
                                "--student", f"openai-compatible:http://127.0.0.1:{port}/v1#fake"],
                               capture_output=True, text=True, timeout=180, check=False)
        elapsed = time.monotonic() - started
    assert batch.returncode == 0, batch.stderr
    assert elapsed >= (10 - 1) / rps * 0.9  # 10 calls at 5/s take at least ~1.8 s whatever the concurrency


@pytest.mark.integration
def test_the_invoice_skill_runs_unchanged_on_two_llama_cpp_replicas_one_killed(tmp_path) -> None:
    from skillc.adapters.local import MODELS
    from skillc.adapters.local.server import LocalServer
    from skillc.adapters.local.weights import is_installed

    if not is_installed(MODELS["student"]):
        pytest.skip("the local:student weights are not installed (make test installs them)")
    inputs, out = inputs_file(tmp_path, 8), tmp_path / "out.jsonl"
    with LocalServer([MODELS["student"]], threads=1) as first, LocalServer([MODELS["student"]], threads=1) as second:
        batch = skillc_run(inputs, out, [first.port, second.port], concurrency=4, model=MODELS["student"].alias + "?structured=json_object")
        wait_for_lines(out, 2, batch, timeout_s=600)
        first.process.kill()
        _, stderr = batch.communicate(timeout=900)
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [line["input"] for line in lines] == [json.loads(x) for x in inputs.read_text().splitlines()], stderr
    assert not [line for line in lines if (line["error"] or {}).get("kind") == "backend"], stderr
    assert "marked down" in stderr
