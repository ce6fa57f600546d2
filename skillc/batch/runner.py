"""`run_batch`: run many inputs through one function, `concurrency` at a time, and write the result lines in input
order (each line as soon as every earlier one is written), journalled so a killed batch resumes.

The work per input is a blocking graph run (HTTP calls to model servers), so the pool is of threads: LangGraph's
`ainvoke` would run the skill's sync nodes on threads all the same. Calls to the student spread over its replicas
inside the student model itself (`skillc.adapters.replicas`), and langchain-core's rate limiter on it bounds their
rate, so a batch needs no scheduler of its own.

Example:
    >>> import io
    >>> out = io.StringIO()
    >>> _ = run_batch([{"x": 1}, {"x": 2}, {"x": 3}], lambda i, item: {"y": item["x"] * 10}, sink=out, concurrency=2)
    >>> out.getvalue().splitlines()
    ['{"y": 10}', '{"y": 20}', '{"y": 30}']
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any, TextIO

from skillc.batch.journal import Journal
from skillc.core.errors import InvalidInputError

RunOne = Callable[[int, dict[str, Any]], dict[str, Any]]
OnDone = Callable[[int, dict[str, Any], bool], None]
"""Called once per input as it finishes: (index, its line, whether it came from the journal)."""


class OrderedWriter:
    """Writes lines given out of order, in order: line i goes out once lines 0..i-1 have."""

    def __init__(self, sink: TextIO) -> None:
        self.sink, self.next, self._held = sink, 0, {}  # type: dict[int, dict[str, Any]]
        self._lock = threading.Lock()

    def add(self, index: int, line: dict[str, Any]) -> None:
        with self._lock:
            self._held[index] = line
            while self.next in self._held:
                self.sink.write(json.dumps(self._held.pop(self.next), ensure_ascii=False) + "\n")
                self.next += 1
            self.sink.flush()


def run_batch(items: Sequence[dict[str, Any]], run_one: RunOne, *, sink: TextIO, concurrency: int = 1,
              journal: Journal | None = None, on_done: OnDone | None = None) -> list[dict[str, Any]]:
    """Every item's line, in input order; also written to `sink` in that order. Items the journal already holds are
    not run again. An exception from `run_one` stops the batch (what finished is journalled) and propagates."""
    if concurrency < 1:
        raise InvalidInputError(f"--concurrency must be 1 or more, not {concurrency}")
    lines: dict[int, dict[str, Any]] = {}
    writer = OrderedWriter(sink)
    finished = journal.done() if journal is not None else {}
    for index in sorted(i for i in finished if i < len(items)):
        lines[index] = finished[index]
        writer.add(index, finished[index])
        if on_done:
            on_done(index, finished[index], True)
    todo = [i for i in range(len(items)) if i not in lines]
    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="skillc-batch") as pool:
        running: dict[Future[dict[str, Any]], int] = {}
        queue = iter(todo)
        try:
            while True:
                while len(running) < concurrency and (index := next(queue, None)) is not None:
                    running[pool.submit(run_one, index, items[index])] = index
                if not running:
                    break
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    index = running.pop(future)
                    line = future.result()
                    if journal is not None:
                        journal.append(index, line)
                    lines[index] = line
                    writer.add(index, line)
                    if on_done:
                        on_done(index, line, False)
        except BaseException:
            for future in running:
                future.cancel()
            raise
    return [lines[i] for i in range(len(items))]


__all__ = ["OrderedWriter", "run_batch"]
