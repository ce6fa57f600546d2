"""A real OpenAI-compatible HTTP server on 127.0.0.1 that answers each request from a script of faults.

Each model name has a list of replies, used in order (the last one repeats):
`("ok", text)`, `("status", code, headers)`, `("hang", seconds)`, `("garbage",)` (HTTP 200, not JSON),
`("length", text)` (cut at the token limit), `("close",)` (the connection drops without a reply).
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from skillc.benchmarks.fake_openai import completion

Reply = tuple[Any, ...]


class FakeOpenAI:
    def __init__(self, scripts: dict[str, list[Reply]]) -> None:
        self.scripts = {k: list(v) for k, v in scripts.items()}
        self.requests: dict[str, list[float]] = {}
        self.bodies: dict[str, list[dict[str, Any]]] = {}
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def uri(self, model: str, structured: str = "json_object") -> str:
        return f"openai-compatible:{self.base_url}#{model}?structured={structured}"

    def __enter__(self) -> FakeOpenAI:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()

    def next_reply(self, model: str) -> Reply:
        self.requests.setdefault(model, []).append(time.monotonic())
        script = self.scripts.get(model) or [("status", 404, {})]
        return script.pop(0) if len(script) > 1 else script[0]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))) or b"{}")
                fake.bodies.setdefault(str(body.get("model")), []).append(body)
                reply = fake.next_reply(str(body.get("model")))
                kind = reply[0]
                if kind == "hang":
                    time.sleep(reply[1])
                    return self._json(200, _completion(body, "{}"))
                if kind == "close":
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return None
                if kind == "garbage":
                    return self._raw(200, b"<html>proxy error</html>", "text/html")
                if kind == "status":
                    return self._json(reply[1], {"error": {"message": f"fake {reply[1]}", "type": "fake"}}, reply[2])
                return self._json(200, _completion(body, reply[1], "length" if kind == "length" else "stop"))

            def _json(self, code: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> None:
                self._raw(code, json.dumps(payload).encode(), "application/json", headers)

            def _raw(self, code: int, data: bytes, ctype: str, headers: dict[str, str] | None = None) -> None:
                self.send_response(code)
                self.send_header("content-type", ctype)
                self.send_header("content-length", str(len(data)))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)

        return Handler


def _completion(request: dict[str, Any], text: str, finish: str = "stop") -> dict[str, Any]:
    tokens = max(len(text) // 4, 1)
    return completion(request.get("model", "fake"), text, finish=finish, prompt_tokens=10, completion_tokens=tokens)
