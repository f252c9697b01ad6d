"""Deploy paths on the Testbed (real kube-apiserver with RBAC and PodSecurity admission, real controllers).

* ``kubectl kustomize config/default`` (+ the prometheus component) and ``helm template charts/okr-operator``
  both apply, first with ``--dry-run=server`` and then for real, in Argo CD's order (sync waves for kustomize,
  CRDs first for Helm), and give the same objects.
* The operator's pod passes the namespace's ``restricted`` Pod Security level (the ReplicaSet creates it).
* The operator's ServiceAccount token (TokenRequest) has every permission the operator needs and not more;
  no ClusterRole rule is redundant (dropping any one loses a needed permission).
* ``okr-operator run`` with that token (peering, Lease, generated objects, status, events, deletion of a
  disabled gate) hits no permission error; without any one ClusterRole rule it does (on a cluster that also
  enforces OwnerReferencesPermissionEnforcement, so that the finalizers rule matters).
* The sample OKR manifests fail clearly before the CRDs exist and apply in sync-wave order.

Objects this module leaves on the session cluster: namespace okr-system with the (never scheduled)
operator Deployment, the CRDs, the ClusterKopfPeering and namespace argocd; no OKR object.
"""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client
from kubernetes import config as kube_config

from e2e.harness import LocalCluster, upstream_crds, wait_until
from e2e.harness.cluster import kubectl_binary, own_cluster
from e2e.harness.operator import serviceaccount_kubeconfig
from e2e.harness.upstream import prometheus_operator_crds
from okr_operator.deploy import argocd, health, rbac

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parent.parent
CONFIG = REPO / "config"
CHART = REPO / "charts" / "okr-operator"
NAMESPACE = "okr-system"
SERVICE_ACCOUNT = "okr-operator"
WAVE = "argocd.argoproj.io/sync-wave"
SA_USER = f"system:serviceaccount:{NAMESPACE}:{SERVICE_ACCOUNT}"

# ------------------------------------------------------------------------------------------ helpers


def kustomize(path: Path) -> list[dict[str, Any]]:
    proc = subprocess.run([kubectl_binary(), "kustomize", str(path)], capture_output=True, text=True, check=True)
    return [doc for doc in yaml.safe_load_all(proc.stdout) if doc]


def helm_dry_run_install(cluster: Any, release: str, *args: str) -> str:
    """``helm install --dry-run=server`` of the chart as ``release`` (in a namespace of that name) against
    ``cluster``; its output, NOTES included."""
    proc = subprocess.run(
        [
            str(helm_binary()),
            "install",
            release,
            str(CHART),
            "--namespace",
            release,
            "--create-namespace",
            "--dry-run=server",
            *args,
            "--kubeconfig",
            str(cluster.kubeconfig),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def kustomize_with_prometheus(tmp: Path) -> list[dict[str, Any]]:
    overlay = tmp / "overlay"
    overlay.mkdir(exist_ok=True)
    rel = os.path.relpath(CONFIG, overlay)
    (overlay / "kustomization.yaml").write_text(f"resources: [{rel}/default]\ncomponents: [{rel}/prometheus]\n")
    return kustomize(overlay)


def helm_binary() -> Path:
    from e2e.tools import build

    if not (build.TOOLS_DIR / build.TOOLS["helm"].wrapper / "go.mod").exists():
        pytest.skip("the Testbed has no helm wrapper module yet (e2e/tools/helm/go.mod)")
    return build.tool_path("helm")


def helm_template(*args: str) -> list[dict[str, Any]]:
    proc = subprocess.run(
        [str(helm_binary()), "template", "okr-operator", str(CHART), "--namespace", NAMESPACE, *args],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return [doc for doc in yaml.safe_load_all(proc.stdout) if doc]


def chart_crds() -> list[dict[str, Any]]:
    return [doc for p in sorted((CHART / "crds").glob("*.yaml")) for doc in yaml.safe_load_all(p.read_text()) if doc]


def wave(obj: dict[str, Any]) -> int:
    return int((obj["metadata"].get("annotations") or {}).get(WAVE, "0"))


def by_wave(docs: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Argo CD's order: ascending sync waves (Namespaces first inside a wave, as Argo CD sorts them)."""
    batches = []
    for w in sorted({wave(d) for d in docs}):
        batch = [d for d in docs if wave(d) == w]
        namespaces = [d for d in batch if d["kind"] == "Namespace"]
        if namespaces:
            batches.append(namespaces)
        batches.append([d for d in batch if d["kind"] != "Namespace"])
    return batches


def apply_batches(cluster: Any, batches: list[list[dict[str, Any]]], manager: str, force: bool = False) -> None:
    """Each batch: server-side dry run, then server-side apply, then wait for its CRDs to be served."""
    for batch in batches:
        text = yaml.safe_dump_all(batch)
        common = ["apply", "--server-side", f"--field-manager={manager}", "-f", "-"]
        if force:
            common.append("--force-conflicts")
        dry = cluster.kubectl(*common, "--dry-run=server", input=text, check=False)
        what = ", ".join(f"{d['kind']}/{d['metadata']['name']}" for d in batch)
        assert dry.returncode == 0, f"dry run of {what} failed:\n{dry.stderr}"
        assert "would violate PodSecurity" not in dry.stderr, dry.stderr
        cluster.kubectl(*common, input=text)
        crds = [d for d in batch if d["kind"] == "CustomResourceDefinition"]
        for crd in crds:
            name = crd["metadata"]["name"]
            cluster.kubectl("wait", "--for=condition=Established", f"crd/{name}", "--timeout=60s", timeout=70)
            wait_until(
                lambda n=name: cluster.kubectl("get", n, "-A", "--request-timeout=5s", check=False).returncode == 0,
                60,
                f"{name} to be served",
                interval=0.2,
            )


def live(cluster: Any, obj: dict[str, Any]) -> dict[str, Any]:
    args = ["get", obj["kind"], obj["metadata"]["name"], "-o", "yaml"]
    if obj["metadata"].get("namespace"):
        args += ["-n", obj["metadata"]["namespace"]]
    return yaml.safe_load(cluster.kubectl(*args).stdout)


def identity(objs: list[dict[str, Any]]) -> set[tuple[str, str]]:
    return {(o["kind"], o["metadata"]["name"]) for o in objs}


def access(api: client.AuthorizationV1Api, user: str, verb: str, resource: str, group: str, **extra: str) -> bool:
    """SubjectAccessReview (as the admin) for ``user``; ``resource`` may be ``plural/subresource``."""
    plural, _, sub = resource.partition("/")
    attrs = client.V1ResourceAttributes(verb=verb, resource=plural, subresource=sub or None, group=group, **extra)
    review = client.V1SubjectAccessReview(spec=client.V1SubjectAccessReviewSpec(user=user, resource_attributes=attrs))
    return bool(api.create_subject_access_review(review).status.allowed)


# ----------------------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def upstream(cluster: Any) -> None:
    """prometheus-operator's CRDs (ServiceMonitor for the prometheus component, PrometheusRule)."""
    cluster.install_crds(upstream_crds("monitoring.coreos.com"))


@pytest.fixture(scope="module")
def kustomized(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    return kustomize_with_prometheus(tmp_path_factory.mktemp("kustomize"))


@pytest.fixture(scope="module")
def installed(cluster: Any, upstream: None, kustomized: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """config/default + prometheus component applied for real on the session cluster (in sync-wave order)."""
    apply_batches(cluster, by_wave(kustomized), "okr-e2e-kustomize")
    return kustomized


@pytest.fixture(scope="module")
def fresh_cluster(request: pytest.FixtureRequest) -> Iterator[LocalCluster]:
    """A cluster of our own: the session cluster may already have our CRDs (other tests install them)."""
    logs = REPO / "out" / "e2e-logs" / "test_deploy-fresh-cluster"
    with own_cluster(logs, lambda: request.session.testsfailed) as local:
        yield local


@pytest.fixture(scope="module")
def authz(cluster: Any) -> client.AuthorizationV1Api:
    return client.AuthorizationV1Api(cluster.api_client)


# -------------------------------------------------------------------------------------------- tests


def test_kustomize_applies_dry_run_then_for_real(cluster, installed):
    for obj in installed:
        got = live(cluster, obj)
        assert got["metadata"]["name"] == obj["metadata"]["name"]
        if obj["kind"] != "CustomResourceDefinition":
            assert (got["metadata"].get("annotations") or {}).get(WAVE) == str(wave(obj))


def test_operator_pod_is_admitted_under_restricted_pod_security(cluster, installed):
    """The ReplicaSet controller creates the pod; PodSecurity 'restricted' (enforced on okr-system) admits it."""
    ns = live(cluster, {"kind": "Namespace", "metadata": {"name": NAMESPACE}})
    assert ns["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"

    def pod() -> dict[str, Any] | None:
        out = cluster.kubectl(
            "get", "pods", "-n", NAMESPACE, "-l", "app.kubernetes.io/component=operator", "-o", "yaml"
        )
        items = yaml.safe_load(out.stdout)["items"]
        return items[0] if items else None

    created = wait_until(pod, 60, "the operator's pod to be created")
    assert created["spec"]["serviceAccountName"] == SERVICE_ACCOUNT
    assert created["spec"]["containers"][0]["securityContext"]["readOnlyRootFilesystem"] is True
    events = cluster.kubectl("get", "events", "-n", NAMESPACE, "--field-selector", "reason=FailedCreate").stdout
    assert "violates PodSecurity" not in events


def test_helm_template_applies_dry_run_then_for_real(cluster, installed, upstream):
    """Over the kustomize install (same objects): Helm's order is crds/ first, then the templates."""
    templates = helm_template("--set", "serviceMonitor.enabled=true")
    apply_batches(cluster, [chart_crds(), templates], "okr-e2e-helm", force=True)
    for obj in templates:
        got = live(cluster, obj)
        assert got["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "Helm"


def test_kustomize_and_helm_install_the_same_objects(cluster, installed):
    helm_objs = [*chart_crds(), *helm_template("--set", "serviceMonitor.enabled=true")]
    kustomize_objs = [o for o in installed if o["kind"] != "Namespace"]  # helm installs into an existing namespace
    assert identity(helm_objs) == identity(kustomize_objs)
    for obj in helm_objs:
        live(cluster, obj)  # exists


def test_service_account_token_has_exactly_the_needed_permissions(cluster, installed, tmp_path):
    """The operator's identity from a TokenRequest: every needed permission allowed, the rest denied."""
    kubeconfig = serviceaccount_kubeconfig(cluster, NAMESPACE, SERVICE_ACCOUNT, tmp_path / "sa.yaml")
    sa_client = kube_config.new_client_from_config(config_file=str(kubeconfig))
    try:
        review_api = client.AuthorizationV1Api(sa_client)

        def can(verb: str, resource: str, group: str, namespace: str | None = None, name: str | None = None) -> bool:
            plural, _, sub = resource.partition("/")
            attrs = client.V1ResourceAttributes(
                verb=verb, resource=plural, subresource=sub or None, group=group, namespace=namespace, name=name
            )
            review = client.V1SelfSubjectAccessReview(
                spec=client.V1SelfSubjectAccessReviewSpec(resource_attributes=attrs)
            )
            return bool(review_api.create_self_subject_access_review(review).status.allowed)

        whoami = client.AuthenticationV1Api(sa_client).create_self_subject_review(client.V1SelfSubjectReview())
        assert whoami.status.user_info.username == SA_USER

        missing = [p for rule in rbac.CLUSTER_RULES for p in rule.permissions() if not can(*p)]
        assert missing == []
        lease = rbac.DEFAULT_LEASE
        assert can("create", "leases", "coordination.k8s.io", NAMESPACE)
        assert can("get", "leases", "coordination.k8s.io", NAMESPACE, lease)
        assert can("update", "leases", "coordination.k8s.io", NAMESPACE, lease)

        too_much = [
            ("get", "secrets", "", None, None),
            ("list", "pods", "", None, None),
            ("create", "objectives", "okr.dev", "default", None),
            ("update", "objectives", "okr.dev", "default", None),
            ("delete", "servicelevelobjectives", "okr.dev", "default", None),
            ("update", "prometheusrules", "monitoring.coreos.com", "default", None),
            ("deletecollection", "prometheusrules", "monitoring.coreos.com", "default", None),
            ("create", "events", "events.k8s.io", "default", None),
            ("create", "rollouts", "argoproj.io", "default", None),
            ("patch", "customresourcedefinitions", "apiextensions.k8s.io", None, None),
            ("escalate", "clusterroles", "rbac.authorization.k8s.io", None, None),
            ("create", "serviceaccounts/token", "", NAMESPACE, SERVICE_ACCOUNT),
            ("get", "leases", "coordination.k8s.io", NAMESPACE, "someone-elses-lease"),
            ("create", "leases", "coordination.k8s.io", "default", None),
            ("watch", "namespaces", "", None, None),  # list only: namespace labels for rule selection
            ("get", "prometheuses", "monitoring.coreos.com", "monitoring", None),
            ("patch", "prometheuses", "monitoring.coreos.com", "monitoring", None),
            ("patch", "kopfpeerings", "kopf.dev", "default", None),
        ]
        allowed = [p for p in too_much if can(*p)]
        assert allowed == []

        # Real calls with the token, not only reviews.
        sa = ["--kubeconfig", str(kubeconfig)]
        run = [kubectl_binary(), *sa]
        assert subprocess.run([*run, "get", "objectives,keyresults,slo", "-A"], capture_output=True).returncode == 0
        denied = subprocess.run([*run, "get", "secrets", "-A"], capture_output=True, text=True)
        assert denied.returncode != 0 and "forbidden" in denied.stderr.lower()
    finally:
        sa_client.close()


def test_service_account_can_write_status_and_generated_objects(cluster, installed, namespace, tmp_path):
    """What the operator does, done with its token: patch status, server-side apply a PrometheusRule, post an event."""
    kubeconfig = serviceaccount_kubeconfig(cluster, NAMESPACE, SERVICE_ACCOUNT, tmp_path / "sa.yaml")
    objective = {
        "apiVersion": "okr.dev/v1alpha1",
        "kind": "Objective",
        "metadata": {"name": "deploy-probe", "namespace": namespace},
        "spec": {"title": "Probe", "owner": "e2e", "period": "2026-Q4"},
    }
    cluster.apply(objective)
    as_sa = ["--kubeconfig", str(kubeconfig), "-n", namespace]
    kubectl = kubectl_binary()

    def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run([kubectl, *as_sa, *args], input=stdin, capture_output=True, text=True, check=False)

    # As the operator does it: one PATCH each (kubectl patch --subresource would GET /status first).
    sa_client = kube_config.new_client_from_config(config_file=str(kubeconfig))
    try:
        crs = client.CustomObjectsApi(sa_client)
        args = ("okr.dev", "v1alpha1", namespace, "objectives", "deploy-probe")
        crs.patch_namespaced_custom_object_status(*args, {"status": {"state": "Unknown"}})
        crs.patch_namespaced_custom_object(*args, {"metadata": {"annotations": {"kopf.zalando.org/touch": "1"}}})
    finally:
        sa_client.close()
    assert live(cluster, objective)["status"]["state"] == "Unknown"
    uid = live(cluster, objective)["metadata"]["uid"]
    rule = {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {
            "name": "deploy-probe-slo",
            "namespace": namespace,
            "ownerReferences": [
                {
                    "apiVersion": "okr.dev/v1alpha1",
                    "kind": "Objective",
                    "name": "deploy-probe",
                    "uid": uid,
                    "controller": True,
                    "blockOwnerDeletion": True,
                }
            ],
        },
        "spec": {"groups": [{"name": "probe", "rules": [{"record": "probe:up", "expr": "vector(1)"}]}]},
    }
    applied = run("apply", "--server-side", "--field-manager=okr-operator", "-f", "-", stdin=yaml.safe_dump(rule))
    assert applied.returncode == 0, applied.stderr
    event = {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": "deploy-probe.1", "namespace": namespace},
        "involvedObject": {
            "apiVersion": "okr.dev/v1alpha1",
            "kind": "Objective",
            "name": "deploy-probe",
            "namespace": namespace,
            "uid": uid,
        },
        "reason": "Evaluated",
        "message": "probe",
        "type": "Normal",
        "source": {"component": "okr-operator"},
    }
    posted = run("create", "-f", "-", stdin=yaml.safe_dump(event))
    assert posted.returncode == 0, posted.stderr
    forbidden = run("delete", "objective", "deploy-probe")
    assert forbidden.returncode != 0 and "forbidden" in forbidden.stderr.lower()
    # Leave no OKR object behind for operators that other modules run on the session cluster.
    cluster.kubectl("delete", "objective", "deploy-probe", "-n", namespace, "--wait=true", "--timeout=60s")


def test_no_cluster_role_rule_is_redundant(cluster, installed, authz):
    """Drop any one rule of the operator's ClusterRole: exactly that rule's permissions are lost.

    (Necessary as well as sufficient is proven with the operator running as the ServiceAccount: see the
    module docstring.) Each variant is a ClusterRole bound to its own probe user.
    """
    rules = rbac.CLUSTER_RULES
    docs = []
    for i in range(len(rules)):
        name = f"okr-e2e-minus-{i}"
        kept = [r for j, r in enumerate(rules) if j != i]
        docs.append(
            {
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "ClusterRole",
                "metadata": {"name": name},
                "rules": rbac.policy_rules(kept),
            }
        )
        docs.append(
            {
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "ClusterRoleBinding",
                "metadata": {"name": name},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": name},
                "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": name}],
            }
        )
    cluster.apply(docs)
    try:
        everything = [p for rule in rules for p in rule.permissions()]
        assert all(access(authz, SA_USER, *p) for p in everything)
        for i, rule in enumerate(rules):
            user = f"okr-e2e-minus-{i}"
            kept = [p for j, r in enumerate(rules) if j != i for p in r.permissions()]
            wait_until(lambda u=user, k=kept: all(access(authz, u, *p) for p in k), 30, f"{user}'s bindings")
            lost = [p for p in rule.permissions() if not access(authz, user, *p)]
            assert lost == rule.permissions(), f"rule {i} ({rule.why}) grants nothing of its own"
    finally:
        for doc in docs:
            cluster.kubectl("delete", doc["kind"], doc["metadata"]["name"], "--ignore-not-found", check=False)


def test_argocd_cm_patch_merges_into_argocd_cm(cluster):
    """The documented `kubectl patch --type merge --patch-file` works and keeps Argo CD's other keys."""
    cluster.apply(
        [
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "argocd"}},
        ]
    )
    cluster.apply(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "argocd-cm", "namespace": "argocd"},
            "data": {"url": "https://argocd.example"},
        }
    )
    cluster.kubectl(
        "-n",
        "argocd",
        "patch",
        "configmap",
        "argocd-cm",
        "--type",
        "merge",
        "--patch-file",
        str(CONFIG / "argocd" / argocd.PATCH_FILE),
    )
    data = live(cluster, {"kind": "ConfigMap", "metadata": {"name": "argocd-cm", "namespace": "argocd"}})["data"]
    assert data["url"] == "https://argocd.example"
    for kind_dir in sorted((CONFIG / "argocd" / "okr.dev").iterdir()):
        assert data[f"{argocd.HEALTH_KEY_PREFIX}okr.dev_{kind_dir.name}"] == (kind_dir / "health.lua").read_text()
        assert data[f"{argocd.OPEN_LIBS_KEY_PREFIX}okr.dev_{kind_dir.name}"] == "true"


def test_helm_install_dry_run_shows_notes(cluster, installed):
    """`helm install --dry-run=server` against the cluster renders NOTES.txt (with the ruleSelector warning)."""
    out = helm_dry_run_install(cluster, "okr-notes", "--set", "peering.create=false")
    assert "NOTES:" in out
    assert "ruleLabels is empty" in out
    assert "Helm never upgrades the CRDs" in out


def test_samples_fail_before_crds_and_apply_in_sync_wave_order(fresh_cluster, tmp_path):
    """On an empty cluster: the samples fail naming the missing kinds; in wave order everything applies."""
    samples = CONFIG / "samples"
    early = fresh_cluster.kubectl("apply", "-n", "default", "-f", str(samples), check=False)
    assert early.returncode != 0
    for kind in ("Objective", "KeyResult", "ServiceLevelObjective"):
        assert f'no matches for kind "{kind}" in version "okr.dev/v1alpha1"' in early.stderr, early.stderr
    assert "ensure CRDs are installed first" in early.stderr
    assert fresh_cluster.kubectl("get", "objectives,keyresults,slo", "-A", check=False).returncode != 0

    sample_docs = [
        {**doc, "metadata": {**doc["metadata"], "namespace": "default"}}
        for path in sorted(samples.glob("*.yaml"))
        for doc in yaml.safe_load_all(path.read_text())
        if doc
    ]
    everything = kustomize(CONFIG / "default") + sample_docs
    batches = by_wave(everything)
    waves = [sorted({wave(d) for d in b}) for b in batches]
    assert [w for (w,) in waves] == sorted(w for (w,) in waves)
    assert {d["kind"] for d in batches[0]} == {"CustomResourceDefinition"}
    assert {d["kind"] for d in batches[-1]} == {"Objective", "KeyResult", "ServiceLevelObjective"}
    apply_batches(fresh_cluster, batches, "okr-e2e-argocd-order")
    got = fresh_cluster.kubectl("get", "objectives,keyresults,slo", "-n", "default", "-o", "name").stdout.split()
    assert len(got) == len(sample_docs)


def test_serviceaccount_kubeconfig_is_the_service_account(fresh_cluster, tmp_path):
    fresh_cluster.kubectl("create", "namespace", "probe")
    fresh_cluster.kubectl("create", "serviceaccount", "robot", "-n", "probe")
    path = serviceaccount_kubeconfig(fresh_cluster, "probe", "robot", tmp_path / "robot.yaml")
    who = subprocess.run(
        [kubectl_binary(), "--kubeconfig", str(path), "auth", "whoami", "-o", "jsonpath={.status.userInfo.username}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert who == "system:serviceaccount:probe:robot"
    token = yaml.safe_load(path.read_text())["users"][0]["user"]["token"]
    claims = token.split(".")[1]
    payload = base64.urlsafe_b64decode(claims + "=" * (-len(claims) % 4)).decode()
    assert '"sub":"system:serviceaccount:probe:robot"' in payload


# ------------------------------------------------------------- the operator as its ServiceAccount

PERMISSION_ERROR = re.compile(r"forbidden|not enough permissions", re.IGNORECASE)
SELECTS_EVERY_NAMESPACE = {
    "apiVersion": "monitoring.coreos.com/v1",
    "kind": "Prometheus",
    "metadata": {"name": "k8s", "namespace": "monitoring"},
    "spec": {
        "ruleSelector": {},
        "ruleNamespaceSelector": {"matchExpressions": [{"key": "kubernetes.io/metadata.name", "operator": "Exists"}]},
    },
}
OPERATOR_POD = "okr-operator-e2e"


@pytest.fixture(scope="module")
def rbac_cluster(request: pytest.FixtureRequest) -> Iterator[LocalCluster]:
    """A cluster with config/default installed that also enforces blockOwnerDeletion permissions.

    OwnerReferencesPermissionEnforcement (on in OpenShift, off by default upstream) is what makes
    ``update`` on ``<kind>/finalizers`` necessary; with it on, every ClusterRole rule is exercised.
    """
    local = LocalCluster(
        log=lambda msg: None,
        extra_apiserver_args=["--enable-admission-plugins=OwnerReferencesPermissionEnforcement"],
    )
    failed_before = request.session.testsfailed
    local.start()
    try:
        local.install_crds([*upstream_crds("monitoring.coreos.com"), *upstream_crds("argoproj.io")])
        local.install_crds(prometheus_operator_crds("prometheuses"))
        apply_batches(local, by_wave(kustomize(CONFIG / "default")), "okr-e2e-rbac")
        # A Prometheus whose namespace selector needs namespace labels: the rule-selection read then uses
        # both of its (optional) rules, prometheuses and namespaces.
        local.kubectl("create", "namespace", "monitoring")
        local.apply(SELECTS_EVERY_NAMESPACE)
        yield local
    finally:
        if request.session.testsfailed > failed_before:
            dest = local.save_logs(REPO / "out" / "e2e-logs" / "test_deploy-rbac-cluster")
            print(f"rbac cluster logs copied to {dest}")
        local.stop()


def start_operator_as_service_account(cluster: Any, prometheus_url: str, tmp: Path, run: str, priority: int) -> Any:
    """``okr-operator run`` with the ServiceAccount's token, peering and the Lease, as the Deployment runs it."""
    from e2e.harness.operator import OperatorProcess

    kubeconfig = serviceaccount_kubeconfig(cluster, NAMESPACE, SERVICE_ACCOUNT, tmp / f"{run}.kubeconfig")
    env = {
        "OKR_LEASE_NAMESPACE": NAMESPACE,
        "OKR_PEERING_NAME": "okr-operator",
        "POD_NAME": OPERATOR_POD,  # the same Lease holder across runs: no wait for the Lease to expire
        "OKR_PRIORITY": str(priority),  # rising: a stale peer never outranks the new run
    }
    log = tmp / f"{run}.log"
    return OperatorProcess(kubeconfig, prometheus_url, log, interval="2s", args=(), extra_env=env)


def log_text(op: Any) -> str:
    path = Path(op.proc.log_path)
    return path.read_text(errors="replace") if path.exists() else ""


def evidence(op: Any, rule: rbac.Rule) -> str | None:
    """The first log line reporting a permission error about one of ``rule``'s resources (or subresources)."""
    words = {res.partition("/")[2] or res for res in rule.resources}
    lines = log_text(op).splitlines()
    return next((ln for ln in lines if PERMISSION_ERROR.search(ln) and any(w in ln for w in words)), None)


def sample_rules() -> list[str]:
    """The PrometheusRules the samples make: one per SLO (``-slo``) and one per key result (``-kr``: its
    trajectory alerts, whatever its source), as ``kubectl get -o name`` prints them."""
    suffix = {"ServiceLevelObjective": "slo", "KeyResult": "kr"}
    return sorted(
        f"prometheusrule.monitoring.coreos.com/{doc['metadata']['name']}-{suffix[doc['kind']]}"
        for path in sorted((CONFIG / "samples").glob("*.yaml"))
        for doc in yaml.safe_load_all(path.read_text())
        if doc and doc["kind"] in suffix
    )


def apply_samples(cluster: Any, namespace: str) -> None:
    cluster.kubectl("create", "namespace", namespace)
    for path in sorted((CONFIG / "samples").glob("*.yaml")):
        cluster.kubectl("apply", "-n", namespace, "-f", str(path))


def test_operator_runs_as_its_service_account(rbac_cluster, prometheus, tmp_path):
    """Peering, Lease, generated objects, status, events and a deletion, all with the shipped RBAC only."""
    op = start_operator_as_service_account(rbac_cluster, prometheus.url, tmp_path, "full", priority=100)
    op.start()
    try:
        apply_samples(rbac_cluster, "team")

        def all_evaluated() -> bool:
            out = rbac_cluster.kubectl("get", "objectives,keyresults,slo", "-n", "team", "-o", "yaml").stdout
            items = yaml.safe_load(out)["items"]
            return len(items) == 9 and all((i.get("status") or {}).get("state") for i in items)

        wait_until(all_evaluated, 90, "a status on every sample")
        # Argo CD's health checks read what the operator really writes.
        written = json.loads(
            rbac_cluster.kubectl("get", "objectives,keyresults,slo", "-n", "team", "-o", "json").stdout
        )
        for obj in written["items"]:
            verdict = health.health_of(obj, CONFIG / "argocd")
            print(f"{obj['kind']}/{obj['metadata']['name']}: {verdict}")
            assert verdict["status"] in ("Healthy", "Progressing", "Degraded") and verdict["message"]
            assert not verdict["message"].startswith("waiting for the operator"), verdict
        rules = sorted(rbac_cluster.kubectl("get", "prometheusrules", "-n", "team", "-o", "name").stdout.split())
        assert rules == sample_rules() and len(rules) == 6, rules  # two SLOs, four key results
        template = ["get", "analysistemplate", "checkout-availability-gate", "-n", "team"]
        assert rbac_cluster.kubectl(*template, check=False).returncode == 0
        lease = live(rbac_cluster, {"kind": "Lease", "metadata": {"name": rbac.DEFAULT_LEASE, "namespace": NAMESPACE}})
        assert lease["spec"]["holderIdentity"] == OPERATOR_POD
        peering = live(rbac_cluster, {"kind": "ClusterKopfPeering", "metadata": {"name": "okr-operator"}})
        assert [p["priority"] for p in (peering.get("status") or {}).values()] == [100]
        events = rbac_cluster.kubectl("get", "events", "-n", "team", "-o", "yaml").stdout
        assert "RulesSynced" in events
        # The optional read of Prometheus resources and namespace labels works with the shipped RBAC.
        slo = live(
            rbac_cluster,
            {"kind": "ServiceLevelObjective", "metadata": {"name": "checkout-availability", "namespace": "team"}},
        )
        synced = next(c for c in slo["status"]["conditions"] if c["type"] == "RulesSynced")
        assert (synced["reason"], synced["message"].rpartition("; ")[2]) == (
            "Selected",
            "loaded by Prometheus monitoring/k8s",
        )
        # Disabling the gate deletes the AnalysisTemplate (the operator's delete permission).
        rbac_cluster.kubectl(
            "patch",
            "slo",
            "checkout-availability",
            "-n",
            "team",
            "--type=merge",
            "-p",
            '{"spec": {"gate": {"enabled": false}}}',
        )
        wait_until(lambda: rbac_cluster.kubectl(*template, check=False).returncode != 0, 60, "the gate's deletion")
        op.wait_for_cycles(2)
    finally:
        op.stop()
    log = log_text(op)
    assert not PERMISSION_ERROR.search(log), [line for line in log.splitlines() if PERMISSION_ERROR.search(line)]


def test_removing_any_cluster_role_rule_breaks_the_operator(rbac_cluster, prometheus, tmp_path):
    """Least privilege is also sufficient privilege: without any one rule the operator hits a permission error."""
    rules = rbac.CLUSTER_RULES
    cluster_role = live(rbac_cluster, {"kind": "ClusterRole", "metadata": {"name": "okr-operator"}})
    assert cluster_role["rules"] == rbac.policy_rules(rules)
    authz = client.AuthorizationV1Api(rbac_cluster.api_client)

    def set_rules(kept: list[rbac.Rule]) -> None:
        role = {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": {"name": "okr-operator"},
            "rules": rbac.policy_rules(kept),
        }
        rbac_cluster.kubectl(
            "apply",
            "--server-side",
            "--force-conflicts",
            "--field-manager=okr-e2e-rbac",
            "-f",
            "-",
            input=yaml.safe_dump(role),
        )

    unnoticed = []
    try:
        for i, rule in enumerate(rules):
            set_rules([r for j, r in enumerate(rules) if j != i])
            first = rule.permissions()[0]
            wait_until(lambda p=first: not access(authz, SA_USER, *p), 30, f"rule {i} to be revoked")
            op = start_operator_as_service_account(rbac_cluster, prometheus.url, tmp_path, f"minus-{i}", 200 + i)
            try:
                op.start()
                apply_samples(rbac_cluster, f"minus-{i}")
                wait_until(lambda o=op, r=rule: evidence(o, r), 45, f"a permission error about {rule.resources}")
            except Exception as exc:
                if not evidence(op, rule):
                    unnoticed.append(f"rule {i} ({rule.why}): {exc!r}")
            finally:
                op.stop()
            print(f"without rule {i} ({rule.why}): {evidence(op, rule)}")
    finally:
        set_rules(list(rules))
    assert unnoticed == []
