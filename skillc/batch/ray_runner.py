"""Batch runs on a Ray cluster: `skillc run --inputs F --ray auto|ADDRESS`.

The skill travels as data: its archive (the same verified tar.gz a registry stores) goes into Ray's object store
once, and each worker process unpacks it with every check of a pull (safe members, every file against the
manifest, the manifest's digest) into its own temporary folder, once per worker, then loads it (loading a skill
runs no code of the skill). Each input is one Ray task; the driver keeps at most `--concurrency` in flight through
the same batch runner as a local run, so the output is in input order, journalled and resumable as ever. Workers
need skillc installed (the same version) and must reach the model endpoints the URIs name.

What a worker cannot share with the driver is refused up front: an in-memory step cache (each worker would keep
its own: use `--cache redis://…`) and a batch-wide budget (a `RunBudget` lives in one process).

Example (the test starts a real one-node cluster on 127.0.0.1):
    $ ray start --head --node-ip-address=127.0.0.1 --port=6379
    $ skillc run skills/invoice-total --inputs invoices.jsonl --out out.jsonl --ray 127.0.0.1:6379 --concurrency 8 \\
          --student openai-compatible:http://10.0.0.5:8000/v1#qwen
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from skillc.batch.lines import echo_input, result_line
from skillc.batch.runner import RunOne
from skillc.core.errors import InvalidInputError
from skillc.skills.skill import Skill

_LOADED: dict[str, Skill] = {}  # per worker process: skill digest → the skill unpacked from its archive


def _skill_from_archive(archive: bytes, archive_sha256: str, name: str, digest: str) -> Skill:
    from skillc.registry.archive import unpack

    if digest not in _LOADED:
        folder = Path(tempfile.mkdtemp(prefix="skillc-ray-")) / name
        _LOADED[digest] = Skill.load(unpack(archive, folder, archive_sha256=archive_sha256, digest=digest))
    return _LOADED[digest]


def run_on_worker(archive: bytes, archive_sha256: str, name: str, digest: str, payload: dict[str, Any], options: dict[str, Any],
                  trace: bool) -> dict[str, Any]:
    """One input on a worker: the skill from its archive, the models from their URIs, the result line back."""
    from skillc.adapters.replicas import student_model

    skill = _skill_from_archive(archive, archive_sha256, name, digest)
    options = {**options, "student": student_model(options.get("student") or [], options.pop("rps", None))}
    try:
        result = skill.run(payload, **options)
    except InvalidInputError as exc:
        return {"input": echo_input(payload), "output": None, "error": {"kind": "invalid_input", "message": str(exc)}}
    return result_line(skill, payload, result, trace=trace)


def ray_run_one(skill_dir: Path, address: str, options: dict[str, Any], *, trace: bool = False) -> RunOne:
    """A `run_one` for `run_batch` that sends each input to the Ray cluster at `address` (`auto`: the running one)."""
    try:
        import ray
    except ImportError:
        raise InvalidInputError("--ray needs Ray: pip install 'skillc[ray]'") from None
    from skillc.registry.archive import folder_digest, pack, sha256_hex

    if options.get("cache") == "memory":
        raise InvalidInputError("--cache memory would be one cache per Ray worker; give --cache redis://HOST:PORT to share one")
    budget = options.get("budget")
    if budget is not None and type(budget).__name__ == "RunBudget":
        raise InvalidInputError("a batch-wide --budget (max_teacher_calls / max_usd) cannot be shared by Ray workers; "
                                "use the per-run limits (max_teacher_calls_per_run, max_usd_per_run) with --ray")
    archive = pack(Path(skill_dir))
    digest, name = folder_digest(Path(skill_dir)), Skill.load(skill_dir).name
    if not ray.is_initialized():
        ray.init(address=address, log_to_driver=False, configure_logging=False)
    archive_ref = ray.put(archive)
    remote = ray.remote(num_cpus=0, max_retries=2)(run_on_worker)  # the work waits on model servers, not on CPUs

    def run_one(index: int, item: dict[str, Any]) -> dict[str, Any]:
        payload = item.get("input", item) if isinstance(item.get("input"), dict) else item
        return ray.get(remote.options(scheduling_strategy="SPREAD").remote(archive_ref, sha256_hex(archive), name, digest,
                                                                           payload, options, trace))

    return run_one


__all__ = ["ray_run_one", "run_on_worker"]
