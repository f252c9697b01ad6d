"""The operator when parts of the world are missing: CRDs of PrometheusRule/Rollouts not installed, and two
replicas of which only one may write."""

from __future__ import annotations

import json
import secrets
from pathlib import Path

import pytest

from e2e.harness import LocalCluster, upstream_crds, wait_until
from e2e.harness.operator import OperatorProcess

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent
DEAD_PROMETHEUS = "http://127.0.0.1:9"


def status(cluster, kind: str, ns: str, name: str) -> dict:
    out = cluster.kubectl("get", kind, name, "-n", ns, "-o", "json", check=False)
    return json.loads(out.stdout).get("status") or {} if out.returncode == 0 else {}


def condition(st: dict, type_: str) -> dict:
    return next((c for c in st.get("conditions") or [] if c["type"] == type_), {})


def test_missing_prometheus_operator_crds_give_a_condition_and_the_rest_works(tmp_path):
    with LocalCluster() as cluster:
        cluster.install_crds(sorted((ROOT / "crds").glob("*.yaml")))
        op = OperatorProcess(cluster.kubeconfig, DEAD_PROMETHEUS, tmp_path / "operator.log", interval="2s").start()
        try:
            cluster.kubectl("create", "namespace", "team")
            cluster.kubectl("apply", "-n", "team", "-f", str(ROOT / "config" / "samples"))

            def not_synced() -> dict:
                st = status(cluster, "slo", "team", "checkout-availability")
                synced = condition(st, "RulesSynced").get("reason") == "CRDNotInstalled"
                return st if synced and condition(st, "Ready") else {}

            st = wait_until(not_synced, 60, "RulesSynced=False/CRDNotInstalled")
            synced = condition(st, "RulesSynced")
            assert synced["status"] == "False"
            assert "prometheusrules.monitoring.coreos.com" in synced["message"]
            assert condition(st, "Ready")["status"] == "False"
            events = json.loads(cluster.kubectl("get", "events", "-n", "team", "-o", "json").stdout)["items"]
            assert any(e["reason"] == "RulesNotSynced" and e["type"] == "Warning" for e in events)

            # Everything that does not need those CRDs keeps working: manual key results, roll-up.
            mttr = wait_until(lambda: status(cluster, "kr", "team", "checkout-mttr").get("progress"), 60, "MTTR")
            assert mttr == pytest.approx(2 / 3, abs=1e-4)
            assert status(cluster, "obj", "team", "checkout-reliability").get("state")

            # Install them: the retry applies the rules without a restart.
            cluster.install_crds([*upstream_crds("monitoring.coreos.com"), *upstream_crds("argoproj.io")])
            wait_until(
                lambda: (
                    condition(status(cluster, "slo", "team", "checkout-availability"), "RulesSynced").get("status")
                    == "True"
                ),
                90,
                "RulesSynced=True after installing the CRDs",
            )
            rules = cluster.kubectl("get", "prometheusrules", "-n", "team", "-o", "name").stdout.split()
            assert "prometheusrule.monitoring.coreos.com/checkout-availability-slo" in rules
        finally:
            op.stop()


def test_two_replicas_never_both_write(cluster, namespace, tmp_path):
    peering = f"okr-{secrets.token_hex(3)}"
    cluster.install_crds([ROOT / "config" / "crd" / "kopf" / "kopf.dev_peerings.yaml"])
    cluster.install_crds(sorted((ROOT / "crds").glob("*.yaml")))
    cluster.apply({"apiVersion": "kopf.dev/v1", "kind": "ClusterKopfPeering", "metadata": {"name": peering}})
    replicas = {}
    for name in ("replica-a", "replica-b"):
        replicas[name] = OperatorProcess(
            cluster.kubeconfig,
            DEAD_PROMETHEUS,
            tmp_path / f"{name}.log",
            interval="2s",
            args=("--verbose",),
            extra_env={
                "POD_NAME": name,
                "OKR_PEERING_NAME": peering,
                "OKR_LEADER_LEASE": peering,
                "OKR_LEASE_NAMESPACE": namespace,
            },
        ).start()
    try:
        cluster.kubectl("apply", "-n", namespace, "-f", str(ROOT / "config" / "samples"))
        wait_until(lambda: status(cluster, "kr", namespace, "checkout-mttr").get("progress"), 60, "a status")
        for op in replicas.values():
            op.wait_for_cycles(2)
        leaders = [n for n, op in replicas.items() if op.metric("okr_evaluation_leader") == 1]
        assert len(leaders) == 1, leaders
        writers = [n for n, op in replicas.items() if op.metric("okr_status_writes_total") > 0]
        assert writers == leaders, f"writers {writers}, evaluation leader {leaders}"
        print(f"\nleader: {leaders[0]}; statuses written only by it")

        # The leader dies; the other replica takes over (lease expiry, kopf peering lifetime) and writes.
        survivor = next(n for n in replicas if n not in leaders)
        replicas[leaders[0]].kill()
        cluster.kubectl(
            "patch",
            "kr",
            "checkout-mttr",
            "-n",
            namespace,
            "--type=json",
            "-p",
            '[{"op":"add","path":"/spec/source/manual/checkIns/-","value":{"date":"2026-11-20","value":41}}]',
        )
        wait_until(
            lambda: status(cluster, "kr", namespace, "checkout-mttr").get("current") == 41,
            150,
            f"{survivor} to take over and write the new check-in",
        )
        assert replicas[survivor].metric("okr_evaluation_leader") == 1
    finally:
        for op in replicas.values():
            op.stop()
