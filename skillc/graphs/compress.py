"""A step's compression: its long string inputs and its demos' long fields, LLMLingua'd for the student.

The question LongLLMLingua ranks chunks by is the spec's `question`, or else the step's instruction followed
by the step's short string inputs (a qa step's question field, say). A demo's long fields are its inputs'
and its output's long strings (a worked answer's reasoning): the demo shows the compressed text stored in its
bank record under the settings' digest (`compress_records` writes it once, when the bank is built or grows);
a record without it is compressed when first shown, and the result is remembered in memory. `fields` names
the fields to compress, inputs or demo outputs (`fields: [reasoning]` compresses only the demos' reasoning).

Example:
    >>> from skillc.core.spec import Compression
    >>> settings_key(Compression(rate=0.5)) == settings_key(Compression(rate=0.5, demos=False))
    True
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from skillc.core.files import json_digest
from skillc.core.spec import Compression, Step


class TextCompressor(Protocol):
    """What a graph needs of a compressor (`skillc.compression.Compressor` is one)."""

    def count(self, text: str) -> int: ...

    def compress(self, text: str, *, rate: float | None = None, target_tokens: int | None = None, question: str = "",
                 min_tokens: int = 0, token_level: bool = True) -> Any: ...


def settings_key(settings: Compression) -> str:
    """The digest a compressed demo text is stored under: what changes the compressed text, not `demos`."""
    return json_digest(settings.model_dump(mode="json", exclude={"demos"}))[:16]


def _long_fields(settings: Compression, values: dict[str, Any], compressor: TextCompressor) -> list[str]:
    names = [n for n in values if n in settings.fields] if settings.fields else list(values)
    return [n for n in names if isinstance(values.get(n), str) and compressor.count(values[n]) >= max(settings.min_tokens, 1)]


def step_question(step: Step, inputs: dict[str, Any], long_fields: list[str]) -> str:
    """The question the kept text must answer: the spec's, or the instruction and the short string inputs."""
    settings = step.compression
    if settings is not None and settings.question:
        return settings.question
    short = [f"{k}: {v}" for k, v in inputs.items() if isinstance(v, str) and k not in long_fields and v.strip()]
    return "\n".join([step.instruction, *short])


def compress_fields(step: Step, values: dict[str, Any], compressor: TextCompressor, *, question: str,
                    count: Callable[[str], int] | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """`values` with their long string fields compressed, and the trace note per field: tokens (counted by
    `count`, the model's own tokenizer, when given; else the scorer's) and the compressor's seconds."""
    settings = step.compression
    if settings is None:
        return values, {}
    out, notes = dict(values), {}
    for name in _long_fields(settings, values, compressor):
        result = compressor.compress(values[name], rate=settings.rate, target_tokens=settings.target_tokens,
                                     question=question, min_tokens=settings.min_tokens, token_level=settings.token_level)
        out[name] = result.text
        note = result.as_record()
        if count is not None:
            note.update(origin_tokens=count(values[name]), compressed_tokens=count(result.text), tokenizer="model")
        notes[name] = note
    return out, notes


def compress_inputs(step: Step, inputs: dict[str, Any], compressor: TextCompressor,
                    count: Callable[[str], int] | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """The inputs with their long fields compressed, and the trace note per field (tokens and seconds)."""
    if step.compression is None:
        return inputs, {}
    question = step_question(step, inputs, _long_fields(step.compression, inputs, compressor))
    return compress_fields(step, inputs, compressor, question=question, count=count)


def compress_demo(step: Step, record: dict[str, Any], compressor: TextCompressor) -> dict[str, dict[str, Any]]:
    """The compressed long fields of a demo: its inputs, and its output's long strings (a worked answer's
    reasoning, say; the JSON around them and every number stay), asked by the demo's own question."""
    inputs, output = record.get("input") or {}, record.get("output") or {}
    question = step_question(step, inputs, _long_fields(step.compression, inputs, compressor)) if step.compression else ""
    squeezed_in, notes_in = compress_fields(step, inputs, compressor, question=question)
    squeezed_out, notes_out = compress_fields(step, output, compressor, question=question) if isinstance(output, dict) else (output, {})
    return {"input": {k: squeezed_in[k] for k in notes_in}, "output": {k: squeezed_out[k] for k in notes_out}}


def demo_shown(step: Step, record: dict[str, Any], compressor: TextCompressor | None) -> dict[str, Any]:
    """The record as its demo shows it: with the stored compressed text for these settings, else compressed now."""
    settings = step.compression
    if settings is None or not settings.demos or compressor is None:
        return record
    stored = (record.get("compressed") or {}).get(settings_key(settings))
    if not (isinstance(stored, dict) and isinstance(stored.get("input"), dict) and isinstance(stored.get("output"), dict)):
        stored = compress_demo(step, record, compressor)
    output = record.get("output")
    return {**record, "input": {**(record.get("input") or {}), **stored["input"]},
            "output": {**output, **stored["output"]} if isinstance(output, dict) else output}


def compress_records(steps: list[Step], records: list[dict[str, Any]], compressor: TextCompressor) -> list[dict[str, Any]]:
    """The records with the compressed text of their long fields stored beside the originals, for each step
    whose compression covers demos (other records unchanged)."""
    by_id = {s.id: s for s in steps if s.compression is not None and s.compression.demos}
    out = []
    for record in records:
        step = by_id.get(record.get("step", ""))
        if step is None or step.compression is None:
            out.append(record)
            continue
        stored = compress_demo(step, record, compressor)
        out.append({**record, "compressed": {**(record.get("compressed") or {}), settings_key(step.compression): stored}})
    return out


def with_compression(spec: Any, settings: Compression | None) -> Any:
    """The spec with `settings` on every LLM step that reads its inputs (None: compression off everywhere).

    >>> from skillc.core.spec import SkillSpec
    >>> spec = SkillSpec.model_validate({"name": "m", "task": "T", "entry": "s",
    ...     "input_schema": {"type": "object", "properties": {"a": {}}},
    ...     "output_schema": {"type": "object", "properties": {"x": {}}},
    ...     "steps": [{"id": "s", "primitive": "extract", "instruction": "i", "reads": ["a"], "writes": ["x"],
    ...                "next": "END", "contract": {"type": "object", "properties": {"x": {}}}}]})
    >>> with_compression(spec, Compression(rate=0.5)).steps[0].compression.rate
    0.5
    """
    from skillc.core.spec import LLM_PRIMITIVES

    steps = [s.model_copy(update={"compression": settings if s.primitive in LLM_PRIMITIVES and s.reads else None})
             for s in spec.steps]
    return spec.model_copy(update={"steps": steps})
