"""The operator end to end on the Testbed: manifests -> operator -> PrometheusRule/AnalysisTemplate ->
prometheus-operator -> Prometheus -> status -> `kubectl get objectives`. The operator runs with the shipped
RBAC (config/rbac) as its ServiceAccount, not as admin. The real prometheus-operator turns the rules into the
rule files of the ``Prometheus`` resource ``monitoring/e2e-operator``, which this module's LocalPrometheus
loads (RuleFileProjection plays the kubelet's ConfigMap volume and the config reloader).

The module runs its own Prometheus (so it can stop and start it) scraping a synthetic service that has
served constant traffic for a week (backfilled) and keeps serving it live; expected figures are
computed here from that traffic, independently of the operator.
"""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from e2e.harness import LocalPrometheus, SyntheticExporter, constant, openmetrics_history, upstream_crds, wait_until
from e2e.harness.cluster import kubectl_binary
from e2e.harness.operator import OperatorProcess, serviceaccount_kubeconfig
from okr_operator.generated import MANAGED_BY

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent
ERROR_RATIO = 0.0005  # availability SLI 99.95%: half of the 99.9% budget
LATENCY = ((0.05, 0.6), (0.12, 0.3), (0.2, 0.096), (0.4, 0.004))  # 0.4% slower than 250 ms: 40% of a 99% budget
RATE = 20.0
INTERVAL = 3


@pytest.fixture(scope="module")
def service() -> str:
    return f"shop{secrets.token_hex(3)}"


@pytest.fixture(scope="module")
def prom(service: str, tmp_path_factory: pytest.TempPathFactory):
    exporter = SyntheticExporter().start()
    exporter.set(service, "v1", rate=RATE, error_ratio=ERROR_RATIO, latency=LATENCY)
    local = LocalPrometheus(targets=[exporter.target])
    now = time.time()
    history = constant(service, "v1", now - 7 * 86400, now - 30, rate=RATE, error_ratio=ERROR_RATIO, latency=LATENCY)
    local.backfill(openmetrics_history([history], step=60))
    local.start()
    try:
        yield local
    finally:
        local.close()
        exporter.stop()


@pytest.fixture(scope="module")
def crds_installed(cluster):
    cluster.install_crds(sorted((ROOT / "crds").glob("*.yaml")))
    cluster.install_crds([*upstream_crds("monitoring.coreos.com"), *upstream_crds("argoproj.io")])


@pytest.fixture(scope="module")
def operator_identity(cluster, tmp_path_factory) -> Path:
    """The shipped RBAC (config/rbac) and a TokenRequest token of its ServiceAccount: not admin."""
    cluster.kubectl("create", "namespace", "okr-system", check=False)
    rbac = subprocess.run(
        [kubectl_binary(), "kustomize", str(ROOT / "config" / "rbac")], capture_output=True, text=True, check=True
    ).stdout
    cluster.kubectl("apply", "-f", "-", input=rbac)
    return serviceaccount_kubeconfig(cluster, "okr-system", "okr-operator", tmp_path_factory.mktemp("sa") / "sa.yaml")


@pytest.fixture(scope="module")
def rules_loaded(prom, crds_installed, prometheus_operator):
    """A Prometheus resource selecting the rules' default labels in every namespace, played by ``prom``."""
    with prometheus_operator.loading_into(prom, "e2e-operator", {"matchLabels": dict(MANAGED_BY)}, {}) as projection:
        yield projection


@pytest.fixture(scope="module")
def operator(cluster, prom, crds_installed, operator_identity, rules_loaded, tmp_path_factory):
    op = OperatorProcess(
        operator_identity,
        prom.url,
        tmp_path_factory.mktemp("operator") / "operator.log",
        interval=f"{INTERVAL}s",
        extra_env={"OKR_GATE_PROMETHEUS_ADDRESS": prom.url},
        args=("--standalone", "--verbose"),  # debug log: which status was written when
    ).start()
    try:
        yield op
    finally:
        op.stop()
        print(f"\noperator log: {op.proc.log_path}")


def samples(service: str) -> str:
    """config/samples/ with the checkout service renamed to this module's synthetic service."""
    text = "\n---\n".join(p.read_text() for p in sorted((ROOT / "config" / "samples").glob("*.yaml")))
    return text.replace('service="checkout"', f'service="{service}"').replace(
        "service: checkout", f"service: {service}"
    )


def apply(cluster, namespace: str, text: str) -> None:
    path = Path(cluster.dir) / f"apply-{secrets.token_hex(4)}.yaml"
    path.write_text(text)
    cluster.kubectl("apply", "-n", namespace, "-f", str(path))


def get(cluster, kind: str, namespace: str, name: str | None = None) -> Any:
    args = ["get", kind, "-n", namespace, "-o", "json"] + ([name] if name else [])
    out = cluster.kubectl(*args, check=False)
    if out.returncode != 0:
        return None
    return json.loads(out.stdout)


def status(cluster, kind: str, namespace: str, name: str) -> dict[str, Any]:
    obj = get(cluster, kind, namespace, name)
    return (obj or {}).get("status") or {}


def condition(st: dict[str, Any], type_: str) -> dict[str, Any]:
    return next((c for c in st.get("conditions") or [] if c["type"] == type_), {})


def wait_status(cluster, kind, namespace, name, predicate, timeout=60.0, what="status") -> dict[str, Any]:
    box: dict[str, Any] = {}

    def check() -> bool:
        box["s"] = status(cluster, kind, namespace, name)
        return bool(predicate(box["s"]))

    try:
        wait_until(check, timeout, f"{kind}/{name} {what}", interval=0.5)
    except TimeoutError as exc:
        raise AssertionError(f"{exc}; last status: {json.dumps(box.get('s'), indent=1)}") from None
    return box["s"]


@pytest.fixture
def applied(cluster, namespace, service, operator):
    apply(cluster, namespace, samples(service))
    for name in ("checkout-availability", "checkout-latency"):
        wait_status(cluster, "slo", namespace, name, lambda s: s.get("sli") is not None, what="SLI")
    return namespace


def test_samples_get_status_equal_to_the_synthetic_traffic(cluster, applied, operator):
    ns = applied
    availability = status(cluster, "slo", ns, "checkout-availability")
    assert availability["sli"] == pytest.approx(100 * (1 - ERROR_RATIO), abs=2e-4)
    assert availability["errorBudget"]["remaining"] == pytest.approx(0.5, abs=2e-3)
    assert availability["state"] == "Healthy"
    assert condition(availability, "Ready")["status"] == "True"
    assert availability["generated"] == {
        "prometheusRule": "checkout-availability-slo",
        "analysisTemplate": "checkout-availability-gate",
    }
    latency = status(cluster, "slo", ns, "checkout-latency")
    assert latency["sli"] == pytest.approx(99.6, abs=2e-3)
    assert latency["errorBudget"]["consumed"] == pytest.approx(0.4, abs=2e-3)

    budget = wait_status(cluster, "kr", ns, "checkout-budget-discipline", lambda s: s.get("current") is not None)
    assert budget["current"] == pytest.approx(0.5, abs=2e-3)
    assert budget["state"] == "OnTrack"
    mttr = status(cluster, "kr", ns, "checkout-mttr")
    assert mttr["current"] == 42 and mttr["progress"] == pytest.approx(2 / 3, abs=1e-4)

    objective = wait_status(cluster, "obj", ns, "checkout-reliability", lambda s: s.get("progress") is not None)
    # budget discipline weighs 2 (progress 1), MTTR weighs 1 (progress 2/3)
    assert objective["progress"] == pytest.approx((2 * 1 + 2 / 3) / 3, abs=1e-4)
    parent = wait_status(cluster, "obj", ns, "platform-excellence", lambda s: s.get("children"))
    assert [c["name"] for c in parent["children"]] == ["checkout-reliability", "checkout-speed"]
    assert all(c["counted"] for c in parent["children"])

    def rolled_up(s: dict[str, Any]) -> bool:
        """platform-excellence: its key result and its two children, weight 1 each."""
        parts = [status(cluster, "kr", ns, "sli-coverage").get("progress")]
        parts += [status(cluster, "obj", ns, n).get("progress") for n in ("checkout-reliability", "checkout-speed")]
        if None in parts or s.get("progress") is None:
            return False
        return abs(s["progress"] - sum(parts) / 3) <= 1e-4 and len(s["children"]) == 2

    parent = wait_status(
        cluster, "obj", ns, "platform-excellence", rolled_up, what="roll-up of key result and children"
    )
    assert parent["owner"] == "platform-team"
    children = {c["name"]: c for c in parent["children"]}
    reliability = status(cluster, "obj", ns, "checkout-reliability")
    assert children["checkout-reliability"]["progress"] == reliability["progress"]
    assert status(cluster, "kr", ns, "checkout-mttr")["owner"] == "team-checkout"  # the objective's owner

    table = cluster.kubectl("get", "objectives", "-n", ns).stdout.splitlines()
    assert table[0].split() == ["NAME", "PERIOD", "PROGRESS", "SCORE", "STATE", "FINAL", "AGE"]
    rows = {line.split()[0]: line.split() for line in table[1:]}
    for name in ("platform-excellence", "checkout-reliability"):  # the parent shows its rolled-up figures
        shown = status(cluster, "obj", ns, name)
        assert float(rows[name][2]) == pytest.approx(shown["progress"], abs=1e-3), rows[name]
        assert (float(rows[name][3]), rows[name][4]) == (shown["score"], shown["state"]), rows[name]
    assert rows["checkout-reliability"][4] == "OnTrack"
    slo_table = cluster.kubectl("get", "slo", "-n", ns).stdout
    assert "BUDGET-LEFT" in slo_table and "99.95" in slo_table

    rules = get(cluster, "prometheusrules", ns)["items"]
    assert sorted(r["metadata"]["name"] for r in rules) == [
        "checkout-availability-slo",
        "checkout-budget-discipline-kr",  # manual and SLO key results get their trajectory alerts too
        "checkout-latency-slo",
        "checkout-mttr-kr",
        "checkout-p95-latency-kr",
        "sli-coverage-kr",
    ]
    assert all(r["metadata"]["ownerReferences"][0]["kind"] in ("ServiceLevelObjective", "KeyResult") for r in rules)


def test_editing_a_target_updates_status(cluster, applied):
    ns = applied
    cluster.kubectl("patch", "slo", "checkout-availability", "-n", ns, "--type=merge", "-p", '{"spec":{"target":99.5}}')
    st = wait_status(
        cluster,
        "slo",
        ns,
        "checkout-availability",
        lambda s: s.get("errorBudget", {}).get("total") == pytest.approx(0.5),
        what="budget of the new target",
    )
    assert st["errorBudget"]["remaining"] == pytest.approx(0.9, abs=2e-3)  # 0.05% of 0.5%
    assert st["observedGeneration"] == 2
    rule = get(cluster, "prometheusrule", ns, "checkout-availability-slo")
    assert "0.072" in json.dumps(rule["spec"])  # page threshold 14.4 x 0.005


def test_deleting_an_slo_garbage_collects_what_it_generated(cluster, applied):
    ns = applied
    cluster.kubectl("delete", "slo", "checkout-availability", "-n", ns)
    wait_until(
        lambda: (
            get(cluster, "prometheusrule", ns, "checkout-availability-slo") is None
            and get(cluster, "analysistemplate", ns, "checkout-availability-gate") is None
        ),
        60,
        "garbage collection of the PrometheusRule and AnalysisTemplate",
    )
    assert get(cluster, "prometheusrule", ns, "checkout-latency-slo") is not None


def test_hand_edits_of_a_generated_rule_are_reverted(cluster, applied):
    ns = applied
    cluster.kubectl(
        "patch",
        "prometheusrule",
        "checkout-latency-slo",
        "-n",
        ns,
        "--type=json",
        "-p",
        '[{"op":"replace","path":"/spec/groups/0/rules/0/expr","value":"vector(0)"}]',
    )

    def restored() -> bool:
        rule = get(cluster, "prometheusrule", ns, "checkout-latency-slo")
        return rule is not None and rule["spec"]["groups"][0]["rules"][0]["expr"] != "vector(0)"

    wait_until(restored, 30, "the operator to restore the PrometheusRule")
    cluster.kubectl("delete", "prometheusrule", "checkout-latency-slo", "-n", ns)
    wait_until(lambda: get(cluster, "prometheusrule", ns, "checkout-latency-slo") is not None, 30, "recreation")


def test_prometheus_down_keeps_values_and_recovers(cluster, applied, prom):
    ns = applied
    before = status(cluster, "slo", ns, "checkout-latency")
    prom.stop()
    try:
        down = wait_status(
            cluster,
            "slo",
            ns,
            "checkout-latency",
            lambda s: condition(s, "MetricsAvailable").get("status") == "False",
            what="MetricsAvailable=False",
        )
        assert condition(down, "MetricsAvailable")["reason"] in ("PrometheusUnreachable", "PrometheusTimeout")
        assert down["sli"] == before["sli"]
        assert down["errorBudget"] == before["errorBudget"]
        assert condition(down, "Ready")["status"] == "False"
    finally:
        prom.start()
    up = wait_status(
        cluster,
        "slo",
        ns,
        "checkout-latency",
        lambda s: condition(s, "MetricsAvailable").get("status") == "True",
        timeout=90,
        what="MetricsAvailable=True again",
    )
    assert up["sli"] == pytest.approx(99.6, abs=2e-3)


def test_sigkill_and_restart_converges_without_writes(cluster, applied, operator):
    ns = applied
    wait_status(cluster, "kr", ns, "sli-coverage", lambda s: s.get("state") not in (None, "Unknown"), timeout=90)
    operator.wait_for_cycles(2)
    rules_before = sorted(r["metadata"]["uid"] for r in get(cluster, "prometheusrules", ns)["items"])
    writes = operator.metric("okr_status_writes_total")
    operator.wait_for_cycles(3)
    assert operator.metric("okr_status_writes_total") == writes, "status writes at steady state"

    operator.kill()
    operator.start()
    operator.wait_for_cycles(3)
    assert operator.metric("okr_status_writes_total") == 0, "a restart with nothing changed writes no status"
    rules_after = sorted(r["metadata"]["uid"] for r in get(cluster, "prometheusrules", ns)["items"])
    assert rules_after == rules_before  # same objects, no duplicates
    assert condition(status(cluster, "slo", ns, "checkout-availability"), "Ready")["status"] == "True"


def test_queries_per_cycle_do_not_grow_with_slos(cluster, namespace, service, operator):
    def slo(i: int) -> dict[str, Any]:
        return {
            "apiVersion": "okr.dev/v1alpha1",
            "kind": "ServiceLevelObjective",
            "metadata": {"name": f"s{i}"},
            "spec": {
                "service": service,
                "target": 99.9,
                "indicator": {
                    "ratio": {
                        "errors": f'sum(rate(http_requests_total{{service="{service}",code="500"}}[{{{{window}}}}]))',
                        "total": f'sum(rate(http_requests_total{{service="{service}"}}[{{{{window}}}}]))',
                    }
                },
                "alerting": {"enabled": False},
            },
        }

    def per_cycle() -> float:
        """The steady count: the fewest of three cycles (another namespace's failing member costs a cycle
        a few extra queries while its batch is split; more SLOs here would add queries to every cycle)."""
        return min(operator.cycle_queries(3))

    # Only this namespace's objects matter for the count, but earlier tests may have left others: measure
    # the increase from adding SLOs of one and the same shape.
    apply(cluster, namespace, yaml.safe_dump_all([slo(i) for i in range(10)]))
    wait_status(cluster, "slo", namespace, "s9", lambda s: s.get("sli") is not None, timeout=60)
    with_10 = per_cycle()
    apply(cluster, namespace, yaml.safe_dump_all([slo(i) for i in range(10, 200)]))
    wait_status(cluster, "slo", namespace, "s199", lambda s: s.get("sli") is not None, timeout=120)
    with_200 = per_cycle()
    print(f"\nPrometheus queries per evaluation cycle: {with_10:g} with 10 SLOs, {with_200:g} with 200")
    assert with_200 == with_10


def test_a_period_that_ended_yesterday_shows_the_final_score(cluster, namespace, service, operator, prom):
    """Graded as of the period end (today 00:00 UTC): the PromQL key result is queried at that instant."""
    end = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    period = f"{(end - timedelta(days=3)).date()}/{(end - timedelta(days=1)).date()}"  # the last day was yesterday
    query = f'sum(rate(http_requests_total{{service="{service}"}}[5m]))'
    objective = {
        "apiVersion": "okr.dev/v1alpha1",
        "kind": "Objective",
        "metadata": {"name": "last-sprint"},
        "spec": {"title": "Serve more", "owner": "team-sprint", "period": period},
    }
    key_result = {
        "apiVersion": "okr.dev/v1alpha1",
        "kind": "KeyResult",
        "metadata": {"name": "sprint-traffic"},
        "spec": {
            "objectiveRef": {"name": "last-sprint"},
            "description": "Serve four times the traffic",
            "baseline": 0,
            "target": 4 * RATE,
            "source": {"prometheus": {"query": query}},
        },
    }
    apply(cluster, namespace, yaml.safe_dump_all([objective, key_result]))
    value = prom.query_value(query, at=end)  # what Prometheus had at the end instant
    assert value == pytest.approx(RATE, rel=0.01)
    kr = wait_status(cluster, "kr", namespace, "sprint-traffic", lambda s: "final" in s, what="final grade")
    assert kr["final"]["value"] == pytest.approx(value, rel=1e-6)
    assert kr["final"]["progress"] == pytest.approx(value / (4 * RATE), abs=1e-4)
    assert kr["final"]["state"] == "Missed" and kr["state"] == "Missed"
    assert kr["final"]["period"] == period and kr["final"]["observedGeneration"] == 1
    obj = wait_status(cluster, "obj", namespace, "last-sprint", lambda s: "final" in s, what="final grade")
    score = obj["final"]["score"]
    assert score == kr["final"]["score"] == round(value / (4 * RATE), 2)
    table = cluster.kubectl("get", "objectives", "last-sprint", "-n", namespace).stdout.splitlines()
    assert table[0].split() == ["NAME", "PERIOD", "PROGRESS", "SCORE", "STATE", "FINAL", "AGE"]
    row = table[1].split()
    assert row[0] == "last-sprint" and row[4] == "Missed" and float(row[5]) == score
    assert cluster.wait_event(namespace, "Graded", "sprint-traffic")

    graded_at = obj["final"]["gradedAt"]
    operator.wait_for_cycles(2)  # later cycles keep the grade as it is
    assert status(cluster, "obj", namespace, "last-sprint")["final"]["gradedAt"] == graded_at
    cluster.kubectl(
        "patch", "kr", "sprint-traffic", "-n", namespace, "--type=merge", "-p", f'{{"spec":{{"target":{2 * RATE}}}}}'
    )
    regraded = wait_status(
        cluster, "kr", namespace, "sprint-traffic", lambda s: s["final"].get("observedGeneration") == 2, what="re-grade"
    )
    assert regraded["final"]["progress"] == pytest.approx(value / (2 * RATE), abs=1e-4)
    regrade = cluster.wait_event(namespace, "Regraded", "sprint-traffic")
    assert "the spec changed (generation 1 -> 2)" in regrade[0]["message"]


def test_okrctl_evaluate_matches_what_the_operator_wrote(cluster, applied, prom, service):
    ns = applied
    st = wait_status(cluster, "slo", ns, "checkout-availability", lambda s: s.get("sli") is not None)
    at = st["lastEvaluated"]
    manifests = Path(cluster.dir) / "evaluate.yaml"
    manifests.write_text(samples(service))
    out = subprocess.run(
        [
            *(sys.executable, "-m", "okr_operator.cli.main", "evaluate", "-f", str(manifests), "-n", ns),
            *("--prometheus", prom.url, "--at", at, "-o", "json"),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    offline = {(o["kind"], o["metadata"]["name"]): o["status"] for o in json.loads(out.stdout)}
    for kind, short, name, fields in (
        ("ServiceLevelObjective", "slo", "checkout-availability", ("sli", "errorBudget", "state")),
        ("ServiceLevelObjective", "slo", "checkout-latency", ("sli", "errorBudget", "state")),
        ("KeyResult", "kr", "checkout-mttr", ("current", "progress", "state")),
        ("KeyResult", "kr", "checkout-budget-discipline", ("current", "progress", "state")),
        ("Objective", "obj", "checkout-reliability", ("progress", "score", "state")),
    ):
        written = status(cluster, short, ns, name)
        for field in fields:
            assert offline[(kind, name)].get(field) == written.get(field), f"{kind}/{name} {field}"


def test_what_the_schema_cannot_check_becomes_a_condition(cluster, namespace, service, operator):
    """Broken PromQL passes the CRD schema (a string) but not the operator: Valid=False, an Event, no rules."""
    bad = {
        "apiVersion": "okr.dev/v1alpha1",
        "kind": "ServiceLevelObjective",
        "metadata": {"name": "broken"},
        "spec": {
            "service": service,
            "target": 99.9,
            "indicator": {
                "ratio": {
                    "errors": 'sum(rate(http_requests_total{code="500"}[{{window}}])',
                    "total": "sum(rate(http_requests_total[{{window}}]))",
                }
            },
        },
    }
    apply(cluster, namespace, yaml.safe_dump(bad))
    st = wait_status(cluster, "slo", namespace, "broken", lambda s: condition(s, "Valid").get("status") == "False")
    valid = condition(st, "Valid")
    assert valid["reason"] == "InvalidSpec"
    assert "not valid PromQL" in valid["message"] and "errors" in valid["message"]
    assert condition(st, "RulesSynced").get("status") == "False"
    assert get(cluster, "prometheusrule", namespace, "broken-slo") is None
    assert cluster.wait_event(namespace, "InvalidSpec", "broken")


def test_a_maintenance_window_quiets_rules_and_marks_its_slos(cluster, applied):
    """kubectl get mw shows ACTIVE/UNTIL/NEXT; the SLO says InMaintenance; its rules are quiet; undone on delete."""
    ns = applied
    start = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 600))
    window = {
        "apiVersion": "okr.dev/v1alpha1",
        "kind": "MaintenanceWindow",
        "metadata": {"name": "db-upgrade"},
        "spec": {
            "slos": {"names": ["checkout-availability"]},
            "start": start,
            "duration": "1h",
            "reason": "database upgrade",
        },
    }
    apply(cluster, ns, yaml.safe_dump(window))
    mw = wait_status(cluster, "mw", ns, "db-upgrade", lambda s: s.get("active") is True, what="active")
    assert mw["slos"] == ["checkout-availability"] and mw["activeUntil"]
    assert not get(cluster, "mw", ns, "db-upgrade")["metadata"].get("finalizers"), "the operator adds no finalizers"
    table = cluster.kubectl("get", "mw", "-n", ns).stdout.splitlines()
    assert table[0].split()[:5] == ["NAME", "ACTIVE", "UNTIL", "NEXT", "DURATION"], table
    assert table[1].split()[:2] == ["db-upgrade", "true"], table

    def in_maintenance(s: dict[str, Any]) -> bool:
        return condition(s, "InMaintenance").get("status") == "True"

    slo = wait_status(cluster, "slo", ns, "checkout-availability", in_maintenance, what="InMaintenance")
    assert "database upgrade" in condition(slo, "InMaintenance")["message"]
    assert condition(slo, "Ready")["status"] == "True"

    def rules_quiet(quiet: bool) -> bool:
        rule = get(cluster, "prometheusrule", ns, "checkout-availability-slo") or {}
        alerts = [r for g in rule.get("spec", {}).get("groups", []) for r in g["rules"] if "alert" in r]
        return bool(alerts) and all(("unless on ()" in r["expr"]) == quiet for r in alerts)

    wait_until(lambda: rules_quiet(True), 30, "the SLO's alerts to be quiet")
    assert not condition(status(cluster, "slo", ns, "checkout-latency"), "InMaintenance")
    cluster.kubectl("delete", "mw", "db-upgrade", "-n", ns)
    wait_until(lambda: rules_quiet(False), 30, "the SLO's alerts to be back")
    wait_status(cluster, "slo", ns, "checkout-availability", lambda s: not in_maintenance(s), what="no InMaintenance")
