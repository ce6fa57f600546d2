"""A deterministic expression evaluator that whitelists AST nodes.

It serves the `compute` primitive, step checks and decision conditions. Model text is parsed with
`ast.parse(mode="eval")` and walked node by node; nothing is handed to `eval`/`exec`. There is no
attribute access, no import, no lambda or comprehension, and no string formatting.

The work is bounded, not only the result: every operation that can grow a value (`+`, `*`, `**`, `str()`,
`sum()`) checks the size of what it would build before building it, every intermediate value is weighed
(its scalars and characters, shared references counted each time they appear) against `MAX_WEIGHT`, and
the walk stops after `TIME_LIMIT_S` of wall time. So every expression finishes in well under a second and
a few MB, or raises `UnsafeExpressionError`. No thread or process is started.

Example:
    >>> safe_eval("price * qty - discount", {"price": 2.5, "qty": 4, "discount": 1})
    9.0
    >>> normalize_math("$80,000 * 150%")
    '80000 * (150/100)'
"""

from __future__ import annotations

import ast
import math
import operator
import re
import time
from collections.abc import Callable, Mapping
from typing import Any

from skillc.core.errors import UnsafeExpressionError

MAX_EXPRESSION_CHARS = 2_000
MAX_NODES = 400
MAX_INT_BITS = 4_096
MAX_EXPONENT = 256
MAX_SEQUENCE = 10_000  # longest string, list or tuple an operation may produce
MAX_WEIGHT = 100_000  # scalars + characters in any intermediate value, nested ones included
TIME_LIMIT_S = 1.0
NUMBER_TYPES = (bool, int, float)

_BINARY: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_UNARY: dict[type, Callable[[Any], Any]] = {
    ast.USub: operator.neg,
    ast.UAdd: operator.pos,
    ast.Not: operator.not_,
}
_COMPARE: dict[type, Callable[[Any, Any], Any]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b,
    ast.Is: operator.is_,
    ast.IsNot: operator.is_not,
}
FUNCTIONS: dict[str, Callable[..., Any]] = {
    "abs": abs,
    "min": min,
    "max": max,
    "round": round,
    "sum": sum,
    "len": len,
    "int": int,
    "float": float,
    "str": str,
    "bool": bool,
    "sqrt": math.sqrt,
    "floor": math.floor,
    "ceil": math.ceil,
    "log": math.log,
    "exp": lambda x: math.exp(min(float(x), 700.0)),
    "round_sig": lambda x, n=2: round_sig(x, n),
}
def round_sig(value: float, digits: int = 2) -> float:
    """`value` rounded to `digits` significant figures (0 stays 0).

    >>> round_sig(0.061428, 2), round_sig(1234.5, 3), round_sig(0, 2)
    (0.061, 1230.0, 0)
    """
    if not value:
        return value
    digits = max(1, min(int(digits), 15))
    return round(float(value), digits - 1 - math.floor(math.log10(abs(float(value)))))


CONSTANTS: dict[str, Any] = {"True": True, "False": False, "None": None, "pi": math.pi}


def parse_expression(text: str) -> ast.Expression:
    """Parse `text` and reject any node outside the whitelist, without evaluating it."""
    if not isinstance(text, str) or not text.strip():
        raise UnsafeExpressionError("empty expression")
    if len(text) > MAX_EXPRESSION_CHARS:
        raise UnsafeExpressionError(f"expression longer than {MAX_EXPRESSION_CHARS} characters")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise UnsafeExpressionError(f"not a valid expression: {exc.msg} in {text[:200]!r}") from None
    except (RecursionError, MemoryError, ValueError):
        raise UnsafeExpressionError("expression is nested too deeply or holds a null byte") from None
    nodes = list(ast.walk(tree))
    if len(nodes) > MAX_NODES:
        raise UnsafeExpressionError(f"expression has more than {MAX_NODES} nodes")
    if any(isinstance(node, ast.Attribute) for node in nodes):
        raise UnsafeExpressionError("attribute access is not allowed")
    for node in nodes:
        _check_node(node)
    return tree


def names_in(text: str) -> set[str]:
    """The free variable names an expression reads (functions and constants excluded)."""
    tree = parse_expression(text)
    called = {n.func.id for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
    return {
        n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and n.id not in called and n.id not in CONSTANTS
    }


def safe_eval(text: str, env: Mapping[str, Any] | None = None, *, numeric: bool = False) -> Any:
    """Evaluate a whitelisted expression with `env` as its only variables.

    With `numeric=True` (the `compute` primitive) the result must be a finite int, float or bool.

    >>> safe_eval("(-8) ** (1/3)")
    Traceback (most recent call last):
    ...
    skillc.core.errors.UnsafeExpressionError: the result is a complex number, not a real one
    >>> safe_eval("'a' + 'b'", numeric=True)
    Traceback (most recent call last):
    ...
    skillc.core.errors.UnsafeExpressionError: the result is a str; a compute step must give a number or a boolean
    """
    tree = parse_expression(text)
    value = _Evaluator(env or {}).visit(tree.body)
    if numeric:
        if not isinstance(value, NUMBER_TYPES):
            raise UnsafeExpressionError(
                f"the result is a {type(value).__name__}; a compute step must give a number or a boolean")
        if isinstance(value, float) and not math.isfinite(value):
            raise UnsafeExpressionError(f"the result is {value}, not a finite number")
    return value


def normalize_math(text: str) -> str:
    """Turn a model-written arithmetic string into evaluator syntax ($, thousands commas, ×, ^, %)."""
    out = text.strip().rstrip(".").strip().strip("`").strip()
    out = re.sub(r"^(?:[A-Za-z_ ]+=)\s*", "", out) if re.match(r"^[A-Za-z_ ]+=[^=]", out) else out
    out = out.replace("$", "").replace("×", "*").replace("÷", "/").replace("−", "-").replace("^", "**")
    while re.search(r"(\d),(\d{3})(?!\d)", out):
        out = re.sub(r"(\d),(\d{3})(?!\d)", r"\1\2", out)
    out = re.sub(r"(\d+(?:\.\d+)?)\s*%", r"(\1/100)", out)
    return out.rstrip(".").strip()


_ALLOWED = (
    ast.Expression,
    ast.BinOp,
    ast.UnaryOp,
    ast.BoolOp,
    ast.Compare,
    ast.IfExp,
    ast.Constant,
    ast.Name,
    ast.Load,
    ast.Subscript,
    ast.Slice,
    ast.List,
    ast.Tuple,
    ast.Dict,
    ast.Call,
    ast.And,
    ast.Or,
    *_BINARY,
    *_UNARY,
    *_COMPARE,
)


def _check_node(node: ast.AST) -> None:
    if isinstance(node, ast.Attribute):
        raise UnsafeExpressionError("attribute access is not allowed")
    if not isinstance(node, _ALLOWED):
        raise UnsafeExpressionError(f"{type(node).__name__} is not allowed in an expression")
    if isinstance(node, ast.Name) and node.id.startswith("__"):
        raise UnsafeExpressionError(f"name {node.id!r} is not allowed")
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
            raise UnsafeExpressionError(
                f"only these functions may be called: {', '.join(sorted(FUNCTIONS))}"
            )
        if node.keywords:
            raise UnsafeExpressionError("keyword arguments are not allowed")
    if isinstance(node, ast.Constant) and not isinstance(node.value, (int, float, str, bool, type(None))):
        raise UnsafeExpressionError(f"constant of type {type(node.value).__name__} is not allowed")


class _Evaluator(ast.NodeVisitor):
    def __init__(self, env: Mapping[str, Any]) -> None:
        self.env = env
        self.deadline = time.monotonic() + TIME_LIMIT_S

    def visit(self, node: ast.AST) -> Any:
        if time.monotonic() > self.deadline:
            raise UnsafeExpressionError(f"expression took longer than {TIME_LIMIT_S:g} s")
        return super().visit(node)

    def generic_visit(self, node: ast.AST) -> Any:  # pragma: no cover - parse_expression rejects first
        raise UnsafeExpressionError(f"{type(node).__name__} is not allowed in an expression")

    def visit_Constant(self, node: ast.Constant) -> Any:
        return _bounded(node.value)

    def visit_Name(self, node: ast.Name) -> Any:
        if node.id in self.env:
            return self.env[node.id]
        if node.id in CONSTANTS:
            return CONSTANTS[node.id]
        raise UnsafeExpressionError(f"unknown name {node.id!r}")

    def visit_BinOp(self, node: ast.BinOp) -> Any:
        left, right = self.visit(node.left), self.visit(node.right)
        if isinstance(node.op, ast.Pow):
            _check_power(left, right)
        if isinstance(node.op, ast.Mult):
            _check_repeat(left, right)
        if isinstance(node.op, ast.Add):
            _check_concat(left, right)
        if isinstance(node.op, ast.Mod) and isinstance(left, str):
            raise UnsafeExpressionError("string formatting with % is not allowed")
        try:
            value = _BINARY[type(node.op)](left, right)
        except (ArithmeticError, TypeError, ValueError) as exc:
            raise UnsafeExpressionError(f"cannot compute: {exc}") from None
        return _bounded(value)

    def visit_UnaryOp(self, node: ast.UnaryOp) -> Any:
        try:
            return _bounded(_UNARY[type(node.op)](self.visit(node.operand)))
        except TypeError as exc:
            raise UnsafeExpressionError(f"cannot compute: {exc}") from None

    def visit_BoolOp(self, node: ast.BoolOp) -> Any:
        result: Any = isinstance(node.op, ast.And)
        for value_node in node.values:
            result = self.visit(value_node)
            if isinstance(node.op, ast.And) and not result:
                return result
            if isinstance(node.op, ast.Or) and result:
                return result
        return result

    def visit_Compare(self, node: ast.Compare) -> Any:
        left = self.visit(node.left)
        for op, comparator in zip(node.ops, node.comparators, strict=True):
            right = self.visit(comparator)
            try:
                if not _COMPARE[type(op)](left, right):
                    return False
            except TypeError as exc:
                raise UnsafeExpressionError(f"cannot compare: {exc}") from None
            left = right
        return True

    def visit_IfExp(self, node: ast.IfExp) -> Any:
        return self.visit(node.body) if self.visit(node.test) else self.visit(node.orelse)

    def visit_Subscript(self, node: ast.Subscript) -> Any:
        container = self.visit(node.value)
        if not isinstance(container, (dict, list, tuple, str)):
            raise UnsafeExpressionError(f"cannot index a {type(container).__name__}")
        key = self.visit(node.slice)
        try:
            return _bounded(container[key])
        except (KeyError, IndexError, TypeError, ValueError) as exc:
            raise UnsafeExpressionError(f"bad index {key!r}: {exc}") from None

    def visit_Slice(self, node: ast.Slice) -> slice:
        parts = [self.visit(p) if p is not None else None for p in (node.lower, node.upper, node.step)]
        return slice(*parts)

    def visit_List(self, node: ast.List) -> list[Any]:
        return _bounded([self.visit(e) for e in node.elts])

    def visit_Tuple(self, node: ast.Tuple) -> tuple[Any, ...]:
        return _bounded(tuple(self.visit(e) for e in node.elts))

    def visit_Dict(self, node: ast.Dict) -> dict[Any, Any]:
        if any(k is None for k in node.keys):
            raise UnsafeExpressionError("dict unpacking is not allowed")
        try:
            return _bounded({self.visit(k): self.visit(v) for k, v in zip(node.keys, node.values, strict=True)})  # type: ignore[arg-type]
        except TypeError as exc:  # an unhashable key: a list or a dict
            raise UnsafeExpressionError(f"bad dict key: {exc}") from None

    def visit_Call(self, node: ast.Call) -> Any:
        name = node.func.id  # type: ignore[attr-defined]
        args = [self.visit(a) for a in node.args]
        _check_call(name, args)
        try:
            value = FUNCTIONS[name](*args)
        except (ArithmeticError, TypeError, ValueError) as exc:
            raise UnsafeExpressionError(f"cannot compute {name}(): {exc}") from None
        return _bounded(value)


def _check_power(base: Any, exponent: Any) -> None:
    if isinstance(exponent, (int, float)) and abs(exponent) > MAX_EXPONENT:
        raise UnsafeExpressionError(f"exponent {exponent} is larger than {MAX_EXPONENT}")
    if isinstance(base, int) and isinstance(exponent, int) and exponent > 0:
        if abs(base) > 1 and base.bit_length() * exponent > MAX_INT_BITS:
            raise UnsafeExpressionError("power result would be too large")


def _check_repeat(left: Any, right: Any) -> None:
    for seq, times in ((left, right), (right, left)):
        if isinstance(seq, (str, list, tuple)) and isinstance(times, int):
            if len(seq) * max(times, 0) > MAX_SEQUENCE:
                raise UnsafeExpressionError("repeated sequence would be too long")


def _check_concat(left: Any, right: Any) -> None:
    if isinstance(left, (str, list, tuple)) and isinstance(right, (str, list, tuple)):
        if len(left) + len(right) > MAX_SEQUENCE:
            raise UnsafeExpressionError("concatenated sequence would be too long")


def _check_call(name: str, args: list[Any]) -> None:
    """Refuse a call whose work or result would be too big, before making it."""
    if name == "str" and args and _weight(args[0]) > MAX_SEQUENCE:
        raise UnsafeExpressionError("str() of that value would be too long")
    if name == "sum" and len(args) == 2 and isinstance(args[1], (str, list, tuple)):
        items = args[0] if isinstance(args[0], (list, tuple)) else []
        total = len(args[1]) + sum(len(x) for x in items if isinstance(x, (str, list, tuple)))
        if total > MAX_SEQUENCE:
            raise UnsafeExpressionError("sum() would build a sequence that is too long")


def _weight(value: Any, limit: int = MAX_WEIGHT) -> int:
    """Scalars + characters in `value`, nested ones included; stops counting past `limit`.

    >>> _weight(["ab", [1, 2]]), _weight([[1] * 1000] * 1000, limit=5000) > 5000
    (6, True)
    """
    total, stack = 0, [value]
    while stack and total <= limit:
        item = stack.pop()
        if isinstance(item, str):
            total += max(len(item), 1)
            continue
        if isinstance(item, dict):
            item = [*item.keys(), *item.values()]
        elif not isinstance(item, (list, tuple)):
            total += 1
            continue
        total += 1 + len(item)  # the container and one per element; nested ones are opened below
        for child in item:
            if isinstance(child, str):
                total += len(child) - 1
            elif isinstance(child, (list, tuple, dict)):
                total -= 1
                stack.append(child)
    return total


def _bounded(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value.bit_length() > MAX_INT_BITS:
        raise UnsafeExpressionError("integer result is too large")
    if isinstance(value, complex):
        raise UnsafeExpressionError("the result is a complex number, not a real one")
    if isinstance(value, (str, list, tuple, dict)):
        if len(value) > MAX_SEQUENCE:
            raise UnsafeExpressionError("sequence result is too long")
        if not isinstance(value, str) and _weight(value) > MAX_WEIGHT:
            raise UnsafeExpressionError(f"the value holds more than {MAX_WEIGHT} items in all")
    return value


def arithmetic_value(text: Any) -> Any:
    """The value of a model-written arithmetic string (`"$48 + 24"` → 72), through `normalize_math`.

    >>> arithmetic_value("(48 + 24) × 2")
    144
    """
    return safe_eval(normalize_math(str(text)), numeric=True)


FUNCTIONS["value"] = arithmetic_value  # `value(expression)`: a field that holds an expression, by its value
