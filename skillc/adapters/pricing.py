"""Prices per model (USD per 1M input/output tokens) and the cost of one call.

Built-in prices are the providers' published list prices; override or extend them with a TOML or YAML
file (`SKILLC_PRICES=prices.toml` or `PriceTable.from_file`). Local models are priced by time: a
configurable hourly machine cost times the call's measured latency (0 by default).

Example:
    >>> table = PriceTable()
    >>> round(table.cost("gpt-4-1106-preview", input_tokens=1000, output_tokens=100), 4)
    0.013
    >>> table.cost("local:student", 1000, 100, latency_s=36, local=True)
    0.0
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from skillc.core.errors import InvalidInputError

# USD per 1M tokens (input, output), list prices as published by the providers.
BUILTIN_PRICES: dict[str, tuple[float, float]] = {
    "gpt-4-1106-preview": (10.0, 30.0),
    "gpt-4-turbo": (10.0, 30.0),
    "gpt-4": (30.0, 60.0),
    "gpt-4o": (2.5, 10.0),
    "gpt-4o-mini": (0.15, 0.6),
    "gpt-4.1": (2.0, 8.0),
    "gpt-4.1-mini": (0.4, 1.6),
    "gpt-4.1-nano": (0.1, 0.4),
    "gpt-3.5-turbo": (0.5, 1.5),
    "o3-mini": (1.1, 4.4),
    "claude-3-5-sonnet": (3.0, 15.0),
    "claude-3-5-haiku": (0.8, 4.0),
    "claude-3-opus": (15.0, 75.0),
    "claude-sonnet-4": (3.0, 15.0),
    "claude-opus-4": (15.0, 75.0),
    "mistralai/Mixtral-8x7B-Instruct-v0.1": (0.6, 0.6),
}


@dataclass
class PriceTable:
    """Model prices plus the hourly cost used for local models."""

    prices: dict[str, tuple[float, float]] = field(default_factory=lambda: dict(BUILTIN_PRICES))
    local_hourly_usd: float = 0.0

    @classmethod
    def from_file(cls, path: str | Path) -> PriceTable:
        """Built-ins updated from a TOML/YAML file: `local_hourly_usd` and `models.<name>.{input,output}`."""
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
            data = tomllib.loads(text) if path.suffix == ".toml" else yaml.safe_load(text)
        except (OSError, tomllib.TOMLDecodeError, yaml.YAMLError) as exc:
            raise InvalidInputError(f"cannot read prices from {path}: {exc}") from None
        table = cls()
        try:
            table.local_hourly_usd = float(data.get("local_hourly_usd", 0.0))
            for name, p in (data.get("models") or {}).items():
                table.prices[name] = (float(p["input"]), float(p["output"]))
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            raise InvalidInputError(
                f"{path}: expected `models.<name>.input` and `.output` in USD per 1M tokens ({exc})"
            ) from None
        return table

    def lookup(self, model: str) -> tuple[float, float] | None:
        """Price of `model`: exact name, else the longest known prefix (dated snapshots)."""
        if model in self.prices:
            return self.prices[model]
        bare = model.split(":", 1)[-1]
        matches = [k for k in self.prices if bare == k or bare.startswith(k + "-")]
        return self.prices[max(matches, key=len)] if matches else None

    def cost(
        self, model: str, input_tokens: int, output_tokens: int, *, latency_s: float = 0.0, local: bool = False
    ) -> float:
        """USD for one call; 0 for an unknown API model (see `is_priced`)."""
        if local:
            return self.local_hourly_usd * latency_s / 3600.0
        price = self.lookup(model)
        if price is None:
            return 0.0
        return input_tokens / 1e6 * price[0] + output_tokens / 1e6 * price[1]

    def is_priced(self, model: str) -> bool:
        return self.lookup(model) is not None


def default_prices() -> PriceTable:
    """Built-ins, or the file named by `SKILLC_PRICES`."""
    path = os.environ.get("SKILLC_PRICES")
    return PriceTable.from_file(path) if path else PriceTable()
