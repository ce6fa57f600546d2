"""What a skill may spend on the teacher: per-run limits and a durable daily ledger shared by processes.

Example:
    >>> from skillc.spend import RunBudget
    >>> budget = RunBudget(max_teacher_calls_per_run=1)
    >>> budget.reserve("answer", 0.01).settle(0.004)
    >>> budget.teacher_calls, round(budget.usd, 3)
    (1, 0.004)
"""

from skillc.spend.budget import RunBudget
from skillc.spend.ledger import Ledger

__all__ = ["Ledger", "RunBudget"]
