"""llama.cpp's OpenAI-compatible server as a managed subprocess on 127.0.0.1.

The server binds to 127.0.0.1 on a free port, serves one or several models under aliases from one
config file, and is healthy once `/v1/models` answers. Its log goes to the cache dir; if it cannot start,
the error carries the log's last lines. It stops at interpreter exit, and the kernel stops it if the
parent process dies (`PR_SET_PDEATHSIG`).

Example:
    >>> from skillc.adapters.local.weights import MODELS
    >>> server = LocalServer([MODELS["tiny"]])
    >>> server.host, server.running
    ('127.0.0.1', False)
"""

from __future__ import annotations

import atexit
import ctypes
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from importlib.util import find_spec
from pathlib import Path

import httpx

from skillc.adapters.local.weights import LocalModel, cache_dir, ensure_weights
from skillc.core.errors import BackendUnavailable

BUILD_HINT = (
    'install it without native CPU tuning (the native build crashes on CPUs with AMX): CMAKE_ARGS="-DGGML_NATIVE=OFF '
    '-DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON" pip install "llama-cpp-python[server]==0.3.36"'
    " (or run `make demo`)"
)


class ServerStartError(BackendUnavailable):
    """The local server could not start; the message ends with its last log lines."""


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def _die_with_parent() -> None:  # runs in the child between fork and exec
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG: nothing to save, and a busy server ignores SIGTERM
    except OSError:  # pragma: no cover - not Linux
        pass


PROMPT_CACHE_BYTES = 64 << 20  # the RAM cache's own count (KV state only); each entry really holds ~10x that


def prompt_cache_default() -> bool:
    """Whether local servers keep a RAM prompt cache: no, unless `SKILLC_LOCAL_PROMPT_CACHE` is 1, true or on.

    >>> prompt_cache_default() if "SKILLC_LOCAL_PROMPT_CACHE" not in os.environ else False
    False
    """
    return os.environ.get("SKILLC_LOCAL_PROMPT_CACHE", "0").strip().lower() in ("1", "true", "on", "yes")


def default_threads(cores: int | None = None) -> int:
    """llama.cpp threads: `SKILLC_LOCAL_THREADS` when set, else every core. On a machine shared with CPU-bound work,
    set it to the idle cores: beside one CPU-bound process on 2 cores, 2 spin-waiting threads kept 30% of their quiet
    speed and 1 thread 91% (BENCHMARKS.md, "Local runtime").

    >>> default_threads(cores=2) if not os.environ.get("SKILLC_LOCAL_THREADS") else 2
    2
    """
    given = os.environ.get("SKILLC_LOCAL_THREADS", "")
    if given.isdigit() and int(given) > 0:
        return int(given)
    return cores or os.cpu_count() or 2


class LocalServer:
    """One llama.cpp server process serving `models` under their aliases.

    Args:
        models: the models to serve (the first is loaded at start; llama.cpp swaps the others in on demand).
        host: bind address (127.0.0.1 unless told otherwise).
        port: a fixed port, or None for a free one.
        threads: CPU threads per model (default: `default_threads()`: `SKILLC_LOCAL_THREADS`, else all cores).
        startup_timeout: seconds to wait for health.
        logprobs: keep the logits of every position (llama.cpp's `logits_all`), which token logprobs need;
            it costs n_ctx x vocabulary floats of memory (about 2.5 GB for the embedded models).
        prompt_cache: also keep evaluated prompt states in RAM (llama-cpp-python's `cache`), so a request whose
            prompt starts like an earlier one evaluates only the rest even when other prompts came in between.
            Without it the server still reuses the prefix it shares with the request just before (a step's
            instruction and contract come first, so consecutive inputs of one step share it). Default: off,
            unless `SKILLC_LOCAL_PROMPT_CACHE=1`: each cached state also holds a copy of the logits buffer,
            which the cache does not count against its size, so a long run grew one 0.5B server to 14.5 GB
            before the kernel killed it (BENCHMARKS.md, "Prompt prefix and cache").
    """

    def __init__(
        self,
        models: list[LocalModel],
        *,
        host: str = "127.0.0.1",
        port: int | None = None,
        threads: int | None = None,
        startup_timeout: float = 180.0,
        logprobs: bool = False,
        prompt_cache: bool | None = None,
    ) -> None:
        self.models = models
        self.logprobs = logprobs
        self.prompt_cache = prompt_cache_default() if prompt_cache is None else prompt_cache
        self.host = host
        self.port = port
        self.threads = threads or default_threads()
        self.startup_timeout = startup_timeout
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path: Path | None = None

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    def config(self, paths: list[Path]) -> dict[str, object]:
        """The llama_cpp.server config file content."""
        return {
            "host": self.host,
            "port": self.port,
            "interrupt_requests": False,
            "models": [
                {
                    "model": str(path),
                    "model_alias": model.alias,
                    "n_ctx": model.n_ctx,
                    "n_threads": self.threads,
                    "n_threads_batch": self.threads,
                    "logits_all": self.logprobs,
                    "cache": self.prompt_cache,
                    "cache_type": "ram",
                    "cache_size": PROMPT_CACHE_BYTES,
                    "verbose": False,
                }
                for model, path in zip(self.models, paths, strict=True)
            ],
        }

    def start(self) -> LocalServer:
        """Verify weights, start the process, wait for health; raise `ServerStartError` with log lines."""
        if self.running:
            return self
        if find_spec("llama_cpp") is None or find_spec("llama_cpp.server") is None:
            raise ServerStartError(f"llama-cpp-python with its server extra is not installed; {BUILD_HINT}")
        paths = [ensure_weights(m) for m in self.models]
        if self.port is None:
            self.port = free_port(self.host)
        elif not port_is_free(self.port, self.host):
            raise ServerStartError(f"port {self.port} on {self.host} is already in use; pick another with --port")
        logs = cache_dir() / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        aliases = ("-".join(m.alias for m in self.models) + ("-logprobs" if self.logprobs else "")
                   + ("-cache" if self.prompt_cache else ""))
        self.log_path = logs / f"server-{aliases}-{self.port}.log"
        config_path = logs / f"server-{aliases}-{self.port}.json"
        config_path.write_text(json.dumps(self.config(paths), indent=2))
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "llama_cpp.server", "--config_file", str(config_path)],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                preexec_fn=_die_with_parent,
            )
        _LIVE.add(self)
        self._wait_healthy()
        return self

    def _wait_healthy(self) -> None:
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                code = self.process.returncode
                self.stop()
                raise ServerStartError(f"the llama.cpp server exited with code {code} while starting; {self._tail()}")
            try:
                if httpx.get(f"{self.base_url}/models", timeout=2.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.25)
        self.stop()
        raise ServerStartError(f"the llama.cpp server was not healthy after {self.startup_timeout:.0f}s; {self._tail()}")

    def _tail(self, lines: int = 12) -> str:
        if self.log_path is None or not self.log_path.exists():
            return "no log"
        text = self.log_path.read_text(errors="replace").strip().splitlines()[-lines:]
        return f"last log lines ({self.log_path}):\n" + "\n".join(text)

    def stop(self, grace: float = 3.0) -> None:
        """Terminate the process: SIGTERM, then SIGKILL after `grace` seconds (a generation still in
        flight has no reader left, and uvicorn would wait for it)."""
        proc, self.process = self.process, None
        _LIVE.discard(self)
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)

    def __enter__(self) -> LocalServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


_LIVE: set[LocalServer] = set()
_POOL: dict[str, LocalServer] = {}
_LOCK = threading.Lock()


def shared_server(model: LocalModel, *, logprobs: bool = False) -> LocalServer:
    """The process-wide server for one model, started on first use and reused after.

    One server per model keeps teacher and student both loaded: llama.cpp's multi-model server holds
    one model at a time and reloads on every switch. A server with `logprobs` is a separate one.
    """
    key = model.alias + ("?logprobs" if logprobs else "")
    with _LOCK:
        server = _POOL.get(key)
        if server is None or not server.running:
            server = LocalServer([model], logprobs=logprobs).start()
            _POOL[key] = server
        return server


def stop_all() -> None:
    """Stop every server this process started."""
    for server in list(_LIVE):
        server.stop()
    _POOL.clear()


atexit.register(stop_all)
