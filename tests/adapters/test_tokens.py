"""Token counts: tiktoken offline, and a local server's own count with a fallback."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace
from typing import ClassVar

import pytest

from skillc.adapters.tokens import count_tokens, token_counter


class WordCounting(BaseHTTPRequestHandler):
    """Answers llama-cpp-python's `/extras/tokenize/count` with the number of words, and records the asks."""

    asked: ClassVar[list[dict]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).asked.append({"path": self.path, **body})
        reply = json.dumps({"count": len(body["input"].split())}).encode()
        self.send_response(200 if self.path == "/extras/tokenize/count" else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def word_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), WordCounting)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def local(base: str) -> SimpleNamespace:
    return SimpleNamespace(kind="local", model=SimpleNamespace(openai_api_base=f"{base}/v1", model_name="student"))


def test_a_local_model_counts_with_its_own_tokenizer(word_server):
    WordCounting.asked.clear()
    count = token_counter(local(word_server))
    text = "supercalifragilistic words counted by the server"
    assert count(text) == 6 != count_tokens(text)
    assert WordCounting.asked == [{"path": "/extras/tokenize/count", "input": text, "model": "student"}]
    count(text)
    assert len(WordCounting.asked) == 1  # remembered


def test_a_dead_local_server_falls_back_to_tiktoken():
    count = token_counter(local("http://127.0.0.1:9"))  # nothing listens on the discard port
    assert count("hello world") == count_tokens("hello world") == 2


def test_api_models_count_with_tiktoken():
    assert token_counter(SimpleNamespace(kind="api", model=None)) is count_tokens
