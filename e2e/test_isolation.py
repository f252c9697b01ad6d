"""Tenant isolation end to end: one team's broken or hostile objects never stop, falsify or take over
another team's, with the real operator, apiserver and Prometheus.

* Namespace A holds an SLO whose query fails at query time (Prometheus refuses it with an execution error),
  a key result whose query is full of comments, and an objective with a period that does not exist (the
  apiserver refuses it with the same message as ``okrctl validate``). Namespace B's SLO and key result
  keep updating every cycle and follow a traffic change; A's objects carry their own conditions; with the
  failing SLO gone, the queries per cycle are what they were without A.
* An existing PrometheusRule with the name the operator would generate, made by someone else, is left
  untouched and the SLO says ``NameConflict``; once it is gone, the operator creates its own.
* ``le`` values: Prometheus 3 stores bucket boundaries normalised (``1e+06``, not ``1000000.0``); the
  operator's selectors match them, so a latency SLO with a 1e6 µs threshold gets the SLI the traffic implies.
"""

from __future__ import annotations

import json
import secrets
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from e2e.harness import LocalPrometheus, SyntheticExporter, upstream_crds, wait_until
from e2e.harness.operator import OperatorProcess
from okr_operator.api.identity import Ref
from okr_operator.cli.main import cli
from okr_operator.evaluation.cycle import Evaluator
from okr_operator.evaluation.snapshot import Snapshot
from okr_operator.prometheus.adapter import PrometheusAdapter
from okr_operator.prometheus.config import PrometheusSettings
from okr_operator.promtext import openmetrics_float
from tests.helpers import slo

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent
INTERVAL = 3
RATE = 20.0


@pytest.fixture(scope="module")
def traffic(tmp_path_factory: pytest.TempPathFactory):
    exporter = SyntheticExporter().start()
    exporter.set("svc-a", "v1", rate=RATE, error_ratio=0.0)
    exporter.set("svc-b", "v1", rate=RATE, error_ratio=0.01)
    prom = LocalPrometheus(targets=[exporter.target], scrape_interval="1s", evaluation_interval="1s")
    prom.start()
    try:
        yield exporter, prom
    finally:
        prom.close()
        exporter.stop()


@pytest.fixture(scope="module")
def operator(cluster, traffic, tmp_path_factory):
    cluster.install_crds(sorted((ROOT / "crds").glob("*.yaml")))
    cluster.install_crds([*upstream_crds("monitoring.coreos.com"), *upstream_crds("argoproj.io")])
    _, prom = traffic
    op = OperatorProcess(
        cluster.kubeconfig,
        prom.url,
        tmp_path_factory.mktemp("operator") / "operator.log",
        interval=f"{INTERVAL}s",
        args=("--standalone", "--verbose"),
    ).start()
    try:
        yield op
    finally:
        op.stop()
        print(f"\noperator log: {op.proc.log_path}")


def manifest(kind: str, name: str, namespace: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "okr.dev/v1alpha1",
        "kind": kind,
        "metadata": {"name": name, "namespace": namespace},
        "spec": spec,
    }


def ratio_slo(name: str, namespace: str, service: str, errors: str | None = None) -> dict[str, Any]:
    errors = errors or f'sum(rate(http_requests_total{{service="{service}",code="500"}}[{{{{window}}}}]))'
    total = f'sum(rate(http_requests_total{{service="{service}"}}[{{{{window}}}}]))'
    return manifest(
        "ServiceLevelObjective",
        name,
        namespace,
        {"service": service, "target": 99, "window": "1h", "indicator": {"ratio": {"errors": errors, "total": total}}},
    )


def objective(namespace: str, period: str = "2026-Q4") -> dict[str, Any]:
    return manifest("Objective", "goal", namespace, {"title": "Goal", "period": period})


def key_result(name: str, namespace: str, query: str) -> dict[str, Any]:
    spec = {
        "objectiveRef": {"name": "goal"},
        "description": "requests per second",
        "baseline": 0,
        "target": 100,
        "source": {"prometheus": {"query": query}},
    }
    return manifest("KeyResult", name, namespace, spec)


def apply(cluster: Any, *docs: dict[str, Any], check: bool = True) -> Any:
    return cluster.kubectl("apply", "-f", "-", input=yaml.safe_dump_all(docs), check=check)


def status(cluster: Any, kind: str, namespace: str, name: str) -> dict[str, Any]:
    out = cluster.kubectl("get", kind, name, "-n", namespace, "-o", "json", check=False)
    return (json.loads(out.stdout).get("status") or {}) if out.returncode == 0 else {}


def condition(st: dict[str, Any], kind: str) -> dict[str, Any]:
    return next((c for c in st.get("conditions") or [] if c["type"] == kind), {})


def queries_per_cycle(op: OperatorProcess, cycles: int = 3) -> float:
    """The fewest queries of ``cycles`` cycles: a batch split to find a failing member costs every cycle."""
    return min(op.cycle_queries(cycles, timeout=INTERVAL * 10))


# A query Prometheus accepts but cannot execute: rate() over _count and _sum leaves two series with the
# same labels ("vector cannot contain metrics with the same labelset").
FAILS_AT_QUERY_TIME = (
    'sum(rate({__name__=~"http_request_duration_seconds_count|http_request_duration_seconds_sum",'
    'service="svc-a"}[{{window}}]))'
)
COMMENTED_QUERY = 'sum(rate(http_requests_total{service="svc-a"}[1m])) # requests per second\n# ) or vector(1) or (\n'


def test_one_namespace_cannot_halt_or_falsify_another(cluster, traffic, operator):
    exporter, _ = traffic
    a, b = f"team-a-{secrets.token_hex(2)}", f"team-b-{secrets.token_hex(2)}"
    for ns in (a, b):
        cluster.kubectl("create", "namespace", ns)
    apply(
        cluster,
        objective(b),
        ratio_slo("web", b, "svc-b"),
        key_result("rps", b, 'sum(rate(http_requests_total{service="svc-b"}[1m]))'),
    )

    def b_measured() -> bool:
        return status(cluster, "slo", b, "web").get("sli") is not None and status(cluster, "kr", b, "rps").get(
            "current"
        )

    wait_until(b_measured, 90, "team B measured")
    baseline = queries_per_cycle(operator)

    refused = apply(cluster, objective(a, "2026-02-29/2026-03-31"), check=False)
    assert refused.returncode != 0
    assert "period dates must exist in the calendar" in refused.stderr, refused.stderr
    apply(
        cluster,
        objective(a),
        ratio_slo("poisoned", a, "svc-a", FAILS_AT_QUERY_TIME),
        key_result("commented", a, COMMENTED_QUERY),
    )

    def a_has_its_own_conditions() -> bool:
        poisoned = condition(status(cluster, "slo", a, "poisoned"), "MetricsAvailable")
        current = status(cluster, "kr", a, "commented").get("current")
        return poisoned.get("reason") == "QueryFailed" and current is not None and abs(current - RATE) / RATE < 0.05

    wait_until(a_has_its_own_conditions, 120, "A's poisoned SLO QueryFailed and its commented key result measured")
    assert "same labelset" in condition(status(cluster, "slo", a, "poisoned"), "MetricsAvailable")["message"]

    # B keeps being evaluated every cycle and follows traffic while A's SLO fails: fewer errors raise its
    # SLI over the 1h window, twice the request rate doubles its key result (a rate over 1m).
    before = status(cluster, "slo", b, "web")["sli"]
    assert abs(before - 99.0) < 0.05, before
    exporter.set("svc-b", "v1", error_ratio=0.0, rate=2 * RATE)
    wait_until(lambda: status(cluster, "slo", b, "web")["sli"] > before + 0.15, 120, "B's SLI to follow the traffic")
    wait_until(
        lambda: abs(status(cluster, "kr", b, "rps")["current"] - 2 * RATE) / RATE < 0.1, 120, "B's key result to follow"
    )
    assert condition(status(cluster, "slo", b, "web"), "MetricsAvailable")["status"] == "True"
    assert condition(status(cluster, "kr", b, "rps"), "MetricsAvailable")["status"] == "True"
    assert condition(status(cluster, "slo", a, "poisoned"), "MetricsAvailable")["reason"] == "QueryFailed"

    # Without the failing member, the batches cost what they cost before A arrived.
    cluster.kubectl("delete", "slo", "poisoned", "-n", a)
    time.sleep(2 * INTERVAL)
    assert queries_per_cycle(operator) == baseline


def test_name_taken_by_someone_elses_object_is_left_alone(cluster, operator):
    ns = f"team-c-{secrets.token_hex(2)}"
    cluster.kubectl("create", "namespace", ns)
    foreign = {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {"name": "payments-slo", "namespace": ns, "labels": {"team": "payments"}},
        "spec": {"groups": [{"name": "theirs", "rules": [{"record": "their:rule", "expr": "vector(1)"}]}]},
    }
    apply(cluster, foreign)
    before = json.loads(cluster.kubectl("get", "prometheusrule", "payments-slo", "-n", ns, "-o", "json").stdout)
    apply(cluster, ratio_slo("payments", ns, "svc-a"))

    def conflict() -> dict[str, Any]:
        cond = condition(status(cluster, "slo", ns, "payments"), "RulesSynced")
        return cond if cond.get("reason") == "NameConflict" else {}

    cond = wait_until(conflict, 60, "RulesSynced=False/NameConflict")
    assert cond["status"] == "False" and "PrometheusRule" in cond["message"] and "payments-slo" in cond["message"]
    after = json.loads(cluster.kubectl("get", "prometheusrule", "payments-slo", "-n", ns, "-o", "json").stdout)
    assert after["metadata"]["resourceVersion"] == before["metadata"]["resourceVersion"]
    assert after["spec"] == foreign["spec"] and "ownerReferences" not in after["metadata"]
    assert any("payments-slo" in e["message"] for e in cluster.wait_event(ns, "NameConflict"))

    cluster.kubectl("delete", "prometheusrule", "payments-slo", "-n", ns)

    def ours() -> bool:
        out = cluster.kubectl("get", "prometheusrule", "payments-slo", "-n", ns, "-o", "json", check=False)
        owners = json.loads(out.stdout)["metadata"].get("ownerReferences", []) if out.returncode == 0 else []
        return any(o["kind"] == "ServiceLevelObjective" and o["name"] == "payments" for o in owners)

    wait_until(ours, 90, "the operator's own PrometheusRule once the name is free")
    wait_until(
        lambda: condition(status(cluster, "slo", ns, "payments"), "RulesSynced").get("status") == "True",
        60,
        "RulesSynced=True",
    )


def test_offline_and_apiserver_refuse_alike(cluster, tmp_path: Path):
    """The same hostile manifest is refused by okrctl validate and by the CRD, with the same message."""
    cases = [
        (objective("default", "2026-02-29/2026-03-31"), "period dates must exist in the calendar"),
        (
            {
                **ratio_slo("x", "default", "svc"),
                "spec": {**ratio_slo("x", "default", "svc")["spec"], "window": "9999w"},
            },
            "rolling windows are at most 366d",
        ),
        (
            {
                **ratio_slo("x", "default", "svc"),
                "spec": {**ratio_slo("x", "default", "svc")["spec"], "alerting": {"labels": {"namespace": "victim"}}},
            },
            "are set by the operator or reserved by Prometheus",
        ),
        (
            {**ratio_slo("x", "default", "svc"), "spec": {**ratio_slo("x", "default", "svc")["spec"], "target": 100}},
            "target must be at most 99.99999",
        ),
    ]
    for doc, message in cases:
        path = tmp_path / "doc.yaml"
        path.write_text(yaml.safe_dump(doc))
        offline = CliRunner().invoke(cli, ["validate", "-f", str(path)])
        assert offline.exit_code == 1 and message in offline.stderr, offline.stderr
        online = apply(cluster, doc, check=False)
        assert online.returncode != 0 and message in online.stderr, online.stderr


# ------------------------------------------------------------------ le values on a real Prometheus


def test_prometheus_3_normalises_le_as_the_operator_writes_it(tmp_path: Path):
    """Classic histograms in seconds and in microseconds, scraped by a real Prometheus 3."""
    seconds = SyntheticExporter(buckets=(1e-06, 0.0005, 2.5, 1e6)).start()
    micros = SyntheticExporter(
        buckets=(250000, 500000, 1e6, 2.5e6), histogram="http_request_duration_microseconds"
    ).start()
    seconds.set("sec", "v1", rate=RATE, latency=((0.0004, 1.0),))
    # 90% of requests take 0.4 s, 10% 1.5 s: with a 1e6 µs (1 s) threshold the SLI is 90%.
    micros.set("micro", "v1", rate=RATE, latency=((400000, 0.9), (1500000, 0.1)))
    prom = LocalPrometheus(targets=[seconds.target, micros.target], scrape_interval="1s", evaluation_interval="1s")
    prom.start()
    adapter = PrometheusAdapter(PrometheusSettings(url=prom.url))
    try:

        def boundaries(metric: str) -> set[str]:
            return {s.labels["le"] for s in adapter.query(f"count by (le) ({metric}_bucket)")}

        wait_until(lambda: len(boundaries("http_request_duration_seconds")) == 5, 30, "the seconds histogram")
        assert boundaries("http_request_duration_seconds") == {
            openmetrics_float(b) for b in (1e-06, 0.0005, 2.5, 1e6, float("inf"))
        }
        assert boundaries("http_request_duration_seconds") == {"1e-06", "0.0005", "2.5", "1e+06", "+Inf"}
        wait_until(lambda: len(boundaries("http_request_duration_microseconds")) == 5, 30, "the microseconds histogram")
        assert "1e+06" in boundaries("http_request_duration_microseconds")

        latency = slo(
            "micro-latency",
            "default",
            service="micro",
            target=85,
            window="1h",
            indicator={
                "latency": {
                    "histogram": "http_request_duration_microseconds",
                    "threshold": 1000000,
                    "selector": 'service="micro"',
                }
            },
        )
        time.sleep(70)  # more than a minute of scraped traffic for the 1m-and-up windows

        def evaluated() -> dict[str, Any]:
            out = Evaluator(adapter.query).evaluate(Snapshot.from_models([latency]), datetime.now(UTC))
            return out.statuses[Ref("ServiceLevelObjective", "default", "micro-latency")]

        st = wait_until(lambda: (s := evaluated()).get("sli") is not None and s, 30, "the latency SLI")
        assert abs(st["sli"] - 90.0) < 0.01, st
        assert condition(st, "Valid")["status"] == "True", st  # the 1e+06 bucket was found
    finally:
        adapter.close()
        prom.close()
        seconds.stop()
        micros.stop()
