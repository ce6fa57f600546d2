"""Yanking a version (PEP 592) and revoking a signing key, through the real server and the CLI."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from skillc.cli.app import app
from skillc.core.errors import SkillFolderError
from skillc.registry.client import HttpRegistry, publish, pull
from skillc.registry.layout import NotFound
from skillc.registry.signing import SignatureError, TrustStore, generate_keys, sign
from skillc.skills.skill import Skill


@pytest.fixture
def three_versions(server, token, skill_dir):
    registry = HttpRegistry(server.base_url, token)
    for version in ("0.1.0", "0.2.0", "0.3.0"):
        publish(skill_dir, registry, version=version, tags=["prod"] if version == "0.3.0" else [])
    return registry


def test_an_unpinned_pull_skips_a_yanked_version_and_a_pin_still_gets_it(three_versions, server, token, tmp_path) -> None:
    runner = CliRunner()
    yanked = runner.invoke(app, ["yank", "invoice-total@0.3.0", "--reason", "rounds totals down",
                                 "--registry", server.base_url], env={"SKILLC_REGISTRY_TOKEN": token})
    assert yanked.exit_code == 0, yanked.output
    reader = HttpRegistry(server.base_url)
    assert reader.resolve("invoice-total", None).version == "0.2.0"
    with pytest.raises(NotFound, match="yanked .rounds totals down"):
        reader.resolve("invoice-total", "prod")
    pinned = runner.invoke(app, ["pull", "invoice-total@0.3.0", "--registry", server.base_url, "--out", str(tmp_path / "a")])
    assert pinned.exit_code == 0 and "was yanked: rounds totals down" in pinned.output
    assert json.loads((tmp_path / "a" / "invoice-total" / "origin.json").read_text())["yanked"] == "rounds totals down"
    index = reader._json(".well-known/agent-skills/index.json")
    assert [s["version"] for s in index["skills"]] == ["0.2.0"]
    listed = runner.invoke(app, ["versions", "invoice-total", "--registry", server.base_url])
    assert "rounds totals down" in listed.output


def test_a_lock_pinning_a_yanked_version_still_resolves(three_versions, server, token, tmp_path) -> None:
    lock = tmp_path / "skills.lock"
    pull("invoice-total", HttpRegistry(server.base_url), tmp_path / "out", lock=lock)
    assert json.loads(lock.read_text())["skills"]["invoice-total"]["version"] == "0.3.0"
    three_versions.yank("invoice-total", "0.3.0", "bad bank")
    folder = pull("invoice-total", HttpRegistry(server.base_url), tmp_path / "again", lock=lock)
    assert Skill.load(folder).spec.version == "0.3.0" and Skill.load(folder).origin["yanked"] == "bad bank"
    with pytest.raises(SkillFolderError, match="pins invoice-total@0.3.0"):  # the lock still refuses anything else
        pull("invoice-total@0.2.0", HttpRegistry(server.base_url), tmp_path / "other", lock=lock)


def test_a_yank_needs_a_token_and_a_reason(three_versions, server) -> None:
    from skillc.registry.layout import RegistryError

    with pytest.raises(RegistryError, match="needs a token"):
        HttpRegistry(server.base_url).yank("invoice-total", "0.1.0", "x")
    with pytest.raises(RegistryError, match="needs a reason"):
        three_versions.yank("invoice-total", "0.1.0", "  ")


def test_a_revoked_key_is_refused_from_then_on(server, token, skill_dir, tmp_path) -> None:
    private, public = generate_keys(tmp_path / "keys" / "old")
    trust_path = tmp_path / "trust.json"
    kid = TrustStore(trust_path).add(public, "invoice-*")
    publish(skill_dir, HttpRegistry(server.base_url, token), sign_key=private)
    pull("invoice-total", HttpRegistry(server.base_url), tmp_path / "before", require_signed=True, trust=TrustStore(trust_path))
    revoked = CliRunner().invoke(app, ["keys", "revoke", str(public), "--reason", "laptop stolen", "--trust", str(trust_path)])
    assert revoked.exit_code == 0 and kid in revoked.output
    for require in (True, False):  # refused even where unsigned skills are allowed
        with pytest.raises(SignatureError, match="revoked .*laptop stolen"):
            pull("invoice-total", HttpRegistry(server.base_url), tmp_path / f"after-{require}", require_signed=require,
                 trust=TrustStore(trust_path))
    with pytest.raises(SignatureError, match="revoked"):
        TrustStore(trust_path).verify("invoice-total", b"x", sign(b"x", private))
    with pytest.raises(SignatureError, match="cannot be trusted again"):
        TrustStore(trust_path).add(public, "*")
