"""Two shards end to end on a real apiserver: three ``okr-operator run`` processes (shard 0 active and its
standby, shard 1), the samples in several namespaces that land in both shards.

Checked: every object gets its status (and its PrometheusRules) from exactly the shard that owns its namespace,
no object is written by both (each process logs every status write it makes, with its field manager); each
shard's ``okr_shard_objects`` counts what it owns; a parent objective in shard 0 rolls up a child objective of
shard 1 (``spec.children.fromNamespaces``) and follows its changes; killing shard 0's active replica hands its
Lease and peering to the standby, which writes, while shard 1 keeps its Lease and goes on writing.
"""

from __future__ import annotations

import json
import re
import secrets
import subprocess
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
import yaml

from e2e.harness import upstream_crds, wait_until
from e2e.harness.cluster import own_cluster
from e2e.harness.operator import OperatorProcess
from okr_operator.runtime.sharding import shard_of

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent
DEAD_PROMETHEUS = "http://127.0.0.1:9"  # no Prometheus: SLOs say MetricsAvailable=False, OKR figures still flow
SHARDS = 2
WRITTEN = re.compile(r"status of (\w+)/([^/\s]+)/(\S+) written by (\S+)")


def status(cluster, kind: str, ns: str, name: str) -> dict[str, Any]:
    out = cluster.kubectl("get", kind, name, "-n", ns, "-o", "json", check=False)
    return (json.loads(out.stdout).get("status") or {}) if out.returncode == 0 else {}


def lease(cluster, ns: str, name: str) -> dict[str, Any]:
    return json.loads(cluster.kubectl("get", "lease", name, "-n", ns, "-o", "json").stdout)["spec"]


def namespaces_per_shard(tag: str, per_shard: int = 2) -> dict[int, list[str]]:
    """Namespace names (deterministic for ``tag``) with ``per_shard`` of them in each shard."""
    found: dict[int, list[str]] = defaultdict(list)
    i = 0
    while min(len(found[k]) for k in range(SHARDS)) < per_shard:
        name = f"sh-{tag}-{i}"
        if len(found[shard_of(name, SHARDS)]) < per_shard:
            found[shard_of(name, SHARDS)].append(name)
        i += 1
    return dict(found)


def writes(op: OperatorProcess) -> dict[tuple[str, str, str], set[str]]:
    """Every status write the process logged: (kind, namespace, name) -> field managers."""
    out: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    for match in WRITTEN.finditer(Path(op.proc.log_path).read_text()):
        kind, ns, name, manager = match.groups()
        out[(kind, ns, name)].add(manager)
    return out


def cross_namespace(parent_ns: str, child_ns: str, check_in: float) -> list[dict[str, Any]]:
    """A parent objective counting children of ``child_ns``, and a child there with one manual key result."""
    return [
        {
            "apiVersion": "okr.dev/v1alpha1",
            "kind": "Objective",
            "metadata": {"name": "company", "namespace": parent_ns},
            "spec": {"title": "Company", "period": "2026-Q4", "children": {"fromNamespaces": [child_ns]}},
        },
        {
            "apiVersion": "okr.dev/v1alpha1",
            "kind": "Objective",
            "metadata": {"name": "team-goal", "namespace": child_ns},
            "spec": {"title": "Team", "period": "2026-Q4", "parentRef": {"name": "company", "namespace": parent_ns}},
        },
        {
            "apiVersion": "okr.dev/v1alpha1",
            "kind": "KeyResult",
            "metadata": {"name": "team-kr", "namespace": child_ns},
            "spec": {
                "objectiveRef": {"name": "team-goal"},
                "description": "Ship it",
                "baseline": 0,
                "target": 100,
                "source": {"manual": {"checkIns": [{"date": "2026-10-05", "value": check_in}]}},
            },
        },
    ]


@pytest.fixture(scope="module")
def cluster(request: pytest.FixtureRequest):
    """A cluster of this module's own: the operators here watch every namespace, so objects other tests leave in
    the session cluster (and field managers such as other tests' Helm releases) must not be there."""
    with own_cluster(ROOT / "out" / "e2e-logs" / "test_shards-cluster", lambda: request.session.testsfailed) as local:
        yield local


@pytest.fixture
def sharded(cluster, tmp_path):
    """Peering objects per shard and three operator processes: shard-0 a and b (its standby), shard-1 a."""
    tag = secrets.token_hex(3)
    base = f"okr-{tag}"
    cluster.install_crds([ROOT / "config" / "crd" / "kopf" / "kopf.dev_peerings.yaml"])
    cluster.install_crds(sorted((ROOT / "crds").glob("*.yaml")))
    cluster.install_crds([*upstream_crds("monitoring.coreos.com"), *upstream_crds("argoproj.io")])
    lease_ns = f"sh-{tag}-system"
    cluster.kubectl("create", "namespace", lease_ns)
    for k in range(SHARDS):
        cluster.apply(
            {"apiVersion": "kopf.dev/v1", "kind": "ClusterKopfPeering", "metadata": {"name": f"{base}-shard-{k}"}}
        )
    ops: dict[str, OperatorProcess] = {}
    for name, shard in (("shard0-a", 0), ("shard0-b", 0), ("shard1-a", 1)):
        ops[name] = OperatorProcess(
            cluster.kubeconfig,
            DEAD_PROMETHEUS,
            tmp_path / f"{name}.log",
            interval="2s",
            args=("--verbose", "--shards", str(SHARDS), "--shard", str(shard)),
            extra_env={
                "POD_NAME": name,
                "OKR_PEERING_NAME": base,
                "OKR_LEADER_LEASE": base,
                "OKR_LEASE_NAMESPACE": lease_ns,
            },
        ).start()
    spaces = namespaces_per_shard(tag)
    for ns in (n for names in spaces.values() for n in names):
        cluster.kubectl("create", "namespace", ns)
    try:
        yield {"ops": ops, "spaces": spaces, "base": base, "lease_ns": lease_ns}
    finally:
        for op in ops.values():
            op.stop()
        for ns in (lease_ns, *(n for names in spaces.values() for n in names)):
            cluster.kubectl("delete", "namespace", ns, "--wait=false", "--ignore-not-found", check=False)
        print(f"\noperator logs: {tmp_path}")


def test_two_shards_each_own_their_namespaces_roll_up_across_and_fail_over_alone(cluster, sharded):
    ops, spaces, base, lease_ns = sharded["ops"], sharded["spaces"], sharded["base"], sharded["lease_ns"]
    all_ns = [n for names in spaces.values() for n in names]
    for ns in all_ns:
        cluster.kubectl("apply", "-n", ns, "-f", str(ROOT / "config" / "samples"))
    parent_ns, child_ns = spaces[0][0], spaces[1][0]
    cluster.apply(cross_namespace(parent_ns, child_ns, 25))

    objects = [
        (d["kind"], d["metadata"]["name"])
        for p in sorted((ROOT / "config" / "samples").glob("*.yaml"))
        for d in yaml.safe_load_all(p.read_text())
        if d
    ]
    for ns in all_ns:
        for kind, name in objects:
            wait_until(
                lambda kind=kind, ns=ns, name=name: status(cluster, kind, ns, name).get("lastEvaluated"),
                120,
                f"{kind} {ns}/{name} status",
            )
        wait_until(
            lambda ns=ns: (
                cluster.kubectl("get", "prometheusrule", "checkout-availability-slo", "-n", ns, check=False).returncode
                == 0
            ),
            60,
            f"the PrometheusRule of {ns}/checkout-availability",
        )

    # The parent (shard 0) rolls up the child of shard 1 as that shard wrote it: 25 of 100.
    def company() -> dict[str, Any]:
        return status(cluster, "objective", parent_ns, "company")

    wait_until(lambda: company().get("progress") == 0.25, 60, "the roll-up of the other shard's child")
    (child,) = company()["children"]
    assert (child["namespace"], child["name"], child["counted"], child["progress"]) == (
        child_ns,
        "team-goal",
        True,
        0.25,
    )
    cluster.apply(cross_namespace(parent_ns, child_ns, 50)[2])  # a new check-in of the child's key result
    wait_until(lambda: company().get("progress") == 0.5, 60, "the roll-up to follow the child's new figures")

    # Who wrote what: each object's statuses came from the processes of the shard owning its namespace only.
    leaders = {name: op.metric("okr_evaluation_leader") for name, op in ops.items()}
    assert leaders["shard1-a"] == 1 and leaders["shard0-a"] + leaders["shard0-b"] == 1, leaders
    by_shard: dict[int, set[tuple[str, str, str]]] = defaultdict(set)
    for name, op in ops.items():
        shard = int(name[5])
        for (kind, ns, obj), managers in writes(op).items():
            assert shard_of(ns, SHARDS) == shard, f"{name} wrote {kind} {ns}/{obj}, a namespace of the other shard"
            assert managers <= {"okr-operator", "okr-operator-evaluation"}
            by_shard[shard].add((kind, ns, obj))
    assert not by_shard[0] & by_shard[1]
    expected = {(k, ns, n) for ns in all_ns for k, n in objects} | {
        ("Objective", parent_ns, "company"),
        ("Objective", child_ns, "team-goal"),
        ("KeyResult", child_ns, "team-kr"),
    }
    assert by_shard[0] | by_shard[1] == expected
    standby = next(n for n in ("shard0-a", "shard0-b") if leaders[n] == 0)
    active = next(n for n in ("shard0-a", "shard0-b") if leaders[n] == 1)
    assert not writes(ops[standby]), f"the standby {standby} wrote statuses"
    owned = {k: sum(1 for o in expected if shard_of(o[1], SHARDS) == k) for k in range(SHARDS)}
    assert ops[active].metric("okr_shard_objects", shard="0", shards="2") == owned[0]
    assert ops["shard1-a"].metric("okr_shard_objects", shard="1", shards="2") == owned[1]
    assert ops[standby].metric("okr_shard_objects", shard="0", shards="2") == 0
    print(f"\nobjects per shard: {owned}; shard 0 active {active}, standby {standby}")

    # Shard 0's active replica dies: its standby takes shard 0 over; shard 1 keeps its Lease and writes on.
    other = lease(cluster, lease_ns, f"{base}-shard-1")
    assert (
        lease(cluster, lease_ns, f"{base}-shard-0")["holderIdentity"] == active
        and other["holderIdentity"] == "shard1-a"
    )
    ops[active].kill()
    ns0, ns1 = spaces[0][1], spaces[1][1]
    check_in = '[{"op":"add","path":"/spec/source/manual/checkIns/-","value":{"date":"2026-11-20","value":41}}]'
    for ns in (ns0, ns1):
        cluster.kubectl("patch", "kr", "checkout-mttr", "-n", ns, "--type=json", "-p", check_in)
    wait_until(lambda: status(cluster, "kr", ns1, "checkout-mttr").get("current") == 41, 30, "shard 1 to go on writing")
    wait_until(
        lambda: status(cluster, "kr", ns0, "checkout-mttr").get("current") == 41,
        150,
        f"{standby} to take shard 0 over and write the new check-in",
    )
    assert ops[standby].metric("okr_evaluation_leader") == 1
    assert lease(cluster, lease_ns, f"{base}-shard-0")["holderIdentity"] == standby
    after = lease(cluster, lease_ns, f"{base}-shard-1")
    assert after["holderIdentity"] == "shard1-a"
    assert after["leaseTransitions"] == other["leaseTransitions"] and after["acquireTime"] == other["acquireTime"]
    assert ("KeyResult", ns0, "checkout-mttr") in writes(ops[standby])
    assert all(shard_of(ns, SHARDS) == 0 for _, ns, _ in writes(ops[standby]))


def test_sharded_renderings_are_accepted_by_the_apiserver_and_the_notes_name_the_shards(cluster, tmp_path):
    """config/sharded and the chart with sharding.shards=2: a server-side dry run of every object on a real
    apiserver (the Namespace and CRDs apart, which other tests apply), and `helm install --dry-run=server`'s NOTES."""
    from e2e.harness.cluster import kubectl_binary
    from e2e.test_deploy import helm_dry_run_install, helm_template

    cluster.install_crds([ROOT / "config" / "crd" / "kopf" / "kopf.dev_peerings.yaml"])
    cluster.kubectl("create", "namespace", "okr-system", check=False)
    rendered = subprocess.run(
        [kubectl_binary(), "kustomize", str(ROOT / "config" / "sharded")], capture_output=True, text=True, check=True
    ).stdout
    for name, docs in (
        ("kustomize", [d for d in yaml.safe_load_all(rendered) if d]),
        ("helm", helm_template("--set", "sharding.shards=2", "--set", "replicas=2")),
    ):
        objs = [d for d in docs if d["kind"] not in ("Namespace", "CustomResourceDefinition")]
        assert sorted(o["metadata"]["name"] for o in objs if o["kind"] == "Deployment") == [
            "okr-operator-shard-0",
            "okr-operator-shard-1",
        ]
        dry = cluster.kubectl(
            "apply", "--server-side", "--dry-run=server", "-f", "-", input=yaml.safe_dump_all(objs), check=False
        )
        assert dry.returncode == 0, f"{name}: {dry.stderr}"
        assert "okr-operator-shard-1 serverside-applied (server dry run)" in dry.stdout, dry.stdout
    out = helm_dry_run_install(cluster, "okr-shards", "--set", "sharding.shards=2")
    assert "Shards: 2 (a namespace belongs to shard sha256(name) mod 2), 1 replica(s) each" in out
    assert "rollout status deployment/okr-shards-okr-operator-shard-0" in out
