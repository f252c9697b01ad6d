"""Offline PromQL checks and the canonical form of user PromQL, used by the API models and the renderers.

Every user expression is validated and spliced through :func:`canonical`: parsed, checked for what
Prometheus would refuse (experimental functions, ``or`` inside braces, fill modifiers) and printed again
from its syntax tree. What cannot be printed back with the same meaning is refused here, so a comment, a
line break or a quoting trick in one object cannot change a rule or a batched query around it.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import promql_parser

from .promql_print import UnprintableError, matchers, print_expr

WINDOW_PLACEHOLDER = "{{window}}"
_METRIC_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")

# Functions and aggregations Prometheus 3.16 accepts only with --enable-feature=promql-experimental-functions
# (Experimental: true in promql/parser/functions.go, IsExperimentalAggregator in lex.go). promtool and
# prometheus-operator's webhook refuse them by default, so a rule using them would not load.
EXPERIMENTAL_FUNCTIONS = frozenset(
    {
        "double_exponential_smoothing",
        "end",
        "histogram_quantiles",
        "info",
        "integral",
        "mad_over_time",
        "max_of",
        "min_of",
        "range",
        "sort_by_label",
        "sort_by_label_desc",
        "start",
        "start_timestamp",
        "step",
        "ts_of_first_over_time",
        "ts_of_last_over_time",
        "ts_of_max_over_time",
        "ts_of_min_over_time",
    }
)
EXPERIMENTAL_AGGREGATIONS = frozenset({"limitk", "limit_ratio"})


class PromQLError(ValueError):
    """An expression that does not parse or cannot be used as given; the message says why."""


def _parse(expr: str, what: str) -> Any:
    try:
        return promql_parser.parse(expr)
    except ValueError as exc:
        raise PromQLError(f"{what} is not valid PromQL ({exc}): {_short(expr)}") from None


def _short(expr: str, limit: int = 200) -> str:
    text = " ".join(expr.split())
    return text if len(text) <= limit else text[:limit] + "..."


def _experimental(node: Any) -> str | None:
    """The name of the first experimental function or aggregation in ``node``, if any."""
    found: list[str] = []

    def visit(n: Any) -> bool:
        kind = type(n).__name__
        if kind == "Call" and (n.func.name in EXPERIMENTAL_FUNCTIONS or n.func.experimental):
            found.append(n.func.name)
        elif kind == "AggregateExpr" and str(n.op) in EXPERIMENTAL_AGGREGATIONS:
            found.append(str(n.op))
        return not found

    promql_parser.walk(node, visit)
    return found[0] if found else None


@lru_cache(maxsize=65536)
def _canonical(expr: str, what: str) -> str:
    node = _parse(expr, what)
    name = _experimental(node)
    if name is not None:
        raise PromQLError(
            f"{what} uses {name}(), an experimental PromQL function that Prometheus accepts only with "
            f"--enable-feature=promql-experimental-functions (rules using it would not load): {_short(expr)}"
        )
    try:
        text = print_expr(node)
    except UnprintableError as exc:
        raise PromQLError(f"{what}: {exc}: {_short(expr)}") from None
    again = _parse(text, what)
    if repr(again) != repr(node):
        raise PromQLError(
            f"{what} cannot be printed back with the same meaning, so the operator will not splice it into "
            f"rules or queries; write it more plainly (e.g. give a subquery its step): {_short(expr)}"
        )
    return text


def canonical(expr: str, *, what: str = "expression") -> str:
    """``expr`` printed from its syntax tree (comments and layout gone, strings escaped); PromQLError when
    it does not parse, uses an experimental function, or cannot be printed back with the same meaning."""
    return _canonical(expr, what)


def check_syntax(expr: str, *, what: str = "expression") -> None:
    """Raise PromQLError when ``expr`` is not PromQL the operator can use (see :func:`canonical`)."""
    canonical(expr, what=what)


def check_no_templates(expr: str, *, what: str, allowed: tuple[str, ...] = ()) -> None:
    """``{{`` and ``}}`` are template delimiters for Argo Rollouts (gate queries) and Prometheus (labels and
    annotations); outside the operator's own placeholders they are refused."""
    rest = expr
    for placeholder in allowed:
        rest = rest.replace(placeholder, "")
    if "{{" in rest or "}}" in rest:
        shown = ", ".join(allowed) if allowed else "none"
        raise PromQLError(
            f"{what} contains {{{{ or }}}}: they are template delimiters (Argo Rollouts expands {{{{args.*}}}} "
            f"in gate queries), so only the operator's placeholders may use them (here: {shown})"
        )


def value_type(expr: str) -> str:
    """``vector``, ``scalar``, ``matrix`` or ``string``: what ``expr`` evaluates to (it must parse)."""
    return _value_type(promql_parser.parse(expr))


def _value_type(node: Any) -> str:
    kind = type(node).__name__
    if kind in ("ParenExpr", "UnaryExpr"):
        return _value_type(node.expr)
    if kind == "NumberLiteral":
        return "scalar"
    if kind == "StringLiteral":
        return "string"
    if kind in ("MatrixSelector", "SubqueryExpr"):
        return "matrix"
    if kind == "Call":
        return str(node.func.return_type).rsplit(".", 1)[-1].lower()
    if kind == "BinaryExpr":
        sides = {_value_type(node.lhs), _value_type(node.rhs)}
        return "scalar" if sides == {"scalar"} else "vector"
    return "vector"


def check_instant(expr: str, *, what: str) -> None:
    """``expr`` must evaluate to an instant vector or a scalar (a number per series, not a range)."""
    check_syntax(expr, what=what)
    kind = value_type(expr)
    if kind not in ("vector", "scalar"):
        raise PromQLError(
            f"{what} evaluates to a {kind}; it must give one number (an instant vector or a scalar), e.g. "
            f"wrap a range in a function such as max_over_time(...): {_short(expr)}"
        )


def with_window(expr: str, window: str) -> str:
    """Substitute the ``{{window}}`` placeholder of a user expression with a range, e.g. ``5m``."""
    return expr.replace(WINDOW_PLACEHOLDER, window)


def check_windowed(expr: str, *, what: str) -> None:
    """A ratio expression must use ``[{{window}}]`` and parse once the window is filled in."""
    if WINDOW_PLACEHOLDER not in expr:
        raise PromQLError(
            f"{what} must contain the range placeholder [{WINDOW_PLACEHOLDER}] so the operator can "
            f"evaluate it over each alerting window, e.g. sum(rate(http_requests_total[{WINDOW_PLACEHOLDER}]))"
        )
    check_instant(with_window(expr, "5m"), what=what)


def check_vector_selector(expr: str, *, what: str) -> None:
    """``expr`` must be a plain series selector such as ``probe_success{job="x"}`` (a range is appended),
    without offset or @ (they would sit between the selector and the range)."""
    check_syntax(expr, what=what)
    parsed = promql_parser.parse(expr)
    if not isinstance(parsed, promql_parser.VectorSelector):
        raise PromQLError(f'{what} must be a series selector like probe_success{{job="web"}}, got: {_short(expr)}')
    if parsed.offset is not None or parsed.at is not None:
        raise PromQLError(
            f"{what} must not use offset or @: the operator appends the range of each window to the selector"
        )


def check_metric_name(name: str, *, what: str) -> None:
    if not _METRIC_NAME.match(name):
        raise PromQLError(f"{what} {name!r} is not a valid metric name")


# Matchers the operator sets itself on a latency indicator's series (the bucket boundary and the metric).
RESERVED_SELECTOR_LABELS = ("le", "__name__")
_PROBE = '__okr_probe__="1"'


def _selector_of(text: str, what: str) -> Any:
    """The vector selector ``{<text>}`` (a probe matcher keeps it valid when all of text's matchers may
    be empty); PromQLError naming ``what`` when text is not a list of label matchers."""
    try:
        return promql_parser.parse(f"{{{_PROBE},{text}}}")
    except ValueError as exc:
        raise PromQLError(f"{what} is not a valid list of label matchers ({exc}): {_short(text)}") from None


def check_label_matchers(text: str, *, what: str) -> None:
    """``text`` is the inside of ``{...}``, e.g. ``service="checkout", code!~"5.."``."""
    if "{" in text or "}" in text:
        raise PromQLError(f'{what} is the text inside {{...}}, e.g. service="checkout"; drop the braces')
    node = _selector_of(text, what)
    if node.matchers.or_matchers:
        raise PromQLError(f"{what} uses 'or' between matchers, which Prometheus does not accept: {_short(text)}")
    names = [m.name for m in node.matchers.matchers]
    for name in RESERVED_SELECTOR_LABELS:
        if name in names:
            raise PromQLError(
                f"{what} must not match {name}: the operator selects the histogram's metric and its le bucket itself"
            )


def canonical_matchers(text: str) -> str:
    """The matchers of a selector's inside (``service="checkout"``) printed from their syntax tree."""
    if not text.strip():
        return ""
    return ",".join(matchers(_selector_of(text, "selector"))[1:])


# Canary selection (gate.canary): ratio expressions mark where the canary matcher goes with this
# placeholder, inside a label matcher list, e.g. http_requests_total{service="checkout",{{canary}}}.
# Recording rules and the operator's evaluation expand it to nothing (PromQL accepts the trailing comma
# of {a="b",}); the gate's burn-rate query expands it to label="{{args.<arg>}}".
CANARY_PLACEHOLDER = "{{canary}}"
_CANARY_PROBE_LABEL = "okr_canary_placeholder"


def _selector_matcher_names(expr: str) -> list[str]:
    """Label names of every matcher of every series selector in ``expr`` (which parses)."""
    names: list[str] = []
    stack = [promql_parser.parse(expr)]
    while stack:
        node = stack.pop()
        if isinstance(node, promql_parser.VectorSelector):
            names.extend(m.name for m in node.matchers.matchers)
        for attr in ("lhs", "rhs", "expr", "param", "vector_selector"):
            child = getattr(node, attr, None)
            if child is not None and not isinstance(child, (str, int, float)):
                stack.append(child)
        stack.extend(getattr(node, "args", None) or [])
    return names


def check_canary_placeholder(expr: str, *, what: str) -> None:
    """Each ``{{canary}}`` in ``expr`` must stand for one label matcher of a series selector, and
    ``expr`` must parse both with it expanded to nothing and with it expanded to a matcher."""
    count = expr.count(CANARY_PLACEHOLDER)
    if not count:
        return
    windowed = with_window(expr, "5m")
    hint = (
        f"put {CANARY_PLACEHOLDER} last inside a selector's braces, after a comma when other matchers "
        f'precede it, e.g. http_requests_total{{service="checkout",{CANARY_PLACEHOLDER}}}'
    )
    probe = windowed.replace(CANARY_PLACEHOLDER, f'{_CANARY_PROBE_LABEL}="x"')
    try:
        check_syntax(windowed.replace(CANARY_PLACEHOLDER, ""), what=what)
        check_syntax(probe, what=what)
    except PromQLError as exc:
        raise PromQLError(f"{exc}; {hint}") from None
    if _selector_matcher_names(probe).count(_CANARY_PROBE_LABEL) != count:
        raise PromQLError(f"{what}: {CANARY_PLACEHOLDER} must be a label matcher of a series selector; {hint}")


def check_keeps_labels(expr: str, labels: list[str], *, what: str) -> None:
    """A grouped SLO's expression must keep its group labels: a top-level aggregation needs ``by`` them."""
    parsed = promql_parser.parse(with_window(expr, "5m"))
    if not isinstance(parsed, promql_parser.AggregateExpr):
        return
    modifier = str(parsed.modifier or "")
    kept = set() if not modifier.startswith("by") else {x.strip() for x in modifier[2:].strip(" ()").split(",")}
    missing = [label for label in labels if label not in kept]
    if missing:
        raise PromQLError(
            f"{what}: its {parsed.op}(...) drops the groupBy label(s) {', '.join(missing)}; write "
            f"sum by ({', '.join(labels)}) (...) or leave the aggregation out"
        )
