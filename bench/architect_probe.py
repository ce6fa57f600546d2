"""How often does a teacher produce a valid (and right) design for a task, in one architect call?

    python bench/architect_probe.py --teacher local:teacher --tries 4 --temperature 0 --temperature 0.3

For each temperature it makes `--tries` independent architect calls on the demo task, validates each
design (after normalization) and checks valid ones on the task's samples with the teacher as executor.
Prints a table and writes bench/results/architect_probe.json.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from skillc.adapters.calls import call_model
from skillc.adapters.models import resolve_model
from skillc.compile.architect import architect_messages, design_schema
from skillc.compile.compiler import _spec_from_reply, work_samples
from skillc.demo import bundled_task
from skillc.skills.skill import Skill


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--teacher", default="local:teacher")
    parser.add_argument("--tries", type=int, default=4)
    parser.add_argument("--temperature", type=float, action="append")
    args = parser.parse_args()
    task, _ = bundled_task()
    teacher = resolve_model(args.teacher)
    rows = []
    for temperature in args.temperature or [0.0]:
        for n in range(args.tries):
            started = time.perf_counter()
            messages = architect_messages(task, task.samples, include_schema=teacher.structured == "none")
            call = call_model(teacher, messages, json_schema=design_schema(), temperature=temperature)
            spec, notes = _spec_from_reply(call.text, task, "step")
            right = None
            if spec is not None:
                mistakes = work_samples(Skill(spec), teacher, task.samples, prices=None)[3]  # type: ignore[arg-type]
                right = not mistakes
            rows.append({"temperature": temperature, "try": n, "valid": spec is not None, "right_on_samples": right,
                         "output_tokens": call.output_tokens, "seconds": round(time.perf_counter() - started, 1),
                         "problems": [] if spec else notes[:3]})
            print(json.dumps(rows[-1]), flush=True)
    out = Path(__file__).parent / "results" / "architect_probe.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"teacher": args.teacher, "rows": rows}, indent=2))
    for temperature in args.temperature or [0.0]:
        sel = [r for r in rows if r["temperature"] == temperature]
        print(f"T={temperature}: valid {sum(r['valid'] for r in sel)}/{len(sel)}, "
              f"right on samples {sum(bool(r['right_on_samples']) for r in sel)}/{len(sel)}")


if __name__ == "__main__":
    main()
