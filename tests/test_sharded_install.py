"""The sharded installs: the chart with ``sharding.shards: 2`` and kustomize's config/sharded render one
Deployment per shard whose env the operator parses into distinct shards, a peering object and a Lease grant per
shard under the names the operator derives, disjoint pod selectors, and the same objects on both paths."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from okr_operator.deploy import rbac, workload
from okr_operator.runtime import settings as settings_module

from .test_chart import NAMESPACE, helm, template  # noqa: F401  (helm: the fixture)
from .test_kustomize import by_kind, kustomize, one

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def chart_sharded(helm):  # noqa: F811
    return template(helm, "--set", "sharding.shards=2", "--set", "replicas=2")


@pytest.fixture(scope="module")
def kustomize_sharded() -> list[dict[str, Any]]:
    return kustomize(REPO / "config" / "sharded")


def shard_settings(objs: list[dict[str, Any]]) -> dict[str, settings_module.Settings]:
    """Each Deployment's settings, as the operator parses its env."""
    out = {}
    for deployment in by_kind(objs, "Deployment"):
        (container,) = deployment["spec"]["template"]["spec"]["containers"]
        env = workload.container_env(container, {"metadata.namespace": NAMESPACE, "metadata.name": "pod-x"})
        out[deployment["metadata"]["name"]] = settings_module.from_env(env)
    return out


def check_sharded(objs: list[dict[str, Any]], replicas: int) -> None:
    settings = shard_settings(objs)
    assert sorted(settings) == ["okr-operator-shard-0", "okr-operator-shard-1"]
    assert {name: (s.shard, s.shards) for name, s in settings.items()} == {
        "okr-operator-shard-0": (0, 2),
        "okr-operator-shard-1": (1, 2),
    }
    # The peering objects and the Lease grant are exactly the names each shard derives.
    peerings = sorted(o["metadata"]["name"] for o in by_kind(objs, "ClusterKopfPeering"))
    assert peerings == sorted(s.peering for s in settings.values()) == ["okr-operator-shard-0", "okr-operator-shard-1"]
    leases = sorted(s.lease for s in settings.values())
    assert leases == ["okr-operator-evaluation-shard-0", "okr-operator-evaluation-shard-1"]
    role = one(objs, "Role")
    assert role["rules"] == rbac.policy_rules(rbac.lease_rules(*leases))
    assert rbac.rbac_problems(role) == []
    selectors = []
    for deployment in by_kind(objs, "Deployment"):
        spec = deployment["spec"]
        assert spec["replicas"] == replicas  # per shard: the active replica and its standbys
        labels = spec["template"]["metadata"]["labels"]
        assert all(labels.get(k) == v for k, v in spec["selector"]["matchLabels"].items())
        selectors.append(spec["selector"]["matchLabels"])
        assert workload.workload_problems(deployment) == []
        assert "OKR_PRIORITY" not in {e["name"] for e in spec["template"]["spec"]["containers"][0]["env"]}
    # Neither Deployment's selector matches the other's pods.
    assert selectors[0]["okr.dev/shard"] != selectors[1]["okr.dev/shard"]


@pytest.mark.tools
def test_chart_renders_a_deployment_peering_and_lease_per_shard(chart_sharded):
    check_sharded(chart_sharded, replicas=2)


def test_kustomize_sharded_overlay_renders_a_deployment_peering_and_lease_per_shard(kustomize_sharded):
    check_sharded(kustomize_sharded, replicas=1)
    assert len(by_kind(kustomize_sharded, "Namespace")) == 1


@pytest.mark.tools
def test_chart_and_kustomize_shard_the_same_way(chart_sharded, kustomize_sharded):
    """The same objects (less the Namespace and CRDs, which Helm handles apart) and the same pods per shard."""

    def names(objs: list[dict[str, Any]]) -> set[tuple[str, str]]:
        return {
            (o["kind"], o["metadata"]["name"])
            for o in objs
            if o["kind"] not in ("Namespace", "CustomResourceDefinition")
        }

    assert names(chart_sharded) == names(kustomize_sharded)
    ours = {d["metadata"]["name"]: d["spec"] for d in by_kind(chart_sharded, "Deployment")}
    theirs = {d["metadata"]["name"]: d["spec"] for d in by_kind(kustomize_sharded, "Deployment")}

    def pod(spec: dict[str, Any]) -> dict[str, Any]:
        """The pod spec with env sorted by name (a kustomize patch puts the entries it adds first)."""
        (container,) = spec["template"]["spec"]["containers"]
        container = {**container, "env": sorted(container["env"], key=lambda e: e["name"])}
        return {**spec["template"]["spec"], "containers": [container]}

    for name, spec in ours.items():
        assert spec["selector"] == theirs[name]["selector"]
        assert pod(spec) == pod(theirs[name])


@pytest.mark.tools
def test_chart_shards_in_namespaced_mode_get_a_kopf_peering_per_shard_and_namespace(helm):  # noqa: F811
    objs = template(helm, "--set", "sharding.shards=2", "--set-json", 'watchNamespaces=["team-a","team-b"]')
    peerings = sorted((o["metadata"]["namespace"], o["metadata"]["name"]) for o in by_kind(objs, "KopfPeering"))
    assert peerings == [
        ("team-a", "okr-operator-shard-0"),
        ("team-a", "okr-operator-shard-1"),
        ("team-b", "okr-operator-shard-0"),
        ("team-b", "okr-operator-shard-1"),
    ]


@pytest.mark.tools
def test_chart_without_sharding_is_unchanged(helm):  # noqa: F811
    objs = template(helm)
    (deployment,) = by_kind(objs, "Deployment")
    assert deployment["metadata"]["name"] == "okr-operator"
    assert "okr.dev/shard" not in deployment["spec"]["selector"]["matchLabels"]
    env = {e["name"] for e in deployment["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert not env & {"OKR_SHARDS", "OKR_SHARD"}


@pytest.mark.tools
def test_chart_refuses_zero_shards(helm):  # noqa: F811
    from .test_chart import CHART, RELEASE, run_helm

    proc = run_helm(helm, "template", RELEASE, str(CHART), "--set", "sharding.shards=0", check=False)
    assert proc.returncode != 0 and "/sharding/shards" in proc.stderr and "minimum" in proc.stderr
