"""A grouped SLO against a real Prometheus: three versions of a service with different error ratios give the
status groups, the worst group and the SLO's figures the synthetic traffic implies; too many groups give
Valid=False, reason TooManyGroups."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from e2e.harness.history import constant, openmetrics_history
from e2e.harness.prometheus import LocalPrometheus
from okr_operator.api.identity import Ref
from okr_operator.evaluation.conditions import find
from okr_operator.evaluation.cycle import Evaluator
from okr_operator.evaluation.snapshot import Snapshot
from okr_operator.prometheus.adapter import PrometheusAdapter
from okr_operator.prometheus.config import PrometheusSettings

SERVICE = "grouped-checkout"
T = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
RATIOS = {"v1": 0.0005, "v2": 0.002, "v3": 0.0001}  # of a 0.1% budget: half, twice (exhausted), a tenth


@pytest.fixture(scope="module")
def prom():
    start = (T - timedelta(days=2)).timestamp()
    specs = [constant(SERVICE, v, start, T.timestamp(), rate=10, error_ratio=r) for v, r in RATIOS.items()]
    with LocalPrometheus() as local:
        local.backfill(openmetrics_history(specs, step=60))
        yield local


def slo(**indicator: Any) -> dict[str, Any]:
    sel = f'service="{SERVICE}"'
    return {
        "apiVersion": "okr.dev/v1alpha1",
        "kind": "ServiceLevelObjective",
        "metadata": {"name": "availability", "namespace": "shop"},
        "spec": {
            "service": SERVICE,
            "target": 99.9,
            "window": "1d",
            "indicator": {
                "ratio": {
                    "errors": f'sum by (version) (rate(http_requests_total{{{sel},code=~"5.."}}[{{{{window}}}}]))',
                    "total": f"rate(http_requests_total{{{sel}}}[{{{{window}}}}])",
                },
                "groupBy": ["version"],
                **indicator,
            },
        },
    }


def evaluate(prom: LocalPrometheus, body: dict[str, Any], sli_source: str = "raw") -> dict[str, Any]:
    adapter = PrometheusAdapter(PrometheusSettings(url=prom.url, timeout_seconds=30))
    evaluator = Evaluator(lambda expr: adapter.query(expr, at=T), sli_source=sli_source)
    return evaluator.evaluate(Snapshot.from_bodies([body]), T).statuses[
        Ref("ServiceLevelObjective", "shop", "availability")
    ]


def test_groups_and_the_worst_group_follow_the_traffic(prom):
    status = evaluate(prom, slo())
    groups = status["groups"]
    assert groups["count"] == 3
    assert groups["worstGroup"] == "version=v2"
    listed = [(g["labels"]["version"], g["state"], g["sli"], g["budgetRemaining"]) for g in groups["worst"]]
    expected = [
        ("v2", "Exhausted", 100 * (1 - 0.002), 1 - 2.0),
        ("v1", "Healthy", 100 * (1 - 0.0005), 1 - 0.5),
        ("v3", "Healthy", 100 * (1 - 0.0001), 1 - 0.1),
    ]
    for (version, state, sli, left), (ev, es, esli, eleft) in zip(listed, expected, strict=True):
        assert (version, state) == (ev, es)
        assert sli == pytest.approx(esli, abs=2e-4)
        assert left == pytest.approx(eleft, abs=2e-3)
    # The SLO's own figures and state are its worst group's.
    assert status["state"] == "Exhausted"
    assert status["sli"] == pytest.approx(99.8, abs=2e-4)
    assert status["errorBudget"]["remaining"] == pytest.approx(-1.0, abs=2e-3)
    assert find(status["conditions"], "Valid")["status"] == "True"


def test_too_many_groups_is_a_condition(prom):
    status = evaluate(prom, slo(maxGroups=2))
    valid = find(status["conditions"], "Valid")
    assert (valid["status"], valid["reason"]) == ("False", "TooManyGroups")
    assert valid["message"].startswith("3 groups of version (maxGroups 2)")
    assert status["groups"] == {"count": 3} and "sli" not in status


def test_key_results_read_one_group_or_the_worst(prom):
    period = f"{(T - timedelta(days=10)).date()}/{(T + timedelta(days=20)).date()}"
    objective = {
        "apiVersion": "okr.dev/v1alpha1",
        "kind": "Objective",
        "metadata": {"name": "reliable", "namespace": "shop"},
        "spec": {"title": "Reliable checkout", "period": period},
    }

    def kr(name: str, **source: Any) -> dict[str, Any]:
        return {
            "apiVersion": "okr.dev/v1alpha1",
            "kind": "KeyResult",
            "metadata": {"name": name, "namespace": "shop"},
            "spec": {
                "objectiveRef": {"name": "reliable"},
                "description": "Keep budget",
                "baseline": 0,
                "target": 1,
                "source": {"slo": {"name": "availability", "field": "errorBudgetRemaining", **source}},
            },
        }

    adapter = PrometheusAdapter(PrometheusSettings(url=prom.url, timeout_seconds=30))
    bodies = [slo(), objective, kr("worst"), kr("v3", group={"version": "v3"}), kr("none", group={"version": "v9"})]
    statuses = Evaluator(lambda expr: adapter.query(expr, at=T)).evaluate(Snapshot.from_bodies(bodies), T).statuses
    current = {n: statuses[Ref("KeyResult", "shop", n)].get("current") for n in ("worst", "v3", "none")}
    assert current["worst"] == pytest.approx(-1.0, abs=2e-3)
    assert current["v3"] == pytest.approx(0.9, abs=2e-3)
    assert current["none"] is None
    metrics = find(statuses[Ref("KeyResult", "shop", "none")]["conditions"], "MetricsAvailable")
    assert (metrics["status"], metrics["reason"]) == ("False", "NoData")


def test_the_gate_measures_the_worst_group_or_the_one_chosen(prom):
    from okr_operator.api import ServiceLevelObjective
    from okr_operator.slo.gate import render_analysis_template

    body = slo()
    body["spec"]["gate"] = {"enabled": True, "window": "1h"}
    template = render_analysis_template(ServiceLevelObjective.model_validate(body), prometheus_address=prom.url)
    assert {"name": "group-version", "value": ".*"} in template["spec"]["args"]
    adapter = PrometheusAdapter(PrometheusSettings(url=prom.url, timeout_seconds=30))

    def measure(metric: int, version: str) -> float:
        query = template["spec"]["metrics"][metric]["provider"]["prometheus"]["query"]
        samples = adapter.query(query.replace("{{args.group-version}}", version), at=T)
        assert len(samples) == 1
        return samples[0].value

    assert measure(0, ".*") == pytest.approx(2.0, rel=0.01)  # burn rate of v2, the worst
    assert measure(0, "v3") == pytest.approx(0.1, rel=0.01)
    assert measure(1, ".*") == pytest.approx(-1.0, abs=2e-3)  # budget left of v2
    assert measure(1, "v1|v3") == pytest.approx(0.5, abs=2e-3)  # the worst of v1 and v3
