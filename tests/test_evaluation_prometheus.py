"""The evaluation engine against a real Prometheus holding 29 days of backfilled synthetic traffic.

Expected figures are computed here from the traffic definition, independently of the engine.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from e2e.harness.history import constant, openmetrics_history
from e2e.harness.prometheus import LocalPrometheus
from okr_operator.api import KeyResult, Objective, ServiceLevelObjective
from okr_operator.api.identity import Ref
from okr_operator.evaluation.cycle import Evaluator
from okr_operator.evaluation.snapshot import Snapshot
from okr_operator.prometheus.adapter import PrometheusAdapter
from okr_operator.prometheus.config import PrometheusSettings

pytestmark = pytest.mark.tools  # a real Prometheus (built by make tools)

SERVICE = "eval-checkout"
ERROR_RATIO = 0.0005  # 99.95% good: half of a 99.9% budget
SLOW_SHARE = 0.005  # 0.5% of requests take 0.4 s: half of a 99% latency budget
NS = "team"


def at_hour(dt: datetime) -> datetime:
    return dt.replace(minute=0, second=0, microsecond=0)


T = at_hour(datetime.now(UTC)) - timedelta(hours=2)  # evaluation time; data ends here
PERIOD = f"{(T - timedelta(days=30)).date()}/{(T + timedelta(days=59)).date()}"


@pytest.fixture(scope="module")
def prom():
    start = (T - timedelta(days=29)).timestamp()
    spec = constant(
        SERVICE,
        "v1",
        start,
        T.timestamp(),
        rate=10,
        error_ratio=ERROR_RATIO,
        latency=((0.05, 1 - SLOW_SHARE), (0.4, SLOW_SHARE)),
    )
    with LocalPrometheus() as local:
        local.backfill(openmetrics_history([spec], step=60))
        yield local


def adapter_for(prom: LocalPrometheus) -> PrometheusAdapter:
    return PrometheusAdapter(PrometheusSettings(url=prom.url, timeout_seconds=30))


def obj(kind: str, name: str, spec: dict[str, Any], status: dict[str, Any] | None = None) -> dict[str, Any]:
    body = {"apiVersion": "okr.dev/v1alpha1", "kind": kind, "metadata": {"name": name, "namespace": NS}, "spec": spec}
    if status:
        body["status"] = status
    return body


def availability(name: str = "availability") -> dict[str, Any]:
    return obj(
        "ServiceLevelObjective",
        name,
        {
            "service": SERVICE,
            "target": 99.9,
            "window": "28d",
            "indicator": {
                "ratio": {
                    "errors": f'sum(rate(http_requests_total{{service="{SERVICE}",code=~"5.."}}[{{{{window}}}}]))',
                    "total": f'sum(rate(http_requests_total{{service="{SERVICE}"}}[{{{{window}}}}]))',
                }
            },
        },
    )


def manifests() -> list[dict[str, Any]]:
    t = T.date()
    return [
        availability(),
        obj(
            "ServiceLevelObjective",
            "latency",
            {
                "service": SERVICE,
                "target": 99,
                "window": "28d",
                "indicator": {
                    "latency": {
                        "histogram": "http_request_duration_seconds",
                        "threshold": 0.25,
                        "selector": f'service="{SERVICE}"',
                    }
                },
            },
        ),
        obj("Objective", "reliable", {"title": "Reliable checkout", "period": PERIOD}),
        obj(
            "KeyResult",
            "throughput",
            {
                "objectiveRef": {"name": "reliable"},
                "description": "Serve more requests",
                "baseline": 5,
                "target": 15,
                "source": {"prometheus": {"query": f'sum(rate(http_requests_total{{service="{SERVICE}"}}[5m]))'}},
            },
        ),
        obj(
            "KeyResult",
            "budget",
            {
                "objectiveRef": {"name": "reliable"},
                "description": "Stay within 80% of the budget",
                "direction": "maintain",
                "max": 0.8,
                "source": {"slo": {"name": "availability", "field": "errorBudgetConsumed"}},
            },
        ),
        obj(
            "KeyResult",
            "mttr",
            {
                "objectiveRef": {"name": "reliable"},
                "description": "Recover faster",
                "direction": "decrease",
                "baseline": 45,
                "target": 40.5,
                "source": {
                    "manual": {
                        "checkIns": [
                            {"date": str(t - timedelta(days=20)), "value": 45},
                            {"date": str(t - timedelta(days=10)), "value": 43.5, "confidence": 0.8},
                            {"date": str(t - timedelta(days=1)), "value": 42, "confidence": 0.9},
                        ]
                    }
                },
            },
        ),
    ]


def evaluate(prom: LocalPrometheus, bodies: list[dict[str, Any]]):
    adapter = adapter_for(prom)
    evaluator = Evaluator(lambda expr: adapter.query(expr, at=T))
    return evaluator.evaluate(Snapshot.from_bodies(bodies), T)


def status_of(outcome, kind: str, name: str) -> dict[str, Any]:
    return outcome.statuses[Ref(kind, NS, name)]


def cond(status: dict[str, Any], type_: str) -> dict[str, Any]:
    return next(c for c in status["conditions"] if c["type"] == type_)


def test_slo_status_matches_the_synthetic_traffic(prom):
    outcome = evaluate(prom, manifests())
    slo = status_of(outcome, "ServiceLevelObjective", "availability")
    assert slo["sli"] == pytest.approx(100 * (1 - ERROR_RATIO), abs=1e-4)
    assert slo["errorBudget"] == {"total": 0.1, "consumed": 0.5, "remaining": 0.5}
    assert set(slo["burnRates"]) == {"5m", "30m", "1h", "2h", "6h", "1d", "3d"}
    assert all(v == pytest.approx(0.5, abs=1e-3) for v in slo["burnRates"].values())
    assert slo["timeToExhaustion"] == "4w"  # 0.5 left * 28d / burn 0.5
    assert slo["state"] == "Healthy"
    assert cond(slo, "MetricsAvailable")["status"] == "True"
    assert cond(slo, "Valid")["status"] == "True"

    latency = status_of(outcome, "ServiceLevelObjective", "latency")
    assert latency["sli"] == pytest.approx(100 * (1 - SLOW_SHARE), abs=1e-4)
    assert latency["errorBudget"]["consumed"] == pytest.approx(0.5, abs=1e-4)


def test_key_results_and_objective_roll_up(prom):
    outcome = evaluate(prom, manifests())
    throughput = status_of(outcome, "KeyResult", "throughput")
    assert throughput["current"] == pytest.approx(10)
    assert throughput["progress"] == pytest.approx(0.5)
    assert throughput["expected"] == pytest.approx(30 / 89, abs=0.005)
    assert throughput["state"] == "OnTrack"

    budget = status_of(outcome, "KeyResult", "budget")
    assert budget["current"] == pytest.approx(0.5)
    assert budget["progress"] == 1.0
    assert budget["state"] == "OnTrack"  # maintain: achieved only when the period is over

    mttr = status_of(outcome, "KeyResult", "mttr")
    assert mttr["current"] == 42
    assert mttr["progress"] == pytest.approx(0.6667, abs=1e-4)
    assert mttr["confidence"] == 0.9
    assert mttr["state"] == "OnTrack"
    # least squares through the three check-ins: -3 per 19 days -> value at the period end
    assert mttr["forecast"]["value"] < 42

    objective = status_of(outcome, "Objective", "reliable")
    assert objective["progress"] == pytest.approx((0.5 + 1 + 0.6667) / 3, abs=1e-4)
    assert objective["state"] == "OnTrack"
    assert objective["keyResults"] == {
        "total": 3,
        "onTrack": 3,
        "atRisk": 0,
        "offTrack": 0,
        "achieved": 0,
        "missed": 0,
        "unknown": 0,
    }


def test_second_cycle_with_written_status_changes_nothing(prom):
    bodies = manifests()
    first = evaluate(prom, bodies)
    for body in bodies:
        ref = Ref(body["kind"], NS, body["metadata"]["name"])
        body["status"] = first.statuses[ref]
    second = evaluate(prom, bodies)
    assert second.changed == {}


def test_queries_per_cycle_do_not_grow_with_slo_count(prom):
    def queries_for(count: int) -> int:
        bodies = [availability(f"slo-{i}") for i in range(count)]
        adapter = adapter_for(prom)
        evaluator = Evaluator(lambda expr: adapter.query(expr, at=T))
        outcome = evaluator.evaluate(Snapshot.from_bodies(bodies), T)
        assert all(s["state"] == "Healthy" for s in outcome.statuses.values())
        return outcome.queries

    assert queries_for(10) == queries_for(200) == 8  # 7 burn-rate windows + the 28d window


def test_the_query_timeout_prometheus_gets_parses(prom):
    """The read timeout goes to Prometheus as the query's own timeout; a fraction of a second must parse."""
    adapter = PrometheusAdapter(PrometheusSettings(url=prom.url, timeout_seconds=2.3456))
    assert adapter.query("vector(1)")[0].value == 1


def test_prometheus_down_keeps_last_values(prom):
    bodies = manifests()
    first = evaluate(prom, bodies)
    for body in bodies:
        body["status"] = first.statuses[Ref(body["kind"], NS, body["metadata"]["name"])]
    dead = PrometheusAdapter(PrometheusSettings(url="http://127.0.0.1:9", timeout_seconds=2, retries=0))
    outcome = Evaluator(lambda expr: dead.query(expr, at=T)).evaluate(Snapshot.from_bodies(bodies), T)
    slo = status_of(outcome, "ServiceLevelObjective", "availability")
    assert slo["sli"] == first.statuses[Ref("ServiceLevelObjective", NS, "availability")]["sli"]
    available = cond(slo, "MetricsAvailable")
    assert (available["status"], available["reason"]) == ("False", "PrometheusUnreachable")
    assert "showing the last values" in available["message"]
    assert cond(slo, "Ready")["status"] == "False"
    throughput = status_of(outcome, "KeyResult", "throughput")
    assert throughput["current"] == pytest.approx(10)
    # manual check-ins do not need Prometheus
    assert cond(status_of(outcome, "KeyResult", "mttr"), "MetricsAvailable")["status"] == "True"


def test_missing_latency_bucket_is_reported(prom):
    bodies = manifests()
    bodies[1]["spec"]["indicator"]["latency"]["threshold"] = 0.3
    outcome = evaluate(prom, bodies)
    valid = cond(status_of(outcome, "ServiceLevelObjective", "latency"), "Valid")
    assert (valid["status"], valid["reason"]) == ("False", "BucketNotFound")
    assert 'no bucket le="0.3"' in valid["message"] and "0.25" in valid["message"]


def test_zero_traffic_gives_no_sli(prom):
    body = availability("quiet")
    body["spec"]["indicator"]["ratio"] = {
        "errors": 'sum(rate(http_requests_total{service="nobody",code=~"5.."}[{{window}}]))',
        "total": 'sum(rate(http_requests_total{service="nobody"}[{{window}}]))',
    }
    outcome = evaluate(prom, [body])
    slo = status_of(outcome, "ServiceLevelObjective", "quiet")
    assert slo["state"] == "Unknown"
    assert "sli" not in slo
    assert cond(slo, "MetricsAvailable")["reason"] == "NoTraffic"


def test_references_resolve_only_in_the_own_namespace(prom):
    bodies = manifests()
    stranger = dict(bodies[4], metadata={"name": "budget", "namespace": "other"})
    outcome = evaluate(prom, [*bodies, stranger])
    status = outcome.statuses[Ref("KeyResult", "other", "budget")]
    assert cond(status, "Valid")["reason"] == "ObjectiveNotFound"
    assert "current" not in status  # the SLO in namespace team is not readable from namespace other


def test_models_validate(prom):
    # the manifests above are valid API objects (guards the test data itself)
    for body in manifests():
        {"ServiceLevelObjective": ServiceLevelObjective, "Objective": Objective, "KeyResult": KeyResult}[
            body["kind"]
        ].model_validate(body)
