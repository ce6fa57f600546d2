"""Passages by embedding: the windows of a long text most like a query, for a `search` step with no model call.

A 4,000-token transcript costs a CPU student 30 s of prompt evaluation per question; the few lines that
answer it cost one second. The text is cut into windows of `window` lines (overlapping by half; a very long
line is cut into pieces), each window and the query are embedded with the bank's MiniLM model, and the `top`
windows most like the query are kept, joined in their order in the text.

Example:
    >>> from langchain_core.embeddings import DeterministicFakeEmbedding
    >>> from skillc.core.spec import Passages
    >>> text = "\\n".join(f"line {i}" for i in range(10))
    >>> found = find_passages(text, "line 3", Passages(source="t", top=1, window=2), DeterministicFakeEmbedding(size=8))
    >>> len(found.splitlines())
    2
"""

from __future__ import annotations

from typing import Any

import numpy as np
from langchain_core.embeddings import Embeddings

from skillc.adapters.embeddings import embed
from skillc.core.spec import Passages

GAP = "\n…\n"


def windows(text: str, window: int, max_chars: int) -> list[tuple[int, str]]:
    """(position, text) of every window of `window` lines, stepping by half a window.

    >>> [w for _, w in windows("a\\nb\\nc", 2, 100)]
    ['a\\nb', 'b\\nc']
    """
    lines: list[str] = []
    for line in text.splitlines():
        if not line.strip():
            continue
        lines += [line[i : i + max_chars] for i in range(0, len(line), max_chars)]
    if len(lines) <= window:
        return [(0, "\n".join(lines))] if lines else []
    step = max(1, window // 2)
    starts = list(range(0, len(lines) - window + 1, step))
    if starts[-1] != len(lines) - window:
        starts.append(len(lines) - window)
    return [(s, "\n".join(lines[s : s + window])) for s in starts]


def find_passages(text: str, query: str, settings: Passages, embeddings: Embeddings) -> str:
    """The `top` windows of `text` most like `query` (cosine of unit embeddings), in text order, joined."""
    found = windows(text, settings.window, settings.max_chars)
    if len(found) <= settings.top:
        return _join(found, settings.window)
    vectors = embed(embeddings, [query, *(w for _, w in found)])
    scores = vectors[1:] @ vectors[0]
    best = sorted(int(i) for i in np.argsort(-scores, kind="stable")[: settings.top])
    return _join([found[i] for i in best], settings.window)


def query_text(values: dict[str, Any], fields: list[str], fallback: str) -> str:
    """What the passages must answer: the step's other inputs, else its instruction."""
    parts = [str(values[f]) for f in fields if values.get(f) not in (None, "")]
    return "\n".join(parts) or fallback


def _join(chosen: list[tuple[int, str]], window: int) -> str:
    """Windows in text order; overlapping neighbours are merged, gaps marked with an ellipsis line."""
    out: list[str] = []
    last_end = -1
    for start, text in chosen:
        lines = text.splitlines()
        if out and start < last_end:  # overlaps the previous window: add only the new lines
            lines = lines[last_end - start :]
        elif out and start > last_end:  # lines left out between two windows
            out.append(GAP.strip("\n"))
        out += lines
        last_end = start + window
    return "\n".join(out)
