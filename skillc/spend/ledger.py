"""A daily spend ledger in SQLite: each escalation reserves its bound before the call and settles after it.

Several processes may share one file: a reservation checks the day's total and writes its row inside one
`BEGIN IMMEDIATE` transaction (SQLite's write lock), so two processes can never both pass the same remaining
budget. A reservation that is never settled (the process died mid-call) keeps its reserved bound: the ledger
errs on the side of spending less.

Example:
    >>> import tempfile, pathlib
    >>> ledger = Ledger(pathlib.Path(tempfile.mkdtemp()) / "spend.sqlite")
    >>> row = ledger.reserve("invoice-total", 0.02, max_usd_per_day=0.05, step="extract")
    >>> ledger.settle(row, 0.01)
    >>> ledger.spent_today("invoice-total")
    0.01
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from skillc.core.errors import BudgetExceeded, InvalidInputError

SCHEMA = """
CREATE TABLE IF NOT EXISTS spend (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    day TEXT NOT NULL,          -- UTC date, YYYY-MM-DD
    skill TEXT NOT NULL,
    step TEXT,
    usd REAL NOT NULL,          -- the reserved bound until settled, then what the call cost
    settled INTEGER NOT NULL DEFAULT 0,
    at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS spend_day_skill ON spend (day, skill);
"""
BUSY_TIMEOUT_S = 30.0


def default_ledger_path() -> Path:
    """`$SKILLC_LEDGER`, else `~/.skillc/ledger.sqlite`: where a daily budget is kept unless a run names a file."""
    return Path(os.environ.get("SKILLC_LEDGER") or Path.home() / ".skillc" / "ledger.sqlite")


def today() -> str:
    """The ledger's day: the UTC date (a day's budget resets at 00:00 UTC)."""
    return dt.datetime.now(dt.timezone.utc).date().isoformat()


class Ledger:
    """The durable daily ledger at `path` (created on first use)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self._connect() as db:
                db.executescript(SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise InvalidInputError(f"{self.path}: not a usable spend ledger ({exc})") from None

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            yield db
        finally:
            db.close()

    def reserve(self, skill: str, usd: float, *, max_usd_per_day: float | None, step: str | None = None,
                day: str | None = None) -> int:
        """Record `usd` against today's budget, or raise `BudgetExceeded` and record nothing; returns the row id."""
        day = day or today()
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                spent = db.execute("SELECT COALESCE(SUM(usd), 0) FROM spend WHERE day = ? AND skill = ?",
                                   (day, skill)).fetchone()[0]
                if max_usd_per_day is not None and spent + usd > max_usd_per_day + 1e-12:
                    raise BudgetExceeded("max_usd_per_day", limit=max_usd_per_day, spent=round(spent, 9),
                                         needed=usd, step=step)
                row = db.execute("INSERT INTO spend (day, skill, step, usd, at) VALUES (?, ?, ?, ?, ?)",
                                 (day, skill, step, usd, time.time())).lastrowid
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        assert row is not None
        return row

    def settle(self, row: int, usd: float) -> None:
        """Replace a reservation's bound by what the call cost (recorded as it was, even above the bound)."""
        with self._connect() as db:
            db.execute("UPDATE spend SET usd = ?, settled = 1 WHERE id = ?", (max(usd, 0.0), row))

    def spent_today(self, skill: str, day: str | None = None) -> float:
        with self._connect() as db:
            return float(db.execute("SELECT COALESCE(SUM(usd), 0) FROM spend WHERE day = ? AND skill = ?",
                                    (day or today(), skill)).fetchone()[0])

    def days(self, skill: str) -> list[dict[str, Any]]:
        """Per day: escalations, USD spent (settled plus still reserved), and how many are unsettled."""
        with self._connect() as db:
            rows = db.execute("SELECT day, COUNT(*), SUM(usd), SUM(1 - settled) FROM spend WHERE skill = ? "
                              "GROUP BY day ORDER BY day", (skill,)).fetchall()
        return [{"day": d, "escalations": n, "usd": round(float(u), 9), "unsettled": int(o)} for d, n, u, o in rows]
