"""How often a SIGKILLed bank writer leaves what used to make a skill folder unloadable.

    python bench/killed_writers_probe.py [--kills 20] [--seed 7]

Runs the writer of `tests/reliability/test_killed_writers.py` on a signed folder, kills it at a random moment
`--kills` times, and counts the kills that left an unsigned tail in examples.jsonl or a temp file in the
folder (each refused as tampering before the signed-prefix manifest), then checks the folder still loads.
"""

from __future__ import annotations

import argparse
import random
import signal
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from skillc.core.manifest import signed_length  # noqa: E402
from skillc.core.spec import SkillSpec  # noqa: E402
from skillc.core.task import Task  # noqa: E402
from skillc.skills.skill import Skill  # noqa: E402
from tests.conftest import INVOICE_DESIGN, INVOICE_TASK  # noqa: E402
from tests.reliability.test_killed_writers import start  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    task = Task.model_validate(INVOICE_TASK)
    spec = SkillSpec(**INVOICE_DESIGN, name=task.name, task=task.description, input_schema=task.input_schema,
                     output_schema=task.output_schema)
    folder = Skill(spec).save(Path(tempfile.mkdtemp()) / "invoice-total")
    rng = random.Random(args.seed)
    tails = temps = 0
    for _ in range(args.kills):
        proc, acked = start(folder, "probe")
        while not acked and proc.poll() is None:
            time.sleep(0.02)
        time.sleep(rng.uniform(0, 0.4))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        tails += (folder / "examples.jsonl").stat().st_size > (signed_length(folder, "examples.jsonl") or 0)
        temps += any(p.name.endswith(".tmp") for p in folder.iterdir())
        Skill.load(folder)  # raises if the folder does not load
    print(f"{args.kills} kills: {tails} left an unsigned tail, {temps} left temp files; the folder loaded every time")


if __name__ == "__main__":
    main()
