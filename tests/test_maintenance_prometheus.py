"""Maintenance windows in the status, against a real Prometheus with backfilled traffic.

Two days at 10 requests a second and 0.05% errors, with a 2-hour burst of 5% errors. A window over the burst
with excludeFromBudget gives the SLI and budget of the base traffic (as if the burst never happened; to a
thousandth of a percentage point, Prometheus' rate extrapolation at the window's edges), with raw queries;
without exclusion the burst counts. While the window holds, the SLO says InMaintenance and
lists no firing alerts; the window's status says it is active until when and when the next one starts.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from e2e.harness.history import SeriesSpec, Span, openmetrics_history
from e2e.harness.prometheus import LocalPrometheus
from e2e.harness.traffic import Traffic
from okr_operator.api.identity import Ref
from okr_operator.evaluation.conditions import find
from okr_operator.evaluation.cycle import Evaluator
from okr_operator.evaluation.snapshot import Snapshot
from okr_operator.prometheus.adapter import PrometheusAdapter
from okr_operator.prometheus.config import PrometheusSettings

pytestmark = pytest.mark.tools  # a real Prometheus (built by make tools)

SERVICE = "mw-checkout"
NS = "shop"
BASE = 0.0005
T = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=3)  # evaluation time
BURST = (T - timedelta(hours=5), T - timedelta(hours=3))


@pytest.fixture(scope="module")
def prom():
    start = (T - timedelta(days=2)).timestamp()
    spans = [
        Span(start, BURST[0].timestamp(), Traffic(rate=10, error_ratio=BASE)),
        Span(BURST[0].timestamp(), BURST[1].timestamp(), Traffic(rate=10, error_ratio=0.05)),
        Span(BURST[1].timestamp(), T.timestamp(), Traffic(rate=10, error_ratio=BASE)),
    ]
    with LocalPrometheus() as local:
        local.backfill(openmetrics_history([SeriesSpec(SERVICE, "v1", spans)], step=60))
        yield local


def slo() -> dict[str, Any]:
    sel = f'service="{SERVICE}"'
    return {
        "apiVersion": "okr.dev/v1alpha1",
        "kind": "ServiceLevelObjective",
        "metadata": {"name": "availability", "namespace": NS},
        "spec": {
            "service": SERVICE,
            "target": 99.9,
            "window": "1d",
            "indicator": {
                "ratio": {
                    "errors": f'sum(rate(http_requests_total{{{sel},code=~"5.."}}[{{{{window}}}}]))',
                    "total": f"sum(rate(http_requests_total{{{sel}}}[{{{{window}}}}]))",
                }
            },
        },
    }


def window(start: datetime, duration: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "okr.dev/v1alpha1",
        "kind": "MaintenanceWindow",
        "metadata": {"name": "db-upgrade", "namespace": NS, "generation": 1},
        "spec": {
            "slos": {"names": ["availability"]},
            "start": start.isoformat(),
            "duration": duration,
            "reason": "database upgrade",
            **spec,
        },
    }


def evaluate(prom: LocalPrometheus, *bodies: dict[str, Any], at: datetime = T) -> dict[Ref, dict[str, Any]]:
    adapter = PrometheusAdapter(PrometheusSettings(url=prom.url, timeout_seconds=30))
    evaluator = Evaluator(lambda expr: adapter.query(expr, at=at))
    return evaluator.evaluate(Snapshot.from_bodies([slo(), *bodies]), at).statuses


SLO = Ref("ServiceLevelObjective", NS, "availability")
MW = Ref("MaintenanceWindow", NS, "db-upgrade")


def test_exclusion_gives_the_figures_of_the_base_traffic(prom):
    excluded = evaluate(prom, window(BURST[0], "2h", excludeFromBudget=True))[SLO]
    # Within the rate extrapolation at the window's edges (a fraction of one 60 s sample of the burst).
    assert excluded["sli"] == pytest.approx(100 * (1 - BASE), abs=5e-4)
    assert excluded["errorBudget"]["consumed"] == pytest.approx(BASE / 0.001, abs=5e-3)
    counted = evaluate(prom, window(BURST[0], "2h"))[SLO]  # quiet alerts only: the burst counts
    assert counted["errorBudget"]["consumed"] > 4


def test_exclusion_reaches_burn_windows_too(prom):
    # At the end of the burst, the 1h window lies inside the window: with exclusion nothing is left of it
    # (no traffic outside the window: no burn rate); without, the 1h burn rate is the burst's 50x.
    at = BURST[1] - timedelta(minutes=1)
    quiet = evaluate(prom, window(BURST[0], "2h", excludeFromBudget=True), at=at)[SLO]
    loud = evaluate(prom, window(BURST[0], "2h"), at=at)[SLO]
    assert "1h" not in (quiet.get("burnRates") or {})
    assert loud["burnRates"]["1h"] == pytest.approx(50, rel=0.05)


def test_in_maintenance_while_the_window_holds(prom):
    at = BURST[0] + timedelta(minutes=30)
    statuses = evaluate(prom, window(BURST[0], "2h"), at=at)
    condition = find(statuses[SLO]["conditions"], "InMaintenance")
    until = (BURST[0] + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert condition["status"] == "True"
    assert condition["message"] == f"MaintenanceWindow db-upgrade until {until}: database upgrade (alerts quiet)"
    assert "alerts" not in statuses[SLO]
    assert find(statuses[SLO]["conditions"], "Ready")["status"] == "True"
    assert {k: statuses[MW].get(k) for k in ("active", "activeUntil", "nextStart", "slos")} == {
        "active": True,
        "activeUntil": until,
        "nextStart": None,
        "slos": ["availability"],
    }
    loud = evaluate(prom, at=at)[SLO]  # the same burst without the window fires page and ticket
    assert loud["alerts"] == ["page", "ticket"]


def test_exclusion_of_a_grouped_slo_keeps_its_groups(prom):
    grouped = slo()
    ratio = grouped["spec"]["indicator"]["ratio"]
    ratio["errors"] = ratio["errors"].replace("sum(", "sum by (version) (")
    ratio["total"] = ratio["total"].replace("sum(", "sum by (version) (")
    grouped["spec"]["indicator"]["groupBy"] = ["version"]
    adapter = PrometheusAdapter(PrometheusSettings(url=prom.url, timeout_seconds=30))
    snapshot = Snapshot.from_bodies([grouped, window(BURST[0], "2h", excludeFromBudget=True)])
    status = Evaluator(lambda expr: adapter.query(expr, at=T)).evaluate(snapshot, T).statuses[SLO]
    assert status["groups"]["worstGroup"] == "version=v1"
    assert status["sli"] == pytest.approx(100 * (1 - BASE), abs=5e-4)
