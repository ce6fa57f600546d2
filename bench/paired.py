"""Paired comparison of the conditions in a `bench/gsm8k_demos.py` result: exact McNemar tests.

    python bench/paired.py bench/results/gsm8k_demos.json

For each pair of conditions it counts the rows only one of them got right and gives the two-sided exact
McNemar p-value (a binomial test of those discordant rows at 1/2). Reads the JSON only; runs no model.

Example:
    >>> round(mcnemar_p(9, 3), 3)
    0.146
"""

from __future__ import annotations

import json
import sys
from itertools import combinations
from math import comb
from pathlib import Path


def mcnemar_p(only_a: int, only_b: int) -> float:
    """Two-sided exact McNemar p-value from the two discordant counts."""
    n, k = only_a + only_b, min(only_a, only_b)
    if n == 0:
        return 1.0
    return min(1.0, 2 * sum(comb(n, i) for i in range(k + 1)) / 2**n)


def main(path: Path) -> None:
    items = json.loads(path.read_text(encoding="utf-8"))["items"]
    right: dict[str, dict[int, bool]] = {}
    for item in items:
        right.setdefault(item["condition"], {})[item["row"]] = bool(item["correct"])
    for a, b in combinations(right, 2):
        rows = right[a].keys() & right[b].keys()
        only_a = sum(right[a][r] and not right[b][r] for r in rows)
        only_b = sum(right[b][r] and not right[a][r] for r in rows)
        print(f"{a} vs {b}: {len(rows)} paired rows · right only in the first {only_a}, only in the second {only_b} "
              f"· exact McNemar p = {mcnemar_p(only_a, only_b):.3f}")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "bench/results/gsm8k_demos.json"))
