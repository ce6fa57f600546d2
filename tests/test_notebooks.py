"""The notebooks as committed: outputs stripped, no paths of the machine they were written on, and run by
pytest itself (nbmake in addopts, with a kernel that is this interpreter)."""

from __future__ import annotations

import re
import sys
import tempfile
from pathlib import Path

import nbformat
import pytest
from jupyter_client.manager import KernelManager

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_the_issue_notebooks_exist():
    names = {p.stem for p in NOTEBOOKS}
    assert {"01-quickstart", "02-drop-into-an-agent", "04-share-a-skill"} <= names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_committed_with_outputs_stripped(path):
    nb = nbformat.read(path, as_version=4)
    dirty = [n for n, cell in enumerate(nb.cells) if cell.cell_type == "code"
             and (cell.get("outputs") or cell.get("execution_count") is not None)]
    assert not dirty, f"{path.name}: cells {dirty} have outputs or execution counts; run `nbstripout {path.name}`"
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3"
    assert "widgets" not in nb.metadata


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_has_no_machine_paths(path):
    text = path.read_text(encoding="utf-8")
    local = {str(ROOT.parent), str(Path.home()), tempfile.gettempdir()}  # this machine's, whatever they are
    assert not [p for p in local if len(p) > 1 and p in text], f"{path.name} holds a path of this machine"
    assert not re.search(r"[A-Z]:\\\\", text), f"{path.name} holds a Windows path"


def test_pytest_runs_the_notebooks_with_this_interpreter():
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert re.search(r'testpaths = \[[^\]]*"notebooks"', text)
    assert re.search(r'addopts = "[^"]*--nbmake\b[^"]*--nbmake-timeout=\d+', text)
    km = KernelManager(kernel_name="python3")
    assert km.format_kernel_cmd()[0] == sys.executable
