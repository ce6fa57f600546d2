"""The batch runner: input order whatever the finishing order, the bound on concurrency, the journal and resuming."""

from __future__ import annotations

import io
import json
import random
import threading
import time

import pytest

from skillc.batch.journal import Journal
from skillc.batch.runner import run_batch
from skillc.core.errors import InvalidInputError


def test_lines_come_out_in_input_order_and_at_most_n_run_at_once() -> None:
    rng = random.Random(7)
    delays = [rng.uniform(0, 0.03) for _ in range(40)]
    live, peak, lock = [0], [0], threading.Lock()

    def run_one(index, item):
        with lock:
            live[0] += 1
            peak[0] = max(peak[0], live[0])
        time.sleep(delays[index])
        with lock:
            live[0] -= 1
        return {"n": item["n"]}

    out = io.StringIO()
    lines = run_batch([{"n": i} for i in range(40)], run_one, sink=out, concurrency=6)
    assert [json.loads(x)["n"] for x in out.getvalue().splitlines()] == list(range(40)) == [x["n"] for x in lines]
    assert 2 <= peak[0] <= 6


def test_a_resumed_batch_runs_only_what_the_journal_lacks(tmp_path) -> None:
    path = tmp_path / "out.jsonl.journal"
    ran: list[int] = []

    def failing_at_5(index, item):
        if index == 5:
            raise RuntimeError("killed")
        ran.append(index)
        return {"n": index}

    with pytest.raises(RuntimeError):
        run_batch([{}] * 8, failing_at_5, sink=io.StringIO(), concurrency=1, journal=Journal(path, "fp"))
    assert ran == [0, 1, 2, 3, 4]
    with open(path, "ab") as fh:
        fh.write(b'{"index": 6, "li')  # a line a kill cut short
    ran.clear()
    out = io.StringIO()
    run_batch([{}] * 8, lambda i, item: ran.append(i) or {"n": i}, sink=out, concurrency=2, journal=Journal(path, "fp"))
    assert sorted(ran) == [5, 6, 7]
    assert [json.loads(x)["n"] for x in out.getvalue().splitlines()] == list(range(8))


def test_a_journal_of_other_inputs_is_refused(tmp_path) -> None:
    Journal(tmp_path / "j", "inputs-a").append(0, {"n": 0})
    with pytest.raises(InvalidInputError, match="another batch"):
        Journal(tmp_path / "j", "inputs-b")


def test_concurrency_below_one_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="concurrency"):
        run_batch([{}], lambda i, item: {}, sink=io.StringIO(), concurrency=0)
