"""The wheel carries every data file the package reads at run time."""

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "skillc"


def test_every_bundled_data_file_is_declared_as_package_data() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    globs = config["tool"]["setuptools"]["package-data"]["skillc"]
    declared = {path for pattern in globs for path in PACKAGE.glob(pattern)}
    data = {path for path in PACKAGE.rglob("*")
            if path.is_file() and path.suffix not in {".py", ".pyc"} and "__pycache__" not in path.parts}
    assert data, "expected the bundled demo and benchmark specs under skillc/"
    assert data <= declared, f"not shipped in the wheel: {sorted(str(p.relative_to(ROOT)) for p in data - declared)}"
