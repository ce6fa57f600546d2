"""Shared fixtures: a small invoice skill, scripted students and teachers."""

from __future__ import annotations

from typing import Any

import pytest

from skillc.core.spec import SkillSpec
from skillc.core.task import Task

INVOICE_TEXT = "INVOICE #7. 3 widgets at $4.50 each. Total due: $13.50"

INVOICE_DESIGN: dict[str, Any] = {
    "entry": "kind",
    "steps": [
        {
            "id": "kind",
            "primitive": "classify",
            "instruction": "Is the document an invoice?",
            "reads": ["text"],
            "writes": ["kind"],
            "contract": {
                "type": "object",
                "properties": {"kind": {"enum": ["invoice", "other"]}},
                "required": ["kind"],
            },
        },
        {
            "id": "fields",
            "primitive": "extract",
            "instruction": "Extract the quantity, the unit price and the stated total.",
            "reads": ["text"],
            "writes": ["quantity", "unit_price", "stated_total"],
            "contract": {
                "type": "object",
                "properties": {
                    "quantity": {"type": "number"},
                    "unit_price": {"type": "number"},
                    "stated_total": {"type": "number"},
                },
                "required": ["quantity", "unit_price", "stated_total"],
            },
            "check": {"kind": "compute", "expr": "quantity * unit_price", "equals": "stated_total", "tolerance": 0.01},
            "on_fail": ["retry", "escalate", "give_up"],
            "next": "total",
        },
        {
            "id": "total",
            "primitive": "compute",
            "instruction": "Multiply quantity by unit price.",
            "reads": ["quantity", "unit_price"],
            "writes": ["total"],
            "expression": "quantity * unit_price",
            "contract": {"type": "object", "properties": {"total": {"type": "number"}}, "required": ["total"]},
            "check": {"kind": "expr", "expr": "total >= 0"},
            "next": "END",
        },
    ],
    "decisions": [
        {"after": "kind", "branches": [{"when": "kind == 'invoice'", "to": "fields"}], "default": "END"}
    ],
    "failure_modes": [
        {"name": "totals disagree", "when": "quantity * unit_price != stated_total", "action": "escalate"}
    ],
}

INVOICE_TASK: dict[str, Any] = {
    "name": "invoice-total",
    "description": "Tell invoices from other documents and compute an invoice's total.",
    "inputs": {"text": {"type": "string", "description": "the document text"}},
    "output_schema": {
        "type": "object",
        "properties": {"kind": {"enum": ["invoice", "other"]}, "total": {"type": "number"}},
        "required": ["kind"],
    },
    "samples": [
        {"input": {"text": INVOICE_TEXT}, "expected": {"kind": "invoice", "total": 13.5}},
        {"input": {"text": "Dear Bob, see you at lunch."}, "expected": {"kind": "other"}},
    ],
}


@pytest.fixture
def invoice_task() -> Task:
    return Task.model_validate(INVOICE_TASK)


@pytest.fixture
def invoice_spec(invoice_task: Task) -> SkillSpec:
    return SkillSpec(
        **INVOICE_DESIGN,
        name=invoice_task.name,
        task=invoice_task.description,
        input_schema=invoice_task.input_schema,
        output_schema=invoice_task.output_schema,
    )
