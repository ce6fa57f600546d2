"""A one-step label skill (`level`: Info or Error) that several tests build on."""

from __future__ import annotations

from typing import Any

LEVEL_SPEC: dict[str, Any] = {
    "name": "level", "task": "Label the event's level.", "entry": "answer",
    "input_schema": {"type": "object", "properties": {"event": {"type": "string"}}},
    "output_schema": {"type": "object", "properties": {"level": {"enum": ["Info", "Error"]}}},
    "steps": [{"id": "answer", "primitive": "classify", "instruction": "Label it.", "reads": ["event"],
               "writes": ["level"], "next": "END",
               "contract": {"type": "object", "properties": {"level": {"enum": ["Info", "Error"]}}}}],
}
