"""Argo CD's own code on our manifests (Argo CD v3.6.1, built by e2e/tools).

* Every case of every ``config/argocd/okr.dev/<Kind>/health_test.yaml`` through
  ``argocd admin settings resource-overrides health`` with the shipped ``argocd-cm-patch.yaml``:
  Argo CD's Lua VM, its library rule and its argocd-cm parsing; status and message exactly.
* Without the ``useOpenLibs`` keys Argo CD fails exactly the cases that lupa (unit tier) says need the
  string library, so the unit tier's Lua environment is Argo CD's.
* GitOps end to end: Argo CD's application controller and repo server sync an Application made of the
  repository's ``config/default`` and ``config/samples`` (served by ``git daemon`` on loopback) into a
  local control plane: CRDs first (sync waves), the operator's Deployment Healthy (a kwok node runs its
  pod), then the OKR objects; ``Synced`` and, once the operator (run here as the ServiceAccount Argo CD
  created) has written status, ``Healthy``; an exhausted error budget makes the Application ``Degraded``
  with our message.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from e2e.fixtures import log_root
from e2e.harness import LocalCluster, LocalPrometheus, SyntheticExporter, constant, openmetrics_history, wait_until
from e2e.harness.argocd import NAMESPACE as ARGOCD_NAMESPACE
from e2e.harness.argocd import LocalArgoCD, admin_health, argocd_binary
from e2e.harness.cluster import kubectl_binary
from e2e.harness.gitserver import GitDaemon
from e2e.harness.operator import OperatorProcess, serviceaccount_kubeconfig
from e2e.harness.prometheus_operator import PrometheusOperator
from e2e.harness.upstream import upstream_crds
from okr_operator.deploy.argocd import OPEN_LIBS_KEY_PREFIX, PATCH_FILE
from okr_operator.deploy.health import health_of, run_health_lua
from okr_operator.generated import MANAGED_BY

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parent.parent
ARGOCD_DIR = REPO / "config" / "argocd"
PATCH = ARGOCD_DIR / PATCH_FILE


def _cases() -> list[Any]:
    params = []
    for kind_dir in sorted((ARGOCD_DIR / "okr.dev").iterdir()):
        for case in yaml.safe_load((kind_dir / "health_test.yaml").read_text())["tests"]:
            params.append(pytest.param(kind_dir, case, id=f"{kind_dir.name}/{Path(case['inputPath']).stem}"))
    return params


CASES = _cases()


@pytest.fixture(scope="module")
def argocd(request: pytest.FixtureRequest) -> Path:
    return argocd_binary(log=lambda msg: print(f"[testbed] {msg}", flush=True))


@pytest.mark.parametrize(("kind_dir", "case"), CASES)
def test_health_case_through_argocd(argocd: Path, kind_dir: Path, case: dict[str, Any], tmp_path: Path) -> None:
    obj = yaml.safe_load((kind_dir / case["inputPath"]).read_text())
    got = admin_health(obj, PATCH, tmp_path, argocd)
    assert got == {"status": case["healthStatus"]["status"], "message": case["healthStatus"]["message"]}


def test_without_open_libs_argocd_fails_where_lupa_does(argocd: Path, tmp_path: Path) -> None:
    """The shipped patch minus its useOpenLibs keys: Argo CD and the unit tier's Lua agree case by case."""
    cm = yaml.safe_load(PATCH.read_text())
    cm["data"] = {k: v for k, v in cm["data"].items() if not k.startswith(OPEN_LIBS_KEY_PREFIX)}
    closed = tmp_path / "argocd-cm-closed.yaml"
    closed.write_text(yaml.safe_dump(cm))
    argocd_unknown, lupa_failed = [], []
    for param in CASES:
        kind_dir, case = param.values
        obj = yaml.safe_load((kind_dir / case["inputPath"]).read_text())
        verdict = admin_health(obj, closed, tmp_path / "objs", argocd)
        if verdict["status"] == "Unknown":
            assert "attempt to index a non-table object(nil) with key 'format'" in verdict["message"], verdict
            argocd_unknown.append(param.id)
        else:
            expected = {"status": case["healthStatus"]["status"], "message": case["healthStatus"]["message"]}
            assert verdict == expected
        try:
            run_health_lua((kind_dir / "health.lua").read_text(), obj, open_libs=False)
        except Exception as exc:  # lupa.LuaError
            assert "attempt to index global 'string'" in str(exc)
            lupa_failed.append(param.id)
    assert argocd_unknown == lupa_failed
    assert argocd_unknown, "some case formats a number"
    print(f"\nwithout useOpenLibs: {len(argocd_unknown)} of {len(CASES)} cases Unknown in Argo CD")


# ------------------------------------------------------------------------------ GitOps end to end

SERVICE = "checkout"  # the samples' service: the repository's samples are synced unchanged
RATE = 20.0
ERROR_RATIO = 0.0005  # half of the 99.9% availability budget
LATENCY = ((0.05, 0.6), (0.12, 0.3), (0.2, 0.096), (0.4, 0.004))
APP = "okr"
TEAM = "team-checkout"
OPERATOR_NS = "okr-system"
OKR_KINDS = ("Objective", "KeyResult", "ServiceLevelObjective")


def _say(msg: str) -> None:
    print(f"[testbed] {msg}", flush=True)


@pytest.fixture(scope="module")
def gitops(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A control plane with a scheduler and a kwok node, Prometheus with a day of checkout traffic,
    Argo CD, and the repository's config/ on a git daemon. Yields a namespace of handles."""
    work = tmp_path_factory.mktemp("gitops")
    with LocalCluster(scheduler=True, log=_say) as cluster:
        cluster.start_kwok()
        _fake_node(cluster, "fake-0")
        exporter = SyntheticExporter().start()
        exporter.set(SERVICE, "v1", rate=RATE, error_ratio=ERROR_RATIO, latency=LATENCY)
        prom = LocalPrometheus(targets=[exporter.target], log=_say)
        now = time.time()
        day = constant(SERVICE, "v1", now - 86400, now - 30, rate=RATE, error_ratio=ERROR_RATIO, latency=LATENCY)
        prom.backfill(openmetrics_history([day], step=60))
        prom.start()
        # What the operator writes into: prometheus-operator's and Argo Rollouts' kinds (not Argo CD's job).
        cluster.install_crds([*upstream_crds("monitoring.coreos.com"), *upstream_crds("argoproj.io")])
        # The generated rules reach prom through the real prometheus-operator (prom plays monitoring/okr's pod).
        rules = contextlib.ExitStack()
        promop = PrometheusOperator(cluster).start()
        rules.callback(promop.stop)
        rules.enter_context(promop.loading_into(prom, "okr", {"matchLabels": dict(MANAGED_BY)}, {}))
        git = GitDaemon(work / "git").start()
        git.publish("okr", {"config": REPO / "config"}, "okr-operator config/ as in the work tree")
        patch = yaml.safe_load(PATCH.read_text())
        argo = LocalArgoCD(cluster, cm_data=patch["data"], workdir=work / "argocd", log=_say)
        handles = type("GitOps", (), {})()
        handles.cluster, handles.prom, handles.exporter, handles.git, handles.argocd = (
            cluster,
            prom,
            exporter,
            git,
            argo,
        )
        handles.operator = None
        try:
            argo.start()
            yield handles
        finally:
            if handles.operator is not None:
                handles.operator.stop()
            logs = log_root() / "test_argocd"  # kept: the module's tmp dirs are not
            for part in (cluster, argo, prom, promop):
                part.save_logs(logs)
            if handles.operator is not None:
                shutil.copy2(handles.operator.proc.log_path, logs / "okr-operator.log")
            print(f"\nlogs of the GitOps run: {logs}")
            argo.stop()
            git.stop()
            rules.close()
            prom.close()
            exporter.stop()


def _fake_node(cluster: Any, name: str) -> None:
    """A Node kwok keeps Ready. The not-ready taint that admission puts on new Nodes is removed, as the
    node-lifecycle controller (off: no kubelets) would, so the operator's unmodified Deployment schedules."""
    cluster.apply(
        {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name, "annotations": {"kwok.x-k8s.io/node": "fake"}}}
    )

    def ready() -> bool:
        node = yaml.safe_load(cluster.kubectl("get", "node", name, "-o", "yaml").stdout)
        return any(c["type"] == "Ready" and c["status"] == "True" for c in node.get("status", {}).get("conditions", []))

    wait_until(ready, 60, f"kwok to make Node {name} Ready", interval=0.5)
    cluster.kubectl("taint", "nodes", name, "node.kubernetes.io/not-ready:NoSchedule-", check=False)


def application(url: str) -> dict[str, Any]:
    """The operator and the team's OKRs in one Application: the sync waves order CRDs, operator, objects."""
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {"name": APP},
        "spec": {
            "project": "default",
            "sources": [
                {"repoURL": url, "targetRevision": "main", "path": "config/default"},
                {"repoURL": url, "targetRevision": "main", "path": "config/samples"},
            ],
            "destination": {"server": "https://kubernetes.default.svc", "namespace": TEAM},
            "syncPolicy": {
                "automated": {"prune": True, "selfHeal": True},
                "syncOptions": ["CreateNamespace=true"],
                "retry": {"limit": 5, "backoff": {"duration": "5s", "factor": 2}},
            },
        },
    }


def _okr_resources(app: dict[str, Any]) -> list[dict[str, Any]]:
    return [r for r in app.get("status", {}).get("resources", []) if r.get("group") == "okr.dev"]


def _synced(app: dict[str, Any]) -> bool:
    status = app.get("status", {})
    return (
        status.get("sync", {}).get("status") == "Synced"
        and status.get("operationState", {}).get("phase") == "Succeeded"
    )


def _health(app: dict[str, Any]) -> str:
    return str(app.get("status", {}).get("health", {}).get("status"))


def _created(cluster: Any, *args: str) -> list[str]:
    out = cluster.kubectl("get", *args, "-o", "jsonpath={.items[*].metadata.creationTimestamp}").stdout
    return sorted(out.split())


@pytest.fixture(scope="module")
def synced(gitops: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The Application applied; the operator started as the ServiceAccount Argo CD's sync created."""
    cluster, argo = gitops.cluster, gitops.argocd
    started = time.monotonic()
    argo.apply_application(application(gitops.git.url("okr")))
    # Wave -1 applied (the Deployment comes after the ServiceAccount and the RBAC in Argo CD's kind order).
    deployment = ("get", "deployment", "okr-operator", "-n", OPERATOR_NS)
    wait_until(lambda: cluster.kubectl(*deployment, check=False).returncode == 0, 240, "wave -1 (the Deployment)")
    work = tmp_path_factory.mktemp("operator")
    kubeconfig = serviceaccount_kubeconfig(cluster, OPERATOR_NS, "okr-operator", work / "sa.kubeconfig")
    env = {
        "OKR_LEASE_NAMESPACE": OPERATOR_NS,
        "OKR_PEERING_NAME": "okr-operator",
        "POD_NAME": "okr-operator-argocd-0",
        "OKR_GATE_PROMETHEUS_ADDRESS": gitops.prom.url,
    }
    gitops.operator = OperatorProcess(
        kubeconfig, gitops.prom.url, work / "operator.log", interval="3s", args=(), extra_env=env
    )
    gitops.operator.start()
    app = argo.wait_application(APP, lambda a: _synced(a) and _health(a) == "Healthy", 420, "Synced and Healthy")
    print(f"\nApplication {APP} Synced and Healthy {time.monotonic() - started:.0f} s after it was applied")
    return app


def test_application_syncs_and_turns_healthy(gitops: Any, synced: dict[str, Any]) -> None:
    resources = _okr_resources(synced)
    assert sorted((r["kind"], r["name"]) for r in resources) == sorted(
        (doc["kind"], doc["metadata"]["name"])
        for path in sorted((REPO / "config" / "samples").glob("*.yaml"))
        for doc in yaml.safe_load_all(path.read_text())
        if doc
    )
    assert all(r["status"] == "Synced" and r["namespace"] == TEAM for r in resources)

    # Argo CD's health of each object is what our Lua says about the status the operator wrote. The
    # Application can turn Healthy before the operator's second cycle has written the SLIs (an SLO without
    # an SLI yet is Healthy too, with the message "Unknown: ..."), and a change of the message alone need
    # not refresh the Application at once: ask for a refresh, as a user would, and wait for the two to agree.
    def live_verdicts() -> dict[tuple[str, str], dict[str, str]]:
        items = json.loads(gitops.cluster.kubectl("get", "objectives,keyresults,slo", "-n", TEAM, "-o", "json").stdout)
        return {(i["kind"], i["metadata"]["name"]): health_of(i, ARGOCD_DIR) for i in items["items"]}

    def agrees(app: dict[str, Any]) -> bool:
        wanted = live_verdicts()
        shown = {(r["kind"], r["name"]): r.get("health", {}) for r in _okr_resources(app)}
        sli = wanted.get(("ServiceLevelObjective", "checkout-availability"), {}).get("message", "")
        return sli.startswith("Healthy, SLI") and all(
            shown.get(key, {}).get("status") == v["status"] and shown.get(key, {}).get("message") == v["message"]
            for key, v in wanted.items()
        )

    gitops.cluster.kubectl(
        "annotate", "application", APP, "-n", ARGOCD_NAMESPACE, "argocd.argoproj.io/refresh=normal", "--overwrite"
    )
    synced = gitops.argocd.wait_application(APP, agrees, 180, "health messages equal to the Lua on the live status")
    resources = _okr_resources(synced)
    assert all(r["health"]["status"] == "Healthy" for r in resources), resources
    slo = next(r for r in resources if r["name"] == "checkout-availability")
    assert slo["health"]["message"].startswith("Healthy, SLI 99.95")
    deployment = next(r for r in synced["status"]["resources"] if r["kind"] == "Deployment")
    assert deployment["health"]["status"] == "Healthy"
    results = synced["status"]["operationState"]["syncResult"]["resources"]
    assert results and all(r["status"] == "Synced" for r in results), results


def test_sync_waves_install_crds_before_objects(gitops: Any, synced: dict[str, Any]) -> None:
    """Wave -2 (CRDs) before wave -1 (namespace, RBAC, the Deployment) before wave 0 (the OKR objects),
    each wave after the previous one was healthy (the Deployment Available before any OKR object)."""
    cluster = gitops.cluster
    crds = _created(cluster, "crd", "-l", "app.kubernetes.io/part-of=okr-operator")
    shipped = subprocess.run(
        [kubectl_binary(), "kustomize", str(REPO / "config" / "crd")], capture_output=True, text=True, check=True
    ).stdout
    assert len(crds) == len([d for d in yaml.safe_load_all(shipped) if d]), crds  # our kinds and kopf's peerings
    operator = _created(
        cluster, "deployment,serviceaccount", "-n", OPERATOR_NS, "-l", "app.kubernetes.io/part-of=okr-operator"
    )
    objects = _created(cluster, "objectives,keyresults,slo", "-n", TEAM)
    assert len(objects) == 9
    assert max(crds) < min(operator), (crds, operator)
    deployment = yaml.safe_load(
        cluster.kubectl("get", "deployment", "okr-operator", "-n", OPERATOR_NS, "-o", "yaml").stdout
    )
    available = next(c for c in deployment["status"]["conditions"] if c["type"] == "Available")
    assert available["status"] == "True"
    assert max(operator) <= available["lastTransitionTime"] <= min(objects), (operator, available, objects)
    assert max(operator) < min(objects)


def test_exhausted_budget_makes_the_application_degraded(gitops: Any, synced: dict[str, Any]) -> None:
    gitops.exporter.set(SERVICE, "v1", rate=10 * RATE, error_ratio=1.0)  # an outage: every request fails

    def exhausted(app: dict[str, Any]) -> bool:
        slo = next((r for r in _okr_resources(app) if r["name"] == "checkout-availability"), {})
        return _health(app) == "Degraded" and slo.get("health", {}).get("message", "").startswith(
            "error budget exhausted: remaining -"
        )

    app = gitops.argocd.wait_application(APP, exhausted, 240, "Degraded by the exhausted error budget")
    slo = next(r for r in _okr_resources(app) if r["name"] == "checkout-availability")
    assert slo["health"]["status"] == "Degraded"
    print(f"\nArgo CD: ServiceLevelObjective/checkout-availability {slo['health']}")
    assert _synced(app), "Degraded, still Synced: the spec in git did not change"
