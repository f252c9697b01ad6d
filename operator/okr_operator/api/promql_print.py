"""Print PromQL from the promql-parser AST, with string literals escaped the way Prometheus reads them.

User PromQL is never spliced into rules, gates or batched queries as the text the user wrote: it is parsed
and printed again from its syntax tree (``api.promql.canonical``), so comments, line breaks and formatting
tricks cannot change the meaning of what surrounds it. promql-parser has a printer of its own, but it
writes string literals without escaping quotes or backslashes (``x{a="\\""}`` comes out unparseable), so
this module prints every node itself.
"""

from __future__ import annotations

import math
import re
from datetime import timedelta
from typing import Any

import promql_parser

from ..promtext import quote

_LEGACY_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
_METRIC_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
_MATCH_OPS = {"MatchOp.Equal": "=", "MatchOp.NotEqual": "!=", "MatchOp.Re": "=~", "MatchOp.NotRe": "!~"}
_DURATION_UNITS = (("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000), ("ms", 1))


class UnprintableError(ValueError):
    """A node this printer does not know (a construct Prometheus does not have either)."""


def print_expr(node: Any) -> str:
    """PromQL text for ``node`` (an expression parsed by ``promql_parser.parse``)."""
    kind = type(node).__name__
    printer = _PRINTERS.get(kind)
    if printer is None:
        raise UnprintableError(f"unsupported PromQL construct {kind}")
    return printer(node)


def duration(value: timedelta) -> str:
    """A PromQL duration such as ``1h30m``, ``28d`` or ``-5m`` (millisecond resolution; days, not weeks)."""
    total = round(value / timedelta(milliseconds=1))
    if total == 0:
        return "0s"
    sign, rest, parts = ("-" if total < 0 else ""), abs(total), []
    for unit, size in _DURATION_UNITS:
        count, rest = divmod(rest, size)
        if count:
            parts.append(f"{count}{unit}")
    return sign + "".join(parts)


def number(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text


def label_name(name: str) -> str:
    return name if _LEGACY_NAME.match(name) else quote(name)


def matchers(node: Any) -> list[str]:
    """The label matchers of a vector selector, each as ``name op "value"``."""
    found = node.matchers
    if found.or_matchers:
        raise UnprintableError("'or' inside a selector's braces is not PromQL that Prometheus accepts")
    return [f"{label_name(m.name)}{_MATCH_OPS[str(m.op)]}{quote(m.value)}" for m in found.matchers]


def _vector_selector(node: Any) -> str:
    return _vector_selector_bare(node) + _modifiers(node)


def _modifiers(node: Any) -> str:
    text = ""
    if node.offset is not None:
        text += f" offset {duration(node.offset)}"
    if node.at is not None:
        text += f" @ {_at(node.at)}"
    return text


def _at(at: Any) -> str:
    kind = str(at.type)
    if kind.endswith("Start"):
        return "start()"
    if kind.endswith("End"):
        return "end()"
    return f"{at.at.timestamp():.3f}"


def _matrix_selector(node: Any) -> str:
    inner = node.vector_selector
    return f"{_vector_selector_bare(inner)}[{duration(node.range)}]{_modifiers(inner)}"


def _vector_selector_bare(node: Any) -> str:
    parts = matchers(node)
    name = node.name
    if name and not _METRIC_NAME.match(name):
        parts.insert(0, quote(name))
        name = None
    if name and not parts:
        return name
    return f"{name or ''}{{{','.join(parts)}}}"


def _subquery(node: Any) -> str:
    step = f":{duration(node.step)}" if node.step is not None else ":"
    text = f"{print_expr(node.expr)}[{duration(node.range)}{step}]"
    if node.offset is not None:
        text += f" offset {duration(node.offset)}"
    if node.at is not None:
        text += f" @ {_at(node.at)}"
    return text


def _aggregate(node: Any) -> str:
    modifier = ""
    if node.modifier is not None:
        word = "without" if str(node.modifier.type).endswith("Without") else "by"
        modifier = f" {word} ({', '.join(label_name(n) for n in node.modifier.labels)})"
    args = [print_expr(node.param)] if node.param is not None else []
    args.append(print_expr(node.expr))
    return f"{node.op}{modifier}{' ' if modifier else ''}({', '.join(args)})"


def _binary(node: Any) -> str:
    op = str(node.op)
    modifier = node.modifier
    text = ""
    if modifier is not None:
        fill = modifier.fill_values
        if fill is not None and (fill.lhs is not None or fill.rhs is not None):
            raise UnprintableError("fill() modifiers are experimental in Prometheus")
        if modifier.return_bool:
            text += " bool"
        if modifier.matching is not None:
            word = "ignoring" if str(modifier.matching.type).endswith("Exclude") else "on"
            text += f" {word} ({', '.join(label_name(n) for n in modifier.matching.labels)})"
        card = str(modifier.card)
        if card.endswith("ManyToOne"):
            text += f" group_left ({', '.join(label_name(n) for n in modifier.group_labels)})"
        elif card.endswith("OneToMany"):
            text += f" group_right ({', '.join(label_name(n) for n in modifier.group_labels)})"
    return f"{print_expr(node.lhs)} {op}{text} {print_expr(node.rhs)}"


def _call(node: Any) -> str:
    return f"{node.func.name}({', '.join(print_expr(a) for a in node.args)})"


_PRINTERS = {
    "VectorSelector": _vector_selector,
    "MatrixSelector": _matrix_selector,
    "SubqueryExpr": _subquery,
    "AggregateExpr": _aggregate,
    "BinaryExpr": _binary,
    "Call": _call,
    "NumberLiteral": lambda n: number(n.val),
    "StringLiteral": lambda n: quote(n.val),
    "ParenExpr": lambda n: f"({print_expr(n.expr)})",
    "UnaryExpr": lambda n: f"-{print_expr(n.expr)}",
}


def parse(expr: str) -> Any:
    """``promql_parser.parse``; kept here so the printer and its users parse alike."""
    return promql_parser.parse(expr)
