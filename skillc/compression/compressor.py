"""`Compressor`: LLMLingua over a long text, question-aware, offline, bounded in time.

- Texts under `min_tokens` (and empty ones) pass through untouched.
- With a `question`, chunks are ranked by LongLLMLingua (`rank_method="longllmlingua"`) and the question
  conditions the token-level pass; without one, plain LLMLingua.
- Every word with a digit in it (amounts, dates, alphanumeric IDs such as `AC-88231`) and every arithmetic sign
  standing alone (`+`, `=`, …) is kept whole in each kept
  chunk: it goes to llmlingua as a segment marked `compress=False`. (llmlingua 0.2.2 takes `force_tokens` and
  `force_reserve_digit` but only LLMLingua-2 honours them.) A chunk the question ranks irrelevant may go as a whole.
- A text longer than `max_scored_tokens` is cut into chunks first and only the chunks that share most words
  with the question (evenly spread ones without a question) are scored, so a 200k-token text costs about
  what an 8k-token one does.

The scorer runs in bfloat16 where the CPU has native bf16 (`python bench/compression_probe.py` times both), float32 elsewhere.
Results are kept in memory (one entry per text and setting), so an eval that runs a step twice on one input
compresses it once.

llmlingua 0.2.2 reads the scorer's KV cache as a tuple of (key, value) pairs, which transformers ≥4.36 no longer
returns (microsoft/LLMLingua#210): the scorer's forward pass is wrapped to hand the cache over in that form and to
take it back.

Example:
    >>> chunks("a\\nb\\nc", lambda s: len(s.split()), 2)
    ['a\\nb\\n', 'c']
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
import warnings
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from skillc.adapters.tokens import ensure_tiktoken_cache
from skillc.compression.scorer import require_extra, scorer_folder
from skillc.core.errors import InvalidInputError

COARSE_SLACK = 1.4
# a word with a digit, or a word of arithmetic signs only, with the space before it (so two stay apart)
PROTECTED = re.compile(r"\s*(?:\S*\d\S*|(?<!\S)[-+*/×÷=<>%$^]+(?!\S))")


@dataclass(frozen=True)
class Compressed:
    """A compressed (or passed-through) text with its token counts (scorer tokenizer) and the time it took."""

    text: str
    origin_tokens: int
    compressed_tokens: int
    seconds: float
    passed_through: bool = False

    @property
    def ratio(self) -> float:
        return self.origin_tokens / self.compressed_tokens if self.compressed_tokens else 1.0

    def as_record(self) -> dict[str, Any]:
        return {"origin_tokens": self.origin_tokens, "compressed_tokens": self.compressed_tokens,
                "seconds": round(self.seconds, 3), "passed_through": self.passed_through}


def as_text(value: str | bytes) -> str:
    """The text to compress: bytes must be UTF-8, and a str must encode as UTF-8 (no lone surrogates)."""
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidInputError(f"the text to compress is not UTF-8 (bad byte at offset {exc.start})") from None
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidInputError(f"the text to compress is not valid Unicode (at character {exc.start})") from None
    return value


def chunks(text: str, count: Callable[[str], int], size: int) -> list[str]:
    """Cut `text` at line ends into pieces of about `size` tokens (a longer line is a piece of its own)."""
    pieces: list[str] = []
    current, tokens = "", 0
    for line in text.splitlines(keepends=True):
        n = count(line)
        if current and tokens + n > size:
            pieces.append(current)
            current, tokens = "", 0
        current, tokens = current + line, tokens + n
    if current:
        pieces.append(current)
    return pieces


def segments(piece: str) -> tuple[list[str], list[bool]]:
    """`piece` cut into segments, each marked compressible or not: words with a digit and arithmetic signs are not.

    >>> segments("Quote: 4,950 dollars for AC-88231.")
    (['Quote:', ' 4,950', ' dollars for', ' AC-88231.'], [True, False, True, False])
    >>> segments("so 48 + 24 = 72 clips, well-known")
    (['so', ' 48', ' +', ' 24', ' =', ' 72', ' clips, well-known'], [True, False, False, False, False, False, True])
    """
    texts: list[str] = []
    flags: list[bool] = []
    at = 0
    for found in PROTECTED.finditer(piece):
        if found.start() > at:
            texts.append(piece[at:found.start()])
            flags.append(True)
        texts.append(found.group())
        flags.append(False)
        at = found.end()
    if at < len(piece):
        texts.append(piece[at:])
        flags.append(True)
    return texts, flags


def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"\w+", text.lower()) if len(w) > 2}


def preselect(pieces: list[str], sizes: list[int], budget: int, question: str) -> list[str]:
    """The pieces that fit `budget` tokens: most words shared with `question` first (else evenly spread), in
    their original order.

    >>> preselect(["cats sleep", "dogs bark", "cats purr"], [2, 2, 2], 4, "why do cats purr")
    ['cats sleep', 'cats purr']
    """
    asked = _words(question)
    if asked:
        order = sorted(range(len(pieces)), key=lambda i: (-len(asked & _words(pieces[i])), i))
    else:
        step = max(1, len(pieces) * max(sizes or [1]) // max(budget, 1))
        order = list(range(0, len(pieces), step)) + [i for i in range(len(pieces)) if i % step]
    chosen, used = set(), 0
    for i in order:
        if used + sizes[i] <= budget:
            chosen.add(i)
            used += sizes[i]
    return [pieces[i] for i in sorted(chosen)]


def scorer_dtype() -> Any:
    """bfloat16 where the CPU computes it natively (AVX512-BF16 or AMX), float32 elsewhere."""
    import torch

    try:
        native = bool(torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported())
    except AttributeError:  # an older torch without the probes
        native = False
    return torch.bfloat16 if native else torch.float32


class Compressor:
    """LLMLingua with a local scorer (default: `local:tiny` converted to Hugging Face format), loaded once.

    `scorer` may be a Hugging Face model folder; `max_scored_tokens` bounds the tokens the scorer reads per text.
    Get the process-wide one with `shared_compressor()`.
    """

    def __init__(self, scorer: str | Path | None = None, *, max_scored_tokens: int = 8192, chunk_tokens: int = 512,
                 remember: int = 256) -> None:
        require_extra()
        self.scorer = Path(scorer) if scorer else None
        self.max_scored_tokens, self.chunk_tokens = max_scored_tokens, chunk_tokens
        self._lingua: Any = None
        self._lock = threading.Lock()
        self._memory: OrderedDict[str, Compressed] = OrderedDict()
        self._remember = remember

    def _load(self) -> Any:
        with self._lock:
            if self._lingua is None:
                ensure_tiktoken_cache()  # llmlingua asks tiktoken for gpt-3.5-turbo's encoding when built
                from llmlingua import PromptCompressor

                lingua = PromptCompressor(model_name=str(self.scorer or scorer_folder()), device_map="cpu",
                                          model_config={"trust_remote_code": False})
                lingua.model.to(scorer_dtype())
                _hand_over_legacy_cache(lingua.model)
                self._lingua = lingua
            return self._lingua

    def count(self, text: str) -> int:
        """Tokens of `text` by the scorer's own tokenizer."""
        return len(self._load().tokenizer(text, add_special_tokens=False)["input_ids"])

    def compress(self, text: str | bytes, *, rate: float | None = None, target_tokens: int | None = None,
                 question: str = "", min_tokens: int = 0, token_level: bool = True) -> Compressed:
        """Compress `text` to `rate` of its tokens (or to `target_tokens`); see the module docstring.

        `token_level=False` keeps whole chunks only (LongLLMLingua's coarse, question-ranked pass): about 5x
        faster than dropping tokens inside them too, at a lower ratio.
        """
        if (rate is None) == (target_tokens is None):
            raise InvalidInputError("compression takes exactly one of rate and target_tokens")
        if rate is not None and not 0 < rate <= 1:
            raise InvalidInputError("the compression rate is the share of tokens kept, in (0, 1]")
        text = as_text(text)
        key = hashlib.sha256(repr((text, rate, target_tokens, question, min_tokens, token_level,
                                   self.max_scored_tokens, self.chunk_tokens)).encode("utf-8", "surrogatepass")).hexdigest()
        with self._lock:
            if key in self._memory:
                self._memory.move_to_end(key)
                return self._memory[key]
        result = self._compress(text, rate, target_tokens, question, min_tokens, token_level)
        with self._lock:
            self._memory[key] = result
            while len(self._memory) > self._remember:
                self._memory.popitem(last=False)
        return result

    def _compress(self, text: str, rate: float | None, target_tokens: int | None, question: str, min_tokens: int,
                  token_level: bool) -> Compressed:
        started = time.perf_counter()
        origin = self.count(text) if text.strip() else 0
        target = target_tokens if target_tokens is not None else int(origin * (rate or 1.0))
        if origin == 0 or origin < min_tokens or target >= origin:
            return Compressed(text, origin, origin, time.perf_counter() - started, passed_through=True)
        pieces = chunks(text, self.count, self.chunk_tokens)
        scored = origin
        if origin > self.max_scored_tokens:
            sizes = {p: self.count(p) for p in pieces}
            pieces = preselect(pieces, [sizes[p] for p in pieces], self.max_scored_tokens, question)
            scored = sum(sizes[p] for p in pieces)
        # coarse to fine: the chunk pass keeps COARSE_SLACK x the target, the token pass takes the rest
        lingua = self._load()
        kept, kept_tokens = pieces, scored
        if len(pieces) > 1:
            kept = self._rank_chunks(lingua, pieces, question, target, token_level)
            kept_tokens = sum(self.count(p) for p in kept)
        if token_level and kept_tokens > target:
            protected = sum(self.count(t) for p in kept for t, f in zip(*segments(p), strict=True) if not f)
            fine_rate = min(1.0, max(0.05, (target - protected) / max(kept_tokens - protected, 1)))
            kept = [self._drop_tokens(lingua, p, question, fine_rate) for p in kept]
        out = "\n".join(p.strip("\n") for p in kept).strip()
        return Compressed(out, origin, self.count(out), time.perf_counter() - started)

    @staticmethod
    def _rank_chunks(lingua: Any, pieces: list[str], question: str, target: int, token_level: bool) -> list[str]:
        """LongLLMLingua's coarse pass: the chunks kept for `question` (about COARSE_SLACK x `target` tokens when a
        token pass follows, else `target`), in their original order."""
        result = lingua.compress_prompt(
            pieces, question=question, target_token=max(1, target),
            rank_method="longllmlingua" if question else "llmlingua",
            condition_in_question="after" if question else "none", condition_compare=False,
            use_token_level_filter=False, use_context_level_filter=True, reorder_context="original",
            context_budget=f"*{COARSE_SLACK}" if token_level else "+100", concate_question=False,
        )
        text, at, kept = result["compressed_prompt"], 0, []
        for piece in pieces:  # llmlingua joins the kept chunks with blank lines, in order
            found = text.find(piece.strip(), at)
            if found >= 0:
                kept.append(piece)
                at = found + len(piece.strip())
        return kept

    @staticmethod
    def _drop_tokens(lingua: Any, piece: str, question: str, rate: float) -> str:
        """LLMLingua's token pass on one chunk: low-information tokens dropped down to `rate`, protected words kept.

        The chunk goes as one full window (`iterative_size` = its length): llmlingua 0.2.2 places per-segment rates
        from the window's end assuming a full window, so in a text's last, shorter window the `compress=False`
        segments landed on the wrong tokens and digits were dropped.
        """
        texts, flags = segments(piece)
        prefix = question if question else ""
        context = f"{prefix}\n\n{piece}" if prefix else piece
        start = lingua.get_prefix_length(prefix + "\n\n", piece) if prefix else 0
        window = max(1, len(lingua.tokenizer(context, add_special_tokens=False).input_ids) - start)
        result = lingua.compress_prompt(
            [piece], question=question, rate=rate,
            context_segs=[texts], context_segs_compress=[flags],
            context_segs_rate=[[rate if f else 1.0 for f in flags]], strict_preserve_uncompressed=False,
            rank_method="longllmlingua" if question else "llmlingua",
            condition_in_question="after" if question else "none", condition_compare=False,
            use_token_level_filter=True, use_context_level_filter=False, iterative_size=window, concate_question=False,
        )
        return str(result["compressed_prompt"])


_SHARED: dict[str, Compressor] = {}
_SHARED_LOCK = threading.Lock()


def shared_compressor(scorer: str | Path | None = None) -> Compressor:
    """One `Compressor` per scorer in this process (the scorer loads once; results are remembered)."""
    key = str(scorer or "")
    with _SHARED_LOCK:
        if key not in _SHARED:
            _SHARED[key] = Compressor(scorer)
        return _SHARED[key]


def _hand_over_legacy_cache(model: Any) -> None:
    """Wrap `model.forward` so llmlingua gets and gives the KV cache as (key, value) pairs per layer."""
    from transformers import DynamicCache

    forward = model.forward

    def legacy_forward(*args: Any, past_key_values: Any = None, **kwargs: Any) -> Any:
        if isinstance(past_key_values, (list, tuple)):
            cache = DynamicCache()
            for layer, (key, value) in enumerate(past_key_values):
                cache.update(key, value, layer)
            past_key_values = cache
        with warnings.catch_warnings():  # transformers warns that `past_key_values` is to be renamed: llmlingua's call
            warnings.simplefilter("ignore", FutureWarning)
            out = forward(*args, past_key_values=past_key_values, **kwargs)
        cache = getattr(out, "past_key_values", None)
        if cache is not None and not isinstance(cache, (list, tuple)):
            out.past_key_values = [(layer.keys, layer.values) for layer in cache.layers]
        return out

    model.forward = legacy_forward
