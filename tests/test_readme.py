"""The README's Python example runs as written, on the real local models."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from skillc.adapters.local import MODELS
from skillc.adapters.local.weights import is_installed

ROOT = Path(__file__).resolve().parents[1]


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(encoding="utf-8"), re.DOTALL)


def test_readme_has_a_short_python_example():
    blocks = python_blocks()
    assert blocks, "README.md has no ```python block"
    assert len(blocks[0].strip().splitlines()) <= 20


@pytest.mark.integration
@pytest.mark.skipif(
    not (is_installed(MODELS["teacher"]) and is_installed(MODELS["student"])),
    reason="local teacher/student weights are not installed (make test installs them)",
)
def test_readme_python_examples_run_in_order(tmp_path):
    outputs = []
    for n, block in enumerate(python_blocks()):
        script = tmp_path / f"example_{n}.py"
        script.write_text(block, encoding="utf-8")
        done = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=1200)
        assert done.returncode == 0, f"README python block {n + 1}:\n{done.stderr[-3000:]}"
        outputs.append(done.stdout)
    assert "total" in outputs[0] and "local:student" in outputs[0]
