"""SLOErrorBudgetExhausted: the remaining error budget over the whole SLO window is below a floor.

The budget is measured over the SLO window (28 days, say), far longer than any burn-rate window. Reading
28 days of the 5m recordings at every rule evaluation would multiply the SLO's rule cost several times, so
the alert has a group of its own evaluated every ``BUDGET_INTERVAL``: two recording rules keep the 10m
averages of the 5m rates, and the alert sums 28 days of those (4 032 samples per series, once in 10 minutes).
The alert lags the status by at most that interval. Calendar windows are refused by the API (a rule has
no range "since the start of the month").

remaining = 1 - ratio(W) / budget < floor  <=>  ratio(W) > budget * (1 - floor)
"""

from __future__ import annotations

from typing import Any

from ..api.slo import ServiceLevelObjective
from ..promtext import literal_labels, literal_text, number
from .budget import budget_fraction
from .expressions import ERRORS_RECORD, TOTAL_RECORD, identity_selector

EXHAUSTED_ALERT = "SLOErrorBudgetExhausted"
BUDGET_INTERVAL = "10m"
BUDGET_ERRORS_RECORD = f"slo:sli_errors:rate{BUDGET_INTERVAL}"
BUDGET_TOTAL_RECORD = f"slo:sli_total:rate{BUDGET_INTERVAL}"


def budget_group(slo: ServiceLevelObjective, common_annotations: dict[str, str]) -> dict[str, Any] | None:
    """The rule group of the SLO's exhausted-budget alert, or None when it is not enabled."""
    spec = slo.spec
    settings = spec.alerting.budget_exhausted
    if not (spec.alerting.enabled and settings.enabled):
        return None
    name, namespace = slo.metadata.name, slo.metadata.namespace or "default"
    selector = identity_selector(name, namespace)
    budget = budget_fraction(spec.target)
    ratio = (
        f"sum_over_time({BUDGET_ERRORS_RECORD}{selector}[{spec.window}])\n"
        f"/\nsum_over_time({BUDGET_TOTAL_RECORD}{selector}[{spec.window}])"
    )
    left = (
        "has exhausted its error budget"
        if settings.floor == 0
        else f"has less than {number(100 * settings.floor)}% of its error budget left"
    )
    return {
        "name": f"okr-slo-{namespace}-{name}-budget",
        "interval": BUDGET_INTERVAL,
        "rules": [
            {"record": BUDGET_ERRORS_RECORD, "expr": f"avg_over_time({ERRORS_RECORD}{selector}[{BUDGET_INTERVAL}])"},
            {"record": BUDGET_TOTAL_RECORD, "expr": f"avg_over_time({TOTAL_RECORD}{selector}[{BUDGET_INTERVAL}])"},
            {
                "alert": EXHAUSTED_ALERT,
                "expr": f"(\n{ratio}\n) > {number(budget * (1 - settings.floor))}",
                "labels": {
                    **literal_labels(spec.alerting.labels),
                    **literal_labels(settings.labels),
                    "severity": str(settings.severity),
                    "service": spec.service,
                },
                "annotations": {
                    "summary": literal_text(f"SLO {namespace}/{name} ({spec.service}) {left}"),
                    "description": literal_text(
                        f"More than {number(100 * (1 - settings.floor))}% of the error budget "
                        f"({number(100 * budget)}% of events over {spec.window}) is spent."
                    ),
                    **common_annotations,
                },
            },
        ],
    }
