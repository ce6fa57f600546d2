"""Task files (`task.yaml`): what the teacher compiles a skill for.

Example:
    >>> task = Task.model_validate({
    ...     "name": "add-two", "description": "Add two numbers.",
    ...     "inputs": {"a": {"type": "number"}, "b": {"type": "number"}},
    ...     "output_schema": {"type": "object", "properties": {"sum": {"type": "number"}},
    ...                       "required": ["sum"]},
    ...     "samples": [{"input": {"a": 1, "b": 2}, "expected": {"sum": 3}}]})
    >>> task.input_schema["required"]
    ['a', 'b']
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

import jsonschema
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from skillc.core.errors import InvalidInputError


class Sample(BaseModel):
    """One input, optionally with the expected output and stratification fields."""

    model_config = ConfigDict(extra="allow")

    input: dict[str, Any]
    expected: dict[str, Any] | None = None


class Task(BaseModel):
    """A task: its input fields, the output JSON Schema and a few samples."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length=64)
    description: str = Field(min_length=1, max_length=1024)
    inputs: dict[str, dict[str, Any]] = Field(min_length=1)
    output_schema: dict[str, Any]
    hints: str = Field("", max_length=2000, description="the task author's guidance for the architect")
    samples: list[Sample] = Field(default_factory=list)
    metric: Literal["exact", "numeric", "f1", "label", "includes", "set_f1", "judge"] | None = None
    license: str = "Apache-2.0"

    @field_validator("output_schema")
    @classmethod
    def _output_is_object_schema(cls, value: dict[str, Any]) -> dict[str, Any]:
        try:
            jsonschema.Draft202012Validator.check_schema(value)
        except jsonschema.SchemaError as exc:
            raise ValueError(f"output_schema is not a valid JSON Schema: {exc.message}") from None
        if value.get("type") != "object" or not value.get("properties"):
            raise ValueError('output_schema must be {"type": "object", "properties": {...}}')
        return value

    @property
    def input_schema(self) -> dict[str, Any]:
        return {"type": "object", "properties": self.inputs, "required": list(self.inputs)}

    @classmethod
    def from_file(cls, path: str | Path) -> Task:
        """Load a task from YAML (or JSON), raising `InvalidInputError` with the field at fault."""
        path = Path(path)
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise InvalidInputError(f"task file not found: {path}") from None
        except yaml.YAMLError as exc:
            raise InvalidInputError(f"{path}: not valid YAML: {exc}") from None
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise InvalidInputError(f"{path}: {_first_errors(exc)}") from None

    def validate_input(self, value: dict[str, Any]) -> None:
        validate_against(value, self.input_schema, "input")


MAX_INPUT_BYTES = 1_000_000  # the default cap on one run's inputs, as UTF-8 JSON


def check_inputs(inputs: Any, max_bytes: int | None = MAX_INPUT_BYTES) -> None:
    """Refuse inputs that are not a JSON object of valid Unicode, nested too deeply or larger than `max_bytes`.

    >>> check_inputs({"text": "ok"})
    >>> check_inputs({"text": "x" * 20}, max_bytes=16)
    Traceback (most recent call last):
    ...
    skillc.core.errors.InvalidInputError: the input is 32 bytes as JSON, over the limit of 16 (raise it with max_input_bytes / --max-input-bytes)
    """
    from skillc.core.files import MAX_JSON_DEPTH, _depth_over

    if not isinstance(inputs, dict):
        raise InvalidInputError(f"the input must be a JSON object, not {type(inputs).__name__}")
    if _depth_over(inputs, MAX_JSON_DEPTH):
        raise InvalidInputError(f"the input is nested deeper than {MAX_JSON_DEPTH} levels")
    try:
        size = len(json.dumps(inputs, ensure_ascii=False).encode("utf-8"))
    except UnicodeEncodeError as exc:
        raise InvalidInputError(f"the input holds invalid Unicode (a lone surrogate at {exc.start}); send UTF-8 text") from None
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"the input is not JSON data: {exc}") from None
    if max_bytes is not None and size > max_bytes:
        raise InvalidInputError(f"the input is {size} bytes as JSON, over the limit of {max_bytes} "
                                "(raise it with max_input_bytes / --max-input-bytes)")


def validate_against(value: Any, schema: dict[str, Any], what: str) -> None:
    """Raise `InvalidInputError` when `value` does not match `schema`."""
    errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(value), key=lambda e: list(e.path))
    if errors:
        where = "/".join(str(p) for p in errors[0].path) or "(root)"
        raise InvalidInputError(f"{what} does not match its schema at {where}: {errors[0].message}")


def load_samples(path: str | Path) -> list[Sample]:
    """Read samples from JSONL: each line is {"input": {...}, "expected": {...}} or a bare input object."""
    from skillc.core.files import json_lines

    lines = Path(path).read_text(encoding="utf-8").splitlines()
    return [Sample.model_validate(d if "input" in d else {"input": d}) for d in json_lines(lines, path, InvalidInputError)]


def _first_errors(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors()[:3]:
        loc = ".".join(str(p) for p in err["loc"]) or "(root)"
        parts.append(f"{loc}: {err['msg']}")
    return "; ".join(parts)
