"""Render the PrometheusRule ``<key-result>-kr`` of a key result measured by a PromQL query.

- ``okr:key_result:value`` records the query, labelled ``key_result``, ``objective``, ``namespace``, so
  Prometheus keeps the key result's history (the forecast uses ``predict_linear`` on it).
- ``okr:key_result:in_range`` (maintain key results only) records 1 while the value is within min/max;
  its average over the elapsed period is the key result's progress.
- ``KeyResultOffTrack`` fires when progress falls below the at-risk line (0.7 x expected pace) during the
  period, with the pace computed in PromQL from the period's constants. Boolean key results have no
  trajectory, so no alert.
"""

from __future__ import annotations

from typing import Any

from ..api.okr import KeyResult, Objective
from ..api.promql import canonical
from ..generated import generated_name, generated_object
from ..promtext import literal_text, number, quote
from .pace import ASPIRATIONAL_FACTOR, AT_RISK_FACTOR
from .period import Period

VALUE_RECORD = "okr:key_result:value"
IN_RANGE_RECORD = "okr:key_result:in_range"
OFF_TRACK_ALERT = "KeyResultOffTrack"


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


def _off_track_expr(kr: KeyResult, value: str, period: Period, aspirational: bool) -> str | None:
    spec = kr.spec
    start, end = period.start.timestamp(), period.end.timestamp()
    during = f"and on() (vector(time()) > {number(start)} and vector(time()) < {number(end)})"
    if spec.direction == "maintain":
        outside = []
        if spec.minimum is not None:
            outside.append(f"{value} < {number(spec.minimum)}")
        if spec.maximum is not None:
            outside.append(f"{value} > {number(spec.maximum)}")
        return f"({' or '.join(outside)})\n{during}"
    if spec.direction in ("increase", "decrease"):
        assert spec.baseline is not None and spec.target is not None
        pace = AT_RISK_FACTOR * (ASPIRATIONAL_FACTOR if aspirational else 1.0)
        progress = f"clamp(({value} - {number(spec.baseline)}) / {number(spec.target - spec.baseline)}, 0, 1)"
        expected = f"{number(pace)} * (time() - {number(start)}) / {number(end - start)}"
        return f"{progress} < {expected}\n{during}"
    return None


def key_result_rule_groups(kr: KeyResult, objective: Objective | None, period: Period) -> list[dict[str, Any]]:
    """``spec.groups`` for a key result with a prometheus source (empty for other sources)."""
    source = kr.spec.source.prometheus
    if source is None:
        return []
    name, namespace = kr.metadata.name, kr.metadata.namespace or "default"
    labels = {"key_result": name, "objective": kr.spec.objective_ref.name, "namespace": namespace}
    value = f"{VALUE_RECORD}{key_result_selector(name, namespace)}"
    rules: list[dict[str, Any]] = [{"record": VALUE_RECORD, "expr": canonical(source.query), "labels": dict(labels)}]
    if kr.spec.direction == "maintain":
        rules.append(
            {
                "record": IN_RANGE_RECORD,
                "expr": in_range_expr(value, kr.spec.minimum, kr.spec.maximum),
                "labels": dict(labels),
            }
        )
    aspirational = objective is not None and objective.spec.type == "aspirational"
    off_track = _off_track_expr(kr, value, period, aspirational)
    if off_track is not None:
        rules.append(
            {
                "alert": OFF_TRACK_ALERT,
                "expr": off_track,
                "for": "1h",
                "labels": {"severity": "ticket"},
                "annotations": {
                    "summary": literal_text(f"Key result {namespace}/{name} is off track"),
                    "description": literal_text(
                        f"{kr.spec.description} (period {period.label}) is behind the pace its objective needs."
                    ),
                },
            }
        )
    return [{"name": f"okr-kr-{namespace}-{name}", "rules": rules}]


def render_key_result_rule(
    kr: KeyResult, objective: Objective | None, period: Period, *, labels: dict[str, str] | None = None
) -> dict[str, Any] | None:
    """The PrometheusRule of a prometheus-sourced key result, or None for other sources."""
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
