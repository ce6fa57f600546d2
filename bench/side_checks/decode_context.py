"""Side check (2026-12-01): does a 1,176-token prompt slow decoding? Run once per server, with `--flash_attn false` and `true`.

    python -m llama_cpp.server --model PATH/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf --model_alias teacher \
        --n_ctx 4096 --n_threads 1 --n_threads_batch 1 --flash_attn false --port 38112 &
    python bench/side_checks/decode_context.py 38112
"""
import json, time, urllib.request, sys
port = int(sys.argv[1])
q = ("Natalia sold clips to 48 of her friends in April, and then she sold half as many clips in May. "
     "How many clips did Natalia sell altogether in April and May? ") * 30
def go(prompt, n):
    body = {"model": "teacher", "messages": [{"role": "user", "content": prompt + "\nExplain at length."}],
            "max_tokens": n, "temperature": 0.0}
    req = urllib.request.Request(f"http://127.0.0.1:{port}/v1/chat/completions", json.dumps(body).encode(), {"Content-Type": "application/json"})
    t = time.perf_counter(); r = json.load(urllib.request.urlopen(req, timeout=900)); dt = time.perf_counter() - t
    return r["usage"]["prompt_tokens"], r["usage"]["completion_tokens"], round(dt, 1)
print("long warm", go(q, 1), flush=True)
print("long 100", go(q, 100), flush=True)
print("short 100", go("Explain how to compute 15% of 240.", 100), flush=True)
