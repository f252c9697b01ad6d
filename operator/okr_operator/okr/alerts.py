"""Trajectory alerts of a key result, whatever its source: KeyResultOffTrack, KeyResultForecastMiss,
KeyResultCheckInOverdue and ErrorBudgetPace.

How Prometheus sees a key result's value:

- PromQL key results: their own recording rule ``okr:key_result:value`` (the query itself).
- Manual and SLO key results have no series of their own: the operator exports the figures it computed
  (``okr_key_result_value``, ``okr_key_result_forecast_progress_ratio``, ``okr_slo_error_budget_remaining_ratio``
  on its ``/metrics``, labelled namespace/objective/key_result or namespace/slo) and the rules read those,
  aggregated by identity so several replicas or scrapes give one series. The forecast is the operator's
  (least squares over the history or check-ins) for every source.
- Check-ins are in the spec, so when one is due is a constant of the rule (re-rendered on every check-in).

Every alert carries namespace, objective, key_result, owner (when set) and severity labels, plus the
alerting labels of the key result and its objective. Thresholds and severities: ``api/alerts.py``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from ..api.common import parse_duration
from ..api.okr import KeyResult, Objective
from ..promtext import literal_labels, literal_text, number, quote
from ..series_names import KEY_RESULT_FORECAST, SLO_BUDGET_REMAINING
from .alerting import AlertSettings, KeyResultAlerts, resolve_alerting
from .checkins import check_in_points, due_at
from .pace import ASPIRATIONAL_FACTOR
from .period import Period

OFF_TRACK_ALERT = "KeyResultOffTrack"
FORECAST_MISS_ALERT = "KeyResultForecastMiss"
CHECK_IN_OVERDUE_ALERT = "KeyResultCheckInOverdue"
BUDGET_PACE_ALERT = "ErrorBudgetPace"
IDENTITY = ("namespace", "objective", "key_result")


def exported(metric: str, kr: KeyResult) -> str:
    """One series of an operator-exported key-result metric, whoever scraped it how often."""
    sel = f"{{namespace={quote(kr.metadata.namespace or 'default')}, key_result={quote(kr.metadata.name)}}}"
    return f"max by ({', '.join(IDENTITY)}) ({metric}{sel})"


def during(period: Period) -> str:
    """``and on()`` the period is running (alerts about a period's pace stop when it is over)."""
    start, end = number(period.start.timestamp()), number(period.end.timestamp())
    return f"and on() (vector(time()) > {start} and vector(time()) < {end})"


def elapsed_share(period: Period) -> str:
    """The elapsed share of the period at evaluation time, in PromQL."""
    start, length = period.start.timestamp(), (period.end - period.start).total_seconds()
    return f"(time() - {number(start)}) / {number(length)}"


def off_track_expr(kr: KeyResult, value: str, period: Period, factor: float) -> str | None:
    """Progress from ``value`` below ``factor`` x the expected pace; maintain: the value out of bounds."""
    spec = kr.spec
    if spec.direction == "maintain":
        outside = []
        if spec.minimum is not None:
            outside.append(f"{value} < {number(spec.minimum)}")
        if spec.maximum is not None:
            outside.append(f"{value} > {number(spec.maximum)}")
        return f"({' or '.join(outside)})\n{during(period)}"
    if spec.direction in ("increase", "decrease"):
        assert spec.baseline is not None and spec.target is not None
        progress = f"clamp(({value} - {number(spec.baseline)}) / {number(spec.target - spec.baseline)}, 0, 1)"
        return f"{progress} < {number(factor)} * {elapsed_share(period)}\n{during(period)}"
    return None


def key_result_alerts(kr: KeyResult, objective: Objective | None, period: Period, value: str) -> list[dict[str, Any]]:
    """Every trajectory alert of ``kr``; ``value`` is the PromQL of its current value."""
    aspirational = objective is not None and objective.spec.type == "aspirational"
    settings = resolve_alerting(
        kr.spec.alerting, objective.spec.alerting if objective is not None else None, aspirational=aspirational
    )
    what = f"{kr.spec.description} (period {period.label})"
    rules = []
    pace = ASPIRATIONAL_FACTOR if aspirational else 1.0
    assert settings.off_track.threshold is not None and settings.forecast_miss.threshold is not None
    off_track = off_track_expr(kr, value, period, settings.off_track.threshold * pace)
    if off_track is not None:
        rules.append(
            _rule(
                OFF_TRACK_ALERT,
                off_track,
                settings.off_track,
                kr,
                objective,
                settings,
                f"Key result {_ref(kr)} is off track",
                f"{what} is behind the pace its objective needs.",
            )
        )
    if kr.spec.direction in ("increase", "decrease"):
        below = settings.forecast_miss.threshold
        rules.append(
            _rule(
                FORECAST_MISS_ALERT,
                f"{exported(KEY_RESULT_FORECAST, kr)} < {number(below)}\n{during(period)}",
                settings.forecast_miss,
                kr,
                objective,
                settings,
                f"Key result {_ref(kr)} is forecast to miss its target",
                f"{what}: its trend reaches less than {number(100 * below)}% of the target by the period end.",
            )
        )
    rules.extend(_check_in_overdue(kr, objective, period, settings, what))
    rules.extend(_budget_pace(kr, objective, period, settings, what))
    return [r for r in rules if r is not None]


def _check_in_overdue(
    kr: KeyResult, objective: Objective | None, period: Period, settings: KeyResultAlerts, what: str
) -> list[dict[str, Any] | None]:
    manual, every = kr.spec.source.manual, kr.spec.check_in_every
    if manual is None or every is None:
        return []
    points = check_in_points(manual.check_ins)
    due = due_at(points[-1].time if points else None, timedelta(seconds=parse_duration(every)), period.start)
    expr = f"vector(time()) >= {number(due.timestamp())}\n{during(period)}"
    return [
        _rule(
            CHECK_IN_OVERDUE_ALERT,
            expr,
            settings.check_in_overdue,
            kr,
            objective,
            settings,
            f"Key result {_ref(kr)} needs a check-in",
            f"{what}: a check-in was due on {due.date().isoformat()} (one every {every}).",
        )
    ]


def _budget_pace(
    kr: KeyResult, objective: Objective | None, period: Period, settings: KeyResultAlerts, what: str
) -> list[dict[str, Any] | None]:
    """ErrorBudgetPace of a key result measured from an SLO: the SLO's consumed budget against the period."""
    source = kr.spec.source.slo
    if source is None:
        return []
    factor = settings.error_budget_pace.threshold
    assert factor is not None
    ns = kr.metadata.namespace or "default"
    consumed = (
        f"(1 - max by (namespace, slo) ({SLO_BUDGET_REMAINING}{{namespace={quote(ns)}, slo={quote(source.name)}}}))"
    )
    expr = f"{consumed} >= {number(factor)} * {elapsed_share(period)}\n{during(period)}"
    return [
        _rule(
            BUDGET_PACE_ALERT,
            expr,
            settings.error_budget_pace,
            kr,
            objective,
            settings,
            f"Key result {_ref(kr)} spends the error budget of SLO {source.name} too fast",
            f"{what}: the error budget consumed is at least {number(factor)}x the elapsed share of the period.",
            extra={"slo": source.name},
        )
    ]


def _ref(kr: KeyResult) -> str:
    return f"{kr.metadata.namespace or 'default'}/{kr.metadata.name}"


def alert_labels(
    kr: KeyResult, objective: Objective | None, severity: str, labels: dict[str, str], extra: dict[str, str]
) -> dict[str, str]:
    """The labels of every alert about ``kr``: alerting labels, identity, owner (when known), severity."""
    owner = kr.spec.owner or (objective.spec.owner if objective is not None else "")
    labels = {
        **literal_labels(labels),
        "namespace": kr.metadata.namespace or "default",
        "objective": kr.spec.objective_ref.name,
        "key_result": kr.metadata.name,
        **extra,
        "severity": severity,
    }
    if owner:
        labels["owner"] = literal_text(owner)
    return labels


def _rule(
    name: str,
    expr: str,
    alert: AlertSettings,
    kr: KeyResult,
    objective: Objective | None,
    settings: KeyResultAlerts,
    summary: str,
    description: str,
    extra: dict[str, str] | None = None,
) -> dict[str, Any] | None:
    if not alert.enabled:
        return None
    rule: dict[str, Any] = {"alert": name, "expr": expr}
    if alert.for_:
        rule["for"] = alert.for_
    rule["labels"] = alert_labels(kr, objective, alert.severity, settings.labels, extra or {})
    rule["annotations"] = {"summary": literal_text(summary), "description": literal_text(description)}
    return rule
