"""Model URIs and replay of recorded outputs."""

from __future__ import annotations

import csv

import pytest

from skillc.adapters.models import resolve_model
from skillc.errors import InvalidInputError, ModelURIError, ReplayMissError
from tests.fakes import ScriptedChatModel


@pytest.fixture
def logs(tmp_path):
    path = tmp_path / "logs.csv"
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["prompt", "gpt-4-1106-preview_response"])
        writer.writerow(["What is 2+2?", "4"])
        writer.writerow(["What is 2+2? Show your work.", "2+2=4"])
        writer.writerow(["A multi\nline   prompt", "ok, multi"])
    return path


def test_replay_answers_recorded_prompts(logs):
    handle = resolve_model(f"replay:{logs}#gpt-4-1106-preview_response")
    assert handle.kind == "replay" and handle.name == "gpt-4-1106-preview"
    assert handle.model.invoke("What is 2+2?").content == "4"
    assert handle.model.invoke([("system", "Be brief."), ("user", "What is 2+2? Show your work.")]).content == "2+2=4"
    assert handle.model.invoke("A multi line prompt").content == "ok, multi"


def test_replay_miss_is_a_clear_error(logs):
    handle = resolve_model(f"replay:{logs}#gpt-4-1106-preview_response")
    with pytest.raises(ReplayMissError, match="logs.csv has no record.*What is 3\\+3"):
        handle.model.invoke("What is 3+3?")


def test_replay_bad_column_and_missing_file(logs, tmp_path):
    with pytest.raises(InvalidInputError, match="no column 'nope'"):
        resolve_model(f"replay:{logs}#nope")
    with pytest.raises(InvalidInputError, match="not found"):
        resolve_model(f"replay:{tmp_path / 'missing.csv'}#x")


def test_openai_compatible_uri():
    handle = resolve_model("openai-compatible:http://127.0.0.1:8000/v1#qwen2.5?structured=json_object")
    assert handle.name == "qwen2.5" and handle.structured == "json_object"
    assert str(handle.model.openai_api_base).startswith("http://127.0.0.1:8000/v1")


def test_init_chat_model_uri(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    handle = resolve_model("openai:gpt-4o-mini")
    assert handle.name == "gpt-4o-mini" and handle.structured == "json_schema"


@pytest.mark.parametrize(
    "uri, message",
    [
        ("gpt-4o", "not a model URI"),
        ("replay:logs.csv", "replay:path/to/logs.csv#response_column"),
        ("openai-compatible:localhost:8000#m", "openai-compatible:http://host:port/v1#model-name"),
        ("nosuchprovider:model", "cannot make a chat model"),
    ],
)
def test_bad_uris_are_clear_errors(uri, message):
    with pytest.raises(ModelURIError, match=message):
        resolve_model(uri)


def test_a_chat_model_object_is_accepted():
    model = ScriptedChatModel(script=["hi"])
    assert resolve_model(model).model is model
