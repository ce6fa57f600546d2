"""The scorer LLMLingua ranks tokens with: a small causal LM in Hugging Face format, made from a local GGUF.

No Hugging Face model folder ships with skillc's offline models, but transformers reads GGUF files
(`gguf_file=`). `scorer_folder()` turns the verified GGUF of `local:tiny` (SmolLM2-135M-Instruct) into a
float32 Hugging Face folder once, under skillc's cache (`SKILLC_CACHE_DIR`), atomically: a conversion killed
halfway leaves no folder that looks finished. Nothing is downloaded.

Example:
    >>> missing_extra("torch").args[0].split(";")[0]
    "prompt compression needs the 'compression' extra (torch is not installed)"
"""

from __future__ import annotations

import importlib.util
import shutil
import tempfile
from pathlib import Path

from skillc.adapters.local.weights import MODELS, cache_dir, ensure_weights
from skillc.core.errors import SkillcError

EXTRA_MODULES = ("torch", "transformers", "llmlingua", "gguf")
DONE = "skillc-scorer.done"


class CompressionUnavailable(SkillcError):
    """Prompt compression was asked for but its extra (torch, transformers, llmlingua, gguf) is not installed."""


def missing_extra(module: str) -> CompressionUnavailable:
    return CompressionUnavailable(
        f"prompt compression needs the 'compression' extra ({module} is not installed); "
        "install it with `pip install -e '.[compression]'` (make test and make demo do)")


def require_extra() -> None:
    """Raise `CompressionUnavailable`, naming the extra, when a module compression needs is missing."""
    for module in EXTRA_MODULES:
        if importlib.util.find_spec(module) is None:
            raise missing_extra(module)


def scorer_folder(model: str = "tiny") -> Path:
    """The Hugging Face folder of the scorer, converted from the local model's GGUF on first use (~25 s)."""
    require_extra()
    local = MODELS[model]
    target = cache_dir() / "scorers" / Path(local.filename).stem
    if (target / DONE).exists():
        return target
    gguf = ensure_weights(local)  # sha256-verified
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".convert-", dir=target.parent))
    try:
        _convert(gguf, work)
        (work / DONE).write_text(local.sha256 + "\n", encoding="utf-8")
        if target.exists():
            shutil.rmtree(target)
        work.rename(target)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return target


def _convert(gguf: Path, out: Path) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32)
    # de-quantized to float32 on load: drop the GGUF quantization record so the folder loads as a plain model
    if hasattr(model, "hf_quantizer"):
        del model.hf_quantizer
    if getattr(model.config, "quantization_config", None) is not None:
        del model.config.quantization_config
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
