"""Compress the first qa transcript of the suite at rate 0.5 with its question, and print tokens and seconds.

    python bench/compression_probe.py     (after `skillc bench suite` wrote bench/results/suite/qa/items.jsonl;
                                           needs torch, transformers, gguf and llmlingua installed)
"""

import json
from pathlib import Path

from skillc.compression import Compressor

item = json.loads(Path("bench/results/suite/qa/items.jsonl").read_text(encoding="utf-8").splitlines()[0])
result = Compressor().compress(item["input"]["transcript"], rate=0.5, question=item["input"]["question"])
print(json.dumps({"origin_tokens": result.origin_tokens, "compressed_tokens": result.compressed_tokens,
                  "seconds": round(result.seconds, 1), "ratio": round(result.ratio, 2)}))
