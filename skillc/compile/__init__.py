"""The teacher side: the architect designs a skill, repairs it, works the samples, or compiles from logs.

`compile_skill(task, teacher=...)` is the entry point; `read_logs` / `LogColumns` read recorded teacher
calls for `compile_skill(..., logs=...)`.
"""

from skillc.compile.compiler import bank_from_logs, compile_skill
from skillc.compile.logs import LogColumns, log_step, read_logs

__all__ = ["LogColumns", "bank_from_logs", "compile_skill", "log_step", "read_logs"]
