"""Canary testbed: kube-scheduler + kwok + a fake Node + the real argo-rollouts controller on a LocalCluster.

    with CanaryTestbed() as bed:                  # LocalCluster(scheduler=True), kwok, Node, CRDs, controller
        bed.cluster.apply(rollout_manifest(...))
        wait_rollout(bed.cluster, ns, "web", lambda r: r["status"].get("phase") == "Healthy")

No kubelet runs: kwok (``--manage-all-nodes``) keeps the fake Node Ready and moves pods bound to it to
Running/Ready with its "fast" stages; kube-scheduler binds them. The node-lifecycle controller is off, so
the ``node.kubernetes.io/not-ready:NoSchedule`` taint the apiserver puts on a new Node is removed here
once kwok has made it Ready; pod templates need no toleration. The rollouts controller
(``cmd/rollouts-controller``, pinned in ``e2e/tools/build.py``) runs against the test apiserver with the
admin kubeconfig, without leader election, on free metrics/healthz ports; its log is
``<cluster dir>/logs/rollouts-controller.log``.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

import requests

from e2e.harness.cluster import LocalCluster
from e2e.harness.procs import ManagedProcess, free_port, wait_until
from e2e.harness.upstream import kwok_stage_files, upstream_crds
from e2e.tools import build

NOT_READY_TAINT = "node.kubernetes.io/not-ready"
KWOK_NODE_ANNOTATION = "kwok.x-k8s.io/node"


def start_kwok(cluster: LocalCluster) -> ManagedProcess:
    """kwok managing every Node of ``cluster`` (``--manage-all-nodes``) with its fast node/pod stages."""
    binary = build.ensure(["kwok"])["kwok"]
    return cluster.start_process(
        "kwok",
        [
            binary,
            f"--kubeconfig={cluster.kubeconfig}",
            *(f"--config={p}" for p in kwok_stage_files()),
            "--manage-all-nodes=true",
            "--manage-nodes-with-annotation-selector=",
            "--manage-nodes-with-label-selector=",
            "--server-address=127.0.0.1:0",
        ],
    )


def add_fake_node(cluster: LocalCluster, name: str = "kwok-node-0", timeout: float = 60.0) -> dict[str, Any]:
    """Create a Node for kwok, wait until it is Ready, and lift the not-ready taint; returns the Node."""
    cluster.apply(
        {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {
                "name": name,
                "annotations": {KWOK_NODE_ANNOTATION: "fake"},
                "labels": {"kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "type": "kwok"},
            },
            "spec": {},
        }
    )

    def ready() -> dict[str, Any] | None:
        node = json.loads(cluster.kubectl("get", "node", name, "-o", "json").stdout)
        conditions = {c["type"]: c["status"] for c in node.get("status", {}).get("conditions") or []}
        return node if conditions.get("Ready") == "True" else None

    wait_until(ready, timeout, f"Node {name} Ready (kwok)", interval=0.2)
    cluster.kubectl("taint", "node", name, f"{NOT_READY_TAINT}:NoSchedule-", check=False)
    return wait_until(
        lambda: (
            (n := ready()) is not None
            and not any(t["key"] == NOT_READY_TAINT for t in n["spec"].get("taints") or [])
            and n
        ),
        timeout,
        f"Node {name} without the {NOT_READY_TAINT} taint",
        interval=0.2,
    )


class RolloutsController:
    """The argo-rollouts controller as a process of ``cluster``; ``healthz_url`` answers once it runs."""

    def __init__(self, cluster: LocalCluster, extra_args: Sequence[str] = ()) -> None:
        self.cluster = cluster
        self.metrics_port = free_port()
        self.healthz_port = free_port()
        self.extra_args = list(extra_args)
        self.proc: ManagedProcess | None = None

    @property
    def healthz_url(self) -> str:
        return f"http://127.0.0.1:{self.healthz_port}/healthz"

    @property
    def metrics_url(self) -> str:
        return f"http://127.0.0.1:{self.metrics_port}/metrics"

    def start(self, timeout: float = 60.0) -> RolloutsController:
        binary = build.ensure(["argo-rollouts"])["rollouts-controller"]
        self.proc = self.cluster.start_process(
            "rollouts-controller",
            [
                binary,
                f"--kubeconfig={self.cluster.kubeconfig}",
                "--leader-elect=false",
                f"--metricsPort={self.metrics_port}",
                f"--healthzPort={self.healthz_port}",
                "--loglevel=info",
                *self.extra_args,
            ],
        )
        proc = self.proc

        def healthy() -> bool:
            proc.check_alive()
            return requests.get(self.healthz_url, timeout=1).status_code == 200

        wait_until(healthy, timeout, "rollouts-controller /healthz", interval=0.2)
        return self

    def log_tail(self, lines: int = 60) -> str:
        return self.proc.log_tail(lines) if self.proc else "(not started)"


class CanaryTestbed:
    """A LocalCluster with kube-scheduler, kwok, one fake Node, the argoproj.io CRDs and the rollouts
    controller (plus any ``extra_crds``); ``started_in`` holds the seconds each part took."""

    def __init__(self, *, extra_crds: Sequence[Path] = (), log: Callable[[str], None] | None = None) -> None:
        self.say = log or (lambda msg: print(msg, file=sys.stderr, flush=True))
        self.cluster = LocalCluster(scheduler=True, log=self.say)
        self.extra_crds = list(extra_crds)
        self.controller: RolloutsController | None = None
        self.node: dict[str, Any] | None = None
        self.started_in: dict[str, float] = {}

    def start(self) -> CanaryTestbed:
        build.ensure(["core", "scheduler", "kwok", "argo-rollouts"], log=self.say)
        t0 = time.monotonic()
        self.cluster.start()
        self.started_in["control plane"] = time.monotonic() - t0
        try:
            t = time.monotonic()
            start_kwok(self.cluster)
            self.node = add_fake_node(self.cluster)
            self.started_in["kwok + Ready node"] = time.monotonic() - t
            t = time.monotonic()
            self.cluster.install_crds([*upstream_crds("argoproj.io"), *self.extra_crds])
            self.started_in["CRDs"] = time.monotonic() - t
            t = time.monotonic()
            self.controller = RolloutsController(self.cluster).start()
            self.started_in["rollouts-controller"] = time.monotonic() - t
        except BaseException:
            self.cluster.stop(remove_dir=False)
            raise
        self.started_in["total"] = time.monotonic() - t0
        return self

    def stop(self) -> None:
        self.cluster.stop()

    def save_logs(self, dest: Path) -> Path:
        return self.cluster.save_logs(dest)

    def __enter__(self) -> CanaryTestbed:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


# ------------------------------------------------------------------------------ objects and reading them


def get_object(cluster: LocalCluster, kind: str, namespace: str, name: str) -> dict[str, Any] | None:
    out = cluster.kubectl("get", kind, name, "-n", namespace, "-o", "json", check=False)
    return json.loads(out.stdout) if out.returncode == 0 else None


def list_objects(cluster: LocalCluster, kind: str, namespace: str, selector: str | None = None) -> list[dict[str, Any]]:
    args = ["get", kind, "-n", namespace, "-o", "json"] + (["-l", selector] if selector else [])
    return json.loads(cluster.kubectl(*args).stdout)["items"]


def wait_object(
    cluster: LocalCluster,
    kind: str,
    namespace: str,
    name: str,
    predicate: Callable[[dict[str, Any]], Any],
    timeout: float,
    what: str,
    interval: float = 0.25,
) -> dict[str, Any]:
    """Poll ``kind/name`` until ``predicate(obj)`` holds; on timeout the error shows the last status."""
    box: dict[str, Any] = {}

    def check() -> Any:
        box["obj"] = get_object(cluster, kind, namespace, name)
        return box["obj"] is not None and predicate(box["obj"])

    try:
        wait_until(check, timeout, f"{kind}/{name}: {what}", interval=interval)
    except TimeoutError as exc:
        status = json.dumps((box.get("obj") or {}).get("status"), indent=1)[:4000]
        raise AssertionError(f"{exc}; last status: {status}") from None
    return box["obj"]


def analysis_runs(cluster: LocalCluster, namespace: str) -> list[dict[str, Any]]:
    """AnalysisRuns of ``namespace``, oldest first."""
    return sorted(list_objects(cluster, "analysisruns", namespace), key=lambda r: r["metadata"]["creationTimestamp"])


def web_service(name: str, app: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name},
        "spec": {"selector": {"app": app}, "ports": [{"port": 80, "targetPort": 8080, "name": "http"}]},
    }


def nginx_ingress(name: str, stable_service: str, host: str) -> dict[str, Any]:
    """The stable Ingress the rollouts controller derives its canary Ingress (and weight) from."""
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {"name": name, "annotations": {"kubernetes.io/ingress.class": "nginx"}},
        "spec": {
            "rules": [
                {
                    "host": host,
                    "http": {
                        "paths": [
                            {
                                "path": "/",
                                "pathType": "Prefix",
                                "backend": {"service": {"name": stable_service, "port": {"name": "http"}}},
                            }
                        ]
                    },
                }
            ]
        },
    }


def rollout_manifest(
    name: str,
    *,
    version: str,
    steps: list[dict[str, Any]],
    analysis: dict[str, Any] | None = None,
    replicas: int = 2,
    stable_service: str | None = None,
    canary_service: str | None = None,
    ingress: str | None = None,
) -> dict[str, Any]:
    """A canary Rollout whose pods carry ``app: <name>`` and ``version: <version>`` (fake: kwok runs them).

    With ``ingress`` (and both services) traffic is routed by the nginx canary Ingress, so the controller
    records real weights (``status.canary.weights``) and the canary Ingress's canary-weight annotation.
    ``analysis`` is the background analysis (``strategy.canary.analysis``).
    """
    canary: dict[str, Any] = {"steps": steps}
    if analysis is not None:
        canary["analysis"] = analysis
    if ingress is not None:
        canary.update(
            {
                "stableService": stable_service,
                "canaryService": canary_service,
                "trafficRouting": {"nginx": {"stableIngress": ingress}},
            }
        )
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Rollout",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "revisionHistoryLimit": 2,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name, "version": version}},
                "spec": {
                    "containers": [
                        {
                            "name": "web",
                            "image": f"registry.example.invalid/{name}:{version}",
                            "ports": [{"containerPort": 8080, "name": "http"}],
                        }
                    ],
                },
            },
            "strategy": {"canary": canary},
        },
    }
