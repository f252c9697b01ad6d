"""The real prometheus-operator (v0.85, built by e2e/tools) and its admission webhook on the Testbed.

    promop = PrometheusOperator(cluster).start()      # CRDs, upstream RBAC, the operator as its ServiceAccount
    promop.register_webhook()                         # ValidatingWebhookConfiguration, failurePolicy Fail
    with promop.loading_into(local_prometheus, "okr", {"matchLabels": {...}}, {}):
        ...                                           # a Prometheus resource whose rule files local_prometheus loads

There is no kubelet: the StatefulSet prometheus-operator creates for a ``Prometheus`` never runs. The
LocalPrometheus plays its pod: :class:`RuleFileProjection` copies the ``prometheus-<name>-rulefiles-N``
ConfigMaps the operator writes into the LocalPrometheus's rule directory and reloads it, which is what the
kubelet's ConfigMap volume and the config reloader sidecar do in a cluster.
"""

from __future__ import annotations

import base64
import contextlib
import logging
import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import requests
import yaml

from e2e.harness.operator import serviceaccount_kubeconfig
from e2e.harness.procs import ManagedProcess, free_port, wait_until
from e2e.harness.prometheus import LocalPrometheus
from e2e.harness.upstream import prometheus_operator_crds, prometheus_operator_file
from e2e.tools import build

log = logging.getLogger("e2e.prometheus_operator")

WEBHOOK_NAME = "prometheus-operator-rulesvalidation"
VALIDATE_PATH = "/admission-prometheusrules/validate"  # upstream pkg/admission


class PrometheusOperator:
    """prometheus-operator and its admission webhook as local processes against ``cluster``.

    The operator authenticates as ServiceAccount ``<namespace>/prometheus-operator`` bound to upstream's
    own ClusterRole (``example/rbac/prometheus-operator``), as its Deployment would.
    """

    def __init__(self, cluster: Any, namespace: str = "monitoring", log_dir: Path | None = None) -> None:
        self.cluster = cluster
        self.namespace = namespace
        self.dir = Path(log_dir) if log_dir else Path(cluster.dir) / "prometheus-operator"
        self.port = free_port()
        self.webhook_port = free_port()
        self.proc: ManagedProcess | None = None
        self.webhook: ManagedProcess | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def webhook_url(self) -> str:
        return f"https://127.0.0.1:{self.webhook_port}{VALIDATE_PATH}"

    def start(self, timeout: float = 60.0) -> PrometheusOperator:
        binary = build.ensure(["prometheus-operator"])["prometheus-operator"]
        self.dir.mkdir(parents=True, exist_ok=True)
        self.cluster.install_crds(prometheus_operator_crds())
        self._install_rbac()
        kubeconfig = serviceaccount_kubeconfig(
            self.cluster, self.namespace, "prometheus-operator", self.dir / "kubeconfig.yaml", duration="24h"
        )
        self.proc = ManagedProcess(
            "prometheus-operator",
            [
                str(binary),
                f"--web.listen-address=127.0.0.1:{self.port}",
                "--log-level=info",
                "--kubelet-service=",  # no kubelets to list
            ],
            self.dir / "prometheus-operator.log",
            env={**os.environ, "KUBECONFIG": str(kubeconfig)},
        ).start()
        proc = self.proc
        wait_until(
            lambda: proc.check_alive() or requests.get(f"{self.url}/healthz", timeout=2).ok,
            timeout,
            "prometheus-operator /healthz",
            interval=0.2,
        )
        return self

    def _install_rbac(self) -> None:
        self.cluster.kubectl("create", "namespace", self.namespace, check=False)
        role = yaml.safe_load(
            prometheus_operator_file(
                "example/rbac/prometheus-operator/prometheus-operator-cluster-role.yaml"
            ).read_text()
        )
        account = {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {"name": "prometheus-operator", "namespace": self.namespace},
        }
        binding = {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {"name": "prometheus-operator"},
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": role["metadata"]["name"],
            },
            "subjects": [{"kind": "ServiceAccount", "name": "prometheus-operator", "namespace": self.namespace}],
        }
        self.cluster.apply([role, account, binding])

    # ---------------------------------------------------------------- admission webhook

    def register_webhook(self, timeout: float = 60.0) -> None:
        """Run the admission webhook with a certificate from the cluster CA and make the apiserver call it for
        every PrometheusRule CREATE/UPDATE (failurePolicy Fail: a rule the webhook cannot check is refused)."""
        binary = build.ensure(["admission-webhook"])["admission-webhook"]
        cert, key = self.cluster.ca.issue("prometheus-operator-admission-webhook", server_names=("127.0.0.1",))
        tls = self.dir / "webhook-tls"
        tls.mkdir(parents=True, exist_ok=True)
        (tls / "tls.crt").write_bytes(cert)
        (tls / "tls.key").write_bytes(key)
        self.webhook = ManagedProcess(
            "admission-webhook",
            [
                str(binary),
                f"--web.listen-address=127.0.0.1:{self.webhook_port}",
                "--web.enable-tls=true",
                f"--web.cert-file={tls / 'tls.crt'}",
                f"--web.key-file={tls / 'tls.key'}",
            ],
            self.dir / "admission-webhook.log",
        ).start()
        webhook = self.webhook
        ca_file = str(self.cluster.ca_file)
        wait_until(
            lambda: (
                webhook.check_alive()
                or requests.get(f"https://127.0.0.1:{self.webhook_port}/healthz", verify=ca_file, timeout=2).ok
            ),
            timeout,
            "admission-webhook /healthz",
            interval=0.2,
        )
        self.cluster.apply(self.webhook_configuration())

    def webhook_configuration(self) -> dict[str, Any]:
        """Upstream's ValidatingWebhookConfiguration (Documentation/platform/webhook.md) with a URL client."""
        return {
            "apiVersion": "admissionregistration.k8s.io/v1",
            "kind": "ValidatingWebhookConfiguration",
            "metadata": {"name": WEBHOOK_NAME},
            "webhooks": [
                {
                    "name": "prometheusrulevalidate.monitoring.coreos.com",
                    "clientConfig": {
                        "url": self.webhook_url,
                        "caBundle": base64.b64encode(self.cluster.ca.cert_pem).decode(),
                    },
                    "failurePolicy": "Fail",
                    "namespaceSelector": {},
                    "rules": [
                        {
                            "apiGroups": ["monitoring.coreos.com"],
                            "apiVersions": ["*"],
                            "operations": ["CREATE", "UPDATE"],
                            "resources": ["prometheusrules"],
                        }
                    ],
                    "admissionReviewVersions": ["v1", "v1beta1"],
                    "sideEffects": "None",
                    "timeoutSeconds": 10,
                }
            ],
        }

    # ---------------------------------------------------------------- Prometheus resources

    def create_prometheus(
        self,
        name: str,
        rule_selector: dict[str, Any] | None,
        rule_namespace_selector: dict[str, Any] | None,
    ) -> None:
        """A ``Prometheus`` resource; None leaves a selector unset (prometheus-operator's nil semantics)."""
        spec: dict[str, Any] = {"replicas": 1}
        if rule_selector is not None:
            spec["ruleSelector"] = rule_selector
        if rule_namespace_selector is not None:
            spec["ruleNamespaceSelector"] = rule_namespace_selector
        self.cluster.apply(
            {
                "apiVersion": "monitoring.coreos.com/v1",
                "kind": "Prometheus",
                "metadata": {"name": name, "namespace": self.namespace},
                "spec": spec,
            }
        )

    @contextlib.contextmanager
    def loading_into(
        self,
        local: LocalPrometheus,
        name: str,
        rule_selector: dict[str, Any] | None,
        rule_namespace_selector: dict[str, Any] | None,
    ) -> Iterator[RuleFileProjection]:
        """A ``Prometheus`` resource ``name`` whose pod ``local`` plays, for the duration of the block."""
        self.create_prometheus(name, rule_selector, rule_namespace_selector)
        projection = RuleFileProjection(self.cluster.api_client, local, self.namespace, name).start()
        try:
            yield projection
        finally:
            projection.stop()
            self.delete_prometheus(name)

    def delete_prometheus(self, name: str) -> None:
        """Delete a ``Prometheus`` resource (its rulefiles ConfigMaps go with it, by owner reference)."""
        self.cluster.kubectl(
            "delete", "prometheus", name, "-n", self.namespace, "--ignore-not-found", "--wait=false", check=False
        )

    def rule_files(self, name: str) -> dict[str, dict[str, str]]:
        """Every rule file prometheus-operator wrote for Prometheus ``name`` (all rulefiles ConfigMaps)."""
        return rule_files(self.cluster.api_client, self.namespace, name)

    def stop(self) -> None:
        if self.webhook is not None and self.webhook.running():
            self.cluster.kubectl(
                "delete", "validatingwebhookconfiguration", WEBHOOK_NAME, "--ignore-not-found", check=False
            )
        for proc in (self.webhook, self.proc):
            if proc is not None:
                proc.stop()

    def save_logs(self, dest: Path) -> Path:
        dest = Path(dest)
        dest.mkdir(parents=True, exist_ok=True)
        for path in self.dir.glob("*.log"):
            shutil.copy2(path, dest / path.name)
        return dest


def rule_files(api_client: Any, namespace: str, prometheus: str) -> dict[str, dict[str, str]]:
    """``{configmap name: {file name: content}}`` of the ``prometheus-<name>-rulefiles-N`` ConfigMaps."""
    from kubernetes import client

    maps = client.CoreV1Api(api_client).list_namespaced_config_map(
        namespace, label_selector=f"prometheus-name={prometheus}", _request_timeout=10
    )
    prefix = f"prometheus-{prometheus}-rulefiles-"
    return {cm.metadata.name: dict(cm.data or {}) for cm in maps.items if cm.metadata.name.startswith(prefix)}


class RuleFileProjection:
    """Mirror the rulefiles ConfigMaps of one Prometheus into a LocalPrometheus and reload it on change.

    Files land in ``<rules_dir>/<configmap>/<file>`` and the LocalPrometheus loads ``<configmap>/*.yaml`` for
    each, the layout of the ConfigMap volumes and the ``rule_files`` of prometheus-operator's StatefulSet and
    config. ``generation`` counts reloads.
    """

    def __init__(
        self, api_client: Any, prometheus: LocalPrometheus, namespace: str, name: str, period: float = 0.5
    ) -> None:
        self.api_client, self.prometheus, self.namespace, self.name = api_client, prometheus, namespace, name
        self.period = period
        self.root = prometheus.rules_dir
        self._seen: dict[str, dict[str, str]] | None = None
        self.generation = 0
        self.errors: list[str] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def sync_once(self) -> bool:
        """Write what changed and reload; True when something changed."""
        maps = rule_files(self.api_client, self.namespace, self.name)
        if maps == self._seen:
            return False
        prefix = f"prometheus-{self.name}-rulefiles-"
        for old in self.root.glob(f"{prefix}*"):
            if old.name not in maps:
                shutil.rmtree(old, ignore_errors=True)
        for cm, files in maps.items():
            folder = self.root / cm
            folder.mkdir(parents=True, exist_ok=True)
            for stale in folder.iterdir():
                if stale.name not in files:
                    stale.unlink()
            for filename, content in files.items():
                target = folder / filename
                if not target.exists() or target.read_text() != content:
                    tmp = folder / f".{filename}.tmp"
                    tmp.write_text(content)
                    tmp.replace(target)
        self.prometheus.set_rule_globs([str(self.root / cm / "*.yaml") for cm in sorted(maps)])
        self._seen = maps
        self.generation += 1
        return True

    def _run(self) -> None:
        while not self._stop.wait(self.period):
            try:
                self.sync_once()
            except Exception as exc:  # keep projecting through API hiccups, but keep what went wrong
                self.errors.append(repr(exc))
                log.debug("rule file projection failed: %s", exc)

    def start(self) -> RuleFileProjection:
        self.root.mkdir(parents=True, exist_ok=True)
        self._thread = threading.Thread(target=self._run, name=f"rulefiles-{self.name}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
