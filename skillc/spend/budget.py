"""One run's budget: teacher calls and USD per run, and (with a ledger) USD per day for the skill.

Every escalation asks `reserve` first with an upper bound of its cost (its prompt's tokens and its reply's token
cap at the teacher's price); a refused reservation raises `BudgetExceeded`, which the step takes as its give-up
edge. After the call, `settle` records what it really cost.

Example:
    >>> budget = RunBudget(max_teacher_calls_per_run=2, max_usd_per_run=0.05)
    >>> budget.reserve("extract", 0.03).settle(0.02)
    >>> budget.reserve("extract", 0.04)
    Traceback (most recent call last):
    ...
    skillc.core.errors.BudgetExceeded: budget max_usd_per_run exceeded: 0.02 spent of 0.05, the escalation needs 0.04 more
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from skillc.core.errors import BudgetExceeded
from skillc.spend.ledger import Ledger


@dataclass
class Reservation:
    """A reserved escalation; `settle(usd)` once the call returned (or failed: settle what it cost)."""

    budget: RunBudget
    step: str | None
    reserved: float
    row: int | None = None
    settled: bool = False

    def settle(self, usd: float) -> None:
        if self.settled:
            return
        self.settled = True
        self.budget._settle(self, usd)


@dataclass
class RunBudget:
    """Limits for one run (None: no limit). `ledger` + `skill` + `max_usd_per_day` add the shared daily limit."""

    max_teacher_calls_per_run: int | None = None
    max_usd_per_run: float | None = None
    max_usd_per_day: float | None = None
    ledger: Ledger | None = None
    skill: str = "skill"
    teacher_calls: int = 0
    usd: float = 0.0  # settled plus reserved, this run
    refused: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def from_limits(cls, limits: dict[str, Any] | None, *, ledger: Ledger | None = None, skill: str = "skill") -> RunBudget:
        limits = limits or {}
        return cls(limits.get("max_teacher_calls_per_run"), limits.get("max_usd_per_run"),
                   limits.get("max_usd_per_day"), ledger, skill)

    def reserve(self, step: str | None, usd: float) -> Reservation:
        """Reserve one teacher call bounded by `usd`, or raise `BudgetExceeded` naming the limit it would break."""
        with self._lock:
            try:
                if self.max_teacher_calls_per_run is not None and self.teacher_calls + 1 > self.max_teacher_calls_per_run:
                    raise BudgetExceeded("max_teacher_calls_per_run", limit=self.max_teacher_calls_per_run,
                                         spent=self.teacher_calls, needed=1, step=step)
                if self.max_usd_per_run is not None and self.usd + usd > self.max_usd_per_run + 1e-12:
                    raise BudgetExceeded("max_usd_per_run", limit=self.max_usd_per_run, spent=round(self.usd, 9),
                                         needed=usd, step=step)
                row = None
                if self.ledger is not None and self.max_usd_per_day is not None:
                    row = self.ledger.reserve(self.skill, usd, max_usd_per_day=self.max_usd_per_day, step=step)
            except BudgetExceeded as exc:
                self.refused.append(exc.budget)
                raise
            self.teacher_calls += 1
            self.usd += usd
            return Reservation(self, step, usd, row)

    def _settle(self, reservation: Reservation, usd: float) -> None:
        with self._lock:
            self.usd += usd - reservation.reserved
        if reservation.row is not None and self.ledger is not None:
            self.ledger.settle(reservation.row, usd)
