"""Notebooks are executed by nbmake (`--nbmake` in pyproject's addopts) with the venv's `python3` kernel.

nbmake's `--nbmake-timeout` limits each cell; this hook also fails a notebook whose whole run takes
longer than `NOTEBOOK_BUDGET_S`, so a notebook cannot quietly grow past its time budget.
"""

from __future__ import annotations

import time
from collections.abc import Generator
from typing import Any

import pytest

NOTEBOOK_BUDGET_S = 600


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, Any, Any]:
    """Time a notebook's run and fail it when it exceeds the per-notebook budget."""
    started = time.perf_counter()
    result = yield
    elapsed = time.perf_counter() - started
    if item.path.suffix == ".ipynb" and elapsed > NOTEBOOK_BUDGET_S:
        pytest.fail(f"{item.path.name} ran {elapsed:.0f}s, over its {NOTEBOOK_BUDGET_S}s budget")
    return result


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Notebooks run the real local models: they belong to the `integration` set (`-m "not integration"` skips them)."""
    for item in items:
        if item.path.suffix == ".ipynb":
            item.add_marker(pytest.mark.integration)
