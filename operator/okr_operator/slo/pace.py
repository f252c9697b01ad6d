"""ErrorBudgetPace of an SLO on a calendar window (month, quarter): page when the error budget is spent at
twice the even pace or more (the source documents' "budget burn above 2x the expected rate pages").

The consumed share of the window's budget is compared with the elapsed share of the window:

    consumed share  >=  factor x elapsed share

A rule has no range "since the start of the month", so the figure comes from the operator: for calendar
windows it measures the SLO over the window so far and exports ``okr_slo_error_budget_remaining_ratio``
(``1 - ratio(so far) / budget``). At the window's traffic so far, the share of the whole window's budget
consumed is ``ratio(so far) / budget x elapsed share``, so the comparison above is

    1 - okr_slo_error_budget_remaining_ratio  >=  factor

(the burn rate since the window start at least ``factor``). Rolling windows have no elapsed share: their
burn-rate alerts cover the same ground.
"""

from __future__ import annotations

from typing import Any

from ..api.slo import CALENDAR_WINDOWS, ServiceLevelObjective
from ..okr.alerting import resolve_budget_pace
from ..promtext import literal_labels, literal_text, number, quote
from ..series_names import SLO_BUDGET_REMAINING

BUDGET_PACE_ALERT = "ErrorBudgetPace"


def budget_pace_rules(slo: ServiceLevelObjective, common_annotations: dict[str, str]) -> list[dict[str, Any]]:
    """The SLO's ErrorBudgetPace alert (calendar windows with alerting on), else nothing."""
    spec = slo.spec
    settings = resolve_budget_pace(spec.alerting.error_budget_pace)
    if spec.window not in CALENDAR_WINDOWS or not spec.alerting.enabled or not settings.enabled:
        return []
    assert settings.threshold is not None
    name, namespace = slo.metadata.name, slo.metadata.namespace or "default"
    series = f"{SLO_BUDGET_REMAINING}{{namespace={quote(namespace)}, slo={quote(name)}}}"
    rule: dict[str, Any] = {
        "alert": BUDGET_PACE_ALERT,
        "expr": f"max by (namespace, slo, service) (1 - {series}) >= {number(settings.threshold)}",
    }
    if settings.for_:
        rule["for"] = settings.for_
    rule["labels"] = {**literal_labels(spec.alerting.labels), "severity": settings.severity, "service": spec.service}
    rule["annotations"] = {
        "summary": literal_text(
            f"SLO {namespace}/{name} ({spec.service}) spends its {spec.window}'s error budget too fast"
        ),
        "description": literal_text(
            f"The error budget consumed this {spec.window} is at least {number(settings.threshold)}x the elapsed "
            f"share of the {spec.window} (target {number(spec.target)}%)."
        ),
        **common_annotations,
    }
    return [rule]
