"""Render the Argo Rollouts AnalysisTemplate ``<slo>-gate`` of a gated SLO.

Two metrics, both from Prometheus:

- ``burn-rate``: the burn rate over ``gate.window`` must stay at or below ``gate.maxBurnRate``. With
  ``gate.canary`` it is the canary's burn rate: the query selects ``<label>="{{args.<arg>}}"`` (the
  Rollout passes the canary's value), so stable traffic cannot hide a bad canary.
- ``error-budget``: the remaining error budget of the whole service over the SLO window must stay at or
  above ``gate.minBudgetRemaining`` (error-budget policy: an exhausted budget freezes rollouts, however
  healthy the canary is).

No data never passes. Argo Rollouts hands a vector over as a list (``result``); both conditions require
exactly one finite value (``len(result) == 1 && !isNaN(result[0]) && !isInf(result[0])``), so an empty
vector (no series: the canary has had no traffic) or NaN (0/0: its traffic stopped) is neither success
nor failure: the measurement is Inconclusive, and with ``inconclusiveLimit`` 0 the AnalysisRun is
Inconclusive and the Rollout pauses for a human. The guard also keeps ``result[0]`` from being evaluated
on an empty list (an evaluation error, i.e. an Error measurement). Query errors (Prometheus unreachable)
are Error measurements; more than ``consecutiveErrorLimit`` in a row make the run Error, which aborts the
Rollout like a failure. No ``default()``: a default value would let a missing measurement pass.
"""

from __future__ import annotations

from typing import Any

from ..api.common import parse_duration
from ..api.slo import ServiceLevelObjective
from ..generated import generated_name, generated_object
from ..promtext import number
from .budget import budget_fraction
from .expressions import canary_matcher, identity_selector, raw_ratio, recorded_ratio
from .windows import CALENDAR_NOMINAL_SECONDS

PROMETHEUS_ARG = "prometheus-address"
BURN_RATE_METRIC = "burn-rate"
ERROR_BUDGET_METRIC = "error-budget"


def analysis_template_name(slo_name: str) -> str:
    return generated_name(slo_name, "gate")


def go_duration(value: str) -> str:
    """A duration for Argo Rollouts, which parses Go's units (h, m, s; no d or w): 1d -> 24h."""
    seconds = parse_duration(value)
    for unit, size in (("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def has_one_finite(var: str = "result") -> str:
    """The guard of both conditions: exactly one series with a finite value."""
    return f"len({var}) == 1 && !isNaN({var}[0]) && !isInf({var}[0])"


def _gate_window(window: str) -> str:
    """Calendar windows are gated over their nominal rolling length (30d, 90d)."""
    seconds = CALENDAR_NOMINAL_SECONDS.get(window)
    return f"{seconds // 86400}d" if seconds else window


def group_arg(label: str) -> str:
    """The AnalysisTemplate argument choosing a grouped SLO's group by ``label`` (a regex, default all)."""
    return "group-" + label.lower().replace("_", "-")


def _one_group(expr: str, by: list[str] | None) -> str:
    """A grouped SLO's ratio (one series per group) reduced to the worst group whose labels match the gate's
    group arguments (regexes, ``.*`` by default: the worst of all groups); ``expr`` as is when not grouped."""
    if not by:
        return expr
    marked, ones = expr, "vector(1)"
    for label in by:
        marked = f'label_replace({marked}, "okr_group_{label}", "1", "{label}", "{{{{args.{group_arg(label)}}}}}")'
        ones = f'label_replace({ones}, "okr_group_{label}", "1", "", "")'
    return f"max({marked} and on ({', '.join(f'okr_group_{label}' for label in by)}) {ones})"


def burn_rate_query(slo: ServiceLevelObjective) -> str:
    """The gate's burn rate over ``gate.window``: of the canary's series with ``gate.canary``; of the worst
    (or the chosen) group of a grouped SLO."""
    spec, gate = slo.spec, slo.spec.gate
    canary = canary_matcher(gate.canary) if gate.canary is not None else ""
    ratio = _one_group(raw_ratio(spec, gate.window, canary), spec.indicator.group_by)
    return f"{ratio} / {number(budget_fraction(spec.target))}"


def budget_remaining_query(slo: ServiceLevelObjective, excluding: bool = False) -> str:
    """The service's remaining error budget (a fraction) over the SLO window. ``excluding``: a maintenance
    window leaves events out of the budget, so read the recording rules, which skip them (as status does)."""
    spec, window = slo.spec, _gate_window(slo.spec.window)
    by = spec.indicator.group_by
    if excluding:
        ratio = recorded_ratio(window, identity_selector(slo.metadata.name, slo.metadata.namespace or "default"))
        ratio = _one_group(ratio, by) if by else f"sum({ratio})"
        return f"1 - {ratio} / {number(budget_fraction(spec.target))}"
    return f"1 - {_one_group(raw_ratio(spec, window), by)} / {number(budget_fraction(spec.target))}"


def render_analysis_template(
    slo: ServiceLevelObjective,
    *,
    prometheus_address: str,
    labels: dict[str, str] | None = None,
    excluding_maintenance: bool = False,
) -> dict[str, Any] | None:
    """The AnalysisTemplate of ``slo``, or None when its gate is disabled. ``excluding_maintenance``: one of
    its maintenance windows leaves events out of the budget (the error-budget metric reads the records)."""
    gate = slo.spec.gate
    if not gate.enabled:
        return None
    limits: dict[str, Any] = {
        "interval": go_duration(gate.interval),
        "count": gate.count,
        "failureLimit": gate.failure_limit,
        "inconclusiveLimit": gate.inconclusive_limit,
        "consecutiveErrorLimit": gate.consecutive_error_limit,
    }
    if gate.initial_delay is not None:
        limits["initialDelay"] = go_duration(gate.initial_delay)
    max_burn = number(gate.max_burn_rate)
    min_left = number(gate.min_budget_remaining)
    address = f"{{{{args.{PROMETHEUS_ARG}}}}}"
    metrics = [
        {
            "name": BURN_RATE_METRIC,
            **limits,
            "successCondition": f"{has_one_finite()} && result[0] <= {max_burn}",
            "failureCondition": f"{has_one_finite()} && result[0] > {max_burn}",
            "provider": {"prometheus": {"address": address, "query": burn_rate_query(slo)}},
        },
        {
            "name": ERROR_BUDGET_METRIC,
            **limits,
            "successCondition": f"{has_one_finite()} && result[0] >= {min_left}",
            "failureCondition": f"{has_one_finite()} && result[0] < {min_left}",
            "provider": {
                "prometheus": {"address": address, "query": budget_remaining_query(slo, excluding_maintenance)}
            },
        },
    ]
    args: list[dict[str, str]] = [{"name": PROMETHEUS_ARG, "value": prometheus_address}]
    if gate.canary is not None:
        args.append({"name": gate.canary.arg})  # no value: the Rollout must pass the canary's
    for label in slo.spec.indicator.group_by or ():
        args.append({"name": group_arg(label), "value": ".*"})  # the worst group unless the Rollout picks one
    return generated_object(
        "argoproj.io/v1alpha1",
        "AnalysisTemplate",
        analysis_template_name(slo.metadata.name),
        slo,
        {"args": args, "metrics": metrics},
        labels,
    )
