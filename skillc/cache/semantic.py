"""The semantic step cache: an earlier answer serves a new input when the inputs embed alike and the guard agrees.

Opt-in per step (`"cache": {"semantic": 0.95}` in skill.json). For each namespace (skill version, step, model)
the store keeps the inputs it answered, their MiniLM embeddings in a FAISS inner-product index, and the step's
output. A lookup takes the nearest earlier input; it serves only when the cosine similarity reaches the step's
threshold *and* `guard_refuses` finds the same numbers, identifiers, names and negations in both. With a
`path`, entries are appended to a JSONL file and read back on open (embeddings are recomputed: no pickle).

Example:
    >>> from langchain_core.embeddings import DeterministicFakeEmbedding
    >>> cache = SemanticCache(DeterministicFakeEmbedding(size=16))
    >>> cache.add("ns", {"q": "What is 2 plus 3?"}, {"answer": 5})
    >>> cache.lookup("ns", {"q": "What is 2 plus 3?"}, 0.95).output
    {'answer': 5}
    >>> cache.lookup("ns", {"q": "What is 2 plus 4?"}, -1.0).refused  # any similarity: the guard still refuses
    'numbers differ: 2, 4 vs 2, 3'
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from skillc.adapters.embeddings import embed
from skillc.cache.guard import guard_refuses


@dataclass
class Lookup:
    """The nearest earlier input: its output (None when refused), the similarity, and why it was refused."""

    output: dict[str, Any] | None
    similarity: float
    cached_input: dict[str, Any]
    refused: str | None = None


def input_line(inputs: dict[str, Any]) -> str:
    """The text embedded for a step's inputs: `key: value` lines in key order."""
    return "\n".join(f"{k}: {v if isinstance(v, str) else json.dumps(v, ensure_ascii=False, sort_keys=True)}"
                     for k, v in sorted(inputs.items()))


class SemanticCache:
    """Nearest-input answers per namespace, in memory (and appended to `path` when given)."""

    def __init__(self, embeddings: Any, path: str | Path | None = None) -> None:
        self.embeddings = embeddings
        self.path = Path(path) if path else None
        self._lock = threading.Lock()
        self._spaces: dict[str, tuple[Any, list[tuple[dict[str, Any], dict[str, Any]]]]] = {}
        if self.path is not None and self.path.is_file():
            for line in self.path.read_text(encoding="utf-8").splitlines():
                try:
                    entry = json.loads(line)
                    self._insert(entry["ns"], entry["input"], entry["output"])
                except (ValueError, KeyError, TypeError):
                    continue  # a torn last line from a killed writer: the rest still serve

    def __len__(self) -> int:
        return sum(len(entries) for _, entries in self._spaces.values())

    def lookup(self, namespace: str, inputs: dict[str, Any], threshold: float) -> Lookup | None:
        """The nearest earlier input of `namespace` at or above `threshold`, guarded; None when there is none."""
        with self._lock:
            space = self._spaces.get(namespace)
            if space is None or not space[1]:
                return None
            index, entries = space
            scores, ids = index.search(self._vector(inputs), 1)
        similarity, at = float(scores[0][0]), int(ids[0][0])
        if at < 0 or similarity < threshold:
            return None
        cached_input, output = entries[at]
        refused = guard_refuses(inputs, cached_input)
        return Lookup(None if refused else output, similarity, cached_input, refused)

    def add(self, namespace: str, inputs: dict[str, Any], output: dict[str, Any]) -> None:
        """Remember `output` as the answer to `inputs` (appended to `path` when the cache has one)."""
        self._insert(namespace, inputs, output)
        if self.path is not None:
            line = json.dumps({"ns": namespace, "input": inputs, "output": output}, ensure_ascii=False, default=str)
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self._lock, open(self.path, "a", encoding="utf-8") as fh:
                fh.write(line + "\n")

    def _insert(self, namespace: str, inputs: dict[str, Any], output: dict[str, Any]) -> None:
        vector = self._vector(inputs)
        with self._lock:
            if namespace not in self._spaces:
                self._spaces[namespace] = (faiss.IndexFlatIP(vector.shape[1]), [])
            index, entries = self._spaces[namespace]
            index.add(vector)
            entries.append((inputs, output))

    def _vector(self, inputs: dict[str, Any]) -> np.ndarray:
        vector = np.asarray(embed(self.embeddings, [input_line(inputs)]), dtype="float32")
        faiss.normalize_L2(vector)
        return vector
