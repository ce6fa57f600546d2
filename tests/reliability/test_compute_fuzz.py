"""`compute` under fuzzing: every expression finishes in < 1 s of CPU and < 256 MB, or is refused with a typed error.

The expressions are built from a fixed seed out of atoms and operators chosen to blow up: long strings and
lists, repetition, nested repetition, concatenation, powers, string formatting, str() of nested values,
sum() of lists, unhashable keys, deep nesting and non-real results. The reproductions of the issue come first.
"""

from __future__ import annotations

import random
import time
import tracemalloc

import pytest

from skillc.core.errors import UnsafeExpressionError
from skillc.core.safe_eval import safe_eval

REPRODUCTIONS = [
    "sum([[1]*10000]*10000, [])",
    "len(str([['a'*10000]*10000]*10000))",
    "'%0999999999d' % 1",
    "(-8) ** (1/3)",
    "{[1]: 2}",
    "{{}: 1}",
    "(" * 300 + "1" + ")" * 300,
    "str([[[1]*100]*100]*100)",
    "max([[1]*9999]*9999)",
    "[[1]*9999]*9999 == [[1]*9999]*9999",
]
ATOMS = ["1", "-8", "0.5", "1e308", "(1/3)", "9999", "10000", "'a'", "'a'*9999", "[1]", "[1]*9999", "[[1]*9999]*9999",
         "[]", "{}", "{'a': [1]*9999}", "x", "y", "True", "None", "pi", "'%d'"]
UNARY = ["str({})", "len({})", "sum({})", "sum({}, [])", "max({})", "min({})", "abs({})", "int({})", "float({})",
         "round({}, 2)", "sqrt({})", "[{}]", "({},)", "-{}", "not {}", "{}[0]", "{}[::-1]", "[{}, {}]"]
BINARY = ["+", "-", "*", "/", "//", "%", "**", "==", "<", "in", "and", "or"]
ENV = {"x": "text " * 2000, "y": [0.5] * 5000}
LIMIT_S, LIMIT_BYTES = 1.0, 256 * 2**20


def expressions(n: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)

    def grow(depth: int) -> str:
        if depth == 0 or rng.random() < 0.25:
            return rng.choice(ATOMS)
        if rng.random() < 0.4:
            template = rng.choice(UNARY)
            return template.format(*[grow(depth - 1) for _ in range(template.count("{}"))])
        return f"({grow(depth - 1)} {rng.choice(BINARY)} {grow(depth - 1)})"

    return REPRODUCTIONS + [grow(rng.randint(1, 5)) for _ in range(n)]


def run_bounded(expression: str) -> tuple[str, float, int]:
    tracemalloc.start()
    started = time.process_time()  # CPU time: other processes on a shared machine do not inflate it
    try:
        safe_eval(expression, ENV, numeric=True)
        outcome = "value"
    except UnsafeExpressionError:
        outcome = "refused"
    finally:
        seconds = time.process_time() - started
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return outcome, seconds, peak


@pytest.mark.parametrize("expression", REPRODUCTIONS)
def test_each_reproduction_is_refused_with_a_typed_error(expression: str) -> None:
    with pytest.raises(UnsafeExpressionError):
        safe_eval(expression, numeric=True)


def test_fuzzed_expressions_finish_fast_and_small_or_are_refused() -> None:
    outcomes = {"value": 0, "refused": 0}
    slowest, biggest = 0.0, 0
    for expression in expressions(2000):
        outcome, seconds, peak = run_bounded(expression)  # any other exception fails the test here
        assert seconds < LIMIT_S, f"{expression!r} took {seconds:.2f}s"
        assert peak < LIMIT_BYTES, f"{expression!r} used {peak / 2**20:.0f} MB"
        outcomes[outcome] += 1
        slowest, biggest = max(slowest, seconds), max(biggest, peak)
    assert outcomes["value"] > 100 and outcomes["refused"] > 100  # the fuzz reaches both sides
    print(f"fuzz: {outcomes}, slowest {slowest:.3f}s, peak {biggest / 2**20:.1f} MB")


def test_compute_results_are_finite_numbers_or_booleans() -> None:
    assert safe_eval("2 * 3", numeric=True) == 6 and safe_eval("1 < 2", numeric=True) is True
    for text in ["'a'", "[1, 2]", "None", "1e308 * 10", "{'a': 1}"]:
        with pytest.raises(UnsafeExpressionError):
            safe_eval(text, numeric=True)
