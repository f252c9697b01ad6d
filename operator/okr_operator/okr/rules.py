"""Render the PrometheusRule ``<key-result>-kr`` of a key result, whatever its source.

- ``okr:key_result:value`` (PromQL key results) records the query, labelled ``key_result``, ``objective``,
  ``namespace``, so Prometheus keeps the key result's history.
- ``okr:key_result:in_range`` (maintain PromQL key results) records 1 while the value is within min/max;
  its average over the elapsed period is the key result's progress.
- The trajectory alerts of every source (``okr/alerts.py``): KeyResultOffTrack when progress falls below
  the at-risk line (0.7 x expected pace) during the period, with the pace computed in PromQL from the
  period's constants; KeyResultForecastMiss; KeyResultCheckInOverdue; ErrorBudgetPace. Boolean key results
  have no trajectory, so no pace or forecast alert.
"""

from __future__ import annotations

from typing import Any

from ..api.okr import KeyResult, Objective
from ..api.promql import canonical
from ..generated import generated_name, generated_object
from ..promtext import number, quote
from ..series_names import KEY_RESULT_VALUE
from .alerts import OFF_TRACK_ALERT, exported, key_result_alerts
from .period import Period

VALUE_RECORD = "okr:key_result:value"
IN_RANGE_RECORD = "okr:key_result:in_range"
__all__ = ["IN_RANGE_RECORD", "OFF_TRACK_ALERT", "VALUE_RECORD", "key_result_rule_groups", "render_key_result_rule"]


def prometheus_rule_name(key_result_name: str) -> str:
    return generated_name(key_result_name, "kr")


def key_result_selector(name: str, namespace: str) -> str:
    return f"{{key_result={quote(name)}, namespace={quote(namespace)}}}"


def in_range_expr(value: str, minimum: float | None, maximum: float | None) -> str:
    """1 while ``value`` is within the bounds, else 0 (``(v >= bool min) * (v <= bool max)``)."""
    parts = []
    if minimum is not None:
        parts.append(f"({value} >= bool {number(minimum)})")
    if maximum is not None:
        parts.append(f"({value} <= bool {number(maximum)})")
    return " * ".join(parts)


def key_result_rule_groups(kr: KeyResult, objective: Objective | None, period: Period) -> list[dict[str, Any]]:
    """``spec.groups`` for a key result: its recording rules (PromQL sources) and trajectory alerts."""
    name, namespace = kr.metadata.name, kr.metadata.namespace or "default"
    labels = {"key_result": name, "objective": kr.spec.objective_ref.name, "namespace": namespace}
    source = kr.spec.source.prometheus
    rules: list[dict[str, Any]] = []
    if source is not None:
        value = f"{VALUE_RECORD}{key_result_selector(name, namespace)}"
        rules.append({"record": VALUE_RECORD, "expr": canonical(source.query), "labels": dict(labels)})
        if kr.spec.direction == "maintain":
            rules.append(
                {
                    "record": IN_RANGE_RECORD,
                    "expr": in_range_expr(value, kr.spec.minimum, kr.spec.maximum),
                    "labels": dict(labels),
                }
            )
    else:
        value = exported(KEY_RESULT_VALUE, kr)
    rules.extend(key_result_alerts(kr, objective, period, value))
    if not rules:
        return []
    return [{"name": f"okr-kr-{namespace}-{name}", "rules": rules}]


def render_key_result_rule(
    kr: KeyResult, objective: Objective | None, period: Period, *, labels: dict[str, str] | None = None
) -> dict[str, Any] | None:
    """The PrometheusRule of a key result, or None when it has no rule (every alert switched off)."""
    groups = key_result_rule_groups(kr, objective, period)
    if not groups:
        return None
    return generated_object(
        "monitoring.coreos.com/v1",
        "PrometheusRule",
        prometheus_rule_name(kr.metadata.name),
        kr,
        {"groups": groups},
        labels,
    )
