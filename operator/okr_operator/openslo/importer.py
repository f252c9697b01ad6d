"""OpenSLO SLOs (v1 and v1alpha) to okr.dev ServiceLevelObjectives.

One okr.dev SLO per OpenSLO objective (``<name>`` for one objective, ``<name>-<i>`` for several, as Sloth
names them). What has no faithful equivalent is refused with the OpenSLO field and the reason: Timeslices
and RatioTimeslices budgeting, composite SLOs, precomputed (``raw``) ratios, non-Prometheus sources, threshold
metrics other than a 0/1 gauge, windows that are not whole hours/days/weeks or a UTC month/quarter.
Approximations that do not change what is measured (the default alerts when there are no alert policies,
a v1alpha window without a calendar read as rolling) are reported as notes.
"""

from __future__ import annotations

import json
from typing import Any

from ..api.loader import Problem, validate_document
from . import alerts
from .documents import (
    ALERTING_ANNOTATION,
    DISPLAY_NAME_ANNOTATION,
    FIELD_ANNOTATIONS,
    GATE_ANNOTATION,
    INDICATOR_ANNOTATION,
    LABELS_ANNOTATION,
    NAMESPACE_ANNOTATION,
    OBJECTIVE_ANNOTATION,
    V1,
    OpenSLODocument,
    OpenSLOSet,
    Refusal,
    get,
)
from .exporter import indicator_queries
from .queries import from_openslo_query, gauge_selector, v1_query, v1alpha_query
from .timewindows import Notes, v1_window, v1alpha_window

OCCURRENCES = "Occurrences"


def _budgeting(spec: dict[str, Any]) -> None:
    method = get(spec, "budgetingMethod", "spec.budgetingMethod", str, OCCURRENCES)
    if method != OCCURRENCES:
        raise Refusal(
            "spec.budgetingMethod",
            f"{method} has no equivalent: okr-operator budgets by occurrences (good events over all events)",
        )


def _target(objective: dict[str, Any], fld: str) -> float:
    target = get(objective, "target", f"{fld}.target", (int, float))
    percent = get(objective, "targetPercent", f"{fld}.targetPercent", (int, float))
    if (target is None) == (percent is None):
        raise Refusal(fld, "set exactly one of target or targetPercent")
    return round(percent if percent is not None else 100 * target, 9)


def _ratio(good: str | None, bad: str | None, total: str) -> dict[str, Any]:
    return {"ratio": {"errors": bad, "total": total} if bad is not None else {"good": good, "total": total}}


def _v1_ratio(ratio: dict[str, Any], fld: str, data_sources: dict[str, str]) -> dict[str, Any]:
    if ratio.get("raw") is not None:
        raise Refusal(
            f"{fld}.raw",
            "a precomputed ratio cannot be weighted by traffic over each window; give good (or bad) and total",
        )
    present = [part for part in ("good", "bad", "total") if ratio.get(part) is not None]
    if "total" not in present or ("good" in present) == ("bad" in present):
        raise Refusal(fld, "needs total and exactly one of good or bad")
    counter = get(ratio, "counter", f"{fld}.counter", bool, False)
    queries = {}
    for part in ("good", "bad", "total"):
        metric = get(ratio, part, f"{fld}.{part}")
        if metric is not None:
            query = v1_query(metric, f"{fld}.{part}", data_sources)
            queries[part] = from_openslo_query(query, counter=counter, fld=f"{fld}.{part}.metricSource.spec.query")
    return _ratio(queries.get("good"), queries.get("bad"), queries["total"])


def _threshold(query: str, objective: dict[str, Any], fld: str, ofld: str, notes: Notes) -> dict[str, Any]:
    op, value = objective.get("op"), objective.get("value")
    if (op, value) not in (("gte", 1), ("gt", 0)):
        raise Refusal(
            f"{ofld}.op",
            f"{op} {value}: a threshold metric is counted exactly only as a 0/1 gauge that is good at 1 "
            "(op: gte, value: 1 or op: gt, value: 0)",
        )
    notes.append((fld, "read as a 0/1 gauge (boolGauge): each sample is one event, good when it is 1"))
    return {"boolGauge": {"metric": gauge_selector(query, fld)}}


def _v1_sli(spec: dict[str, Any], openslo: OpenSLOSet) -> tuple[dict[str, Any], str]:
    """(the SLI spec, its field path) of a v1 SLO: inline ``indicator`` or the SLI named by ``indicatorRef``."""
    ref = get(spec, "indicatorRef", "spec.indicatorRef", str)
    if ref is not None:
        found = openslo.find(V1, "SLI", ref)
        if found is None:
            raise Refusal("spec.indicatorRef", f"no SLI {ref} in the given files")
        return get(found.raw, "spec", f"SLI/{ref}.spec") or {}, f"SLI/{ref}.spec"
    indicator = get(spec, "indicator", "spec.indicator")
    if indicator is None:
        raise Refusal("spec.indicator", "set indicator or indicatorRef (composite SLOs have no equivalent)")
    return get(indicator, "spec", "spec.indicator.spec") or {}, "spec.indicator.spec"


def _v1_indicator(
    sli: dict[str, Any], sfld: str, objective: dict[str, Any], ofld: str, openslo: OpenSLOSet, notes: Notes
) -> dict[str, Any]:
    data_sources = {
        d.name: str(get(d.raw.get("spec"), "type", f"{d.subject}.spec.type", str, ""))
        for d in openslo.of_kind("DataSource")
        if d.api_version == V1
    }
    ratio = get(sli, "ratioMetric", f"{sfld}.ratioMetric")
    if ratio is not None:
        return _v1_ratio(ratio, f"{sfld}.ratioMetric", data_sources)
    threshold = get(sli, "thresholdMetric", f"{sfld}.thresholdMetric")
    if threshold is None:
        raise Refusal(sfld, "set ratioMetric or thresholdMetric")
    query = v1_query(threshold, f"{sfld}.thresholdMetric", data_sources)
    return _threshold(query, objective, f"{sfld}.thresholdMetric", ofld, notes)


def _v1alpha_indicator(spec: dict[str, Any], objective: dict[str, Any], ofld: str, notes: Notes) -> dict[str, Any]:
    ratio = get(objective, "ratioMetrics", f"{ofld}.ratioMetrics")
    if ratio is not None:
        fld = f"{ofld}.ratioMetrics"
        counter = get(ratio, "incremental", f"{fld}.incremental", bool, False)
        queries = {
            part: from_openslo_query(
                v1alpha_query(get(ratio, part, f"{fld}.{part}") or {}, f"{fld}.{part}"),
                counter=counter,
                fld=f"{fld}.{part}.query",
            )
            for part in ("good", "total")
        }
        return _ratio(queries["good"], None, queries["total"])
    indicator = get(spec, "indicator", "spec.indicator") or {}
    threshold = get(indicator, "thresholdMetric", "spec.indicator.thresholdMetric")
    if threshold is None:
        raise Refusal(ofld, "needs ratioMetrics (or spec.indicator.thresholdMetric)")
    query = v1alpha_query(threshold, "spec.indicator.thresholdMetric")
    return _threshold(query, objective, "spec.indicator.thresholdMetric", ofld, notes)


def _annotation_json(annotations: dict[str, str], key: str) -> Any:
    text = annotations.get(key)
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        raise Refusal(f"metadata.annotations.{key}", "is not JSON (okrctl writes it on export)") from None


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        out[key] = _merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def _exported_indicator(indicator: dict[str, Any], annotations: dict[str, str], notes: Notes) -> dict[str, Any]:
    """The okr.dev indicator saved on export (latency, or a ratio with {{canary}}), while the queries still match."""
    saved = _annotation_json(annotations, INDICATOR_ANNOTATION)
    if saved is None:
        return indicator
    try:
        same = indicator_queries(saved) == indicator_queries(indicator)
    except (ValueError, KeyError, TypeError):
        same = False
    if not same:
        notes.append((f"metadata.annotations.{INDICATOR_ANNOTATION}", "ignored: the queries were changed since export"))
        return indicator
    return saved


def _metadata(doc: OpenSLODocument, name: str, namespace: str | None, notes: Notes) -> dict[str, Any]:
    meta = get(doc.raw, "metadata", "metadata") or {}
    annotations = {str(k): str(v) for k, v in (get(meta, "annotations", "metadata.annotations") or {}).items()}
    out: dict[str, Any] = {"name": name}
    ns = annotations.get(NAMESPACE_ANNOTATION) or namespace
    if ns:
        out["namespace"] = ns
    labels = {}
    for key, value in (get(meta, "labels", "metadata.labels") or {}).items():
        values = value if isinstance(value, list) else [value]
        if len(values) == 1:
            labels[str(key)] = str(values[0])
        else:
            notes.append((f"metadata.labels.{key}", "has several values; Kubernetes labels have one, left out"))
    labels.update(_annotation_json(annotations, LABELS_ANNOTATION) or {})
    if labels:
        out["labels"] = labels
    kept = {k: v for k, v in annotations.items() if k not in FIELD_ANNOTATIONS}
    if meta.get("displayName"):
        kept[DISPLAY_NAME_ANNOTATION] = str(meta["displayName"])
    if kept:
        out["annotations"] = kept
    return out


def _objectives(doc: OpenSLODocument, spec: dict[str, Any]) -> list[dict[str, Any]]:
    objectives = get(spec, "objectives", "spec.objectives", list) or []
    if not objectives:
        raise Refusal("spec.objectives", "at least one objective is required")
    for i, objective in enumerate(objectives):
        if not isinstance(objective, dict):
            raise Refusal(f"spec.objectives[{i}]", "must be a mapping")
        if doc.api_version == V1 and (objective.get("indicator") or objective.get("indicatorRef")):
            raise Refusal(f"spec.objectives[{i}]", "composite SLOs have no equivalent: one indicator per SLO")
    return objectives


def _convert(doc: OpenSLODocument, openslo: OpenSLOSet, namespace: str | None, notes: Notes) -> list[dict[str, Any]]:
    spec = get(doc.raw, "spec", "spec") or {}
    _budgeting(spec)
    window = v1_window(spec, notes) if doc.api_version == V1 else v1alpha_window(spec, notes)
    objectives = _objectives(doc, spec)
    annotations = (get(doc.raw, "metadata", "metadata") or {}).get("annotations") or {}
    alerting = _merge(_annotation_json(annotations, ALERTING_ANNOTATION) or {}, {})
    if doc.api_version == V1:
        sli, sfld = _v1_sli(spec, openslo)
        alerting = _merge(alerting, alerts.alerting_from_policies(spec, window, openslo, notes))
    elif not alerting:
        notes.append(
            ("spec", "v1alpha has no alert policies: the default page and ticket burn-rate alerts are generated")
        )
    out = []
    for i, objective in enumerate(objectives):
        ofld = f"spec.objectives[{i}]"
        if doc.api_version == V1:
            indicator = _v1_indicator(sli, sfld, objective, ofld, openslo, notes)
        else:
            indicator = _v1alpha_indicator(spec, objective, ofld, notes)
        name = doc.name if len(objectives) == 1 else f"{doc.name}-{i}"
        body: dict[str, Any] = {"service": get(spec, "service", "spec.service", str, "")}
        if spec.get("description"):
            body["description"] = str(spec["description"])
        body.update(target=_target(objective, ofld), window=window)
        body["indicator"] = _exported_indicator(indicator, annotations, notes)
        if alerting:
            body["alerting"] = alerting
        gate = _annotation_json(annotations, GATE_ANNOTATION)
        if gate:
            body["gate"] = gate
        meta = _metadata(doc, name, namespace, notes)
        if objective.get("displayName"):
            meta.setdefault("annotations", {})[OBJECTIVE_ANNOTATION] = str(objective["displayName"])
        manifest = {"apiVersion": "okr.dev/v1alpha1", "kind": "ServiceLevelObjective", "metadata": meta, "spec": body}
        out.append(manifest)
    return out


KNOWN_KINDS = ("SLO", "SLI", "AlertPolicy", "AlertCondition", "AlertNotificationTarget", "DataSource", "Service")


def _check_part(doc: OpenSLODocument, openslo: OpenSLOSet) -> list[Problem]:
    """SLIs, AlertPolicies and AlertConditions are converted through the SLOs that use them; say now when an SLO
    using one could not be converted. Services, DataSources and notification targets carry nothing to convert."""
    if doc.kind not in KNOWN_KINDS:
        return [doc.problem("kind", "unknown OpenSLO kind, skipped", "warning")]
    try:
        if doc.kind == "SLI" and doc.api_version == V1:
            spec = get(doc.raw, "spec", "spec") or {}
            if get(spec, "thresholdMetric", "spec.thresholdMetric") is not None:
                _v1_indicator(spec, "spec", {"op": "gte", "value": 1}, "objective", openslo, [])
            else:
                _v1_indicator(spec, "spec", {}, "objective", openslo, [])
        elif doc.kind == "AlertPolicy" and doc.api_version == V1:
            alerts.policy_windows(doc.raw, "", openslo)
        elif doc.kind == "AlertCondition" and doc.api_version == V1:
            alerts.condition_window(doc.raw, "")
    except Refusal as exc:
        return [doc.problem(exc.field.lstrip("."), f"an SLO using it cannot be converted: {exc.message}", "warning")]
    return []


def convert_from_openslo(openslo: OpenSLOSet, *, namespace: str | None = None) -> tuple[list[dict], list[Problem]]:
    """Every OpenSLO SLO as okr.dev manifests that validate, and one line per refusal or note."""
    manifests: list[dict[str, Any]] = []
    problems = list(openslo.problems)
    for doc in openslo.of_kind("SLO"):
        notes: Notes = []
        try:
            converted = _convert(doc, openslo, namespace, notes)
        except Refusal as exc:
            problems.append(doc.problem(exc.field, f"cannot convert: {exc.message}"))
            continue
        invalid = [p for m in converted for p in validate_document(doc.source, doc.index, m).problems]
        if invalid:
            problems.extend(
                doc.problem(p.field, f"cannot convert: the ServiceLevelObjective would be invalid: {p.message}")
                for p in invalid
            )
            continue
        problems.extend(doc.problem(fld, message, "note") for fld, message in notes)
        manifests.extend(converted)
    problems.extend(p for doc in openslo.documents if doc.kind != "SLO" for p in _check_part(doc, openslo))
    return manifests, problems
