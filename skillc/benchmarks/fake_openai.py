"""A fake OpenAI-compatible chat server with a fixed latency, so a benchmark measures skillc's own overhead rather
than a model's speed (and a test can kill a "replica" in a blink).

Every `POST /v1/chat/completions` waits `latency_s` (asynchronously: concurrent requests overlap, as on a real
batched server), then answers a chat completion whose content fits the request's JSON schema (`response_format`
`json_schema`: the first enum value, 1 for numbers, "x" for strings), or `"42"` without one. It counts the requests
it served (`GET /stats`).

Run it: `python -m skillc.benchmarks.fake_openai --port 8011 --latency 0.2` (binds 127.0.0.1).

Example:
    >>> instance_of({"type": "object", "properties": {"n": {"type": "number"}, "k": {"enum": ["a", "b"]}}})
    {'n': 1, 'k': 'a'}
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from typing import Any

from fastapi import (  # module level: the handlers' annotations are strings resolved here
    FastAPI,
    Request,
)


def instance_of(schema: dict[str, Any]) -> Any:
    """A small value that validates against a simple JSON schema."""
    if "enum" in schema:
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    for key in ("anyOf", "oneOf"):
        if schema.get(key):
            return instance_of(schema[key][0])
    kind = schema.get("type", "object")
    kind = next((k for k in kind if k != "null"), "null") if isinstance(kind, list) else kind
    if kind == "object":
        return {name: instance_of(sub) for name, sub in (schema.get("properties") or {}).items()}
    if kind == "array":
        return [instance_of(schema["items"])] * int(schema.get("minItems", 0)) if isinstance(schema.get("items"), dict) else []
    return {"number": 1, "integer": 1, "string": "x", "boolean": False, "null": None}.get(kind, "x")


def completion(model: str, content: str, *, finish: str = "stop", served: int = 0,
               prompt_tokens: int = 100, completion_tokens: int = 10) -> dict[str, Any]:
    """A chat-completion body as an OpenAI-compatible server answers it (also the scripted fault server's, in tests).

    >>> completion("m", "42")["choices"][0]["message"]
    {'role': 'assistant', 'content': '42'}
    """
    return {"id": f"fake-{served}", "object": "chat.completion", "created": int(time.time()), "model": model,
            "choices": [{"index": 0, "finish_reason": finish, "logprobs": None,
                         "message": {"role": "assistant", "content": content}}],
            "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                      "total_tokens": prompt_tokens + completion_tokens}}


def make_app(latency_s: float) -> FastAPI:
    app = FastAPI()
    served = {"requests": 0}

    @app.post("/v1/chat/completions")
    async def chat(request: Request) -> dict[str, Any]:
        body = await request.json()
        await asyncio.sleep(latency_s)
        served["requests"] += 1
        schema = ((body.get("response_format") or {}).get("json_schema") or {}).get("schema")
        content = json.dumps(instance_of(schema)) if isinstance(schema, dict) else "42"
        return completion(body.get("model", "fake"), content, served=served["requests"])

    @app.get("/v1/models")
    async def models() -> dict[str, Any]:
        return {"object": "list", "data": [{"id": "fake", "object": "model"}]}

    @app.get("/stats")
    async def stats() -> dict[str, int]:
        return dict(served)

    return app


def main(argv: list[str] | None = None) -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--latency", type=float, default=0.2, help="seconds per request")
    args = parser.parse_args(argv)
    uvicorn.run(make_app(args.latency), host=args.host, port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
