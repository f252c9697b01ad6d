"""OpenSLO <-> okr.dev mapping: every supported field, every refusal, and the round trip."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from okr_operator.api.loader import load_manifests
from okr_operator.cli.main import cli
from okr_operator.openslo import convert_from_openslo, convert_to_openslo, read_openslo

GOOD = 'sum(rate(http_requests_total{service="checkout",code!~"5.."}[{{.window}}]))'
BAD = 'sum(rate(http_requests_total{service="checkout",code=~"5.."}[{{.window}}]))'
TOTAL = 'sum(rate(http_requests_total{service="checkout"}[{{.window}}]))'


def prom(query: str, **source: Any) -> dict[str, Any]:
    return {"metricSource": {"type": "Prometheus", "spec": {"query": query}, **source}}


def v1_slo(name: str = "checkout-availability", **spec: Any) -> dict[str, Any]:
    body = {
        "service": "checkout",
        "indicator": {
            "metadata": {"name": "checkout-ratio"},
            "spec": {"ratioMetric": {"counter": True, "good": prom(GOOD), "total": prom(TOTAL)}},
        },
        "timeWindow": [{"duration": "28d", "isRolling": True}],
        "budgetingMethod": "Occurrences",
        "objectives": [{"targetPercent": 99.9}],
    }
    body.update(spec)
    return {"apiVersion": "openslo/v1", "kind": "SLO", "metadata": {"name": name}, "spec": body}


def ratio_sli(**ratio: Any) -> dict[str, Any]:
    return {"metadata": {"name": "sli"}, "spec": {"ratioMetric": ratio}}


def convert(tmp_path: Path, *docs: dict[str, Any], namespace: str | None = None):
    path = tmp_path / "openslo.yaml"
    path.write_text(yaml.safe_dump_all(docs, sort_keys=False))
    manifests, problems = convert_from_openslo(read_openslo([str(path)]), namespace=namespace)
    return manifests, problems


def one(tmp_path: Path, *docs: dict[str, Any], **kw: Any) -> dict[str, Any]:
    manifests, problems = convert(tmp_path, *docs, **kw)
    errors = [str(p) for p in problems if p.severity == "error"]
    assert not errors, errors
    assert len(manifests) == 1
    return manifests[0]


def refusal(tmp_path: Path, *docs: dict[str, Any]) -> tuple[str, str]:
    manifests, problems = convert(tmp_path, *docs)
    errors = [p for p in problems if p.severity == "error"]
    assert manifests == [] and len(errors) == 1, [str(p) for p in problems]
    return errors[0].field, errors[0].message


def test_v1_good_total_ratio_converts_field_by_field(tmp_path):
    doc = v1_slo(description="Checkout requests succeed")
    doc["metadata"].update(displayName="Checkout availability", labels={"team": "checkout"}, annotations={"a/b": "c"})
    manifest = one(tmp_path, doc, namespace="shop")
    assert manifest == {
        "apiVersion": "okr.dev/v1alpha1",
        "kind": "ServiceLevelObjective",
        "metadata": {
            "name": "checkout-availability",
            "namespace": "shop",
            "labels": {"team": "checkout"},
            "annotations": {"a/b": "c", "okr.dev/display-name": "Checkout availability"},
        },
        "spec": {
            "service": "checkout",
            "description": "Checkout requests succeed",
            "target": 99.9,
            "window": "28d",
            "indicator": {
                "ratio": {
                    "good": GOOD.replace("{{.window}}", "{{window}}"),
                    "total": TOTAL.replace("{{.window}}", "{{window}}"),
                }
            },
        },
    }


def test_bad_over_total_is_errors_and_target_fraction_is_percent(tmp_path):
    sli = ratio_sli(counter=False, bad=prom(BAD), total=prom(TOTAL))
    manifest = one(tmp_path, v1_slo(indicator=sli, objectives=[{"target": 0.9995}]))
    assert manifest["spec"]["indicator"]["ratio"] == {
        "errors": BAD.replace("{{.window}}", "{{window}}"),
        "total": TOTAL.replace("{{.window}}", "{{window}}"),
    }
    assert manifest["spec"]["target"] == 99.95


def test_window_placeholder_with_spaces(tmp_path):
    sli = ratio_sli(bad=prom("sum(rate(errors_total[{{ .window }}]))"), total=prom("sum(rate(req_total[{{.window}}]))"))
    ratio = one(tmp_path, v1_slo(indicator=sli))["spec"]["indicator"]["ratio"]
    assert ratio == {"errors": "sum(rate(errors_total[{{window}}]))", "total": "sum(rate(req_total[{{window}}]))"}


def test_counter_without_window_becomes_its_rate(tmp_path):
    """OpenSLO README's Prometheus ratioMetric: counters without a range are measured as rates over the window."""
    fragment = yaml.safe_load(Path("tests/data/openslo/spec/readme-ratio-metric-prometheus.fragment.yaml").read_text())
    ratio = one(tmp_path, v1_slo(indicator={"metadata": {"name": "x"}, "spec": fragment}))["spec"]["indicator"]
    where = 'host="*",instance="127.0.0.1:9090"'
    assert ratio == {
        "ratio": {
            "good": f'sum(rate(localhost_server_requests{{code=~"2xx|3xx",{where}}}[{{{{window}}}}]))',
            "total": f'sum(rate(localhost_server_requests{{code="total",{where}}}[{{{{window}}}}]))',
        }
    }


def test_counter_sum_by_keeps_its_grouping(tmp_path):
    sli = ratio_sli(
        counter=True, bad=prom('sum by (route) (req_total{code="500"})'), total=prom("sum by (route) (req_total)")
    )
    ratio = one(tmp_path, v1_slo(indicator=sli))["spec"]["indicator"]["ratio"]
    assert ratio["errors"] == 'sum by (route) (rate(req_total{code="500"}[{{window}}]))'


@pytest.mark.parametrize(
    ("ratio", "field", "why"),
    [
        (
            {"counter": False, "good": prom("sum(ok)"), "total": prom("sum(all)")},
            "good.metricSource.spec.query",
            "gauge",
        ),
        (
            {"counter": True, "good": prom("avg(ok)"), "total": prom("sum(all)")},
            "good.metricSource.spec.query",
            "sum(...)",
        ),
        (
            {"counter": True, "good": prom("sum(rate(ok[5m]))"), "total": prom("x")},
            "good.metricSource.spec.query",
            "sum(...)",
        ),
        (
            {"good": prom("sum(rate(ok[{{.window}}])) {{.foo}}"), "total": prom("x")},
            "good.metricSource.spec.query",
            "{{.window}}",
        ),
        ({"rawType": "success", "raw": prom("ratio")}, "raw", "precomputed"),
        ({"good": prom("x"), "bad": prom("y"), "total": prom("z")}, "", "exactly one of good or bad"),
        (
            {"good": {"metricSource": {"type": "Datadog", "spec": {"query": "sum:x"}}}, "total": prom("z")},
            "good.metricSource.type",
            "Prometheus",
        ),
    ],
)
def test_ratio_metrics_without_an_exact_equivalent_are_refused(tmp_path, ratio, field, why):
    fld, message = refusal(tmp_path, v1_slo(indicator=ratio_sli(**ratio)))
    assert fld == f"spec.indicator.spec.ratioMetric{'.' + field if field else ''}"
    assert why in message


def test_metric_source_ref_resolves_through_data_sources(tmp_path):
    source = {"metricSource": {"metricSourceRef": "prom", "spec": {"query": GOOD}}}
    total = {"metricSource": {"metricSourceRef": "prom", "spec": {"query": TOTAL}}}
    slo = v1_slo(indicator=ratio_sli(good=source, total=total))
    data_source = {
        "apiVersion": "openslo/v1",
        "kind": "DataSource",
        "metadata": {"name": "prom"},
        "spec": {"type": "Prometheus"},
    }
    assert one(tmp_path, slo, data_source)["spec"]["indicator"]["ratio"]["total"].endswith("[{{window}}]))")
    fld, message = refusal(tmp_path, slo)
    assert fld == "spec.indicator.spec.ratioMetric.good.metricSource.metricSourceRef"
    assert "DataSource prom is not in the given files" in message


def test_indicator_ref_resolves_to_an_sli_document(tmp_path):
    sli = {"apiVersion": "openslo/v1", "kind": "SLI", **ratio_sli(bad=prom(BAD), total=prom(TOTAL))}
    sli["metadata"] = {"name": "checkout-errors"}
    slo = v1_slo()
    del slo["spec"]["indicator"]
    slo["spec"]["indicatorRef"] = "checkout-errors"
    assert "errors" in one(tmp_path, slo, sli)["spec"]["indicator"]["ratio"]
    assert refusal(tmp_path, slo) == ("spec.indicatorRef", "cannot convert: no SLI checkout-errors in the given files")


@pytest.mark.parametrize(
    ("window", "expected"),
    [
        ({"duration": "28d", "isRolling": True}, "28d"),
        ({"duration": "2w", "isRolling": True}, "2w"),
        ({"duration": "12h", "isRolling": True}, "12h"),
        ({"duration": "120m", "isRolling": True}, "2h"),
        ({"duration": "1M", "calendar": {"startTime": "2026-01-01 00:00:00", "timeZone": "UTC"}}, "month"),
        (
            {
                "duration": "1Q",
                "isRolling": False,
                "calendar": {"startTime": "2025-10-01 00:00:00", "timeZone": "Etc/UTC"},
            },
            "quarter",
        ),
    ],
)
def test_time_windows(tmp_path, window, expected):
    assert one(tmp_path, v1_slo(timeWindow=[window]))["spec"]["window"] == expected


@pytest.mark.parametrize(
    ("window", "field", "why"),
    [
        ({"duration": "90m", "isRolling": True}, "duration", "whole hours, days or weeks"),
        ({"duration": "1M", "isRolling": True}, "duration", "months differ in length"),
        (
            {"duration": "1Y", "calendar": {"startTime": "2026-01-01 00:00:00", "timeZone": "UTC"}},
            "duration",
            "one month",
        ),
        (
            {"duration": "1M", "calendar": {"startTime": "2026-01-15 00:00:00", "timeZone": "UTC"}},
            "calendar.startTime",
            "first day",
        ),
        (
            {"duration": "1Q", "calendar": {"startTime": "2026-02-01 00:00:00", "timeZone": "UTC"}},
            "calendar.startTime",
            "first day",
        ),
        (
            {"duration": "1M", "calendar": {"startTime": "2026-01-01 00:00:00", "timeZone": "America/New_York"}},
            "calendar.timeZone",
            "00:00 UTC",
        ),
        ({"duration": "5x", "isRolling": True}, "duration", "duration shorthand"),
    ],
)
def test_time_windows_without_an_equivalent_are_refused(tmp_path, window, field, why):
    fld, message = refusal(tmp_path, v1_slo(timeWindow=[window]))
    assert fld == f"spec.timeWindow[0].{field}"
    assert why in message


def test_missing_time_window_uses_the_default_with_a_note(tmp_path):
    manifests, problems = convert(tmp_path, v1_slo(timeWindow=None))
    assert manifests[0]["spec"]["window"] == "28d"
    assert [(p.severity, p.field) for p in problems] == [("note", "spec.timeWindow"), ("note", "spec.alertPolicies")]


@pytest.mark.parametrize(
    ("change", "field", "why"),
    [
        ({"budgetingMethod": "Timeslices"}, "spec.budgetingMethod", "Timeslices has no equivalent"),
        ({"budgetingMethod": "RatioTimeslices"}, "spec.budgetingMethod", "RatioTimeslices has no equivalent"),
        ({"objectives": [{"targetPercent": 99, "indicatorRef": "x"}]}, "spec.objectives[0]", "composite"),
        ({"objectives": [{"target": 0.99, "targetPercent": 99}]}, "spec.objectives[0]", "exactly one of target"),
        ({"objectives": []}, "spec.objectives", "at least one"),
        ({"indicator": None}, "spec.indicator", "indicatorRef"),
        ({"objectives": [{"target": 0}]}, "spec.target", "greater than 0"),
    ],
)
def test_slos_without_an_equivalent_are_refused(tmp_path, change, field, why):
    doc = v1_slo(**change)
    doc["spec"] = {k: v for k, v in doc["spec"].items() if v is not None}
    fld, message = refusal(tmp_path, doc)
    assert (fld, why in message) == (field, True), message


def test_several_objectives_make_one_slo_each(tmp_path):
    objectives = [{"displayName": "Internal", "target": 0.999}, {"displayName": "SLA", "targetPercent": 99}]
    manifests, _ = convert(tmp_path, v1_slo(objectives=objectives))
    assert [(m["metadata"]["name"], m["spec"]["target"], m["metadata"]["annotations"]) for m in manifests] == [
        ("checkout-availability-0", 99.9, {"okr.dev/objective": "Internal"}),
        ("checkout-availability-1", 99, {"okr.dev/objective": "SLA"}),
    ]


def test_threshold_metric_is_a_bool_gauge_only_when_good_at_one(tmp_path):
    sli = {"metadata": {"name": "probe"}, "spec": {"thresholdMetric": prom('probe_success{job="web"}')}}
    manifests, problems = convert(
        tmp_path, v1_slo(indicator=sli, objectives=[{"op": "gte", "value": 1, "target": 0.99}])
    )
    assert manifests[0]["spec"]["indicator"] == {"boolGauge": {"metric": 'probe_success{job="web"}'}}
    notes = {p.field: p.message for p in problems if p.severity == "note"}
    assert "0/1 gauge" in notes["spec.indicator.spec.thresholdMetric"]
    fld, message = refusal(tmp_path, v1_slo(indicator=sli, objectives=[{"op": "lt", "value": 500, "target": 0.99}]))
    assert fld == "spec.objectives[0].op" and "0/1 gauge" in message
    latency = {"metadata": {"name": "p99"}, "spec": {"thresholdMetric": prom("histogram_quantile(0.99, x)")}}
    fld, _ = refusal(tmp_path, v1_slo(indicator=latency, objectives=[{"op": "gt", "value": 0, "target": 0.99}]))
    assert fld == "spec.indicator.spec.thresholdMetric"


def condition(severity: str = "page", op: str = "gt", threshold: float = 14.4, lookback: str = "1h", **extra: Any):
    return {
        "kind": "AlertCondition",
        "metadata": {"name": f"{severity}-{lookback}"},
        "spec": {
            "severity": severity,
            "condition": {"kind": "burnrate", "op": op, "threshold": threshold, "lookbackWindow": lookback, **extra},
        },
    }


def policy(*conditions: dict[str, Any], breaching: bool | None = True, name: str = "p") -> dict[str, Any]:
    spec: dict[str, Any] = {"conditions": list(conditions), "notificationTargets": [{"targetRef": "pager"}]}
    if breaching is not None:
        spec["alertWhenBreaching"] = breaching
    return {"kind": "AlertPolicy", "metadata": {"name": name}, "spec": spec}


def test_burn_rate_conditions_become_single_window_conditions_with_for(tmp_path):
    policies = [policy(condition("page", "gt", 2, "1h", alertAfter="5m")), policy(condition("ticket", "gte", 1, "1d"))]
    alerting = one(tmp_path, v1_slo(alertPolicies=policies))["spec"]["alerting"]
    assert alerting == {
        "burnRateWindows": [
            {"severity": "page", "long": "1h", "short": "1h", "burnRate": 2.0, "for": "5m"},
            {"severity": "ticket", "long": "1d", "short": "1d", "burnRate": 1.0},
        ]
    }


def test_policy_and_condition_refs_resolve(tmp_path):
    cond = {"apiVersion": "openslo/v1", **condition("page", lookback="30m")}
    pol = {"apiVersion": "openslo/v1", **policy({"conditionRef": "page-30m"}, name="fast")}
    slo = v1_slo(alertPolicies=[{"alertPolicyRef": "fast"}])
    windows = one(tmp_path, slo, pol, cond)["spec"]["alerting"]["burnRateWindows"]
    assert windows == [{"severity": "page", "long": "30m", "short": "30m", "burnRate": 14.4}]
    fld, message = refusal(tmp_path, slo, cond)
    assert (fld, message) == (
        "spec.alertPolicies[0].alertPolicyRef",
        "cannot convert: no AlertPolicy fast in the given files",
    )


@pytest.mark.parametrize(
    ("cond", "field", "why"),
    [
        (condition("sev1"), "spec.severity", "page or ticket"),
        (condition(op="lte"), "spec.condition.op", "above the threshold"),
        (condition(threshold=0), "spec.condition.threshold", "above 0"),
        (condition(lookback="1M"), "spec.condition.lookbackWindow", "not fixed durations"),
        (
            {**condition(), "spec": {"severity": "page", "condition": {"kind": "other"}}},
            "spec.condition.kind",
            "burnrate",
        ),
    ],
)
def test_alert_conditions_without_an_equivalent_are_refused(tmp_path, cond, field, why):
    fld, message = refusal(tmp_path, v1_slo(alertPolicies=[policy(cond)]))
    assert fld == f"spec.alertPolicies[0].spec.conditions[0].{field}" and why in message


def test_default_conditions_leave_burn_rate_windows_unset_and_non_breaching_severities_are_disabled(tmp_path):
    short = {"page-1h": "5m", "page-6h": "30m", "ticket-1d": "2h", "ticket-3d": "6h"}
    conditions = [
        condition("page", threshold=14.4, lookback="1h"),
        condition("page", threshold=6, lookback="6h"),
        condition("ticket", threshold=3, lookback="1d"),
        condition("ticket", threshold=1, lookback="3d"),
    ]
    for c in conditions:
        c["metadata"]["annotations"] = {"okr.dev/short-window": short[c["metadata"]["name"]]}
    policies = [policy(c, breaching=c["spec"]["severity"] == "page") for c in conditions]
    alerting = one(tmp_path, v1_slo(alertPolicies=policies))["spec"]["alerting"]
    assert alerting == {"ticket": {"enabled": False}}


def test_no_alert_policies_means_the_default_alerts_with_a_note(tmp_path):
    manifests, problems = convert(tmp_path, v1_slo())
    assert "alerting" not in manifests[0]["spec"]
    assert [(p.severity, p.field) for p in problems] == [("note", "spec.alertPolicies")]


def test_v1alpha_ratio_metrics_and_windows(tmp_path):
    doc = {
        "apiVersion": "openslo/v1alpha",
        "kind": "SLO",
        "metadata": {"name": "api"},
        "spec": {
            "service": "api",
            "budgetingMethod": "Occurrences",
            "timeWindows": [
                {"unit": "Month", "count": 1, "calendar": {"startTime": "2026-01-01 00:00:00", "timeZone": "UTC"}}
            ],
            "objectives": [
                {
                    "target": 0.99,
                    "ratioMetrics": {
                        "incremental": True,
                        "good": {
                            "source": "prometheus",
                            "queryType": "promql",
                            "query": 'api_requests_total{code="200"}',
                        },
                        "total": {"source": "prometheus", "queryType": "promql", "query": "api_requests_total"},
                    },
                }
            ],
        },
    }
    manifest = one(tmp_path, doc)
    assert manifest["spec"]["window"] == "month" and manifest["spec"]["target"] == 99
    assert manifest["spec"]["indicator"]["ratio"]["good"] == 'sum(rate(api_requests_total{code="200"}[{{window}}]))'
    doc["spec"]["objectives"][0]["ratioMetrics"]["good"]["source"] = "datadog"
    assert refusal(tmp_path, doc)[0] == "spec.objectives[0].ratioMetrics.good.source"


def test_other_versions_and_documents(tmp_path):
    v2 = {"apiVersion": "openslo/v2alpha", "kind": "SLO", "metadata": {"name": "x"}, "spec": {}}
    other = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}}
    manifests, problems = convert(tmp_path, v2, other)
    assert manifests == []
    assert [(p.severity, p.field) for p in problems] == [("error", "apiVersion"), ("warning", "")]
    assert "openslo/v2alpha is not supported" in problems[0].message


def test_multi_valued_labels_are_left_out_with_a_note(tmp_path):
    doc = v1_slo()
    doc["metadata"]["labels"] = {"env": ["prod"], "team": ["a", "b"]}
    manifests, problems = convert(tmp_path, doc)
    assert manifests[0]["metadata"]["labels"] == {"env": "prod"}
    assert ("note", "metadata.labels.team") in [(p.severity, p.field) for p in problems]


# ---------------------------------------------------------------------------------------------- round trip

ROUND_TRIP = """
apiVersion: okr.dev/v1alpha1
kind: ServiceLevelObjective
metadata:
  name: checkout-availability
  namespace: shop
  labels: {team: checkout, app.kubernetes.io/part-of: shop}
  annotations: {okr.dev/display-name: Checkout availability, okr.dev/objective: Internal, example.com/owner: sre}
spec:
  service: checkout
  description: Checkout requests succeed
  target: 99.95
  window: 28d
  indicator:
    ratio:
      errors: sum(rate(http_requests_total{service="checkout",code=~"5..",{{canary}}}[{{window}}]))
      total: sum(rate(http_requests_total{service="checkout",{{canary}}}[{{window}}]))
  alerting:
    runbookUrl: https://runbooks.example.com/checkout
    labels: {team: checkout}
    annotations: {dashboard: https://grafana.example.com/d/checkout}
    page: {labels: {pager: primary}}
    ticket: {enabled: false}
    noDataFor: 15m
    budgetExhausted: {enabled: true, floor: 0.2, labels: {policy: freeze}}
    burnRateWindows:
    - {severity: page, long: 1h, short: 5m, burnRate: 14.4, for: 2m}
    - {severity: page, long: 30m, short: 30m, burnRate: 20}
    - {severity: ticket, long: 1d, short: 2h, burnRate: 3}
  gate:
    enabled: true
    maxBurnRate: 3
    minBudgetRemaining: 0.1
    initialDelay: 1m
    canary: {label: version, arg: canary-version}
---
apiVersion: okr.dev/v1alpha1
kind: ServiceLevelObjective
metadata: {name: checkout-latency, namespace: shop}
spec:
  service: checkout
  target: 99
  window: month
  indicator:
    latency: {histogram: http_request_duration_seconds, threshold: 0.25, selector: 'service="checkout"'}
---
apiVersion: okr.dev/v1alpha1
kind: ServiceLevelObjective
metadata: {name: web-probe, namespace: shop}
spec:
  service: web
  target: 99.5
  window: quarter
  indicator:
    boolGauge: {metric: 'probe_success{job="blackbox"}'}
  alerting: {enabled: false}
---
apiVersion: okr.dev/v1alpha1
kind: ServiceLevelObjective
metadata: {name: search-good, namespace: shop}
spec:
  service: search
  target: 99.9
  window: 7d
  indicator:
    ratio:
      good: sum(rate(search_requests_total{code!~"5.."}[{{window}}]))
      total: sum(rate(search_requests_total[{{window}}]))
---
apiVersion: okr.dev/v1alpha1
kind: ServiceLevelObjective
metadata: {name: api-routes, namespace: shop}
spec:
  service: api
  target: 99.5
  window: 28d
  indicator:
    ratio:
      errors: sum by (route) (rate(api_requests_total{code=~"5.."}[{{window}}]))
      total: rate(api_requests_total[{{window}}])
    groupBy: [route]
    maxGroups: 20
"""


def export(tmp_path: Path, text: str) -> tuple[list[dict[str, Any]], Path]:
    source = tmp_path / "slos.yaml"
    source.write_text(text)
    documents, problems = convert_to_openslo(load_manifests([str(source)]))
    assert problems == []
    out = tmp_path / "openslo.yaml"
    out.write_text(yaml.safe_dump_all(documents, sort_keys=False))
    return documents, out


def test_round_trip_keeps_every_supported_field(tmp_path):
    _, exported = export(tmp_path, ROUND_TRIP)
    back, problems = convert_from_openslo(read_openslo([str(exported)]))
    assert [p for p in problems if p.severity != "note"] == []
    original = [m.to_wire() for m in load_manifests([str(tmp_path / "slos.yaml")]).models]
    returned = [d.model.to_wire() for d in (load_manifests_from(tmp_path, back)).documents]
    assert returned == original


def load_manifests_from(tmp_path: Path, manifests: list[dict[str, Any]]):
    path = tmp_path / "back.yaml"
    path.write_text(yaml.safe_dump_all(manifests, sort_keys=False))
    loaded = load_manifests([str(path)])
    assert loaded.errors == []
    return loaded


def test_export_writes_what_openslo_has_fields_for(tmp_path):
    documents, _ = export(tmp_path, ROUND_TRIP)
    slo = documents[0]
    assert slo["metadata"]["displayName"] == "Checkout availability"
    assert slo["metadata"]["labels"] == {"team": "checkout"}
    assert slo["spec"]["indicator"]["spec"]["ratioMetric"]["bad"] == prom(
        'sum(rate(http_requests_total{service="checkout",code=~"5.."}[{{.window}}]))'
    )
    assert slo["spec"]["objectives"] == [{"displayName": "Internal", "targetPercent": 99.95}]
    assert slo["spec"]["timeWindow"] == [{"duration": "28d", "isRolling": True}]
    conditions = [p["spec"]["conditions"][0] for p in slo["spec"]["alertPolicies"]]
    assert [c["spec"]["condition"] for c in conditions] == [
        {"kind": "burnrate", "op": "gt", "threshold": 14.4, "lookbackWindow": "1h", "alertAfter": "2m"},
        {"kind": "burnrate", "op": "gt", "threshold": 20.0, "lookbackWindow": "30m"},
        {"kind": "burnrate", "op": "gt", "threshold": 3.0, "lookbackWindow": "1d"},
    ]
    assert [p["spec"]["alertWhenBreaching"] for p in slo["spec"]["alertPolicies"]] == [True, True, False]
    latency = documents[1]["spec"]
    assert latency["indicator"]["spec"]["ratioMetric"]["good"] == prom(
        'sum(rate(http_request_duration_seconds_bucket{service="checkout", le="0.25"}[{{.window}}]))'
    )
    assert latency["timeWindow"] == [
        {"duration": "1M", "isRolling": False, "calendar": {"startTime": "2020-01-01 00:00:00", "timeZone": "UTC"}}
    ]
    probe = documents[2]["spec"]
    assert probe["indicator"]["spec"] == {"thresholdMetric": prom('probe_success{job="blackbox"}')}
    assert probe["objectives"] == [{"op": "gte", "value": 1, "targetPercent": 99.5}]
    assert "alertPolicies" not in probe


def test_edited_queries_win_over_the_saved_indicator(tmp_path):
    documents, _ = export(tmp_path, ROUND_TRIP)
    edited = copy.deepcopy(documents[1])
    edited["spec"]["indicator"]["spec"]["ratioMetric"]["good"]["metricSource"]["spec"]["query"] = (
        'sum(rate(http_request_duration_seconds_bucket{service="checkout", le="0.5"}[{{.window}}]))'
    )
    manifest, problems = convert(tmp_path, edited)
    assert "ratio" in manifest[0]["spec"]["indicator"]
    assert ("note", "metadata.annotations.okr.dev/indicator") in [(p.severity, p.field) for p in problems]


# ---------------------------------------------------------------------------------------------- CLI


def test_cli_convert_both_ways(tmp_path):
    (tmp_path / "slos.yaml").write_text(ROUND_TRIP)
    runner = CliRunner()
    out = runner.invoke(
        cli, ["convert", "--to", "openslo", "-f", str(tmp_path / "slos.yaml"), "-o", str(tmp_path / "os")]
    )
    assert out.exit_code == 0, out.output
    assert sorted(p.name for p in (tmp_path / "os").iterdir()) == [
        "slo-api-routes.yaml",
        "slo-checkout-availability.yaml",
        "slo-checkout-latency.yaml",
        "slo-search-good.yaml",
        "slo-web-probe.yaml",
    ]
    back = runner.invoke(cli, ["convert", "--from", "openslo", "-f", str(tmp_path / "os")])
    assert back.exit_code == 0, back.output
    assert [d["metadata"]["name"] for d in yaml.safe_load_all(back.stdout)] == [
        "api-routes",
        "checkout-availability",
        "checkout-latency",
        "search-good",
        "web-probe",
    ]


def test_cli_convert_exits_1_on_a_refusal_and_prints_one_line(tmp_path):
    (tmp_path / "slo.yaml").write_text(yaml.safe_dump(v1_slo(budgetingMethod="Timeslices")))
    result = CliRunner().invoke(cli, ["convert", "--from", "openslo", "-f", str(tmp_path / "slo.yaml")])
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        f"{tmp_path / 'slo.yaml'}:0: SLO/checkout-availability: spec.budgetingMethod: cannot convert: Timeslices has "
        "no equivalent: okr-operator budgets by occurrences (good events over all events)"
    )


def test_cli_convert_needs_one_direction(tmp_path):
    result = CliRunner().invoke(cli, ["convert", "-f", "x"])
    assert result.exit_code == 2 and "exactly one of --from openslo or --to openslo" in result.output


def test_validate_says_to_convert_openslo_documents(tmp_path):
    (tmp_path / "slo.yaml").write_text(yaml.safe_dump(v1_slo()))
    result = CliRunner().invoke(cli, ["validate", "-f", str(tmp_path / "slo.yaml")])
    assert result.exit_code == 1
    assert f"okrctl convert --from openslo -f {tmp_path / 'slo.yaml'}" in result.stderr
