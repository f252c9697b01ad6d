"""charts/okr-operator: lint, template, CRD drift, values schema, and no drift from config/ (kustomize).

helm is the Testbed's: built from its Go module into ~/.cache/okr-operator (``python -m e2e.tools.build helm``).
"""

from __future__ import annotations

import copy
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from okr_operator.deploy import rbac, workload
from okr_operator.runtime import settings as settings_module

from .test_kustomize import EXPECTED_OBJECTS, kustomize, one, operator_container

REPO = Path(__file__).resolve().parent.parent
CHART = REPO / "charts" / "okr-operator"
NAMESPACE = "okr-system"
RELEASE = "okr-operator"

# Every option that changes what is rendered, at once.
FULL_VALUES = [
    "--set",
    "replicas=2",
    "--set-json",
    'watchNamespaces=["team-a","team-b"]',
    "--set",
    "ruleLabels.release=kube-prometheus-stack",
    "--set",
    "ruleLabels.team=sre",
    "--set",
    "prometheus.url=https://mimir.example:8080/prometheus",
    "--set",
    "prometheus.tenant=acme",
    "--set",
    "prometheus.retries=3",
    "--set",
    "prometheus.insecureSkipVerify=true",
    "--set",
    "prometheus.bearerToken.secretName=prom-token",
    "--set",
    "prometheus.basicAuth.username=okr",
    "--set",
    "prometheus.basicAuth.passwordSecret.name=prom-basic",
    "--set",
    "prometheus.ca.configMapName=prom-ca",
    "--set",
    "prometheus.gateAddress=http://prometheus.monitoring:9090",
    "--set",
    "interval=1m",
    "--set",
    "sliSource=recorded",
    "--set",
    "serviceMonitor.enabled=true",
    "--set",
    "serviceMonitor.labels.release=kube-prometheus-stack",
    "--set",
    "leaderLease=okr-lease",
]


@pytest.fixture(scope="module")
def helm() -> Path:
    from e2e.tools import build

    if not (build.TOOLS_DIR / build.TOOLS["helm"].wrapper / "go.mod").exists():
        pytest.skip("the Testbed has no helm wrapper module yet (e2e/tools/helm/go.mod)")
    return build.tool_path("helm")


def run_helm(helm: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([str(helm), *args], capture_output=True, text=True, timeout=120, check=False)
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


def template(helm: Path, *args: str) -> list[dict[str, Any]]:
    out = run_helm(helm, "template", RELEASE, str(CHART), "--namespace", NAMESPACE, *args).stdout
    return [doc for doc in yaml.safe_load_all(out) if doc]


@pytest.fixture(scope="module")
def rendered(helm: Path) -> list[dict[str, Any]]:
    return template(helm)


@pytest.fixture(scope="module")
def full(helm: Path) -> list[dict[str, Any]]:
    return template(helm, *FULL_VALUES)


def names(objs: list[dict[str, Any]]) -> set[tuple[str, str]]:
    return {(o["kind"], o["metadata"]["name"]) for o in objs}


# ----------------------------------------------------------------------------------- lint, CRDs


def test_lint_strict(helm):
    proc = run_helm(helm, "lint", "--strict", str(CHART))
    assert "0 chart(s) failed" in proc.stdout


def test_lint_strict_with_every_option(helm):
    run_helm(helm, "lint", "--strict", str(CHART), *FULL_VALUES)


def test_chart_crds_match_generated_crds():
    """crds/ of the chart are the generated ones (refresh: cp crds/okr.dev_*.yaml charts/okr-operator/crds/)."""
    generated = sorted(p.name for p in (REPO / "crds").glob("*.yaml"))
    kopf = CHART / "crds" / "kopf.dev_peerings.yaml"
    assert sorted(p.name for p in (CHART / "crds").glob("*.yaml")) == sorted([*generated, kopf.name])
    for name in generated:
        assert (CHART / "crds" / name).read_bytes() == (REPO / "crds" / name).read_bytes(), (
            f"charts/okr-operator/crds/{name} drifted from crds/{name}: cp crds/{name} charts/okr-operator/crds/"
        )
    assert kopf.read_bytes() == (REPO / "config" / "crd" / "kopf" / kopf.name).read_bytes()


def test_include_crds_renders_them(helm):
    crds = [o for o in template(helm, "--include-crds") if o["kind"] == "CustomResourceDefinition"]
    assert sorted(o["metadata"]["name"] for o in crds) == sorted(
        name for kind, name in EXPECTED_OBJECTS if kind == "CustomResourceDefinition"
    )


# ---------------------------------------------------------------------- no drift from kustomize


def test_same_objects_as_kustomize(rendered):
    """The same kinds and names as config/default, less the Namespace (Helm installs into an existing one)."""
    kustomized = {pair for pair in EXPECTED_OBJECTS if pair[0] not in ("CustomResourceDefinition", "Namespace")}
    assert names(rendered) == kustomized


def test_same_pod_as_kustomize(rendered):
    ours = one(rendered, "Deployment")["spec"]
    theirs = one(kustomize(REPO / "config" / "default"), "Deployment")["spec"]
    assert ours["selector"] == theirs["selector"]
    assert ours["replicas"] == theirs["replicas"]
    assert copy.deepcopy(ours["template"]["spec"]) == copy.deepcopy(theirs["template"]["spec"])


def test_same_rbac_as_kustomize(rendered):
    objs = kustomize(REPO / "config" / "default")
    for kind in ("ClusterRole", "Role"):
        assert one(rendered, kind)["rules"] == one(objs, kind)["rules"]
    for kind in ("ClusterRoleBinding", "RoleBinding"):
        assert one(rendered, kind)["roleRef"] == one(objs, kind)["roleRef"]
        assert one(rendered, kind)["subjects"] == one(objs, kind)["subjects"]


# -------------------------------------------------------------------------------- RBAC, security


def test_rbac_cluster_wide(rendered):
    assert one(rendered, "ClusterRole")["rules"] == rbac.policy_rules(rbac.CLUSTER_RULES)
    assert one(rendered, "Role")["rules"] == rbac.policy_rules(rbac.lease_rules())
    for role in (one(rendered, "ClusterRole"), one(rendered, "Role")):
        assert rbac.rbac_problems(role) == []


def test_rbac_and_peering_when_restricted_to_namespaces(full):
    """A namespace-scoped install: the ClusterRole only reads; every write is in the watched namespaces' Roles."""
    assert one(full, "ClusterRole")["rules"] == rbac.policy_rules(rbac.NAMESPACED_CLUSTER_RULES)
    assert not [v for rule in one(full, "ClusterRole")["rules"] for v in rule["verbs"] if v in rbac.WRITE_VERBS]
    roles = {(o["metadata"]["namespace"], o["metadata"]["name"]): o for o in full if o["kind"] == "Role"}
    release = next(ns for ns, name in roles if name.endswith("-lease"))
    assert roles[(release, "okr-operator-lease")]["rules"] == rbac.policy_rules(rbac.lease_rules("okr-lease"))
    for namespace in ("team-a", "team-b"):
        assert roles[(namespace, "okr-operator")]["rules"] == rbac.policy_rules(rbac.NAMESPACE_RULES)
        binding = next(o for o in full if o["kind"] == "RoleBinding" and o["metadata"]["namespace"] == namespace)
        assert binding["roleRef"]["name"] == "okr-operator" and binding["subjects"][0]["name"] == "okr-operator"
    for role in (one(full, "ClusterRole"), *roles.values()):
        assert rbac.rbac_problems(role) == []
    peerings = [o for o in full if o["kind"] == "KopfPeering"]
    assert sorted(p["metadata"]["namespace"] for p in peerings) == ["team-a", "team-b"]
    assert not [o for o in full if o["kind"] == "ClusterKopfPeering"]


@pytest.mark.parametrize("which", ["rendered", "full"])
@pytest.mark.tools  # helm, through the rendered/full fixtures
def test_deployment_is_hardened(which, request):
    objs = request.getfixturevalue(which)
    assert workload.workload_problems(one(objs, "Deployment")) == []


@pytest.mark.parametrize("which", ["rendered", "full"])
@pytest.mark.tools  # helm, through the rendered/full fixtures
def test_probes_ask_about_the_operator_itself(which, request):
    """Liveness on /healthz (loop and watches), readiness on /readyz (also: watching every kind, one cycle)."""
    container = operator_container(request.getfixturevalue(which))
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "metrics"}
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "metrics"}


# ------------------------------------------------------------------------------------- settings


def test_env_of_every_option_is_known_and_parses(full):
    deployment = one(full, "Deployment")
    container = operator_container(full)
    env_names = [e["name"] for e in container["env"]]
    assert len(env_names) == len(set(env_names))
    assert set(env_names) <= workload.known_env_names(), set(env_names) - workload.known_env_names()
    assert "OKR_PRIORITY" not in env_names, "replicas > 1: the operator derives priorities from POD_NAME"
    env = workload.container_env(container, {"metadata.namespace": NAMESPACE, "metadata.name": "okr-operator-abc"})
    parsed = settings_module.from_env(env)
    prom = parsed.prometheus
    assert prom.url == "https://mimir.example:8080/prometheus"
    assert prom.tenant == "acme"
    assert prom.retries == 3
    assert prom.insecure_skip_verify is True
    assert prom.basic_auth_username == "okr"
    assert parsed.namespaces == ("team-a", "team-b")
    assert parsed.rule_labels == {"release": "kube-prometheus-stack", "team": "sre"}
    assert parsed.interval_seconds == 60
    assert parsed.sli_source == "recorded"
    assert parsed.gate_address == "http://prometheus.monitoring:9090"
    assert parsed.leader_lease == "okr-lease"
    assert parsed.lease_namespace == NAMESPACE
    assert deployment["spec"]["replicas"] == 2
    # Each secret file the env names is mounted from the referenced Secret / ConfigMap.
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in deployment["spec"]["template"]["spec"]["volumes"]}
    for path, volume, source in (
        (prom.bearer_token_file, "prometheus-bearer-token", ("secret", "secretName", "prom-token")),
        (prom.basic_auth_password_file, "prometheus-basic-auth", ("secret", "secretName", "prom-basic")),
        (prom.ca_file, "prometheus-ca", ("configMap", "name", "prom-ca")),
    ):
        assert path is not None
        directory, filename = path.rsplit("/", 1)
        assert mounts[volume] == directory
        kind, key, name = source
        assert volumes[volume][kind][key] == name
        assert [item["path"] for item in volumes[volume][kind]["items"]] == [filename]


def test_defaults_parse_as_the_operator_defaults(rendered):
    env = workload.container_env(operator_container(rendered), {"metadata.namespace": NAMESPACE})
    parsed = settings_module.from_env(env)
    defaults = settings_module.Settings()
    assert parsed.prometheus.url == defaults.prometheus.url
    assert parsed.interval == defaults.interval
    assert parsed.metrics_port == defaults.metrics_port
    assert parsed.peering_name == defaults.peering_name == one(rendered, "ClusterKopfPeering")["metadata"]["name"]
    assert parsed.leader_lease == defaults.leader_lease


def test_fixed_priority_with_one_replica(helm):
    container = operator_container(template(helm, "--set", "priority=100000000"))
    assert workload.container_env(container)["OKR_PRIORITY"] == "100000000"


def test_image_tag_and_digest(helm, rendered):
    assert operator_container(rendered)["image"] == "okr-operator:0.1.0"
    digest = "sha256:" + "a" * 64
    objs = template(helm, "--set", "image.repository=registry.example/okr", "--set", f"image.digest={digest}")
    assert operator_container(objs)["image"] == f"registry.example/okr@{digest}"


def test_service_monitor(full):
    service, monitor = one(full, "Service"), one(full, "ServiceMonitor")
    pod_labels = one(full, "Deployment")["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= pod_labels.items()
    assert monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    assert monitor["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    assert monitor["spec"]["endpoints"][0]["port"] == "metrics"


# --------------------------------------------------------------------------------- values schema


@pytest.mark.parametrize(
    ("args", "complaint"),
    [
        (["--set", "replicas=0"], "/replicas"),
        (["--set", "replica=2"], "replica"),
        (["--set", "sliSource=fast"], "/sliSource"),
        (["--set", "interval=30 seconds"], "/interval"),
        (["--set", "prometheus.url=prometheus:9090"], "/prometheus/url"),
        (["--set", "prometheus.timeoutSeconds=0"], "/prometheus/timeoutSeconds"),
        (["--set-json", 'watchNamespaces=["Team-A"]'], "/watchNamespaces/0"),
        (["--set", "ruleLabels.bad key=x"], "'bad key' does not match pattern"),
        (["--set", "image.digest=latest"], "/image/digest"),
        (["--set", "metricsPort=80"], "/metricsPort"),
        (["--set", "prometheus.bearerToken.secretNam=x"], "secretNam"),
    ],
)
def test_values_schema_rejects(helm, args, complaint):
    proc = run_helm(helm, "template", RELEASE, str(CHART), *args, check=False)
    assert proc.returncode != 0
    assert "schema" in proc.stderr and complaint in proc.stderr, proc.stderr


def test_fixed_priority_with_replicas_is_refused(helm):
    proc = run_helm(helm, "template", RELEASE, str(CHART), "--set", "replicas=3", "--set", "priority=1", check=False)
    assert proc.returncode != 0
    assert "kopf freezes replicas of equal priority" in proc.stderr


def test_basic_auth_needs_the_password_secret(helm):
    proc = run_helm(helm, "template", RELEASE, str(CHART), "--set", "prometheus.basicAuth.username=u", check=False)
    assert proc.returncode != 0
    assert "passwordSecret.name is required" in proc.stderr
