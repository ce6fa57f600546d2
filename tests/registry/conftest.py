"""A real registry server on 127.0.0.1 with a publish token, and a small skill to publish."""

from __future__ import annotations

from pathlib import Path

import pytest

from skillc.core.records import new_record
from skillc.registry.server import RegistryServer, new_token
from skillc.skills.skill import Skill


@pytest.fixture
def token_file(tmp_path: Path) -> Path:
    return tmp_path / "server" / "tokens"


@pytest.fixture
def token(token_file: Path) -> str:
    return new_token(token_file)


@pytest.fixture
def server(tmp_path: Path, token: str, token_file: Path):
    with RegistryServer(tmp_path / "registry", token_file=token_file, max_upload_bytes=4 * 2**20) as running:
        yield running


@pytest.fixture
def skill_dir(tmp_path: Path, invoice_spec) -> Path:
    examples = [new_record("fields", {"text": "INVOICE. 1 desk at $7."}, {"quantity": 1, "unit_price": 7, "stated_total": 7},
                           reasoning="one desk at seven dollars")]
    return Skill(invoice_spec, examples).save(tmp_path / "src" / "invoice-total")
