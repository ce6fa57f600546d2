"""The MiniLM embedder remembers recent texts: a text embedded again is served from memory, identically."""

from __future__ import annotations

import numpy as np

from skillc.adapters.embeddings import MiniLMEmbeddings


def test_a_text_embedded_again_comes_from_memory_and_matches() -> None:
    embedder = MiniLMEmbeddings(remember=2)
    first = embedder.embed_array(["three chairs at ten dollars", "a lamp"])
    calls = []
    real = embedder._embed_batch
    embedder._embed_batch = lambda texts: calls.append(list(texts)) or real(texts)
    again = embedder.embed_array(["a lamp", "a desk", "three chairs at ten dollars"])
    assert calls == [["a desk"]]  # only the new text was embedded
    assert np.array_equal(again[0], first[1]) and np.array_equal(again[2], first[0])
    assert len(embedder._recent) == 2  # the oldest was forgotten
    assert np.allclose(MiniLMEmbeddings(remember=0).embed_array(["a desk"])[0], again[1], atol=1e-6)
