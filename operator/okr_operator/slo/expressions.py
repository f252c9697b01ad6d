"""PromQL for an SLO's indicator: raw (from the service's own series) and recorded (from our rules).

Two recording rules per SLO keep the 5m rate of bad events and of all events, one series each, labelled
``slo``, ``namespace`` and ``service``. Every other window is derived from them (``recorded_ratio``): the
traffic-weighted error ratio over ``w``, read from one pre-aggregated series per SLO instead of every raw
series over days (the expensive part of burn-rate rules). The same expressions, without the per-SLO
selector, give every SLO's ratio in one query (the operator's batched evaluation).

Canary selection: every function taking ``canary`` adds that label matcher (e.g.
``version="{{args.canary-version}}"``) to the indicator's series: at the ``{{canary}}`` placeholders of a
ratio indicator, in the selector of a latency or boolGauge indicator. Without it (recording rules,
evaluation, the error-budget gate) the placeholders expand to nothing.
"""

from __future__ import annotations

import re
from functools import lru_cache

import promql_parser

from ..api.common import parse_duration
from ..api.promql import CANARY_PLACEHOLDER, canonical, canonical_matchers, with_window
from ..api.slo import ServiceLevelObjectiveSpec
from ..api.slo_gate import CanarySelector
from ..promtext import openmetrics_float, quote
from .windows import BASE_SECONDS, BASE_WINDOW, LEAD_SECONDS, is_chained

ERRORS_RECORD = f"slo:sli_errors:rate{BASE_WINDOW}"
TOTAL_RECORD = f"slo:sli_total:rate{BASE_WINDOW}"
IDENTITY_LABELS = ("slo", "namespace")


def le_value(threshold: float) -> str:
    """A bucket boundary as Prometheus 3 writes ``le`` on ingestion (OpenMetrics float text, Go's shortest
    'g' format): 1 -> "1.0", 0.3 -> "0.3", 1000000 -> "1e+06", 1e-06 -> "1e-06", inf -> "+Inf"."""
    return openmetrics_float(threshold)


def _selector(histogram: str, suffix: str, matchers: str, extra: str = "") -> str:
    parts = [m for m in (canonical_matchers(matchers), extra) if m]
    return f"{histogram}_{suffix}{{{', '.join(parts)}}}"


def canary_matcher(canary: CanarySelector) -> str:
    """The label matcher selecting the canary's series; Argo Rollouts fills in the argument."""
    return f'{canary.label}="{{{{args.{canary.arg}}}}}"'


_CANARY_WITH_COMMA = re.compile(r"\s*,\s*" + re.escape(CANARY_PLACEHOLDER))


def with_canary(expr: str, canary: str = "") -> str:
    """Expand the ``{{canary}}`` placeholders of a ratio expression to ``canary`` (a matcher), or remove
    them with the comma before them (``{service="x",{{canary}}}`` -> ``{service="x"}``)."""
    if not canary:
        expr = _CANARY_WITH_COMMA.sub("", expr)
    return expr.replace(CANARY_PLACEHOLDER, canary)


def _with_matcher(selector: str, matcher: str) -> str:
    """A plain series selector (``probe_success`` or ``probe_success{job="x"}``) with one more matcher."""
    selector = canonical(selector)
    if not matcher:
        return selector
    if selector.rstrip().endswith("}"):
        head = selector.rstrip()[:-1].rstrip()
        return f"{head}{'' if head.endswith(('{', ',')) else ', '}{matcher}}}"
    return f"{selector}{{{matcher}}}"


def _ratio_expr(expr: str, window: str, canary: str, by: tuple[str, ...] = ()) -> str:
    return single_series(canonical(with_window(with_canary(expr, canary), window)), by)


def _by(spec: ServiceLevelObjectiveSpec) -> tuple[str, ...]:
    return tuple(spec.indicator.group_by or ())


def _sum(by: tuple[str, ...]) -> str:
    """``sum``, or ``sum by (<labels>) `` for a grouped SLO (one series per group)."""
    return f"sum by ({', '.join(by)}) " if by else "sum"


@lru_cache(maxsize=65536)  # every cycle asks again for every SLO and window: parse each expression once
def single_series(expr: str, by: tuple[str, ...] = ()) -> str:
    """``expr`` summed into one series (one per group ``by`` those labels); left as is when it already is
    that sum. A grouped sum is never wrapped in a plain ``sum()``, which would collapse the groups."""
    parsed = promql_parser.parse(expr)
    if isinstance(parsed, promql_parser.AggregateExpr) and str(parsed.op) == "sum":
        modifier = str(parsed.modifier or "")
        if not by and parsed.modifier is None:
            return expr
        if by and modifier.startswith("by") and {x.strip() for x in modifier[2:].strip(" ()").split(",")} == set(by):
            return expr
    return f"{_sum(by)}({expr})"


def _zero(spec: ServiceLevelObjectiveSpec, window: str, canary: str) -> str:
    """What a missing error (or good) series counts as: 0, per group for a grouped SLO (``vector(0)`` has
    no group labels, so a group with traffic and no errors gets ``0 * total`` instead)."""
    return f"(0 * {raw_total(spec, window, canary)})" if _by(spec) else "vector(0)"


def raw_total(spec: ServiceLevelObjectiveSpec, window: str, canary: str = "") -> str:
    """Rate of all events over ``window`` from the service's series, as one series (one per group)."""
    ind, by = spec.indicator, _by(spec)
    if ind.ratio is not None:
        return _ratio_expr(ind.ratio.total, window, canary, by)
    if ind.latency is not None:
        lat = ind.latency
        return f"{_sum(by)}(rate({_selector(lat.histogram, 'count', lat.selector, canary)}[{window}]))"
    assert ind.bool_gauge is not None
    return f"{_sum(by)}(count_over_time({_with_matcher(ind.bool_gauge.metric, canary)}[{window}]))"


def raw_errors(spec: ServiceLevelObjectiveSpec, window: str, canary: str = "") -> str:
    """Rate of bad events over ``window``; 0 (not absent) when the service has traffic but no errors.

    A series such as ``http_requests_total{code=~"5.."}`` does not exist before the first error, and
    ``good`` series vanish when everything fails; ``or vector(0)`` keeps both cases measurable.
    """
    ind, by = spec.indicator, _by(spec)
    zero = _zero(spec, window, canary)
    if ind.ratio is not None:
        if ind.ratio.errors is not None:
            return f"({_ratio_expr(ind.ratio.errors, window, canary, by)} or {zero})"
        assert ind.ratio.good is not None
        good = _ratio_expr(ind.ratio.good, window, canary, by)
        return f"({raw_total(spec, window, canary)} - ({good} or {zero}))"
    if ind.latency is not None:
        lat = ind.latency
        le = f"le={quote(le_value(lat.threshold))}"
        bucket = _selector(lat.histogram, "bucket", lat.selector, ", ".join(m for m in (canary, le) if m))
        return f"({raw_total(spec, window, canary)} - ({_sum(by)}(rate({bucket}[{window}])) or {zero}))"
    assert ind.bool_gauge is not None
    metric = _with_matcher(ind.bool_gauge.metric, canary)
    return f"({raw_total(spec, window, canary)} - ({_sum(by)}(sum_over_time({metric}[{window}])) or {zero}))"


def identity_selector(name: str, namespace: str) -> str:
    return f"{{slo={quote(name)}, namespace={quote(namespace)}}}"


def recorded_ratio(window: str, selector: str = "") -> str:
    """Error ratio over ``window`` from the recorded 5m rates (every SLO when ``selector`` is empty).

    Windows up to an hour in whole 5m steps add up back-to-back 5m rates (``recorded_chain``: exact, like
    a raw rate over the window) and fall back to ``recorded_sum`` while one of them is missing (the first
    hour after the rules load, a gap in the recordings); longer windows use ``recorded_sum``.
    """
    seconds = range_seconds(window)
    errors, total = ERRORS_RECORD + selector, TOTAL_RECORD + selector
    if seconds <= BASE_SECONDS:
        return f"({errors} / {total})"
    summed = f"({recorded_sum(errors, seconds)} / {recorded_sum(total, seconds)})"
    if not is_chained(seconds):
        return summed
    return f"({recorded_chain(errors, seconds)} / {recorded_chain(total, seconds)} or {summed})"


def recorded_plain_ratio(window: str, selector: str = "") -> str:
    """Error ratio over ``window`` as the plain sum of the recorded 5m rates, which trails a change by about
    2.5 minutes: what the burn alerts read where that lag delays no alert (``rules.long_window_ratio``)."""
    seconds = range_seconds(window)
    errors, total = ERRORS_RECORD + selector, TOTAL_RECORD + selector
    if seconds <= BASE_SECONDS:
        return f"({errors} / {total})"
    body = promql_range(seconds)
    return f"(sum_over_time({errors}[{body}]) / sum_over_time({total}[{body}]))"


def recorded_chain(series: str, seconds: int) -> str:
    """The recorded 5m rate ``series`` at every whole 5m offset within ``seconds``: the rates over the
    back-to-back 5m spans that make up the window, whose sum is the window's (absent if one is missing)."""
    offsets = range(0, seconds, BASE_SECONDS)
    return "(" + " + ".join(series + (f" offset {promql_range(o)}" if o else "") for o in offsets) + ")"


def recorded_sum(series: str, seconds: int) -> str:
    """The recorded 5m rate ``series`` summed over a window of ``seconds`` (in samples), without the lag.

    Each recorded value is the rate over the 5 minutes before it, so ``sum_over_time(series[w])`` counts
    the newest 5 minutes less and less: with ``n`` evaluations per 5 minutes it trails the raw window by
    ``(n - 1) / 2`` evaluations (2m15s at 30 s). Instead the window is summed 2m30s short
    (``LEAD_SECONDS``) and the latest rate is counted ``(n - 1) / 2`` more times, ``n`` read from the
    recordings themselves (``count_over_time(series[5m])``), so the evaluation interval need not be known.
    The result stands for the window less half an evaluation interval.

    The two parts are added as a union summed ``without (part)``, not with ``+``: while the latest rate is
    missing (a gap, the records left out during a maintenance window, a service without series) the sum
    is the window's samples alone instead of nothing, and the window is read once.
    """
    body = promql_range(seconds - LEAD_SECONDS)
    lead = f"{series} * (count_over_time({series}[{BASE_WINDOW}]) - 1) / 2"
    return f'sum without (part) (sum_over_time({series}[{body}]) or label_replace({lead}, "part", "lead", "", ""))'


def range_seconds(window: str) -> int:
    """Seconds in a single-unit PromQL range (``5m``, ``28d``; also the long ``2073600s`` of a calendar
    window so far, which ``parse_duration`` refuses as user input)."""
    if window.endswith("s") and window[:-1].isdigit():
        return int(window[:-1])
    return parse_duration(window)


def promql_range(seconds: int) -> str:
    """A PromQL range in descending units (``3450`` -> ``57m30s``, ``258750`` -> ``2d23h52m30s``)."""
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= size:
            parts.append(f"{seconds // size}{unit}")
            seconds %= size
    return "".join(parts)


def raw_ratio(spec: ServiceLevelObjectiveSpec, window: str, canary: str = "") -> str:
    """Error ratio over ``window`` straight from the service's series (no recording rules needed);
    with ``canary`` (a label matcher), of the canary's series only."""
    return f"({raw_errors(spec, window, canary)} / {raw_total(spec, window, canary)})"
