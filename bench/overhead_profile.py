"""Where skillc's per-input CPU goes: cProfile of 30 invoice-skill runs (main thread, no concurrency) against the fake
server at 0 ms latency, sorted by own time. The source of the breakdown in BENCHMARKS.md "Scaling out".

    python bench/overhead_profile.py
"""

from __future__ import annotations

import cProfile
import pstats
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))

from scale_out import INVOICE, invoices, timed_batch, wait_for_http  # noqa: E402

from skillc.adapters.local.server import free_port  # noqa: E402
from skillc.graphs.config import RunConfig  # noqa: E402
from skillc.skills.skill import Skill  # noqa: E402


def main() -> None:
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "skillc.benchmarks.fake_openai", "--port", str(port), "--latency", "0"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_http(f"http://127.0.0.1:{port}/stats")
        skill = Skill.load(INVOICE)
        config = RunConfig(student=f"openai-compatible:http://127.0.0.1:{port}/v1#fake", escalation="off")
        timed_batch(skill, config, invoices(4), 1)  # warm-up
        profile = cProfile.Profile()
        started = time.perf_counter()
        profile.enable()
        for item in invoices(30):
            skill.run(item, config=config)
        profile.disable()
        print(f"wall per input: {(time.perf_counter() - started) / 30 * 1000:.1f} ms")
        pstats.Stats(profile).sort_stats("tottime").print_stats(25)
        pstats.Stats(profile).sort_stats("cumulative").print_stats("embed_array|_transform_recursive|pregel/main.py.*invoke")
    finally:
        server.terminate()
        server.wait(10)


if __name__ == "__main__":
    main()
