"""Cost math: tokens × price table, local models by the hour, overrides from TOML/YAML."""

from __future__ import annotations

import pytest

from skillc.adapters.pricing import PriceTable
from skillc.core.errors import InvalidInputError


def test_cost_is_tokens_times_price_per_million():
    table = PriceTable()
    assert table.cost("gpt-4-1106-preview", 1_000_000, 0) == pytest.approx(10.0)
    assert table.cost("gpt-4-1106-preview", 0, 1_000_000) == pytest.approx(30.0)
    assert table.cost("gpt-4o-mini", 2_000, 500) == pytest.approx(2_000 * 0.15e-6 + 500 * 0.6e-6)


def test_dated_snapshots_take_the_longest_prefix():
    table = PriceTable()
    assert table.lookup("gpt-4o-2024-08-06") == (2.5, 10.0)
    assert table.lookup("gpt-4o-mini-2024-07-18") == (0.15, 0.6)
    assert table.lookup("openai:gpt-4o") == (2.5, 10.0)
    assert table.lookup("my-own-model") is None and table.cost("my-own-model", 10, 10) == 0.0


def test_local_models_cost_hourly_rate_times_latency():
    table = PriceTable(local_hourly_usd=0.36)
    assert table.cost("local:student", 10_000, 10_000, latency_s=10, local=True) == pytest.approx(0.001)
    assert PriceTable().cost("local:student", 10_000, 10_000, latency_s=10, local=True) == 0.0


def test_overrides_from_toml_and_yaml(tmp_path):
    toml = tmp_path / "prices.toml"
    toml.write_text('local_hourly_usd = 0.5\n[models."gpt-4o"]\ninput = 1.0\noutput = 2.0\n')
    table = PriceTable.from_file(toml)
    assert table.lookup("gpt-4o") == (1.0, 2.0) and table.local_hourly_usd == 0.5
    assert table.lookup("gpt-4-1106-preview") == (10.0, 30.0)
    yml = tmp_path / "prices.yaml"
    yml.write_text("models:\n  acme-large: {input: 4, output: 8}\n")
    assert PriceTable.from_file(yml).cost("acme-large", 1_000_000, 1_000_000) == pytest.approx(12.0)


def test_bad_price_file_is_a_clear_error(tmp_path):
    bad = tmp_path / "prices.yaml"
    bad.write_text("models:\n  acme: {input: 4}\n")
    with pytest.raises(InvalidInputError, match="models.<name>.input"):
        PriceTable.from_file(bad)
