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


def quote(value: str) -> str:
    """A PromQL double-quoted string literal for ``value`` (escapes backslashes and quotes)."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'
