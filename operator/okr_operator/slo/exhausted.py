"""SLOErrorBudgetExhausted: the remaining error budget over the whole SLO window is below a floor.

The budget is measured over the SLO window (28 days, say), far longer than any burn-rate window. Reading
28 days of the 5m recordings at every rule evaluation would multiply the SLO's rule cost several times, so
the alert sits in the SLO's tile group (``slo.tiles``), evaluated every ``BUDGET_INTERVAL``: the alert sums
28 days of the 10-minute tiles (4 032 samples per series, once in 10 minutes). The alert lags the status by
at most that interval. Calendar windows are refused by the API (a rule has no range "since the start of the
month").

remaining = 1 - ratio(W) / budget < floor  <=>  ratio(W) > budget * (1 - floor)
"""

from __future__ import annotations

from typing import Any

from ..api.slo import ServiceLevelObjective
from ..promtext import literal_labels, literal_text, number
from .budget import budget_fraction
from .tiles import ERRORS_TILE, INDICATOR_LABEL, TILE_INTERVAL, TOTAL_TILE, indicator_hash, tile_rules, tile_selector

EXHAUSTED_ALERT = "SLOErrorBudgetExhausted"
BUDGET_INTERVAL = TILE_INTERVAL
BUDGET_ERRORS_RECORD = ERRORS_TILE
BUDGET_TOTAL_RECORD = TOTAL_TILE


def budget_group(slo: ServiceLevelObjective, common_annotations: dict[str, str]) -> dict[str, Any] | None:
    """The SLO's tile group: the two tile records (the operator's status reads its long windows from them,
    ``evaluation.coverage``), and the exhausted-budget alert when it is enabled. A grouped SLO's status never
    reads tiles, so without the alert it gets no group."""
    spec = slo.spec
    alert = spec.alerting.enabled and spec.alerting.budget_exhausted.enabled
    if spec.indicator.group_by and not alert:
        return None
    name, namespace = slo.metadata.name, slo.metadata.namespace or "default"
    rules = tile_rules(spec, {"slo": name, "namespace": namespace, "service": spec.service})
    if alert:
        rules.append(_exhausted_alert(slo, common_annotations))
    return {"name": f"okr-slo-{namespace}-{name}-budget", "interval": BUDGET_INTERVAL, "rules": rules}


def _exhausted_alert(slo: ServiceLevelObjective, common_annotations: dict[str, str]) -> dict[str, Any]:
    spec = slo.spec
    settings = spec.alerting.budget_exhausted
    name, namespace = slo.metadata.name, slo.metadata.namespace or "default"
    selector = tile_selector(name, namespace, indicator_hash(spec))
    budget = budget_fraction(spec.target)
    # The tiles' indicator label (their definition's hash) is not the alert's: routes match on the others.
    ratio = (
        f"sum without ({INDICATOR_LABEL}) (sum_over_time({BUDGET_ERRORS_RECORD}{selector}[{spec.window}]))\n"
        f"/\nsum without ({INDICATOR_LABEL}) (sum_over_time({BUDGET_TOTAL_RECORD}{selector}[{spec.window}]))"
    )
    left = (
        "has exhausted its error budget"
        if settings.floor == 0
        else f"has less than {number(100 * settings.floor)}% of its error budget left"
    )
    return {
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
    }
