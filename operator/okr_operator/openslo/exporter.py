"""okr.dev ServiceLevelObjectives to OpenSLO v1 SLO documents (what ``oslo validate`` accepts).

One OpenSLO SLO per okr.dev SLO, with the SLI and the alert policies inline:

- ratio indicators are ``ratioMetric`` good (or bad) and total Prometheus queries over ``[{{.window}}]``;
  latency indicators the same from the histogram's ``_bucket``/``_count``; boolGauge indicators a
  ``thresholdMetric`` good at 1 (``op: gte, value: 1``).
- the target is ``targetPercent``; the window a rolling ``timeWindow`` or a calendar month/quarter in UTC.
- every burn-rate condition (declared or default) is an AlertPolicy with one burnrate AlertCondition.
- what OpenSLO has no field for goes into ``okr.dev/...`` annotations (namespace, alerting routing, gate,
  the latency or canary form of the indicator, label keys OpenSLO does not allow), so converting back
  gives the same manifest.
"""

from __future__ import annotations

import json
import re
from typing import Any

from ..api import ServiceLevelObjective
from ..api.slo import Indicator
from ..promtext import quote
from ..slo.expressions import le_value
from .alerts import to_openslo_policies
from .documents import (
    ALERTING_ANNOTATION,
    DISPLAY_NAME_ANNOTATION,
    GATE_ANNOTATION,
    INDICATOR_ANNOTATION,
    LABELS_ANNOTATION,
    NAMESPACE_ANNOTATION,
    OBJECTIVE_ANNOTATION,
    V1,
)
from .queries import OPENSLO_WINDOW, to_openslo_query
from .timewindows import to_openslo_window

# OpenSLO label keys and display names (go-sdk validation rules).
_LABEL_KEY = re.compile(r"^[a-zA-Z0-9]([-._a-zA-Z0-9]{0,61}[a-zA-Z0-9])?$")
MAX_DISPLAY_NAME = 63


def _metric(query: str) -> dict[str, Any]:
    return {"metricSource": {"type": "Prometheus", "spec": {"query": query}}}


def _series(name: str, matchers: str, *extra: str) -> str:
    inner = ", ".join(m for m in (matchers.strip().rstrip(","), *extra) if m)
    return f"{name}{{{inner}}}"


def indicator_queries(indicator: dict[str, Any]) -> dict[str, Any]:
    """The OpenSLO SLI spec (``ratioMetric`` or ``thresholdMetric``) of an okr.dev indicator (manifest form)."""
    model = Indicator.model_validate(indicator)
    if model.ratio is not None:
        ratio = model.ratio
        parts = {"bad": ratio.errors, "good": ratio.good, "total": ratio.total}  # one of bad and good is set
        metrics = {k: _metric(to_openslo_query(v)) for k, v in parts.items() if v is not None}
        return {"ratioMetric": {"counter": False, **metrics}}
    if model.latency is not None:
        lat = model.latency
        bucket = _series(f"{lat.histogram}_bucket", lat.selector, f"le={quote(le_value(lat.threshold))}")
        count = _series(f"{lat.histogram}_count", lat.selector)
        return {
            "ratioMetric": {
                "counter": False,
                "good": _metric(f"sum(rate({bucket}[{OPENSLO_WINDOW}]))"),
                "total": _metric(f"sum(rate({count}[{OPENSLO_WINDOW}]))"),
            }
        }
    assert model.bool_gauge is not None
    return {"thresholdMetric": _metric(model.bool_gauge.metric)}


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _extension_annotations(slo: ServiceLevelObjective) -> dict[str, str]:
    """okr.dev fields OpenSLO has no place for, as JSON annotations (only those not at their defaults)."""
    spec, out = slo.spec, {}
    if slo.metadata.namespace:
        out[NAMESPACE_ANNOTATION] = slo.metadata.namespace
    alerting = spec.alerting.model_dump(by_alias=True, exclude_defaults=True, mode="json")
    alerting.pop("burnRateWindows", None)
    if alerting:
        out[ALERTING_ANNOTATION] = _json(alerting)
    gate = spec.gate.model_dump(by_alias=True, exclude_defaults=True, mode="json")
    if gate:
        out[GATE_ANNOTATION] = _json(gate)
    ratio = spec.indicator.ratio
    grouped = spec.indicator.group_by is not None or "maxGroups" in spec.indicator.model_dump(
        by_alias=True, exclude_defaults=True
    )
    canary = ratio is not None and "{{canary}}" in _json(ratio.to_wire())
    if spec.indicator.latency is not None or canary or grouped:
        out[INDICATOR_ANNOTATION] = _json(spec.indicator.to_wire())
    odd = {k: v for k, v in (slo.metadata.labels or {}).items() if not _LABEL_KEY.match(k)}
    if odd:
        out[LABELS_ANNOTATION] = _json(odd)
    return out


def _metadata(slo: ServiceLevelObjective) -> dict[str, Any]:
    annotations = dict(slo.metadata.annotations or {})
    annotations.pop(OBJECTIVE_ANNOTATION, None)
    meta: dict[str, Any] = {"name": slo.metadata.name}
    display = annotations.get(DISPLAY_NAME_ANNOTATION)
    if display and len(display) <= MAX_DISPLAY_NAME:
        meta["displayName"] = annotations.pop(DISPLAY_NAME_ANNOTATION)
    labels = {k: v for k, v in (slo.metadata.labels or {}).items() if _LABEL_KEY.match(k)}
    if labels:
        meta["labels"] = labels
    annotations.update(_extension_annotations(slo))
    if annotations:
        meta["annotations"] = dict(sorted(annotations.items()))
    return meta


def slo_to_openslo(slo: ServiceLevelObjective) -> dict[str, Any]:
    """The OpenSLO v1 SLO document of one okr.dev SLO."""
    spec = slo.spec
    objective: dict[str, Any] = {}
    display = (slo.metadata.annotations or {}).get(OBJECTIVE_ANNOTATION)
    if display:
        objective["displayName"] = display
    if spec.indicator.bool_gauge is not None:
        objective.update(op="gte", value=1)
    objective["targetPercent"] = spec.target
    body: dict[str, Any] = {}
    if spec.description:
        body["description"] = spec.description
    body["service"] = spec.service
    body["indicator"] = {
        "metadata": {"name": f"{slo.metadata.name}-sli"},
        "spec": indicator_queries(spec.indicator.to_wire()),
    }
    body["timeWindow"] = [to_openslo_window(spec.window)]
    body["budgetingMethod"] = "Occurrences"
    body["objectives"] = [objective]
    policies = to_openslo_policies(slo)
    if policies:
        body["alertPolicies"] = policies
    return {"apiVersion": V1, "kind": "SLO", "metadata": _metadata(slo), "spec": body}
