"""Model URIs and replay of recorded outputs."""

from __future__ import annotations

import csv
import json

import pytest

from skillc.adapters.models import resolve_model
from skillc.core.errors import InvalidInputError, ModelURIError, ReplayMissError
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


def test_replay_fills_the_requested_contract_and_counts_the_recorded_tokens(tmp_path):
    from skillc.adapters.calls import call_model
    from skillc.adapters.tokens import count_tokens

    path = tmp_path / "logs.csv"
    recorded = 'She has 16 - 3 - 4 = 9 "fresh" eggs and sells them at $2: 9 * 2 = $18.'
    with open(path, "w", newline="") as fh:
        csv.writer(fh).writerows([["prompt", "gpt-4-1106-preview_response"], ['Janet said "sixteen" eggs?', recorded]])
    handle = resolve_model(f"replay:{path}#gpt-4-1106-preview_response?fill")
    contract = {"type": "object", "properties": {"reasoning": {"type": "string"}, "expression": {"type": "string"}},
                "required": ["reasoning", "expression"]}
    # the question reaches the model JSON-quoted, as skillc's prompts quote inputs
    call = call_model(handle, [("user", 'Inputs: {"question": "Janet said \\"sixteen\\" eggs?"}')], json_schema=contract)
    assert json.loads(call.text) == {"reasoning": recorded, "expression": "18"}
    assert call.output_tokens == count_tokens(recorded) and not call.estimated
    assert call.cost_usd == pytest.approx(call.input_tokens * 10e-6 + call.output_tokens * 30e-6)
    plain = call_model(handle, [("user", 'Janet said "sixteen" eggs?')])
    assert plain.text == recorded
    verbatim = resolve_model(f"replay:{path}#gpt-4-1106-preview_response")  # without ?fill: as recorded
    assert call_model(verbatim, [("user", 'Janet said "sixteen" eggs?')], json_schema=contract).text == recorded
    with pytest.raises(ModelURIError, match="optionally \\?fill"):
        resolve_model(f"replay:{path}#gpt-4-1106-preview_response?fast")


def test_local_uri_options_are_checked():
    with pytest.raises(ModelURIError, match="only option is \\?logprobs"):
        resolve_model("local:student?fast")
