"""Convert the seven sets of the `evals` package into the suite's task files and eval datasets.

    python bench/suite/convert.py --data ../shared/data/evals [--out build/suite]

Writes `bench/suite/<set>/task.yaml` (committed, no hints) and `<out>/<set>/items.jsonl` (not committed);
the conversion itself is `skillc.benchmarks.suite_data`, which `skillc bench suite` also runs.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from skillc.benchmarks.suite_data import convert_suite

HERE = Path(__file__).resolve().parent

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="the evals folder: ../shared/data/evals")
    parser.add_argument("--out", type=Path, default=HERE.parents[1] / "build" / "suite")
    args = parser.parse_args()
    convert_suite(args.data, HERE, args.out)
