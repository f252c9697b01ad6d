"""Render one prometheus-operator PrometheusRule per SLO: 2 recording rules and up to 3 alerts.

Rules per SLO (availability SLO with both alerts): 5, against Sloth's 17 and Pyrra's 13-15, with the
same page/ticket conditions. The windows of each condition are derived from the two recorded 5m rates
(see ``expressions``), except the page's 1h window, read from the raw indicator (``long_window_ratio``): no
rule reads more than an hour of raw series.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..api.slo import ServiceLevelObjective, ServiceLevelObjectiveSpec
from ..api.slo_alerting import Severity
from ..generated import generated_name, generated_object
from ..maintenance.schedule import Interval
from ..promtext import literal_labels, literal_text, number
from .budget import budget_fraction
from .exhausted import budget_group
from .expressions import (
    ERRORS_RECORD,
    TOTAL_RECORD,
    identity_selector,
    range_seconds,
    raw_errors,
    raw_ratio,
    raw_total,
    recorded_plain_ratio,
    recorded_ratio,
)
from .grouping import with_group_guard
from .maintenance_rules import with_maintenance
from .pace import budget_pace_rules
from .windows import (
    BASE_WINDOW,
    CHAINED_MAX_SECONDS,
    LEAD_ABOVE_SECONDS,
    RAW_LONG_MAX_SECONDS,
    BurnRateCondition,
    burn_rate_conditions,
)

BURN_ALERT = "SLOErrorBudgetBurn"
ABSENT_ALERT = "SLOMetricsAbsent"


def prometheus_rule_name(slo_name: str) -> str:
    return generated_name(slo_name, "slo")


def long_window_ratio(spec: ServiceLevelObjectiveSpec, window: str, selector: str, raw: bool) -> str:
    """Error ratio over a burn-rate condition's long window, in the cheapest form that delays no alert
    (docs/architecture.md, "What the rules cost"):

    - up to an hour, where ``raw`` allows it: the raw indicator (exact from the first minute, and cheap);
    - up to an hour otherwise, and beyond a day: ``recorded_ratio`` (chained, or lead-corrected);
    - in between: the plain sum, which trails a change by 2.5 minutes. With the workbook's pairs that delays
      only the page of a burn between 6x and 14.4x (its 6h window decides, after 150 minutes or more) and no
      ticket under steady traffic: 1d above 3x implies 3d above 1x, which is lead-corrected.
    """
    if _reads_raw(window, raw):
        return raw_ratio(spec, window)
    seconds = range_seconds(window)
    if seconds <= CHAINED_MAX_SECONDS or seconds > LEAD_ABOVE_SECONDS:
        return recorded_ratio(window, selector)
    return recorded_plain_ratio(window, selector)


def _reads_raw(window: str, raw: bool) -> bool:
    """Whether a long window is read from the raw indicator (up to an hour, where ``raw`` allows it)."""
    return raw and range_seconds(window) <= RAW_LONG_MAX_SECONDS


def _condition_expr(
    condition: BurnRateCondition, spec: ServiceLevelObjectiveSpec, selector: str, budget: float, raw: bool
) -> str:
    """One burn-rate condition. The short window, a plain sum (it passes the threshold long before the long
    window does, so its lag delays nothing), comes first: the alert keeps the recorded series' labels (slo,
    namespace) also where the long window is the raw indicator, which is joined ``on ()``."""
    threshold = number(condition.factor * budget)
    if condition.short == condition.long:  # a single-window condition
        return f"(\n  {recorded_ratio(condition.long, selector)} > {threshold}\n)"
    long = long_window_ratio(spec, condition.long, selector, raw)
    join = "and on ()" if _reads_raw(condition.long, raw) else "and"
    short = recorded_plain_ratio(condition.short, selector)
    return f"(\n  {short} > {threshold}\n  {join}\n  {long} > {threshold}\n)"


def raw_long_windows(slo: ServiceLevelObjective, maintenance: Sequence[Interval] = ()) -> bool:
    """Whether the SLO's burn alerts read long windows of up to an hour from the raw indicator: not for a grouped
    SLO (its raw ratio per group would bypass the records' cardinality guard) nor while a maintenance window
    excludes events (the raw indicator would count them; the records leave them out)."""
    return not slo.spec.indicator.group_by and not any(i.exclude for i in maintenance)


def _describe(conditions: list[BurnRateCondition]) -> str:
    return "; ".join(
        f"over {c.long}{'' if c.short == c.long else f' and {c.short}'} above {number(c.factor)}x" for c in conditions
    )


def _by_hold(conditions: list[BurnRateCondition]) -> list[tuple[str | None, list[BurnRateCondition]]]:
    """Conditions grouped by their ``for`` (one alert rule each), in first-seen order."""
    groups: dict[str | None, list[BurnRateCondition]] = {}
    for condition in conditions:
        groups.setdefault(condition.hold, []).append(condition)
    return list(groups.items())


def _burn_alert(
    slo: ServiceLevelObjective,
    severity: Severity,
    routing_labels: dict[str, str],
    conditions: list[BurnRateCondition],
    hold: str | None,
    common_annotations: dict[str, str],
    raw: bool,
) -> dict[str, Any]:
    """The page or ticket alert over ``conditions`` (joined with ``or``), firing after ``hold`` if set; ``raw``:
    long windows up to an hour may read the raw indicator (see ``raw_long_windows``)."""
    spec, name, namespace = slo.spec, slo.metadata.name, slo.metadata.namespace or "default"
    selector = identity_selector(name, namespace)
    budget = budget_fraction(spec.target)
    rule: dict[str, Any] = {
        "alert": BURN_ALERT,
        "expr": "\nor\n".join(_condition_expr(c, spec, selector, budget, raw) for c in conditions),
    }
    if hold:
        rule["for"] = hold
    rule["labels"] = {
        **literal_labels(spec.alerting.labels),
        **literal_labels(routing_labels),
        "severity": str(severity),
        "service": spec.service,
    }
    rule["annotations"] = {
        "summary": literal_text(
            f"SLO {namespace}/{name} ({spec.service}, {number(spec.target)}% over "
            f"{spec.window}) is burning its error budget too fast"
        ),
        "description": literal_text(
            f"Error budget burn {_describe(conditions)} (budget {number(100 * budget)}% of events)."
        ),
        **common_annotations,
    }
    return rule


def slo_rule_groups(slo: ServiceLevelObjective, maintenance: Sequence[Interval] = ()) -> list[dict[str, Any]]:
    """The ``spec.groups`` of the SLO's PrometheusRule (also usable as a plain Prometheus rule file), with the
    SLO's ``maintenance`` intervals applied (quiet alerts, events left out: ``maintenance_rules``)."""
    spec = slo.spec
    name, namespace = slo.metadata.name, slo.metadata.namespace or "default"
    identity = {"slo": name, "namespace": namespace, "service": spec.service}
    selector = identity_selector(name, namespace)
    rules: list[dict[str, Any]] = [
        {"record": ERRORS_RECORD, "expr": raw_errors(spec, BASE_WINDOW), "labels": dict(identity)},
        {"record": TOTAL_RECORD, "expr": raw_total(spec, BASE_WINDOW), "labels": dict(identity)},
    ]
    alerting = spec.alerting
    common_annotations = {k: literal_text(v) for k, v in sorted(alerting.annotations.items())}
    if alerting.runbook_url:
        common_annotations["runbook_url"] = alerting.runbook_url
    if alerting.enabled:
        conditions = burn_rate_conditions(spec)
        for severity, routing in ((Severity.PAGE, alerting.page), (Severity.TICKET, alerting.ticket)):
            chosen = [c for c in conditions if c.severity == severity]
            if not routing.enabled:
                continue
            rules.extend(
                _burn_alert(
                    slo, severity, routing.labels, held, hold, common_annotations, raw_long_windows(slo, maintenance)
                )
                for hold, held in _by_hold(chosen)
            )
        rules.append(
            {
                "alert": ABSENT_ALERT,
                "expr": f"absent({TOTAL_RECORD}{selector})",
                "for": alerting.no_data_for,
                "labels": {**literal_labels(alerting.labels), "severity": "ticket", "service": spec.service},
                "annotations": {
                    "summary": literal_text(f"SLO {namespace}/{name} has no SLI data"),
                    "description": literal_text(
                        f"No events measured for SLO {namespace}/{name} for {alerting.no_data_for}: the "
                        "indicator's series are missing or the service gets no traffic."
                    ),
                    **common_annotations,
                },
            }
        )
        rules.extend(budget_pace_rules(slo, common_annotations))
    budget = budget_group(slo, common_annotations)
    groups = [{"name": f"okr-slo-{namespace}-{name}", "rules": rules}, *([budget] if budget else [])]
    return with_maintenance(with_group_guard(groups, spec), maintenance)


def render_prometheus_rule(
    slo: ServiceLevelObjective, *, labels: dict[str, str] | None = None, maintenance: Sequence[Interval] = ()
) -> dict[str, Any]:
    """The PrometheusRule object generated for ``slo``.

    ``labels`` are the extra labels a Prometheus ``ruleSelector`` needs (e.g. ``release: kube-prometheus-stack``).
    """
    return generated_object(
        "monitoring.coreos.com/v1",
        "PrometheusRule",
        prometheus_rule_name(slo.metadata.name),
        slo,
        {"groups": slo_rule_groups(slo, maintenance)},
        labels,
    )
