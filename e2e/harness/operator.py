"""The okr-operator as a real subprocess (``okr-operator run``), as a Deployment would run it."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path
from typing import Any

import requests
import yaml

from e2e.harness.procs import ManagedProcess, free_port, wait_until


def metric_sum(text: str, name: str, **labels: str) -> float:
    """Sum of ``name`` over the series matching ``labels`` in Prometheus text format (0 when absent)."""
    total = 0.0
    for line in text.splitlines():
        if not line.startswith(name) or line.startswith("#"):
            continue
        head, _, value = line.rpartition(" ")
        series, _, label_text = head.partition("{")
        if series == name and all(f'{k}="{v}"' in label_text for k, v in labels.items()):
            total += float(value)
    return total


class OperatorProcess:
    """Start, SIGKILL and restart the operator against a cluster and a Prometheus.

    Args:
        kubeconfig: credentials the operator uses (admin, or a ServiceAccount's token).
        prometheus_url: where it queries.
        interval: evaluation interval (short in tests).
        extra_env: more ``OKR_*`` settings.
    """

    def __init__(
        self,
        kubeconfig: Path,
        prometheus_url: str,
        log_path: Path,
        *,
        interval: str = "5s",
        extra_env: dict[str, str] | None = None,
        args: tuple[str, ...] = ("--standalone",),
    ) -> None:
        self.metrics_port = free_port()
        self.web_port = free_port()
        env = {
            **os.environ,
            "KUBECONFIG": str(kubeconfig),
            "OKR_PROMETHEUS_URL": prometheus_url,
            "OKR_INTERVAL": interval,
            "OKR_METRICS_PORT": str(self.metrics_port),
            "OKR_WEB_PORT": str(self.web_port),
            "OKR_PROMETHEUS_TIMEOUT_SECONDS": "5",
            "OKR_PROMETHEUS_RETRIES": "0",
            "PYTHONUNBUFFERED": "1",
            **(extra_env or {}),
        }
        argv = [sys.executable, "-m", "okr_operator.runtime.main", "run", *args]
        self.proc = ManagedProcess("okr-operator", argv, log_path, env=env)

    @property
    def metrics_url(self) -> str:
        return f"http://127.0.0.1:{self.metrics_port}/metrics"

    @property
    def web_url(self) -> str:
        """The operator's web view."""
        return f"http://127.0.0.1:{self.web_port}/"

    def start(self, timeout: float = 60.0) -> OperatorProcess:
        self.proc.start()

        def healthy() -> bool:
            self.proc.check_alive()
            return requests.get(f"http://127.0.0.1:{self.metrics_port}/healthz", timeout=2).ok

        wait_until(healthy, timeout, "okr-operator /healthz", interval=0.2)
        return self

    def kill(self) -> None:
        """SIGKILL, as a node failure or OOM kill would: no cleanup runs."""
        if self.proc.proc is not None and self.proc.running():
            os.killpg(self.proc.proc.pid, signal.SIGKILL)
            self.proc.proc.wait(10)

    def stop(self) -> None:
        self.proc.stop()

    def metric(self, name: str, **labels: str) -> float:
        """Sum of the operator's own metric ``name`` over series matching ``labels`` (0 when absent)."""
        return metric_sum(self.metrics_text(), name, **labels)

    def metrics_text(self, timeout: float = 5) -> str:
        """The operator's /metrics page (rendering it takes ~0.2 s at 10 000 objects: give a longer timeout)."""
        return requests.get(self.metrics_url, timeout=timeout).text

    def wait_for_cycles(self, cycles: int, timeout: float = 60.0) -> None:
        start = self.metric("okr_evaluation_total")
        wait_until(
            lambda: self.metric("okr_evaluation_total") >= start + cycles, timeout, f"{cycles} evaluation cycles"
        )

    def cycle_queries(self, cycles: int = 3, timeout: float = 60.0) -> list[float]:
        """Prometheus queries of each of the next ``cycles`` evaluation cycles (``okr_evaluation_queries``, set
        when a cycle ends: unlike two counters read at different times, never a cycle counted in part)."""
        seen = []
        for _ in range(cycles):
            self.wait_for_cycles(1, timeout)
            seen.append(self.metric("okr_evaluation_queries"))
        return seen

    def log_tail(self, lines: int = 60) -> str:
        return self.proc.log_tail(lines)


def serviceaccount_kubeconfig(cluster: Any, namespace: str, name: str, path: Path, duration: str = "1h") -> Path:
    """Write a kubeconfig that authenticates as ServiceAccount ``namespace/name`` and return its path.

    The token comes from the TokenRequest API (``kubectl create token``), as a pod's projected token
    would; server and CA are the admin kubeconfig's. Use it to run the operator as its real identity,
    e.g. ``OperatorProcess(serviceaccount_kubeconfig(cluster, "okr-system", "okr-operator", tmp / "sa.yaml"), ...)``.
    """
    token = cluster.kubectl("create", "token", name, "-n", namespace, f"--duration={duration}").stdout.strip()
    admin = yaml.safe_load(Path(cluster.kubeconfig).read_text())
    context = next(c for c in admin["contexts"] if c["name"] == admin["current-context"])["context"]
    server = next(c for c in admin["clusters"] if c["name"] == context["cluster"])
    user = f"{namespace}:{name}"
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [server],
        "users": [{"name": user, "user": {"token": token}}],
        "contexts": [{"name": user, "context": {"cluster": server["name"], "user": user, "namespace": namespace}}],
        "current-context": user,
    }
    path.write_text(yaml.safe_dump(config))
    path.chmod(0o600)
    return path
