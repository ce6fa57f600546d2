"""Counts quoted in BENCHMARKS.md that no benchmark command prints (yet), read from committed files and the data.

`gsm8k-calibration`: the 1.5B student's 50 calibration answers (the GSM8K 100-row run's per-item cache),
scored against the train answers, and how many right and wrong answers each `consistency` threshold keeps.
`labels SET`: the expected labels of one suite set (`../shared/data/evals/SET/samples.jsonl`).

    python bench/side_checks/counts.py gsm8k-calibration
    python bench/side_checks/counts.py labels event_categories
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT.parent / "shared" / "data"


def gsm8k_calibration() -> None:
    train = [json.loads(line) for line in (DATA / "gsm8k" / "train.jsonl").read_text().splitlines() if line.strip()]
    scored = []
    for path in sorted((ROOT / "bench/results/gsm8k/local-teacher").glob("calibration-*.jsonl")):
        for line in path.read_text().splitlines():
            run = json.loads(line)
            if run.get("kind") != "run":
                continue
            reference = float(train[int(run["item"].split("-")[1])]["answer"].split("####")[-1].strip().replace(",", ""))
            answer = (run.get("output") or {}).get("answer")
            shares = [s["confidence"]["consistency"] for s in run.get("trace", [])
                      if s["step"] == "solve" and (s.get("confidence") or {}).get("consistency") is not None]
            scored.append((shares[-1] if shares else 0.0, answer is not None and abs(float(answer) - reference) < 1e-6))
    wrong = sum(not right for _, right in scored)
    print(f"{len(scored)} calibration items, {len(scored) - wrong} right")
    print("| keep when consistency ≥ | items kept | right among them | wrong let through (of %d) |" % wrong)
    for threshold in (0.2, 0.4, 0.6, 0.8, 1.0):
        kept = [right for share, right in scored if share >= threshold - 1e-9]
        print(f"| {threshold} | {len(kept)} | {sum(kept)} | {len(kept) - sum(kept)} |")


def labels(name: str) -> None:
    rows = [json.loads(line) for line in (DATA / "evals" / name / "samples.jsonl").read_text().splitlines() if line.strip()]
    counts = Counter(str(row.get("ideal")) for row in rows)
    print(f"{name}: {len(rows)} rows; {counts.most_common(5)}")


if __name__ == "__main__":
    if len(sys.argv) >= 2 and sys.argv[1] == "gsm8k-calibration":
        gsm8k_calibration()
    elif len(sys.argv) == 3 and sys.argv[1] == "labels":
        labels(sys.argv[2])
    else:
        sys.exit("usage: python bench/side_checks/counts.py gsm8k-calibration | labels SET")
