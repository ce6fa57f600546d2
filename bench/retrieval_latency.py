"""Demo retrieval latency and memory: skillc's ExampleBank (native FAISS) vs LangChain's example selector.

    python bench/retrieval_latency.py                          # 1k, 10k, 100k records, 200 queries
    python bench/retrieval_latency.py --sizes 1000,10000 --queries 100 --data ../shared/data/gsm8k

Sides, each built and measured in a fresh subprocess (so its RSS growth is its own):
  bank          `ExampleBank` as shipped: exact `IndexFlatIP` up to `approx_threshold` (20k), HNSW above.
  bank-flat     the same with the threshold lifted, so exact search at every size (run at sizes > 20k).
  langchain     `SemanticSimilarityExampleSelector` over `InMemoryVectorStore`, k=3.

Both sides get the same `PrecomputedEmbeddings`: the vectors are MiniLM embeddings (the bank's offline
default) computed once up front and looked up by text, so embedding costs ~0 during the measurement and
the index/search path is what is compared. Corpus texts are the GSM8K train questions (7473); a size above
that is filled with noisy copies of real vectors (Gaussian noise, sigma 0.02 per dimension, renormalized)
under distinct texts. Queries are the first `--queries` GSM8K test questions (never in the corpus).

Per query: `time.perf_counter()` around `bank.search(question, k=3, step="solve")` (what the demo path
calls) or `selector.select_examples({"question": question})`, after 5 warm-up queries; a side stops after
`--time-limit` seconds of queries (at least 20). Memory: VmRSS (and the peak, VmHWM) from /proc/self/status
before and after building, after the vectors are loaded. recall@3: overlap with the exact top 3 (numpy).

Prints a table and writes bench/results/retrieval_latency.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from langchain_core.embeddings import Embeddings

HERE = Path(__file__).resolve().parent
NOISE = 0.02
K = 3
WARMUP = 5


class PrecomputedEmbeddings(Embeddings):
    """Vectors looked up by text from a precomputed table (a miss is an error, never a silent embed)."""

    model_id = "precomputed-minilm"

    def __init__(self, texts: list[str], vectors: np.ndarray) -> None:
        self.row = {t: i for i, t in enumerate(texts)}
        self.vectors = vectors

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.vectors[[self.row[t] for t in texts]].tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.vectors[self.row[text]].tolist()


def status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def prepare(data: Path, queries: int, cache: Path) -> tuple[list[str], list[str]]:
    """Embed the corpus and query texts once with MiniLM; keep them in `cache` (texts.json, vectors.npy)."""
    texts_file, vectors_file = cache / "texts.json", cache / "vectors.npy"
    corpus = [json.loads(line)["question"] for line in (data / "train.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]
    asked = [json.loads(line)["question"] for line in (data / "test.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()][:queries]
    if texts_file.exists() and json.loads(texts_file.read_text()) == corpus + asked and vectors_file.exists():
        return corpus, asked
    from skillc.adapters.embeddings import MiniLMEmbeddings

    started = time.perf_counter()
    vectors = MiniLMEmbeddings().embed_array(corpus + asked)
    print(f"embedded {len(corpus) + len(asked)} texts with MiniLM in {time.perf_counter() - started:.1f}s", flush=True)
    cache.mkdir(parents=True, exist_ok=True)
    np.save(vectors_file, vectors)
    texts_file.write_text(json.dumps(corpus + asked))
    return corpus, asked


def corpus_of(size: int, texts: list[str], vectors: np.ndarray, seed: int = 0) -> tuple[list[str], np.ndarray]:
    """`size` texts and unit vectors: the real ones first, then noisy renormalized copies."""
    if size <= len(texts):
        return texts[:size], vectors[:size]
    rng = np.random.default_rng(seed)
    extra = size - len(texts)
    source = np.arange(extra) % len(texts)
    noisy = vectors[source] + rng.normal(0, NOISE, (extra, vectors.shape[1])).astype(np.float32)
    noisy /= np.linalg.norm(noisy, axis=1, keepdims=True)
    copies = [f"{texts[s]} (variant {n})" for n, s in enumerate(source)]
    return texts + copies, np.concatenate([vectors, noisy]).astype(np.float32)


def worker(side: str, size: int, cache: Path, queries: int, time_limit: float) -> dict[str, Any]:
    """Build one side at one size and time its queries (run in a fresh process)."""
    all_texts = json.loads((cache / "texts.json").read_text())
    all_vectors = np.load(cache / "vectors.npy")
    n_corpus = len(all_texts) - queries
    texts, vectors = corpus_of(size, all_texts[:n_corpus], all_vectors[:n_corpus])
    asked = all_texts[n_corpus:]
    embeddings = PrecomputedEmbeddings(texts + asked, np.concatenate([vectors, all_vectors[n_corpus:]]))
    import faiss  # noqa: F401  (imported before the baseline, like the vector-store modules below)
    from langchain_core.example_selectors import SemanticSimilarityExampleSelector
    from langchain_core.vectorstores import InMemoryVectorStore

    from skillc.core.records import new_record
    from skillc.skills.bank import ExampleBank

    examples = [{"question": t, "answer": "0"} for t in texts]
    rss0, hwm0 = status_kb("VmRSS"), status_kb("VmHWM")
    started = time.perf_counter()
    if side == "langchain":
        selector = SemanticSimilarityExampleSelector.from_examples(
            examples, embeddings, InMemoryVectorStore, k=K, input_keys=["question"])
        search = lambda q: selector.select_examples({"question": q})
    else:
        threshold = 10**12 if side == "bank-flat" else 20_000
        bank = ExampleBank(embeddings=embeddings, approx_threshold=threshold)
        bank.add([new_record("solve", {"question": e["question"]}, {"answer": 0}) for e in examples], check=False)
        bank.search(asked[0], k=K, step="solve")  # the index is complete after add; this settles lazy state
        search = lambda q: bank.search(q, k=K, step="solve")
    build_s = time.perf_counter() - started
    rss1 = status_kb("VmRSS")
    for q in asked[:WARMUP]:
        search(q)
    times: list[float] = []
    hits: list[list[str]] = []
    loop_started = time.perf_counter()
    for q in asked:
        t0 = time.perf_counter()
        found = search(q)
        times.append((time.perf_counter() - t0) * 1000)
        hits.append([r["question"] if side == "langchain" else r["input"]["question"] for r in found])
        if time.perf_counter() - loop_started > time_limit and len(times) >= 20:
            break  # a slow side is measured on fewer queries (reported as `queries`)
    scores = vectors @ embeddings.vectors[[embeddings.row[q] for q in asked[: len(hits)]]].T
    exact = np.argpartition(-scores, K, axis=0)[:K].T  # the exact top-k, by brute force
    recall = statistics.fmean(len({texts[i] for i in want} & set(got)) / K for want, got in zip(exact, hits, strict=True))
    times.sort()
    kind = "" if side == "langchain" else type(bank._index).__name__
    return {
        "side": side, "size": size, "index": kind, "queries": len(times), "k": K,
        "p50_ms": round(statistics.median(times), 3),
        "p99_ms": round(times[min(len(times) - 1, int(0.99 * len(times)))], 3),
        "mean_ms": round(statistics.fmean(times), 3),
        "build_s": round(build_s, 2),
        "rss_growth_mb": round((rss1 - rss0) / 1024, 1),
        "peak_growth_mb": round((status_kb("VmHWM") - hwm0) / 1024, 1),
        "recall_at_k": round(recall, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path("../shared/data/gsm8k"), help="the GSM8K data folder")
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--sides", default="bank,bank-flat,langchain")
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "skillc-bench-retrieval",
                        help="where the precomputed vectors are kept between runs (outside the project)")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "retrieval_latency.json")
    parser.add_argument("--time-limit", type=float, default=60.0,
                        help="seconds of measured queries per side and size (at least 20 queries are always run)")
    parser.add_argument("--worker", nargs=2, metavar=("SIDE", "SIZE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker[0], int(args.worker[1]), args.cache, args.queries, args.time_limit)))
        return

    prepare(args.data, args.queries, args.cache)
    rows = []
    for size in [int(s) for s in args.sizes.split(",")]:
        for side in args.sides.split(","):
            if side == "bank-flat" and size <= 20_000:
                continue  # identical to `bank` below the threshold
            cmd = [sys.executable, __file__, "--worker", side, str(size), "--cache", str(args.cache), "--queries", str(args.queries),
                   "--time-limit", str(args.time_limit)]
            done = subprocess.run(cmd, capture_output=True, text=True, check=True)
            rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
            print(json.dumps(rows[-1]), flush=True)

    print("\n| records | side | index | queries | p50 ms | p99 ms | build s | RSS growth MB | peak growth MB | recall@3 |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in rows:
        print(f"| {r['size']:,} | {r['side']} | {r['index'] or 'InMemoryVectorStore'} | {r['queries']} | {r['p50_ms']} "
              f"| {r['p99_ms']} | {r['build_s']} | {r['rss_growth_mb']} | {r['peak_growth_mb']} | {r['recall_at_k']} |")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({
        "command": "python " + " ".join([Path(sys.argv[0]).as_posix(), *sys.argv[1:]]),
        "machine": {"cores": os.cpu_count(), "python": platform.python_version()},
        "noise_sigma": NOISE, "k": K, "rows": rows,
    }, indent=1) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
