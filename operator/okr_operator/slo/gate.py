"""Render the Argo Rollouts AnalysisTemplate ``<slo>-gate`` of a gated SLO.

Two metrics, both from Prometheus:

- ``burn-rate``: the burn rate over ``gate.window`` must stay at or below ``gate.maxBurnRate``.
- ``error-budget``: the remaining error budget over the SLO window must stay at or above
  ``gate.minBudgetRemaining`` (error-budget policy: an exhausted budget freezes rollouts).

No data never passes: Argo Rollouts hands a vector over as a list (``result``); the conditions require
exactly one finite value, so an empty vector or NaN (no traffic) is neither success nor failure, i.e.
Inconclusive, which pauses the rollout for a human once ``inconclusiveLimit`` is exceeded.
"""

from __future__ import annotations

from typing import Any

from ..api.slo import ServiceLevelObjective
from .budget import budget_fraction
from .expressions import raw_ratio
from .rules import generated_metadata, number
from .windows import CALENDAR_NOMINAL_SECONDS

PROMETHEUS_ARG = "prometheus-address"


def analysis_template_name(slo_name: str) -> str:
    return f"{slo_name}-gate"


def _has_one_finite(var: str = "result") -> str:
    return f"len({var}) == 1 && !isNaN({var}[0]) && !isInf({var}[0])"


def _gate_window(window: str) -> str:
    """Calendar windows are gated over their nominal rolling length (30d, 90d)."""
    seconds = CALENDAR_NOMINAL_SECONDS.get(window)
    return f"{seconds // 86400}d" if seconds else window


def render_analysis_template(
    slo: ServiceLevelObjective, *, prometheus_address: str, labels: dict[str, str] | None = None
) -> dict[str, Any] | None:
    """The AnalysisTemplate of ``slo``, or None when its gate is disabled."""
    spec, gate = slo.spec, slo.spec.gate
    if not gate.enabled:
        return None
    budget = budget_fraction(spec.target)
    burn_query = f"{raw_ratio(spec, gate.window)} / {number(budget)}"
    remaining_query = f"1 - {raw_ratio(spec, _gate_window(spec.window))} / {number(budget)}"
    limits = {
        "interval": gate.interval,
        "count": gate.count,
        "failureLimit": gate.failure_limit,
        "inconclusiveLimit": gate.inconclusive_limit,
        "consecutiveErrorLimit": gate.consecutive_error_limit,
    }
    max_burn = number(gate.max_burn_rate)
    min_left = number(gate.min_budget_remaining)
    metrics = [
        {
            "name": "burn-rate",
            **limits,
            "successCondition": f"{_has_one_finite()} && result[0] <= {max_burn}",
            "failureCondition": f"{_has_one_finite()} && result[0] > {max_burn}",
            "provider": {"prometheus": {"address": f"{{{{args.{PROMETHEUS_ARG}}}}}", "query": burn_query}},
        },
        {
            "name": "error-budget",
            **limits,
            "successCondition": f"{_has_one_finite()} && result[0] >= {min_left}",
            "failureCondition": f"{_has_one_finite()} && result[0] < {min_left}",
            "provider": {"prometheus": {"address": f"{{{{args.{PROMETHEUS_ARG}}}}}", "query": remaining_query}},
        },
    ]
    namespace = slo.metadata.namespace or "default"
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "AnalysisTemplate",
        "metadata": generated_metadata(
            analysis_template_name(slo.metadata.name),
            namespace,
            slo.kind,
            slo.metadata.name,
            slo.metadata.uid,
            labels or {},
        ),
        "spec": {
            "args": [{"name": PROMETHEUS_ARG, "value": prometheus_address}],
            "metrics": metrics,
        },
    }
