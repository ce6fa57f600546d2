"""What every command shares: the consoles (stdout for results, stderr for progress and errors), the exit
codes, turning a skillc error into one line and its exit code, and clean stops on Ctrl-C or SIGTERM.

Example:
    >>> make_console().width >= 80
    True
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import typer
from rich.console import Console

from skillc.core.errors import SkillcError

EXIT_CODES = (
    "Exit codes: 0 ok, 1 unexpected error, 2 invalid input, 3 the skill gave up, "
    "4 model backend down, 5 invalid or tampered skill folder, 6 teacher could not compile, "
    "7 quality regression (eval --baseline)."
)
PIPED_WIDTH = 140  # rich falls back to 80 columns off a terminal, which folds every table


def make_console(stderr: bool = False) -> Console:
    """A rich console; piped into a file or `tee` (and no COLUMNS set) it keeps tables PIPED_WIDTH wide."""
    stream = sys.stderr if stderr else sys.stdout
    piped = not stream.isatty() and "COLUMNS" not in os.environ
    return Console(stderr=stderr, width=PIPED_WIDTH if piped else None)


console = make_console()
err = make_console(stderr=True)

@contextmanager
def errors_exit() -> Iterator[None]:
    """Turn skillc errors into one line on stderr and their exit code."""
    try:
        yield
    except SkillcError as exc:
        err.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(exc.exit_code) from None


def stop_on_signals() -> None:
    """Ctrl-C (SIGINT) and SIGTERM stop a foreground command cleanly, also when it was started in the
    background (`cmd &`, nohup, CI launchers start it with SIGINT ignored, and Python keeps it ignored)."""
    import signal

    def stop(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
