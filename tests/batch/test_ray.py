"""`skillc run --inputs --ray ADDRESS` on a real one-node Ray cluster that the test starts on 127.0.0.1 (and stops):
the skill folder goes to the workers as data, the output comes back in input order, and what workers cannot share
is refused up front."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx
import pytest

from tests.batch.test_replicas import INVOICE, check_output, fake_server, inputs_file
from tests.servers import free_port, running

pytest.importorskip("ray", reason="Ray is not installed (pip install -e '.[ray]'; make test installs it)")
RAY = str(Path(sys.executable).with_name("ray"))
# Ray swaps 127.0.0.1 for the machine's outward address unless told this is a one-machine cluster: this keeps
# every Ray server on loopback.
LOOPBACK = {"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0", "RAY_USAGE_STATS_ENABLED": "0"}


@pytest.fixture(scope="module")
def ray_cluster():
    temp = tempfile.mkdtemp(prefix="r", dir="/tmp")  # Ray's socket paths must stay short
    port = free_port()
    env = {**os.environ, **LOOPBACK}
    command = [RAY, "start", "--head", "--block", "--node-ip-address=127.0.0.1", f"--port={port}", "--num-cpus=2",
               "--include-dashboard=false", "--disable-usage-stats", f"--temp-dir={temp}"]
    try:
        with running(command, port, env=env, timeout_s=120):
            yield f"127.0.0.1:{port}", env
    finally:
        subprocess.run([RAY, "stop", "--force"], env=env, capture_output=True, timeout=60, check=False)
        shutil.rmtree(temp, ignore_errors=True)


def test_a_batch_runs_on_the_cluster_in_input_order(ray_cluster, tmp_path) -> None:
    address, env = ray_cluster
    port = free_port()
    inputs, out = inputs_file(tmp_path, 12), tmp_path / "out.jsonl"
    with fake_server(port, 0.2, tmp_path / "fake.log"):
        run = subprocess.run([sys.executable, "-m", "skillc.cli", "run", str(INVOICE), "--inputs", str(inputs), "--out", str(out),
                              "--ray", address, "--concurrency", "4", "--escalation", "off",
                              "--student", f"openai-compatible:http://127.0.0.1:{port}/v1#fake"],
                             capture_output=True, text=True, timeout=600, env=env, check=False)
        assert run.returncode == 0, run.stderr[-3000:]
        assert httpx.get(f"http://127.0.0.1:{port}/stats").json()["requests"] == 12  # each input ran once
    lines = check_output(out, inputs)
    from skillc.skills.skill import Skill

    assert {line["provenance"]["digest"] for line in lines} == {Skill.load(INVOICE).digest}  # the shipped skill, verified
    assert "12/12 ok" in run.stderr


def test_what_workers_cannot_share_is_refused(ray_cluster, tmp_path) -> None:
    address, env = ray_cluster
    inputs = inputs_file(tmp_path, 2)
    for extra, message in ((["--cache", "memory"], "one cache per Ray worker"),
                           (["--budget", "max_teacher_calls=3"], "cannot be shared by Ray workers")):
        run = subprocess.run([sys.executable, "-m", "skillc.cli", "run", str(INVOICE), "--inputs", str(inputs), "--ray", address,
                              "--student", "openai-compatible:http://127.0.0.1:9/v1#fake", *extra],
                             capture_output=True, text=True, timeout=300, env=env, check=False)
        assert run.returncode == 2 and message in run.stderr, run.stderr[-2000:]
