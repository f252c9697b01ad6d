"""The namespace-scoped install (config/namespaced; the chart with watchNamespaces) end to end.

The operator runs with its ServiceAccount's token on a real apiserver with RBAC: it evaluates and
generates in the namespace it watches, has no write permission anywhere else (cluster-wide or in another
team's namespace), and hits no permission error doing its work. The optional NetworkPolicy of the chart and
of the kustomize component are accepted by the apiserver.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client

from e2e.harness import LocalCluster, upstream_crds, wait_until
from e2e.harness.cluster import own_cluster
from e2e.harness.operator import OperatorProcess, serviceaccount_kubeconfig
from e2e.test_deploy import (
    CONFIG,
    NAMESPACE,
    PERMISSION_ERROR,
    REPO,
    SA_USER,
    SERVICE_ACCOUNT,
    access,
    apply_batches,
    by_wave,
    helm_template,
    kustomize,
    log_text,
    sample_rules,
)
from okr_operator.deploy import rbac

pytestmark = pytest.mark.e2e

WATCHED = "okr-tenant"  # the namespace config/namespaced watches
OTHER = "other-team"  # a namespace it does not
CLUSTER_SCOPED = (
    ("namespaces", ""),
    ("clusterroles", "rbac.authorization.k8s.io"),
    ("customresourcedefinitions", "apiextensions.k8s.io"),
)


@pytest.fixture(scope="module")
def namespaced_cluster(request: pytest.FixtureRequest) -> Iterator[LocalCluster]:
    logs = REPO / "out" / "e2e-logs" / "test_namespaced_install"
    with own_cluster(logs, lambda: request.session.testsfailed) as local:
        local.install_crds([*upstream_crds("monitoring.coreos.com"), *upstream_crds("argoproj.io")])
        for namespace in (WATCHED, OTHER):
            local.kubectl("create", "namespace", namespace)
        apply_batches(local, by_wave(kustomize(CONFIG / "namespaced")), "okr-e2e-namespaced")
        yield local


def test_service_account_has_no_write_outside_the_watched_namespace(namespaced_cluster):
    authz = client.AuthorizationV1Api(namespaced_cluster.api_client)
    writes = rbac.writes(rbac.NAMESPACE_RULES)
    assert writes, "the Role grants writes"
    for verb, resource, group in writes:
        assert access(authz, SA_USER, verb, resource, group, namespace=WATCHED), (verb, resource, WATCHED)
        assert not access(authz, SA_USER, verb, resource, group, namespace=OTHER), (verb, resource, OTHER)
        assert not access(authz, SA_USER, verb, resource, group), (verb, resource, "cluster-wide")
    for verb in sorted(rbac.WRITE_VERBS):  # nothing cluster-scoped either
        for resource, group in CLUSTER_SCOPED:
            assert not access(authz, SA_USER, verb, resource, group), (verb, resource)


def apply_samples(cluster: Any, namespace: str) -> None:
    for path in sorted((CONFIG / "samples").glob("*.yaml")):
        cluster.kubectl("apply", "-n", namespace, "-f", str(path))


def statuses(cluster: Any, namespace: str) -> list[dict[str, Any]]:
    out = cluster.kubectl("get", "objectives,keyresults,slo", "-n", namespace, "-o", "json").stdout
    return json.loads(out)["items"]


def test_operator_works_in_its_namespace_only(namespaced_cluster, prometheus, tmp_path: Path):
    cluster = namespaced_cluster
    kubeconfig = serviceaccount_kubeconfig(cluster, NAMESPACE, SERVICE_ACCOUNT, tmp_path / "sa.kubeconfig")
    env = {
        "OKR_NAMESPACES": WATCHED,
        "OKR_LEASE_NAMESPACE": NAMESPACE,
        "OKR_PEERING_NAME": "okr-operator",
        "POD_NAME": "okr-operator-namespaced",
    }
    op = OperatorProcess(kubeconfig, prometheus.url, tmp_path / "operator.log", interval="2s", args=(), extra_env=env)
    op.start()
    try:
        apply_samples(cluster, WATCHED)
        apply_samples(cluster, OTHER)

        def evaluated() -> bool:
            items = statuses(cluster, WATCHED)
            return len(items) == 9 and all((i.get("status") or {}).get("state") for i in items)

        wait_until(evaluated, 120, "a status on every sample in the watched namespace")
        rules = sorted(cluster.kubectl("get", "prometheusrules", "-n", WATCHED, "-o", "name").stdout.split())
        assert rules == sample_rules() and len(rules) == 6, rules  # two SLOs, four key results
        op.wait_for_cycles(3)
        assert all(not i.get("status") for i in statuses(cluster, OTHER)), "the other namespace is not watched"
        assert cluster.kubectl("get", "prometheusrules", "-n", OTHER, "-o", "name").stdout.split() == []
        peering = yaml.safe_load(
            cluster.kubectl("get", "kopfpeering", "okr-operator", "-n", WATCHED, "-o", "yaml").stdout
        )
        assert peering["metadata"]["namespace"] == WATCHED
    finally:
        op.stop()
    log = log_text(op)
    assert not PERMISSION_ERROR.search(log), [line for line in log.splitlines() if PERMISSION_ERROR.search(line)]


def test_network_policies_are_accepted(namespaced_cluster):
    chart = [o for o in helm_template("--set", "networkPolicy.enabled=true") if o["kind"] == "NetworkPolicy"]
    component = yaml.safe_load((CONFIG / "networkpolicy" / "networkpolicy.yaml").read_text())
    assert len(chart) == 1 and chart[0]["spec"]["policyTypes"] == ["Ingress", "Egress"]
    for policy in (chart[0], component):
        policy["metadata"]["namespace"] = NAMESPACE
        namespaced_cluster.kubectl("apply", "--dry-run=server", "-f", "-", input=yaml.safe_dump(policy))
