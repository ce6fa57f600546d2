"""Credentials for an OCI registry, the way `docker login` leaves them, answering the registry's challenge.

A request goes out anonymously first. On a 401 the registry's `WWW-Authenticate` challenge says what it wants:
- `Basic realm=…`: the request is sent again with the user and password of the registry's host;
- `Bearer realm=…,service=…,scope=…`: a token is asked of the realm (with those credentials when there are
  any, anonymously otherwise) and the request is sent again with it; tokens are kept per scope.

Credentials come from, in order: a token given to skillc (`--token-file`, `SKILLC_REGISTRY_TOKEN`), which is sent
as `Authorization: Bearer TOKEN` from the first request on; `SKILLC_OCI_USERNAME` and `SKILLC_OCI_PASSWORD`; the
`auths` entry for the host in `$DOCKER_CONFIG/config.json` (default `~/.docker/config.json`). Credential helpers
(`credsStore`) are not run: a skill pull executes nothing.

Example:
    >>> parse_challenge('Bearer realm="https://auth.example/token",service="reg",scope="repository:a/b:pull"')
    ('bearer', {'realm': 'https://auth.example/token', 'service': 'reg', 'scope': 'repository:a/b:pull'})
"""

from __future__ import annotations

import base64
import json
import os
import re
from collections.abc import Generator
from pathlib import Path

import httpx

from skillc.core.errors import SkillcError

USERNAME_ENV, PASSWORD_ENV = "SKILLC_OCI_USERNAME", "SKILLC_OCI_PASSWORD"
_PARAM = re.compile(r'(\w+)="([^"]*)"')


class OciAuthError(SkillcError):
    """The registry refused the credentials, or asked for some and none were found (exit code 2)."""

    exit_code = 2


def parse_challenge(header: str) -> tuple[str, dict[str, str]]:
    """The scheme (lowercase) and parameters of a `WWW-Authenticate` header."""
    scheme, _, rest = header.strip().partition(" ")
    return scheme.lower(), dict(_PARAM.findall(rest))


def docker_credentials(host: str) -> tuple[str, str] | None:
    """(user, password) for `host` from the environment or the docker config file, if any."""
    if os.environ.get(USERNAME_ENV) and os.environ.get(PASSWORD_ENV):
        return os.environ[USERNAME_ENV], os.environ[PASSWORD_ENV]
    config = Path(os.environ.get("DOCKER_CONFIG") or Path.home() / ".docker") / "config.json"
    try:
        auths = json.loads(config.read_text(encoding="utf-8")).get("auths", {})
    except (OSError, ValueError, AttributeError):
        return None
    for key in (host, f"https://{host}", f"http://{host}", f"https://{host}/v1/", f"https://{host}/v2/"):
        entry = auths.get(key) if isinstance(auths, dict) else None
        if isinstance(entry, dict) and entry.get("auth"):
            try:
                user, _, password = base64.b64decode(entry["auth"]).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                raise OciAuthError(f"{config}: the auths entry for {key} is not base64 user:password") from None
            return user, password
    return None


class RegistryAuth(httpx.Auth):
    """An httpx auth flow for one registry host (see the module docstring).

    Args:
        host: the registry's `HOST[:PORT]`, to find its credentials.
        token: a pre-issued bearer token, sent with every request.
    """

    requires_response_body = True

    def __init__(self, host: str, token: str | None = None) -> None:
        self.host = host
        self.token = token
        self._bearer: dict[str, str] = {}
        self._basic: str | None = None

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if self.token:
            request.headers["authorization"] = f"Bearer {self.token}"
        elif self._basic:
            request.headers["authorization"] = self._basic
        response = yield request
        if response.status_code != 401 or self.token:
            if response.status_code == 401:
                raise OciAuthError(f"{self.host} refused the token given to skillc (401); check SKILLC_REGISTRY_TOKEN or --token-file")
            return
        scheme, params = parse_challenge(response.headers.get("www-authenticate", ""))
        credentials = docker_credentials(self.host)
        if scheme == "basic":
            if credentials is None:
                raise OciAuthError(f"{self.host} asks for a user and password: `docker login {self.host}`, or set "
                                   f"{USERNAME_ENV} and {PASSWORD_ENV}")
            self._basic = "Basic " + base64.b64encode(":".join(credentials).encode()).decode()
            request.headers["authorization"] = self._basic
        elif scheme == "bearer" and params.get("realm"):
            scope = params.get("scope", "")
            if scope not in self._bearer:
                token_request = httpx.Request("GET", params["realm"], params={k: v for k, v in params.items() if k in ("service", "scope")})
                if credentials is not None:
                    token_request.headers["authorization"] = "Basic " + base64.b64encode(":".join(credentials).encode()).decode()
                token_response = yield token_request
                if token_response.status_code != 200:
                    raise OciAuthError(f"{self.host}: its token service {params['realm']} answered {token_response.status_code}"
                                       + ("" if credentials else f"; log in first (`docker login {self.host}`)"))
                try:
                    body = token_response.json()
                    self._bearer[scope] = body.get("token") or body["access_token"]
                except (ValueError, KeyError, AttributeError):
                    raise OciAuthError(f"{self.host}: its token service sent no token") from None
            request.headers["authorization"] = f"Bearer {self._bearer[scope]}"
        else:
            raise OciAuthError(f"{self.host} answered 401 with a challenge skillc cannot answer: {response.headers.get('www-authenticate')!r}")
        retried = yield request
        if retried.status_code == 401:
            raise OciAuthError(f"{self.host} refused the credentials for {request.url.path} (401)")


__all__ = ["OciAuthError", "RegistryAuth", "docker_credentials", "parse_challenge"]
