"""Publish the invoice skill signed to a real server, pull it by tag, version and digest, run it, and find the
registry in the run's provenance."""

from __future__ import annotations

import json

import httpx
from typer.testing import CliRunner

from skillc.cli import app
from skillc.registry.client import HttpRegistry, publish, pull
from skillc.registry.signing import TrustStore, generate_keys
from skillc.skills.skill import Skill
from tests.fakes import ScriptedChatModel, step_of


def student(messages):
    return json.dumps({"kind": "invoice"} if step_of(messages) == "kind" else {"quantity": 3, "unit_price": 4, "stated_total": 12})


def test_publish_signed_pull_three_ways_run_and_see_the_registry(tmp_path, server, token, skill_dir):
    private, public = generate_keys(tmp_path / "keys" / "team")
    trust = TrustStore(tmp_path / "trust.json")
    trust.add(public, "invoice-*")
    registry = HttpRegistry(server.base_url, token)
    info = publish(skill_dir, registry, tags=["prod"], sign_key=private)
    assert info.digest == Skill.load(skill_dir).digest and info.signed_by

    folders = {how: pull(ref, HttpRegistry(server.base_url), tmp_path / f"by-{how}", require_signed=True, trust=trust)
               for how, ref in {"tag": "invoice-total:prod", "version": "invoice-total@0.1.0",
                                "digest": f"invoice-total@{info.digest}"}.items()}
    for how, folder in folders.items():
        skill = Skill.load(folder)
        assert skill.digest == info.digest and skill.origin["signed_by"] == info.signed_by, how
        result = skill.run({"text": "INVOICE. 3 chairs at $4, total $12."}, ScriptedChatModel(script=student))
        assert result.output == {"kind": "invoice", "total": 12}
        assert result.skill == {"name": "invoice-total", "version": "0.1.0", "digest": info.digest,
                                "registry": server.base_url}

    cli = CliRunner().invoke(app, ["run", str(folders["tag"]), "--input", '{"text": "A letter."}', "--json",
                                   "--student", "openai-compatible:http://127.0.0.1:9/v1#x"])
    line = json.loads(cli.stdout.splitlines()[0])  # printed before the exit code says the student is unreachable
    assert cli.exit_code == 4 and line["provenance"]["registry"] == server.base_url
    assert line["provenance"]["digest"] == info.digest


def test_the_discovery_index_lists_it_in_the_agent_skills_shape(server, token, skill_dir):
    publish(skill_dir, HttpRegistry(server.base_url, token))
    index = httpx.get(f"{server.base_url}/.well-known/agent-skills/index.json").json()
    entry = index["skills"][0]
    assert {k: entry[k] for k in ("name", "type")} == {"name": "invoice-total", "type": "archive"}
    assert entry["digest"].startswith("sha256:") and entry["description"]
    archive = httpx.get(httpx.URL(f"{server.base_url}/.well-known/agent-skills/index.json").join(entry["url"]))
    assert archive.status_code == 200 and "sha256:" + __import__("hashlib").sha256(archive.content).hexdigest() == entry["digest"]
    assert httpx.head(f"{server.base_url}/skills/invoice-total/versions.json").status_code == 200


def test_the_cli_publishes_pulls_with_a_lock_searches_and_verifies(tmp_path, server, token, skill_dir, monkeypatch):
    monkeypatch.setenv("SKILLC_REGISTRY_TOKEN", token)
    monkeypatch.setenv("SKILLC_TRUST", str(tmp_path / "trust.json"))
    runner = CliRunner()
    url = server.base_url
    assert runner.invoke(app, ["keys", "generate", str(tmp_path / "k" / "me")]).exit_code == 0
    assert runner.invoke(app, ["keys", "trust", str(tmp_path / "k" / "me.pub")]).exit_code == 0
    out = runner.invoke(app, ["publish", str(skill_dir), "--registry", url, "--tag", "prod", "--sign-key", str(tmp_path / "k" / "me.key")])
    assert out.exit_code == 0 and "published invoice-total@0.1.0" in out.stdout, out.output
    again = runner.invoke(app, ["publish", str(skill_dir), "--registry", url])
    assert again.exit_code != 0 and "immutable" in again.stderr
    lock = tmp_path / "skills.lock"
    pulled = runner.invoke(app, ["pull", "invoice-total:prod", "--registry", url, "--out", str(tmp_path / "skills"),
                                 "--lock", str(lock), "--require-signed"])
    assert pulled.exit_code == 0 and "signed by" in pulled.stdout, pulled.output
    assert json.loads(lock.read_text())["skills"]["invoice-total"]["version"] == "0.1.0"
    assert runner.invoke(app, ["verify", str(tmp_path / "skills" / "invoice-total"), "--require-signed"]).exit_code == 0
    assert "invoice-total" in runner.invoke(app, ["search", "invoice", "--registry", url]).stdout
    assert "prod" in runner.invoke(app, ["versions", "invoice-total", "--registry", url]).stdout
    # a new version exists, but the lock pins 0.1.0: pulling latest is refused
    runner.invoke(app, ["publish", str(skill_dir), "--registry", url, "--version", "0.2.0"])
    refused = runner.invoke(app, ["pull", "invoice-total", "--registry", url, "--out", str(tmp_path / "skills"), "--lock", str(lock)])
    assert refused.exit_code == 5 and "pins invoice-total@0.1.0" in refused.stderr
