"""Side check (2026-12-01): decode time with and without the JSON-schema grammar, on a running llama-cpp-python server.

    python -m llama_cpp.server --model PATH/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf --model_alias teacher \
        --n_ctx 4096 --n_threads 1 --n_threads_batch 1 --port 38111 &
    python bench/side_checks/decode_grammar.py 38111
"""
import json, time, urllib.request, sys
port = int(sys.argv[1])
q = ("Natalia sold clips to 48 of her friends in April, and then she sold half as many clips in May. "
     "How many clips did Natalia sell altogether in April and May? ") * 30
schema = {"type": "object", "properties": {"working": {"type": "string"}, "expression": {"type": "string"}},
          "required": ["working", "expression"]}
def go(fmt):
    body = {"model": "teacher", "messages": [{"role": "user", "content": q + "\nAnswer in JSON with working and expression; explain at length."}],
            "max_tokens": 150, "temperature": 0.0}
    if fmt: body["response_format"] = fmt
    req = urllib.request.Request(f"http://127.0.0.1:{port}/v1/chat/completions", json.dumps(body).encode(), {"Content-Type": "application/json"})
    t = time.perf_counter(); r = json.load(urllib.request.urlopen(req, timeout=600)); dt = time.perf_counter() - t
    return r["usage"], round(dt, 1)
for name, fmt in [("none", None), ("schema", {"type": "json_object", "schema": schema}), ("none", None), ("schema", {"type": "json_object", "schema": schema})]:
    print(name, go(fmt), flush=True)
