"""Offline PromQL checks (syntax only) used by the API models and the rule renderer."""

from __future__ import annotations

import re

import promql_parser

WINDOW_PLACEHOLDER = "{{window}}"
_METRIC_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")


class PromQLError(ValueError):
    """An expression that does not parse; the message says where."""


def check_syntax(expr: str, *, what: str = "expression") -> None:
    """Raise PromQLError when ``expr`` is not valid PromQL."""
    try:
        promql_parser.parse(expr)
    except ValueError as exc:
        raise PromQLError(f"{what} is not valid PromQL ({exc}): {expr}") from None


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
    check_syntax(with_window(expr, "5m"), what=what)


def check_vector_selector(expr: str, *, what: str) -> None:
    """``expr`` must be a plain series selector such as ``probe_success{job="x"}`` (a range is appended)."""
    check_syntax(expr, what=what)
    parsed = promql_parser.parse(expr)
    if type(parsed).__name__ != "VectorSelector":
        raise PromQLError(f'{what} must be a series selector like probe_success{{job="web"}}, got: {expr}')


def check_metric_name(name: str, *, what: str) -> None:
    if not _METRIC_NAME.match(name):
        raise PromQLError(f"{what} {name!r} is not a valid metric name")


def check_label_matchers(matchers: str, *, what: str) -> None:
    """``matchers`` is the inside of ``{...}``, e.g. ``service="checkout", code!~"5.."``."""
    if "{" in matchers or "}" in matchers:
        raise PromQLError(f'{what} is the text inside {{...}}, e.g. service="checkout"; drop the braces')
    check_syntax(f"up{{{matchers}}}", what=what)


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
        if type(node).__name__ == "VectorSelector":
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
