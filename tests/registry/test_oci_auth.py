"""The registry auth flow against a scripted registry: Basic and Bearer challenges, tokens per scope, clear refusals."""

from __future__ import annotations

import base64
import json

import httpx
import pytest

from skillc.registry.oci_auth import (
    OciAuthError,
    RegistryAuth,
    docker_credentials,
    parse_challenge,
)

BASIC = "Basic " + base64.b64encode(b"team:pw").decode()


def bearer_registry(seen: list[httpx.Request]) -> httpx.MockTransport:
    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path == "/token":
            if request.headers.get("authorization") != BASIC:
                return httpx.Response(401)
            return httpx.Response(200, json={"token": f"tok-{request.url.params['scope']}"})
        scope = f"repository:{request.url.path.split('/')[2]}/x:pull"
        if request.headers.get("authorization") == f"Bearer tok-{scope}":
            return httpx.Response(200, json={"ok": True})
        return httpx.Response(401, headers={"www-authenticate": f'Bearer realm="http://reg.test/token",service="reg",scope="{scope}"'})
    return httpx.MockTransport(handle)


@pytest.fixture
def docker_login(tmp_path, monkeypatch):
    (tmp_path / "config.json").write_text(json.dumps({"auths": {"reg.test": {"auth": base64.b64encode(b"team:pw").decode()}}}))
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    monkeypatch.delenv("SKILLC_OCI_USERNAME", raising=False)


def test_a_bearer_challenge_is_answered_with_a_token_from_the_realm_once_per_scope(docker_login) -> None:
    seen: list[httpx.Request] = []
    client = httpx.Client(base_url="http://reg.test", auth=RegistryAuth("reg.test"), transport=bearer_registry(seen))
    assert client.get("/v2/a/x/manifests/1").status_code == 200
    assert client.get("/v2/a/x/manifests/2").status_code == 200
    assert [r.url.path for r in seen].count("/token") == 1
    assert client.get("/v2/b/x/manifests/1").status_code == 200  # another repository: another scope, another token
    assert [r.url.path for r in seen].count("/token") == 2


def test_a_basic_challenge_without_credentials_says_how_to_log_in(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    transport = httpx.MockTransport(lambda r: httpx.Response(401, headers={"www-authenticate": 'Basic realm="r"'}))
    client = httpx.Client(base_url="http://reg.test", auth=RegistryAuth("reg.test"), transport=transport)
    with pytest.raises(OciAuthError, match="docker login reg.test"):
        client.get("/v2/")


def test_a_refused_token_is_an_error_not_a_loop() -> None:
    transport = httpx.MockTransport(lambda r: httpx.Response(401, headers={"www-authenticate": 'Bearer realm="x"'}))
    client = httpx.Client(base_url="http://reg.test", auth=RegistryAuth("reg.test", token="bad"), transport=transport)
    with pytest.raises(OciAuthError, match="refused the token"):
        client.get("/v2/")


def test_credentials_come_from_the_environment_first(docker_login, monkeypatch) -> None:
    monkeypatch.setenv("SKILLC_OCI_USERNAME", "ci")
    monkeypatch.setenv("SKILLC_OCI_PASSWORD", "pw2")
    assert docker_credentials("reg.test") == ("ci", "pw2")
    assert parse_challenge('Basic realm="x"') == ("basic", {"realm": "x"})
