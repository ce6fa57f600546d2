"""Prompt compression with LLMLingua: long input fields under a token budget, question-aware, offline on CPU.

Needs the `compression` extra (torch CPU, transformers, gguf, llmlingua); without it, asking for compression
raises `CompressionUnavailable` naming the extra, never a silent no-op.
"""

from skillc.compression.compressor import (
           Compressed,
           Compressor,
           as_text,
           chunks,
           preselect,
           shared_compressor,
)
from skillc.compression.scorer import (
           CompressionUnavailable,
           require_extra,
           scorer_folder,
)

__all__ = ["Compressed", "CompressionUnavailable", "Compressor", "as_text", "chunks", "preselect", "require_extra",
           "scorer_folder", "shared_compressor"]
