"""The public task suite's data: each set of the `evals` package as a skillc task and an eval dataset.

    skillc bench suite --data ../shared/data/evals        (converts, then compiles and evaluates)
    python bench/suite/convert.py --data ../shared/data/evals   (converts only)

For each of the seven sets, `convert_suite` writes `<tasks>/<set>/task.yaml` (committed under `bench/suite/`:
the task as a user would write it, from the set's own instructions, with 3 of its items as samples (the first
item of each distinct answer first) and **no `hints:`**) and `<items>/<set>/items.jsonl` (not committed: every
other item as `{"input", "expected", "id"}`). The data is read from `--data`, never copied into the project
beyond those samples. Item `i` of a set has id `<set>-<i>`.

Example:
    >>> finance_calc({"input": [{"role": "user", "content": "Q? Provide your reasoning first"}], "ideal": "[2031]"})
    ({'question': 'Q?'}, {'year': 2031})
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from skillc.core.errors import InvalidInputError
from skillc.core.files import atomic_write_text

SAMPLES = 3
Row = dict[str, Any]
# (test, dev) items per set; the rest of the set is the trainset. Test is ≥100 where a set has them, 30 on qa
# (a transcript costs the 1.5B teacher ~100 s), about 40% of a small set otherwise.
SPLITS: dict[str, tuple[int, int]] = {
    "event_categories": (120, 40),
    "brazilian_laws": (120, 40),
    "product-ie": (14, 8),
    "finance_calc": (33, 20),
    "date-booking": (7, 4),
    "utility_price_parsing": (5, 3),
    "qa": (30, 16),
}
SPLIT_SEED = 0


def _messages(row: Row) -> tuple[str, str]:
    system = "\n".join(m["content"] for m in row["input"] if m["role"] == "system")
    user = [m["content"] for m in row["input"] if m["role"] == "user"]
    return system, (user[-1] if user else "")


def event_categories(row: Row) -> tuple[dict, dict]:
    return {"event": _messages(row)[1]}, {"level": row["ideal"]}


def brazilian_laws(row: Row) -> tuple[dict, dict]:
    text = re.sub(r"^classifique isto:\s*", "", _messages(row)[1].strip(), flags=re.IGNORECASE)
    return {"summary": text}, {"category": list(row["ideal"])}


def product_ie(row: Row) -> tuple[dict, dict]:
    title, _, attribute = _messages(row)[1].rpartition("Requested Attribute:")
    ideal = row["ideal"] if isinstance(row["ideal"], list) else [row["ideal"]]
    return {"title": title.strip(), "attribute": attribute.strip()}, {"value": ideal}


def finance_calc(row: Row) -> tuple[dict, dict]:
    question = _messages(row)[1].split(" Provide your reasoning first")[0].strip()
    return {"question": question}, {"year": int(str(row["ideal"]).strip("[] "))}


def date_booking(row: Row) -> tuple[dict, dict]:
    system, user = _messages(row)
    schedule = system[system.index("Current date:"):].strip()
    return {"schedule": schedule, "request": user.strip()}, {"bookings": row["ideal"].strip()}


def utility_price_parsing(row: Row) -> tuple[dict, dict]:
    bill = _messages(row)[1].split("The following is information from the utility bill:")[-1].strip()
    ideal = json.loads(row["ideal"].replace("'", '"'))
    return {"bill": bill}, {k: float(v) for k, v in ideal.items()}


def qa(row: Row) -> tuple[dict, dict]:
    system, _ = _messages(row)
    head, _, transcript = system.partition("Please answer Yes or No.")
    question = head.split(". ", 1)[1].strip() if ". " in head else head.strip()
    return {"transcript": transcript.strip(), "question": question}, {"answer": row["ideal"].strip()}


def task_specs(first: dict[str, Row]) -> dict[str, dict[str, Any]]:
    """The task of each set, as a user would write it from the set's own instructions."""
    areas = re.findall(r'"([^"]+)"', _messages(first["brazilian_laws"])[0])
    return {
        "event_categories": {
            "name": "event-level", "metric": "label",
            "description": "A systems administrator labels a Windows event log message by its level: Information, "
                           "Warning or Error.",
            "inputs": {"event": {"type": "string", "description": "one Windows event log message"}},
            "output_schema": {"type": "object", "properties": {"level": {"enum": ["Information", "Warning", "Error"]}},
                              "required": ["level"]},
        },
        "brazilian_laws": {
            "name": "law-subject", "metric": "includes",
            "description": "Classify the summary of a Brazilian law (in Portuguese) into one subject area of the "
                           "Brazilian Chamber of Deputies.",
            "inputs": {"summary": {"type": "string", "description": "the law's summary (ementa), in Portuguese"}},
            "output_schema": {"type": "object", "properties": {"category": {"enum": areas}}, "required": ["category"]},
        },
        "product-ie": {
            "name": "product-attribute", "metric": "includes",
            "description": "From a product title, return the exact value of the requested attribute as it appears in "
                           "the title, or 'I do not know.' when the title does not give it.",
            "inputs": {"title": {"type": "string", "description": "the product title"},
                       "attribute": {"type": "string", "description": "the attribute asked for, e.g. Processor Speed"}},
            "output_schema": {"type": "object", "properties": {"value": {"type": "string"}}, "required": ["value"]},
        },
        "finance_calc": {
            "name": "savings-depletion-year", "metric": "numeric",
            "description": "A balance earns interest and loses value to inflation every year; at the end of each year "
                           "an inflation-adjusted amount is taken out. Find the first year there is not enough money "
                           "left to take it out.",
            "inputs": {"question": {"type": "string", "description": "the starting balance, rates, withdrawal and start year"}},
            "output_schema": {"type": "object", "properties": {"reasoning": {"type": "string"}, "year": {"type": "integer"}},
                              "required": ["reasoning", "year"]},
        },
        "date-booking": {
            "name": "lesson-booking", "metric": "label",
            "description": "Book the lessons a customer asks for: for each requested lesson type, the available slot "
                           "closest to the requested date and time, in the future. One line per lesson, "
                           "'Type: YYYY-MM-DD hh:mm'; 'Unknown.' when no slot fits.",
            "inputs": {"schedule": {"type": "string", "description": "the current date and the available slots per lesson type"},
                       "request": {"type": "string", "description": "the customer's booking request"}},
            "output_schema": {"type": "object", "properties": {"bookings": {"type": "string"}}, "required": ["bookings"]},
        },
        "utility_price_parsing": {
            "name": "electricity-unit-cost", "metric": "numeric",
            "description": "From the OCR text of a utility bill, compute the cost per kWh of electricity supply and of "
                           "electricity delivery (total charges divided by kWh), each rounded to 2 significant figures.",
            "inputs": {"bill": {"type": "string", "description": "the bill's text, as OCR read it"}},
            "output_schema": {"type": "object", "properties": {"supply_cost_per_kwh": {"type": "number"},
                                                               "delivery_cost_per_kwh": {"type": "number"}},
                              "required": ["supply_cost_per_kwh", "delivery_cost_per_kwh"]},
        },
        "qa": {
            "name": "sales-call-question", "metric": "label",
            "description": "Answer a yes/no question about a sales call between a customer and a sales rep, from the "
                           "call's transcript.",
            "inputs": {"transcript": {"type": "string", "description": "the call transcript, one speaker line at a time"},
                       "question": {"type": "string", "description": "the question about the call"}},
            "output_schema": {"type": "object", "properties": {"answer": {"enum": ["Yes", "No"]}}, "required": ["answer"]},
        },
    }


SETS: dict[str, tuple[str, Callable[[Row], tuple[dict, dict]]]] = {
    "event_categories": ("samples.jsonl", event_categories),
    "brazilian_laws": ("samples.jsonl", brazilian_laws),
    "product-ie": ("product_ie_zero_shot_samples.jsonl", product_ie),
    "finance_calc": ("samples.jsonl", finance_calc),
    "date-booking": ("samples.jsonl", date_booking),
    "utility_price_parsing": ("samples.jsonl", utility_price_parsing),
    "qa": ("q_and_a.jsonl", qa),
}


def sample_indices(items: list[tuple[dict, dict]]) -> list[int]:
    """The samples a user would pick: the first item of each distinct answer (so a classifier sees more than
    one label), then the first items, `SAMPLES` in all."""
    chosen: list[int] = []
    seen: set[str] = set()
    for n, (_, expected) in enumerate(items):
        key = json.dumps(_first_of_lists(expected), sort_keys=True)
        if key not in seen and len(chosen) < SAMPLES:
            seen.add(key)
            chosen.append(n)
    for n in range(len(items)):
        if len(chosen) >= SAMPLES:
            break
        if n not in chosen:
            chosen.append(n)
    return sorted(chosen)


def _first_of_lists(expected: dict[str, Any]) -> dict[str, Any]:
    """A sample's expected output must fit the output contract: of several accepted answers, the first."""
    return {k: (v[0] if isinstance(v, list) and v else v) for k, v in expected.items()}


def split_set(items: list[Any], test: int, dev: int, seed: int = SPLIT_SEED) -> tuple[list[Any], list[Any], list[Any]]:
    """(train, dev, test): the items shuffled once with `seed`; test first, then dev, the rest is train.

    >>> train, dev, test = split_set(list(range(10)), 3, 2)
    >>> len(train), len(dev), len(test), sorted(train + dev + test) == list(range(10))
    (5, 2, 3, True)
    """
    if test + dev >= len(items):
        raise InvalidInputError(f"a split of {test} test and {dev} dev items leaves no trainset of {len(items)} items")
    order = list(range(len(items)))
    import random

    random.Random(seed).shuffle(order)
    picked = [items[i] for i in order]
    return picked[test + dev :], picked[test : test + dev], picked[:test]


def convert_suite(data: Path, tasks: Path, items_dir: Path, say: Callable[[str], None] = print) -> list[str]:
    """Write `tasks/<set>/task.yaml` and `items_dir/<set>/items.jsonl` for every set found under `data`."""
    missing = [f"{name}/{file}" for name, (file, _) in SETS.items() if not (data / name / file).is_file()]
    if missing:
        raise InvalidInputError(f"{data} is not the evals folder: missing {', '.join(missing)}")
    rows = {name: [json.loads(line) for line in (data / name / file).read_text(encoding="utf-8").splitlines() if line.strip()]
            for name, (file, _) in SETS.items()}
    specs = task_specs({name: r[0] for name, r in rows.items()})
    for name, (_, convert) in SETS.items():
        items = [convert(row) for row in rows[name]]
        task = dict(specs[name])
        chosen = sample_indices(items)
        task["samples"] = [{"input": items[n][0], "expected": _first_of_lists(items[n][1])} for n in chosen]
        header = (f"# {name} from the evals package (MIT, see ../shared/data/evals/LICENSE-evals.md), written as a user\n"
                  f"# would write it: from the set's own instructions, {SAMPLES} of its items as samples, no hints.\n")
        atomic_write_text(tasks / name / "task.yaml",
                          header + yaml.safe_dump(task, sort_keys=False, allow_unicode=True, width=110))
        # a row repeating a sample's input (qa has two) would test the skill on its own demo: left out
        seen = {json.dumps(items[n][0], sort_keys=True) for n in chosen}
        lines = [json.dumps({"id": f"{name}-{n}", "input": i, "expected": e}, ensure_ascii=False)
                 for n, (i, e) in enumerate(items) if n not in chosen and json.dumps(i, sort_keys=True) not in seen]
        atomic_write_text(items_dir / name / "items.jsonl", "\n".join(lines) + "\n")
        say(f"{name}: task.yaml with {SAMPLES} samples, {len(lines)} eval items → {items_dir / name / 'items.jsonl'}")
    return list(SETS)
