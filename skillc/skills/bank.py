"""`ExampleBank`: a skill's worked examples as JSONL records plus a native FAISS index over their inputs.

One bank per skill; every record names its step and `search(..., step=...)` keeps to that step. The JSONL
file is the truth. The index (`index.faiss`, written with `faiss.serialize_index`, never pickle) is a
snapshot of the first `count` records named in `index.json`; records past the snapshot are embedded on
load, and a missing or stale snapshot is rebuilt. Inner product over unit vectors (cosine); above
`approx_threshold` records the index becomes HNSW.

Several processes may grow one bank: `add` takes a file lock, first reads what others appended, then
appends whole lines with one `write` and an fsync. A crash mid-write can leave only a partial last line;
readers skip it and the next writer cuts it off, so at most the record being written is lost.

Example:
    >>> import tempfile
    >>> from langchain_core.embeddings import DeterministicFakeEmbedding
    >>> from skillc.core.records import new_record
    >>> bank = ExampleBank(tempfile.mkdtemp(), embeddings=DeterministicFakeEmbedding(size=16))
    >>> bank.add([new_record("add", {"q": "2+3"}, {"answer": 5}, reasoning="2 plus 3 makes 5")]).kept
    1
    >>> [r["output"] for r in bank.search({"q": "2+3"}, k=1, step="add")]
    [{'answer': 5}]
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import threading
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import faiss
import numpy as np
from filelock import FileLock
from langchain_core.embeddings import Embeddings
from langchain_core.vectorstores import VectorStore
from langchain_core.vectorstores.utils import maximal_marginal_relevance

from skillc.adapters.embeddings import default_embeddings, embed, embeddings_id
from skillc.core.errors import SkillFolderError
from skillc.core.files import atomic_write_bytes, atomic_write_text, json_lines
from skillc.core.manifest import (
    MANIFEST,
    remove_stale_temp_files,
    sha256_file,
    signed_hashes,
    signed_length,
    write_manifest,
)
from skillc.skills.quality import INPUT_TEXT_LAYOUT, QualityFilter, input_text
from skillc.skills.quarantine import Quarantine, review_flags

log = logging.getLogger(__name__)

EXAMPLES, INDEX, INDEX_META, LOCK = "examples.jsonl", "index.faiss", "index.json", ".examples.lock"
APPROX_THRESHOLD = 20_000


@dataclass
class AddReport:
    """What `ExampleBank.add` kept and why it dropped the rest."""

    kept: int = 0
    dropped: Counter[str] = field(default_factory=Counter)

    def merge(self, other: AddReport) -> None:
        self.kept += other.kept
        self.dropped.update(other.dropped)

    def as_dict(self) -> dict[str, Any]:
        return {"kept": self.kept, "dropped": dict(self.dropped)}


class ExampleBank:
    """Worked examples of one skill, searchable by input.

    Args:
        folder: where `examples.jsonl` and the index live; None keeps the bank in memory.
        embeddings: any LangChain `Embeddings`; default: the offline MiniLM model.
        vectorstore: any LangChain `VectorStore` to search instead of the built-in FAISS index
            (records are added with their id and step as metadata; the JSONL stays the truth).
        quality: the filter every added record passes (`check=False` in `add` skips it).
        grow: whether `grow()` (escalations recorded at run time) adds anything.
        max_records: cap on the bank's size for `grow()`.
        approx_threshold: above this many records the FAISS index is HNSW instead of exact.
    """

    def __init__(
        self,
        folder: str | Path | None = None,
        *,
        embeddings: Embeddings | None = None,
        vectorstore: VectorStore | None = None,
        quality: QualityFilter | None = None,
        grow: bool = True,
        max_records: int | None = None,
        approx_threshold: int = APPROX_THRESHOLD,
        signed_only: bool = True,
    ) -> None:
        self.folder = Path(folder) if folder is not None else None
        self.embeddings = embeddings or (vectorstore.embeddings if vectorstore and vectorstore.embeddings else None)
        self.vectorstore = vectorstore
        self.quality = quality or QualityFilter()
        self.growth_enabled = grow
        self.max_records = max_records
        self.approx_threshold = approx_threshold
        self.records: list[dict[str, Any]] = []
        self._steps: Counter[str] = Counter()
        self._offset = 0  # bytes of the JSONL already read
        self._index: Any = None  # faiss index, built lazily
        self._stored = 0  # records handed to the vector store
        self._snapshot_count = 0
        self._selectors: dict[str, Any] = {}
        self._lock = FileLock(str(self.folder / LOCK)) if self.folder else None
        self._guard = threading.RLock()  # one thread at a time builds, grows or scans the in-memory index
        self.signed_only = signed_only
        self.quarantine = Quarantine(self.folder) if self.folder else None
        if self.folder is not None:
            self.folder.mkdir(parents=True, exist_ok=True)
            self._read_new_lines()

    # ---------- reading ----------
    def __len__(self) -> int:
        return len(self.records)

    def counts(self, key: str = "source") -> dict[str, int]:
        """Records per value of `key` (`source` or `step`)."""
        return dict(Counter(str(r.get(key)) for r in self.records))

    def _read_new_lines(self) -> list[dict[str, Any]]:
        """Parse lines appended since the last read; a partial last line is left for later."""
        assert self.folder is not None
        path = self.folder / EXAMPLES
        if not path.exists():
            return []
        limit = signed_length(self.folder, EXAMPLES) if self.signed_only else None
        with open(path, "rb") as fh:
            fh.seek(self._offset)
            data = fh.read() if limit is None else fh.read(max(limit - self._offset, 0))
        end = data.rfind(b"\n") + 1
        new = list(json_lines(data[:end].splitlines(), path, SkillFolderError, start=len(self.records) + 1))
        for number, record in enumerate(new, len(self.records) + 1):
            if not isinstance(record, dict) or "step" not in record:
                raise SkillFolderError(f"{path}: record {number} has no step; not an example-bank record")
        self._offset += end
        self._extend(new)
        return new

    def _extend(self, records: list[dict[str, Any]]) -> None:
        self.records += records
        self._steps.update(str(r["step"]) for r in records)

    # ---------- index ----------
    def _ensure_index(self) -> None:
        with self._guard:
            self._ensure_index_unguarded()

    def _ensure_index_unguarded(self) -> None:
        if self.vectorstore is not None:
            self._store_add(self.records[self._stored :])
            self._stored = len(self.records)
            return
        if self._index is None:
            self._index = self._load_snapshot()
        if self._index is None:
            vectors = self._embed_inputs(self.records)
            self._index = self._new_index(vectors.shape[1], len(vectors))
            self._index_add(vectors)
        missing = self.records[self._index.ntotal :]
        if missing:
            self._index_add(self._embed_inputs(missing))

    def _embeddings(self) -> Embeddings:
        if self.embeddings is None:
            self.embeddings = default_embeddings()
        return self.embeddings

    def _embed_inputs(self, records: list[dict[str, Any]]) -> np.ndarray:
        return embed(self._embeddings(), [input_text(r.get("input", "")) for r in records])

    def _new_index(self, dim: int, size: int = 0) -> Any:
        if size > self.approx_threshold:
            index = faiss.IndexHNSWFlat(dim, 32, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = 80
            return index
        return faiss.IndexFlatIP(dim)

    def _index_add(self, vectors: np.ndarray) -> None:
        total = self._index.ntotal + len(vectors)
        if total > self.approx_threshold and isinstance(self._index, faiss.IndexFlat):
            old = self._index.reconstruct_n(0, self._index.ntotal) if self._index.ntotal else vectors[:0]
            self._index = self._new_index(self._index.d, total)
            if len(old):
                self._index.add(old)
        if len(vectors):
            self._index.add(np.ascontiguousarray(vectors, dtype=np.float32))
        self._selectors.clear()

    def _meta(self) -> dict[str, Any]:
        assert self.folder is not None
        return {
            "embeddings": embeddings_id(self._embeddings()),
            "text": INPUT_TEXT_LAYOUT,
            "dim": int(self._index.d),
            "count": int(self._index.ntotal),
            "kind": "hnsw" if isinstance(self._index, faiss.IndexHNSW) else "flat",
            "examples_sha256": _prefix_sha256(self.folder / EXAMPLES, self._byte_length(self._index.ntotal)),
        }

    def _byte_length(self, count: int) -> int:
        """Bytes of the JSONL that hold its first `count` records."""
        assert self.folder is not None
        if count == 0:
            return 0
        with open(self.folder / EXAMPLES, "rb") as fh:
            seen = 0
            for line in fh:
                if line.strip():
                    count -= 1
                seen += len(line)
                if count == 0:
                    return seen
        return seen

    def _load_snapshot(self) -> Any:
        """The saved index if it matches the embeddings and the JSONL it was built from, else None."""
        if self.folder is None or not (self.folder / INDEX).exists() or not (self.folder / INDEX_META).exists():
            return None
        if self.signed_only and not self._snapshot_is_signed():
            return None
        try:
            meta = json.loads((self.folder / INDEX_META).read_text())
            if (meta.get("embeddings") != embeddings_id(self._embeddings()) or meta.get("text") != INPUT_TEXT_LAYOUT
                    or meta["count"] > len(self.records)):
                return None
            if meta.get("examples_sha256") != _prefix_sha256(self.folder / EXAMPLES, self._byte_length(meta["count"])):
                return None
            index = faiss.deserialize_index(np.frombuffer((self.folder / INDEX).read_bytes(), dtype=np.uint8))
        except (OSError, ValueError, KeyError, RuntimeError, TypeError) as exc:
            log.warning("rebuilding the example index: %s", exc)
            return None
        if index.ntotal != meta["count"]:
            return None
        self._snapshot_count = index.ntotal
        return index

    def _snapshot_is_signed(self) -> bool:
        """With a manifest, the index files are loaded only when they are the ones it signs (else: rebuilt)."""
        assert self.folder is not None
        if not (self.folder / MANIFEST).exists():
            return True
        signed = signed_hashes(self.folder)
        return all(signed.get(name) == sha256_file(self.folder / name) for name in (INDEX, INDEX_META))

    def save_index(self) -> None:
        """Write the index snapshot (`index.faiss` + `index.json`) atomically."""
        if self.folder is None or self.vectorstore is not None or not self.records:
            return
        self._ensure_index()
        atomic_write_bytes(self.folder / INDEX, faiss.serialize_index(self._index).tobytes())
        atomic_write_text(self.folder / INDEX_META, json.dumps(self._meta(), indent=2) + "\n")
        self._snapshot_count = self._index.ntotal

    def _maybe_snapshot(self) -> None:
        """Snapshot when the records past the last snapshot reach 5% of the bank (amortized O(n) writes)."""
        behind = self._index.ntotal - self._snapshot_count
        if behind and behind >= max(1, self._index.ntotal // 20):
            self.save_index()

    # ---------- vector store backend ----------
    def _store_add(self, records: list[dict[str, Any]]) -> None:
        if records:
            assert self.vectorstore is not None
            self.vectorstore.add_texts(
                [input_text(r.get("input", "")) for r in records],
                metadatas=[{"id": r["id"], "step": r["step"]} for r in records],
                ids=[r["id"] for r in records],
            )

    def _store_search(self, query: str, k: int, step: str | None, mmr: bool, fetch_k: int, lambda_mult: float) -> list[dict[str, Any]]:
        assert self.vectorstore is not None
        by_id = {r["id"]: r for r in self.records}
        wanted = max(fetch_k, k) * (4 if step else 1)
        if mmr:
            docs = [(d, None) for d in self.vectorstore.max_marginal_relevance_search(query, k=wanted, fetch_k=wanted * 2, lambda_mult=lambda_mult)]
        else:
            docs = [(d, s) for d, s in self.vectorstore.similarity_search_with_score(query, k=wanted)]
        out = []
        for doc, score in docs:
            record = by_id.get(doc.metadata.get("id"))
            if record and (step is None or record["step"] == step):
                out.append({**record, "score": None if score is None else float(score)})
        return out[:k]

    # ---------- search ----------
    def search(
        self,
        input: Any,
        k: int = 3,
        *,
        step: str | None = None,
        mmr: bool = False,
        fetch_k: int = 20,
        lambda_mult: float = 0.5,
    ) -> list[dict[str, Any]]:
        """The `k` records whose inputs are most like `input` (a dict or text), best first, each with `score`.

        With `mmr=True`, `fetch_k` candidates are re-ranked by maximal marginal relevance for variety.
        """
        if not self.records or k <= 0 or (step is not None and step not in self._steps):
            return []
        self._ensure_index()
        query = input_text(input)
        if self.vectorstore is not None:
            return self._store_search(query, k, step, mmr, fetch_k, lambda_mult)
        vector = embed(self._embeddings(), [query])
        want = max(k, fetch_k) if mmr else k
        with self._guard:
            scores, ids = self._search_one(vector, want, self._params(step, want))
            hits = [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]
            candidates = self._index.reconstruct_batch(np.array([i for i, _ in hits], dtype=np.int64)) if mmr and hits else None
        if candidates is not None:
            order = maximal_marginal_relevance(vector[0], candidates, lambda_mult=lambda_mult, k=k)
            hits = [hits[j] for j in order]
        return [{**self.records[i], "score": s} for i, s in hits[:k]]

    def _search_one(self, vector: np.ndarray, want: int, params: Any) -> tuple[np.ndarray, np.ndarray]:
        """Search one query vector on this thread only.

        FAISS spreads a single query's exact scan over OpenMP threads; when the cores are busy (a llama.cpp
        student on the same machine) the spin-waiting threads turn a sub-millisecond scan into tens of ms.
        """
        threads = faiss.omp_get_max_threads()
        faiss.omp_set_num_threads(1)
        try:
            return self._index.search(vector, want, params=params)
        finally:
            faiss.omp_set_num_threads(threads)

    def _params(self, step: str | None, want: int) -> Any:
        selector = None
        if step is not None and len(self._steps) > 1:
            selector = self._selectors.get(step)
            if selector is None:
                ids = np.array([i for i, r in enumerate(self.records[: self._index.ntotal]) if r["step"] == step], dtype=np.int64)
                selector = self._selectors[step] = faiss.IDSelectorBatch(ids)
        if isinstance(self._index, faiss.IndexHNSW):
            return faiss.SearchParametersHNSW(sel=selector, efSearch=max(64, 2 * want))
        return faiss.SearchParameters(sel=selector) if selector is not None else None

    # ---------- writing ----------
    def add(self, records: Iterable[dict[str, Any]], *, check: bool = True) -> AddReport:
        """Filter `records` and append the ones that pass; the index grows with them.

        Safe with several processes writing one folder. Returns how many were kept and why others were not.
        """
        records = list(records)
        if self._lock is None:
            with self._guard:
                return self._add_locked(records, check)
        with self._lock, self._guard:  # the file lock first, as `Skill.save` takes it: one order, no deadlock
            return self._add_locked(records, check)

    def grow(self, record: dict[str, Any]) -> AddReport:
        """Keep a validated escalation answer: in the quarantine first, then in the bank only when nothing flags it.

        A record is flagged when its step had no declared check that passed (`checked` false) or when its
        input carries instruction-like text; a flagged record waits in `quarantine.jsonl` for
        `skillc bank review` (or a second model) and never reaches a student as a demo before that.
        """
        report = AddReport()
        if not self.growth_enabled:
            report.dropped["growth_off"] += 1
            return report
        if self.max_records is not None and len(self.records) >= self.max_records:
            report.dropped["bank_full"] += 1
            return report
        flags = review_flags(record)
        if self.quarantine is None:  # an in-memory bank: nothing durable to stage in
            if flags:
                report.dropped["quarantined"] += 1
                return report
            return self.add([record])
        self.quarantine.add(record, flags)
        if flags:
            report.dropped["quarantined"] += 1
            return report
        return self.promote([record])

    def promote(self, records: list[dict[str, Any]]) -> AddReport:
        """Move reviewed records from the quarantine into the bank (ids already in the bank are skipped)."""
        have = {r.get("id") for r in self.records}
        fresh = [{k: v for k, v in r.items() if k not in ("flags", "quarantined_at")} for r in records
                 if r.get("id") not in have]
        report = self.add(fresh) if fresh else AddReport()
        if self.quarantine is not None:
            self.quarantine.remove({r.get("id") for r in records})
        return report

    def _add_locked(self, records: list[dict[str, Any]], check: bool) -> AddReport:
        report = AddReport()
        if self.folder is not None:
            remove_stale_temp_files(self.folder)
            signed = signed_length(self.folder, EXAMPLES) if self.signed_only else None
            if signed is not None:
                _cut_unsigned_tail(self.folder / EXAMPLES, signed)
            else:
                _cut_partial_tail(self.folder / EXAMPLES)
            self._read_new_lines()
        if self.records:
            self._ensure_index()
        accepted: list[dict[str, Any]] = []
        vectors: list[np.ndarray] = []
        batch = self._embed_inputs(records) if records and self.vectorstore is None else None
        for n, record in enumerate(records):
            reason = self.quality.reason(record) if check else None
            vector = batch[n] if batch is not None else None
            if reason is None and check and vector is not None:
                reason = self._duplicate(record, vector, accepted, vectors)
            if reason:
                report.dropped[reason] += 1
                continue
            accepted.append(record)
            if vector is not None:
                vectors.append(vector)
        if not accepted:
            return report
        if self.folder is not None:
            data = "".join(json.dumps(r, ensure_ascii=False, default=str) + "\n" for r in accepted).encode()
            fd = os.open(self.folder / EXAMPLES, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                os.write(fd, data)
                os.fsync(fd)
            finally:
                os.close(fd)
            self._offset += len(data)
        self._extend(accepted)
        if self.vectorstore is not None:
            self._ensure_index()
        else:
            if self._index is None:
                self._index = self._new_index(len(vectors[0]))
            self._index_add(np.stack(vectors))
            if self.folder is not None:
                self._maybe_snapshot()
                if (self.folder / MANIFEST).exists():
                    write_manifest(self.folder)
        report.kept = len(accepted)
        return report

    def _duplicate(self, record: dict[str, Any], vector: np.ndarray, accepted: list[dict[str, Any]],
                   vectors: list[np.ndarray]) -> str | None:
        limit = self.quality.near_duplicate_threshold
        for other, v in zip(accepted, vectors, strict=True):
            if other["step"] == record["step"] and float(v @ vector) >= limit:
                return "near_duplicate"
        if self.vectorstore is None and self._index is not None and self._index.ntotal and record["step"] in self._steps:
            scores, ids = self._search_one(vector[None, :], 1, self._params(record["step"], 1))
            if ids[0][0] >= 0 and scores[0][0] >= limit and self.records[int(ids[0][0])]["step"] == record["step"]:
                return "near_duplicate"
        return None

    def save(self, folder: str | Path) -> ExampleBank:
        """Write this bank's records and index into `folder` (replacing what is there), and return that bank."""
        target = Path(folder)
        target.mkdir(parents=True, exist_ok=True)
        text = "".join(json.dumps(r, ensure_ascii=False, default=str) + "\n" for r in self.records)
        atomic_write_text(target / EXAMPLES, text)
        for name in (INDEX, INDEX_META):
            (target / name).unlink(missing_ok=True)
        bank = ExampleBank(target, embeddings=self.embeddings, vectorstore=self.vectorstore, quality=self.quality,
                           grow=self.growth_enabled, max_records=self.max_records, approx_threshold=self.approx_threshold,
                           signed_only=False)  # the caller re-signs the folder after this
        if bank.records and self.vectorstore is None:
            self._ensure_index()  # loads this bank's own index file when it is current: no re-embedding
            if self._index is not None and self._index.ntotal == len(self.records):
                bank._index = self._index  # same records, same order: reuse the vectors
            bank.save_index()
        return bank


def folder_lock(folder: Path) -> Any:
    """The bank's lock of a skill folder, or a no-op for a folder this process cannot write."""
    if os.access(folder, os.W_OK):
        return FileLock(str(folder / LOCK))
    return contextlib.nullcontext()


def _cut_partial_tail(path: Path) -> None:
    """Drop a last line that a crashed writer left without its newline (call under the lock)."""
    if not path.exists() or path.stat().st_size == 0:
        return
    with open(path, "rb+") as fh:
        fh.seek(-1, os.SEEK_END)
        if fh.read(1) == b"\n":
            return
        size = fh.seek(0, os.SEEK_END)
        step = 1 << 16
        pos = size
        while pos > 0:
            start = max(0, pos - step)
            fh.seek(start)
            chunk = fh.read(pos - start)
            cut = chunk.rfind(b"\n")
            if cut >= 0:
                fh.truncate(start + cut + 1)
                break
            pos = start
        else:
            fh.truncate(0)
        fh.flush()
        os.fsync(fh.fileno())
    log.warning("%s: dropped a partial last record left by an interrupted write", path)


def _cut_unsigned_tail(path: Path, signed: int) -> None:
    """Truncate bytes past the manifest's signed length: a writer died between its append and its re-signing."""
    if path.exists() and path.stat().st_size > signed:
        extra = path.stat().st_size - signed
        with open(path, "rb+") as fh:
            fh.truncate(signed)
            fh.flush()
            os.fsync(fh.fileno())
        log.warning("%s: dropped %d unsigned bytes an interrupted writer appended", path, extra)


def _prefix_sha256(path: Path, length: int) -> str:
    digest = hashlib.sha256()
    if length and path.exists():
        with open(path, "rb") as fh:
            remaining = length
            while remaining:
                chunk = fh.read(min(remaining, 1 << 20))
                if not chunk:
                    break
                digest.update(chunk)
                remaining -= len(chunk)
    return digest.hexdigest()
