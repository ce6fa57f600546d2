"""The registry server: the static layout for anonymous reads, token-guarded publishing, and the pages.

`skillc registry serve --root DIR|s3://BUCKET/PREFIX [--host 127.0.0.1] [--port N] [--token-file F]`. Reads (GET, HEAD) need no
token. `PUT /api/skills/NAME/VERSION` (the archive as the body, `?tag=` to move tags, the signature in
`x-skillc-signature`, the archive's sha256 in `x-skillc-archive-sha256`) and
`PUT /api/skills/NAME/tags/TAG` and `PUT /api/skills/NAME/VERSION/yank` (`{"reason": …}`) need
`Authorization: Bearer TOKEN`: 401 without, 403 with a wrong one. The
token file holds only `sha256:<hex>` hashes of the tokens (`skillc registry token` makes one), compared in
constant time. Uploads are capped in size; archives in file count and unpacked size.

Example:
    >>> import tempfile, pathlib
    >>> from starlette.testclient import TestClient
    >>> client = TestClient(create_app(pathlib.Path(tempfile.mkdtemp()), token_hashes=[]))
    >>> client.get("/.well-known/agent-skills/index.json").json()["skills"]
    []
    >>> client.put("/api/skills/demo/1.0.0", content=b"x").status_code
    401
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response

from skillc.core.errors import SkillcError, SkillFolderError
from skillc.core.files import read_json
from skillc.registry.archive import sha256_hex
from skillc.registry.layout import (
    ARCHIVE,
    INDEX_PATH,
    MANIFEST,
    PAGE_FILES,
    SIGNATURE,
    VERSIONS,
    RegistryError,
    RegistryStore,
    check_name,
    check_version,
)
from skillc.registry.page import index_page, skill_page

MAX_UPLOAD_BYTES = 64 * 2**20
SERVED_FILES = frozenset({ARCHIVE, MANIFEST, SIGNATURE, *PAGE_FILES})
TYPES = {".json": "application/json", ".gz": "application/gzip", ".png": "image/png", ".md": "text/markdown; charset=utf-8",
         ".sig": "application/json"}


def hash_token(token: str) -> str:
    return "sha256:" + hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token(token_file: Path) -> str:
    """Make a publish token, append its hash to the server's token file, and return the token (shown once)."""
    token = "skc_" + secrets.token_urlsafe(32)
    token_file.parent.mkdir(parents=True, exist_ok=True)
    with open(token_file, "a", encoding="utf-8") as fh:
        fh.write(hash_token(token) + "\n")
    token_file.chmod(0o600)
    return token


def read_token_hashes(token_file: Path | None) -> list[str]:
    if token_file is None:
        return []
    try:
        lines = [line.strip() for line in token_file.read_text(encoding="utf-8").splitlines() if line.strip()]
    except OSError as exc:
        raise RegistryError(f"cannot read the token file {token_file}: {exc}") from None
    bad = [line for line in lines if not (line.startswith("sha256:") and len(line) == 71)]
    if bad:
        raise RegistryError(f"{token_file}: holds something other than sha256:<hex> token hashes; "
                            "store hashes, not tokens (skillc registry token --token-file F)")
    return lines


def create_app(root: Path | str, *, token_hashes: list[str], max_upload_bytes: int = MAX_UPLOAD_BYTES) -> FastAPI:
    store = RegistryStore(root)
    app = FastAPI(title="skillc registry", docs_url=None, redoc_url=None, openapi_url=None)

    @app.exception_handler(SkillcError)
    def _skillc_error(request: Request, exc: SkillcError) -> JSONResponse:
        status = getattr(exc, "status", 400 if isinstance(exc, SkillFolderError) else 500)
        return JSONResponse({"detail": str(exc)}, status_code=status)

    def authorize(request: Request) -> JSONResponse | None:
        header = request.headers.get("authorization", "")
        if not header.startswith("Bearer ") or not header[7:].strip():
            return JSONResponse({"detail": "publishing needs a token: Authorization: Bearer TOKEN"}, status_code=401,
                                headers={"www-authenticate": "Bearer"})
        presented = hash_token(header[7:].strip())
        if not any(hmac.compare_digest(presented, known) for known in token_hashes):
            return JSONResponse({"detail": "this token may not publish here"}, status_code=403)
        return None

    def stored(relative: str, request: Request) -> Response:
        media = TYPES.get(Path(relative).suffix, "application/octet-stream")
        path = store.path_of(relative) if relative.endswith(ARCHIVE) else None
        if path is not None:  # immutable and large: streamed from disk, not read into memory
            return FileResponse(path, media_type=media, headers={"cache-control": "public, max-age=31536000, immutable"})
        data = store.read(relative)
        headers = {"etag": '"' + sha256_hex(data)[:32] + '"', "cache-control": "no-cache" if relative.endswith((VERSIONS, "index.json")) else "public, max-age=31536000, immutable"}
        if request.method == "HEAD":
            return Response(status_code=200, media_type=media, headers={**headers, "content-length": str(len(data))})
        return Response(data, media_type=media, headers=headers)

    @app.api_route("/", methods=["GET", "HEAD"], response_class=HTMLResponse)
    def home() -> HTMLResponse:
        return HTMLResponse(index_page(store))

    @app.api_route("/skill/{name}", methods=["GET", "HEAD"], response_class=HTMLResponse)
    def page(name: str) -> HTMLResponse:
        return HTMLResponse(skill_page(store, check_name(name)))

    @app.api_route("/.well-known/agent-skills/index.json", methods=["GET", "HEAD"])
    def discovery(request: Request) -> Response:
        if store.storage.get(INDEX_PATH) is None:
            return JSONResponse(store.index())
        return stored(INDEX_PATH, request)

    @app.api_route("/skills/{name}/versions.json", methods=["GET", "HEAD"])
    def versions(name: str, request: Request) -> Response:
        store.versions(name)  # 404 with a clear message
        return stored(f"skills/{check_name(name)}/{VERSIONS}", request)

    @app.api_route("/skills/{name}/{version}/{file}", methods=["GET", "HEAD"])
    def version_file(name: str, version: str, file: str, request: Request) -> Response:
        if file not in SERVED_FILES:
            return JSONResponse({"detail": f"{file}: not a registry file"}, status_code=404)
        if version not in store.versions(name).get("versions", {}):  # debris of a killed publish is never served
            return JSONResponse({"detail": f"{name}: no version {version!r}"}, status_code=404)
        return stored(f"skills/{check_name(name)}/{check_version(version)}/{file}", request)

    @app.get("/api/search")
    def search(q: str = "") -> JSONResponse:
        return JSONResponse({"skills": store.search(q)})

    @app.put("/api/skills/{name}/{version}")
    async def publish(name: str, version: str, request: Request) -> JSONResponse:
        denied = authorize(request)
        if denied is not None:
            return denied
        declared = request.headers.get("content-length")
        if declared is not None and int(declared) > max_upload_bytes:
            return JSONResponse({"detail": f"the archive is larger than {max_upload_bytes >> 20} MB"}, status_code=413)
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > max_upload_bytes:
                return JSONResponse({"detail": f"the archive is larger than {max_upload_bytes >> 20} MB"}, status_code=413)
        expected = request.headers.get("x-skillc-archive-sha256")
        if expected and expected.removeprefix("sha256:") != sha256_hex(bytes(body)):
            return JSONResponse({"detail": "the upload does not match its x-skillc-archive-sha256: it was cut short or changed"},
                                status_code=400)
        signature = _signature_header(request)
        tags = request.query_params.getlist("tag")
        info = await _in_thread(store.publish, bytes(body), name=name, version=version, signature=signature, tags=tags)
        return JSONResponse({"name": info.name, "version": {k: v for k, v in info.as_dict().items()}}, status_code=201)

    @app.put("/api/skills/{name}/tags/{tag}")
    async def tag(name: str, tag: str, request: Request) -> JSONResponse:
        denied = authorize(request)
        if denied is not None:
            return denied
        version = await _string_field(request, "version", "1.2.0")
        if isinstance(version, JSONResponse):
            return version
        store.set_tag(name, tag, version)
        return JSONResponse({"name": name, "tag": tag, "version": version})

    @app.put("/api/skills/{name}/{version}/yank")
    async def yank(name: str, version: str, request: Request) -> JSONResponse:
        denied = authorize(request)
        if denied is not None:
            return denied
        reason = await _string_field(request, "reason", "why it was yanked")
        if isinstance(reason, JSONResponse):
            return reason
        await _in_thread(store.yank, check_name(name), check_version(version), reason)
        return JSONResponse({"name": name, "version": version, "yanked": reason})

    return app


async def _string_field(request: Request, field: str, example: str) -> str | JSONResponse:
    """The one string field of a JSON request body, or the 400 that says what was expected."""
    payload = read_json(await request.body(), "request body", RegistryError)
    value = payload.get(field) if isinstance(payload, dict) else None
    if not isinstance(value, str):
        return JSONResponse({"detail": f'expected {{"{field}": "{example}"}}'}, status_code=400)
    return value


def _signature_header(request: Request) -> dict[str, Any] | None:
    raw = request.headers.get("x-skillc-signature")
    if not raw:
        return None
    from skillc.registry.signing import read_signature

    return read_signature(raw.encode("utf-8"), "x-skillc-signature")


async def _in_thread(func: Any, *args: Any, **kwargs: Any) -> Any:
    from starlette.concurrency import run_in_threadpool

    return await run_in_threadpool(func, *args, **kwargs)


class RegistryServer:
    """The server on a background thread (tests, notebooks, benchmarks); `port=0` picks a free port.

    Args:
        root: the registry directory, or `s3://BUCKET/PREFIX`.
        host: bind address (127.0.0.1 unless told otherwise).
        token_file: the file of token hashes that may publish.
    """

    def __init__(self, root: Path | str, *, host: str = "127.0.0.1", port: int = 0, token_file: Path | None = None,
                 max_upload_bytes: int = MAX_UPLOAD_BYTES) -> None:
        import uvicorn

        app = create_app(root, token_hashes=read_token_hashes(token_file), max_upload_bytes=max_upload_bytes)
        self.server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="off"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def base_url(self) -> str:
        sock = self.server.servers[0].sockets[0]
        host, port = sock.getsockname()[:2]
        return f"http://{host}:{port}"

    def start(self, timeout: float = 30) -> RegistryServer:
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RegistryError("the registry server did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)

    def __enter__(self) -> RegistryServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


__all__ = ["RegistryServer", "create_app", "hash_token", "new_token"]
