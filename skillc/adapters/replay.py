"""`replay:` models: answer from recorded outputs (a CSV of prompts and responses).

A record answers a request when its prompt, whitespace-normalized, appears in the request's text (all
messages joined, also read with JSON string escapes undone); the longest such prompt wins. No record:
`ReplayMissError`, naming the file. With `fill` (URI `replay:logs.csv#column?fill`), when the request asks
for a JSON contract (`response_format`), a free-text record is read into that contract
(`skillc.adapters.free_text.fill_contract`), so a recorded teacher can answer an escalated step. Without
it, records come back verbatim (a replayed student's malformed answer stays malformed).

Example:
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "logs.csv"
    >>> _ = path.write_text("prompt,gpt-4o_response\\nWhat is 2+2?,4\\n")
    >>> ReplayChatModel(path=str(path), column="gpt-4o_response").invoke("Q: What is 2+2?").content
    '4'
"""

from __future__ import annotations

import csv
import json
import re
import sys
from functools import lru_cache
from pathlib import Path
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import PrivateAttr

from skillc.adapters.free_text import fill_contract
from skillc.adapters.tokens import count_tokens, estimate_messages_tokens
from skillc.core.errors import InvalidInputError, ReplayMissError

_WS = re.compile(r"\s+")


def _norm(text: str) -> str:
    return _WS.sub(" ", text).strip()


def _unescape(text: str) -> str:
    """Text with JSON string escapes undone (prompts quote inputs as JSON)."""
    return text.replace('\\"', '"').replace("\\n", "\n").replace("\\\\", "\\")


def _contract(response_format: Any) -> dict[str, Any] | None:
    """The JSON Schema inside an OpenAI-style `response_format`, if any."""
    if not isinstance(response_format, dict):
        return None
    schema = response_format.get("schema") or (response_format.get("json_schema") or {}).get("schema")
    return schema if isinstance(schema, dict) else None


@lru_cache(maxsize=16)
def _load_records(path: str, prompt_col: str, column: str, mtime: float) -> tuple[tuple[str, str], ...]:
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            header = reader.fieldnames or []
            for col in (prompt_col, column):
                if col not in header:
                    raise InvalidInputError(f"{path} has no column {col!r} (columns: {', '.join(header)})")
            rows = [(_norm(r[prompt_col] or ""), r[column] or "") for r in reader]
    except FileNotFoundError:
        raise InvalidInputError(f"replay log not found: {path}") from None
    return tuple((p, r) for p, r in rows if p)


class ReplayChatModel(BaseChatModel):
    """A chat model that replays recorded responses from a CSV log.

    Args:
        path: the CSV file.
        column: the response column.
        prompt_col: the prompt column (default `prompt`).
        model_label: the model name reported (default: `column` without `_response`), used for pricing.
        fill: read free-text records into the JSON contract a request asks for.
    """

    path: str
    column: str
    prompt_col: str = "prompt"
    model_label: str | None = None
    fill: bool = False
    _records: tuple[tuple[str, str], ...] = PrivateAttr(default=())

    def records(self) -> tuple[tuple[str, str], ...]:
        """(normalized prompt, response) pairs, read once per file version."""
        if not self._records:
            p = Path(self.path)
            if not p.is_file():
                raise InvalidInputError(f"replay log not found: {self.path}")
            self._records = _load_records(str(p), self.prompt_col, self.column, p.stat().st_mtime)
        return self._records

    @property
    def _llm_type(self) -> str:
        return "skillc-replay"

    @property
    def name_for_pricing(self) -> str:
        return self.model_label or self.column.removesuffix("_response")

    def lookup(self, request_text: str) -> str:
        """The recorded response for a request, or `ReplayMissError`."""
        text = _norm(request_text)
        unescaped = _norm(_unescape(request_text))
        best: tuple[int, str] | None = None
        for prompt, response in self.records():
            if (prompt in text or prompt in unescaped) and (best is None or len(prompt) > best[0]):
                best = (len(prompt), response)
        if best is None:
            raise ReplayMissError(
                f"replay log {Path(self.path).name} has no record for this prompt "
                f"(column {self.column!r}): {text[:100]!r}"
            )
        return best[1]

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        request = "\n".join(m.text if hasattr(m, "text") else str(m.content) for m in messages)
        answer = recorded = self.lookup(request)
        schema = _contract(kwargs.get("response_format")) if self.fill else None
        if schema is not None:
            filled = fill_contract(schema, answer)
            answer = json.dumps(filled, ensure_ascii=False) if filled is not None else answer
        message = AIMessage(content=answer, response_metadata={"model_name": self.name_for_pricing})
        # the recorded model wrote the whole recorded text, so that is what its output tokens cost
        message.usage_metadata = {"input_tokens": estimate_messages_tokens(messages),
                                  "output_tokens": count_tokens(recorded),
                                  "total_tokens": estimate_messages_tokens(messages) + count_tokens(recorded)}
        return ChatResult(generations=[ChatGeneration(message=message)])
