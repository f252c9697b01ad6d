"""PromQL for an SLO's indicator: raw (from the service's own series) and recorded (from our rules).

Two recording rules per SLO keep the 5m rate of bad events and of all events, one series each, labelled
``slo``, ``namespace`` and ``service``. Every other window is derived from them:
``sum_over_time(errors[w]) / sum_over_time(total[w])`` is the traffic-weighted error ratio over ``w``, read
from one pre-aggregated series per SLO instead of every raw series over days (the expensive part of
burn-rate rules). The same expressions, without the per-SLO selector, give every SLO's ratio in one
query (the operator's batched evaluation).
"""

from __future__ import annotations

import promql_parser

from ..api.common import parse_duration
from ..api.promql import quote, with_window
from ..api.slo import ServiceLevelObjectiveSpec
from .windows import BASE_SECONDS, BASE_WINDOW

ERRORS_RECORD = f"slo:sli_errors:rate{BASE_WINDOW}"
TOTAL_RECORD = f"slo:sli_total:rate{BASE_WINDOW}"
IDENTITY_LABELS = ("slo", "namespace")


def _le(threshold: float) -> str:
    """Bucket boundary as Prometheus 3 normalises ``le`` on ingestion (1 -> "1.0", 0.3 -> "0.3")."""
    text = repr(float(threshold))
    return text


def _selector(histogram: str, suffix: str, matchers: str, extra: str = "") -> str:
    parts = [m for m in (matchers.strip().rstrip(","), extra) if m]
    return f"{histogram}_{suffix}{{{', '.join(parts)}}}"


def single_series(expr: str) -> str:
    """``expr`` summed into one series; left as is when it already is a plain ``sum(...)``."""
    parsed = promql_parser.parse(expr)
    if type(parsed).__name__ == "AggregateExpr" and str(parsed.op) == "sum" and parsed.modifier is None:
        return expr
    return f"sum({expr})"


def raw_total(spec: ServiceLevelObjectiveSpec, window: str) -> str:
    """Rate of all events over ``window`` from the service's series, as one series."""
    ind = spec.indicator
    if ind.ratio is not None:
        return single_series(with_window(ind.ratio.total, window))
    if ind.latency is not None:
        lat = ind.latency
        return f"sum(rate({_selector(lat.histogram, 'count', lat.selector)}[{window}]))"
    assert ind.bool_gauge is not None
    return f"sum(count_over_time({ind.bool_gauge.metric}[{window}]))"


def raw_errors(spec: ServiceLevelObjectiveSpec, window: str) -> str:
    """Rate of bad events over ``window``; 0 (not absent) when the service has traffic but no errors.

    A series such as ``http_requests_total{code=~"5.."}`` does not exist before the first error, and
    ``good`` series vanish when everything fails; ``or vector(0)`` keeps both cases measurable.
    """
    ind = spec.indicator
    if ind.ratio is not None:
        if ind.ratio.errors is not None:
            return f"({single_series(with_window(ind.ratio.errors, window))} or vector(0))"
        good = single_series(with_window(ind.ratio.good, window))
        return f"({raw_total(spec, window)} - ({good} or vector(0)))"
    if ind.latency is not None:
        lat = ind.latency
        bucket = _selector(lat.histogram, "bucket", lat.selector, f"le={quote(_le(lat.threshold))}")
        return f"({raw_total(spec, window)} - (sum(rate({bucket}[{window}])) or vector(0)))"
    assert ind.bool_gauge is not None
    metric = ind.bool_gauge.metric
    return f"({raw_total(spec, window)} - (sum(sum_over_time({metric}[{window}])) or vector(0)))"


def identity_selector(name: str, namespace: str) -> str:
    return f"{{slo={quote(name)}, namespace={quote(namespace)}}}"


def recorded_ratio(window: str, selector: str = "") -> str:
    """Error ratio over ``window`` from the recorded 5m rates (every SLO when ``selector`` is empty)."""
    if parse_duration(window) <= BASE_SECONDS:
        return f"({ERRORS_RECORD}{selector} / {TOTAL_RECORD}{selector})"
    return f"(sum_over_time({ERRORS_RECORD}{selector}[{window}]) / sum_over_time({TOTAL_RECORD}{selector}[{window}]))"


def raw_ratio(spec: ServiceLevelObjectiveSpec, window: str) -> str:
    """Error ratio over ``window`` straight from the service's series (no recording rules needed)."""
    return f"({raw_errors(spec, window)} / {raw_total(spec, window)})"
