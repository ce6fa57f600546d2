"""The daily ledger: reservations against one SQLite file, from one process or four at once."""

from __future__ import annotations

import multiprocessing
import sqlite3
from pathlib import Path

import pytest

from skillc.core.errors import BudgetExceeded, InvalidInputError, SkillGaveUp
from skillc.spend import Ledger, RunBudget


def test_a_reservation_past_the_daily_limit_is_refused_and_records_nothing(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "spend.sqlite")
    ledger.reserve("s", 0.04, max_usd_per_day=0.05)
    with pytest.raises(BudgetExceeded) as refused:
        ledger.reserve("s", 0.02, max_usd_per_day=0.05, step="answer")
    assert isinstance(refused.value, SkillGaveUp) and refused.value.budget == "max_usd_per_day"
    assert refused.value.step == "answer" and "0.04 spent of 0.05" in str(refused.value)
    assert ledger.spent_today("s") == pytest.approx(0.04)
    ledger.reserve("other-skill", 0.05, max_usd_per_day=0.05)  # a budget is per skill
    ledger.reserve("s", 0.02, max_usd_per_day=0.05, day="2026-01-02")  # and per day


def test_settling_records_what_the_call_cost_and_survives_a_new_process(tmp_path: Path) -> None:
    row = Ledger(tmp_path / "spend.sqlite").reserve("s", 0.05, max_usd_per_day=1.0)
    Ledger(tmp_path / "spend.sqlite").settle(row, 0.01)
    days = Ledger(tmp_path / "spend.sqlite").days("s")
    assert days == [{"day": days[0]["day"], "escalations": 1, "usd": 0.01, "unsettled": 0}]


def test_a_file_that_is_not_a_ledger_gets_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "spend.sqlite").write_text("not a database, just text that is long enough to have a header" * 4)
    with pytest.raises(InvalidInputError, match="not a usable spend ledger"):
        Ledger(tmp_path / "spend.sqlite")


def _spend(path: str, tries: int, queue: multiprocessing.Queue) -> None:
    budget = RunBudget(max_usd_per_day=0.25, ledger=Ledger(path), skill="shared")
    won = 0
    for _ in range(tries):
        try:
            budget.reserve("answer", 0.01).settle(0.01)
            won += 1
        except BudgetExceeded:
            pass
    queue.put(won)


def test_four_processes_sharing_one_ledger_never_overspend_the_day_between_them(tmp_path: Path) -> None:
    path = str(tmp_path / "spend.sqlite")
    Ledger(path)
    queue: multiprocessing.Queue = multiprocessing.Queue()
    workers = [multiprocessing.Process(target=_spend, args=(path, 15, queue)) for _ in range(4)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(60)
    won = [queue.get(timeout=5) for _ in workers]
    assert sum(won) == 25  # 60 attempts at 0.01 against 0.25: exactly 25 pass, whoever asked
    total = sqlite3.connect(path).execute("SELECT SUM(usd), COUNT(*) FROM spend").fetchone()
    assert total[0] == pytest.approx(0.25) and total[1] == 25


def test_the_run_limits_count_calls_and_usd_and_name_the_one_broken() -> None:
    budget = RunBudget(max_teacher_calls_per_run=3)
    for _ in range(3):
        budget.reserve("answer", 0.5).settle(0.1)
    with pytest.raises(BudgetExceeded, match="max_teacher_calls_per_run"):
        budget.reserve("answer", 0.0)
    assert budget.teacher_calls == 3 and budget.usd == pytest.approx(0.3) and budget.refused == ["max_teacher_calls_per_run"]
    money = RunBudget(max_usd_per_run=0.1)
    held = money.reserve("a", 0.08)  # a reservation holds its bound until settled
    with pytest.raises(BudgetExceeded, match="max_usd_per_run"):
        money.reserve("b", 0.05)
    held.settle(0.02)
    money.reserve("b", 0.05)
