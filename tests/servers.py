"""Real servers that tests start on 127.0.0.1 and stop afterwards: a process, and a wait for its port."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from skillc.adapters.local.server import free_port

__all__ = ["free_port", "running", "wait_for_port"]


def wait_for_port(port: int, *, process: subprocess.Popen | None = None, timeout_s: float = 30.0) -> None:
    """Return once something accepts connections on 127.0.0.1:`port`; fail if `process` exits or time runs out."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode} before it listened on {port}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listened on 127.0.0.1:{port} within {timeout_s} s")


@contextmanager
def running(command: list[str], port: int, *, log: Path | None = None, timeout_s: float = 30.0,
            env: dict[str, str] | None = None) -> Iterator[subprocess.Popen]:
    """Start `command`, wait for `port`, yield the process, and stop it (SIGTERM, then SIGKILL) on the way out."""
    out = open(log, "wb") if log is not None else subprocess.DEVNULL  # noqa: SIM115 - closed below
    process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
    try:
        try:
            wait_for_port(port, process=process, timeout_s=timeout_s)
        except (RuntimeError, TimeoutError) as exc:
            tail = log.read_text(errors="replace")[-2000:] if log is not None and log.exists() else ""
            raise RuntimeError(f"{command[0]}: {exc}\n{tail}") from None
        yield process
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
        if log is not None:
            out.close()  # type: ignore[union-attr]
