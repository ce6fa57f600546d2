"""Time the scorer's forward pass in float32 and bfloat16, then compress the first qa transcript of the suite at
rate 0.5 with its question, and print tokens and seconds.

    python bench/compression_probe.py     (after `skillc bench suite` wrote bench/results/suite/qa/items.jsonl;
                                           needs the compression extra)
"""

import json
import time
from pathlib import Path

import torch

from skillc.compression import Compressor

item = json.loads(Path("bench/results/suite/qa/items.jsonl").read_text(encoding="utf-8").splitlines()[0])
compressor = Compressor()
lingua = compressor._load()
ids = lingua.tokenizer(item["input"]["transcript"], return_tensors="pt")["input_ids"][:, :1024]
timings = {}
with torch.no_grad():
    for dtype in (torch.float32, torch.bfloat16):
        lingua.model.to(dtype)
        lingua.model(ids)  # warm-up
        started = time.perf_counter()
        lingua.model(ids)
        timings[str(dtype)] = round(time.perf_counter() - started, 2)
lingua.model.to(torch.bfloat16 if timings["torch.bfloat16"] < timings["torch.float32"] else torch.float32)
print(json.dumps({"forward_1024_tokens_s": timings}))
result = compressor.compress(item["input"]["transcript"], rate=0.5, question=item["input"]["question"])
print(json.dumps({"origin_tokens": result.origin_tokens, "compressed_tokens": result.compressed_tokens,
                  "seconds": round(result.seconds, 1), "ratio": round(result.ratio, 2)}))
