"""A batch's journal: every finished input's result line, appended and fsynced as it finishes, so a killed batch
resumes without running a finished input again.

The first line names what the journal is for (a fingerprint of the skill and the inputs); a journal for other
inputs is refused rather than mixed in. A line cut short by a kill is dropped on reading (that input runs again).

Example:
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "out.jsonl.journal"
    >>> journal = Journal(path, "fp1"); journal.append(2, {"output": 7})
    >>> Journal(path, "fp1").done()
    {2: {'output': 7}}
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

from skillc.core.errors import InvalidInputError


class Journal:
    """Finished result lines by input index, on disk at `path`, for inputs whose fingerprint is `fingerprint`."""

    def __init__(self, path: Path, fingerprint: str) -> None:
        self.path, self.fingerprint = Path(path), fingerprint
        self._lock = threading.Lock()
        self._done = self._read()
        if not self.path.exists():
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._write_line({"journal": "skillc batch", "fingerprint": fingerprint})

    def _read(self) -> dict[int, dict[str, Any]]:
        if not self.path.exists():
            return {}
        lines = self.path.read_bytes().splitlines()
        try:
            head = json.loads(lines[0]) if lines else {}
        except ValueError:
            head = {}
        if head.get("fingerprint") != self.fingerprint:
            raise InvalidInputError(f"{self.path} is the journal of another batch (other inputs or another skill); "
                                    "delete it to start over, or give another --out")
        done: dict[int, dict[str, Any]] = {}
        for raw in lines[1:]:
            try:
                entry = json.loads(raw)
                done[int(entry["index"])] = entry["line"]
            except (ValueError, KeyError, TypeError):
                continue  # the line a kill cut short: that input runs again
        return done

    def _write_line(self, value: dict[str, Any]) -> None:
        with open(self.path, "ab") as fh:
            fh.write(json.dumps(value, ensure_ascii=False).encode() + b"\n")
            fh.flush()
            os.fsync(fh.fileno())

    def done(self) -> dict[int, dict[str, Any]]:
        """Finished lines by input index (read when the journal was opened, plus those appended since)."""
        with self._lock:
            return dict(self._done)

    def append(self, index: int, line: dict[str, Any]) -> None:
        with self._lock:
            self._write_line({"index": index, "line": line})
            self._done[index] = line

    def remove(self) -> None:
        """The batch is complete and its output written: the journal is no longer needed."""
        self.path.unlink(missing_ok=True)


__all__ = ["Journal"]
