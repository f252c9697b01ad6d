"""Argo CD v3.6.1 (built by e2e/tools) on the Testbed: its application controller and repo server.

    argocd = LocalArgoCD(cluster, cm_data=patch["data"]).start()    # CRDs, argocd-cm, AppProject, redis, both servers
    argocd.apply_application({...})
    app = argocd.wait_application("okr", lambda app: synced(app) and healthy(app), 300)

What runs is upstream's own local-development setup (its ``Procfile``): the one ``argocd`` binary
started as ``argocd-repo-server`` and ``argocd-application-controller`` (``$ARGOCD_BINARY_NAME``, see
upstream ``cmd/main.go``), redis from Debian's ``redis-server``, and ``ARGOCD_FAKE_IN_CLUSTER=true`` so
that the in-cluster destination (``https://kubernetes.default.svc``) is the cluster of ``$KUBECONFIG``
(upstream ``Cluster.rawRestConfig``). The repo server runs ``kustomize`` (built by e2e/tools), ``git``
and, on every manifest generation, upstream's ``hack/git-verify-wrapper.sh`` (its image copies it and
``gpg-wrapper.sh`` to /usr/local/bin; here they are copied from the module onto the repo server's PATH).
Not started: argocd-server (API/UI; it would create the ``default`` AppProject, which is created here),
dex, notifications, the ApplicationSet controller and the commit server (hydrator off).

``admin_health`` runs ``argocd admin settings resource-overrides health`` on one object: Argo CD's own
health code with a given argocd-cm, no cluster needed.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests
import yaml

from e2e.harness.procs import ManagedProcess, free_port, wait_until
from e2e.harness.upstream import upstream_crds
from e2e.tools import build

NAMESPACE = "argocd"
PART_OF = {"app.kubernetes.io/part-of": "argocd"}  # Argo CD's settings informers select on this label


def argocd_binary(log: Callable[[str], None] | None = None) -> Path:
    """The built ``argocd`` binary (built first if needed)."""
    return build.ensure(["argocd"], log=log)["argocd"]


def admin_health(obj: dict[str, Any], argocd_cm: Path, workdir: Path, binary: Path | None = None) -> dict[str, str]:
    """Argo CD's verdict on ``obj`` with the argocd-cm file ``argocd_cm``: ``{status, message}``.

    ``argocd admin settings resource-overrides health OBJ --argocd-cm-path CM``; a failing health
    script (a Lua error) gives ``{"status": "Unknown", "message": <Argo CD's error>}`` as the
    controller would show it.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir / f"{obj['kind']}-{obj['metadata']['name']}.yaml"
    path.write_text(yaml.safe_dump(obj))
    argv = [str(binary or argocd_binary())]
    argv += ["admin", "settings", "resource-overrides", "health", str(path), "--argocd-cm-path", str(argocd_cm)]
    env = {**os.environ, "ARGOCD_BINARY_NAME": "argocd", "HOME": str(workdir)}
    proc = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=60, check=False)
    match = re.fullmatch(r"STATUS: (.*)\nMESSAGE: (.*)\n", proc.stdout, flags=re.DOTALL)
    if proc.returncode == 0 and match:
        return {"status": match.group(1), "message": match.group(2)}
    for line in proc.stderr.splitlines():  # logrus JSON; the CLI exits on the health error (errors.CheckError)
        entry = json.loads(line) if line.startswith("{") else {}
        failed = re.match(r"failed to get resource health for [^:]*: (.*)", entry.get("msg", ""), flags=re.DOTALL)
        if entry.get("level") == "fatal" and failed:
            return {"status": "Unknown", "message": failed.group(1)}  # what the controller shows (gitops-engine)
    raise RuntimeError(f"unexpected output of {' '.join(argv)} (exit {proc.returncode}):\n{proc.stdout}\n{proc.stderr}")


class LocalArgoCD:
    """Argo CD's application controller and repo server as local processes against ``cluster``.

    Args:
        cluster: a started LocalCluster (its admin kubeconfig is what the controller uses).
        cm_data: extra ``argocd-cm`` data (e.g. the health-check keys of config/argocd/argocd-cm-patch.yaml).
        workdir: logs, redis's directory, the repo server's checkouts (default: under the cluster's dir).
    """

    def __init__(
        self,
        cluster: Any,
        cm_data: dict[str, str] | None = None,
        workdir: Path | None = None,
        log: Callable[[str], None] | None = None,
    ) -> None:
        self.cluster = cluster
        self.cm_data = dict(cm_data or {})
        self.dir = Path(workdir) if workdir else Path(cluster.dir) / "argocd"
        self.log_dir = self.dir / "logs"
        self._say = log or (lambda msg: print(msg, file=sys.stderr, flush=True))
        self.redis_port = free_port()
        self.repo_port = free_port()
        self.repo_metrics_port = free_port()
        self.controller_metrics_port = free_port()
        self.processes: dict[str, ManagedProcess] = {}

    # ---------------------------------------------------------------- lifecycle

    def start(self, timeout: float = 120.0) -> LocalArgoCD:
        redis = shutil.which("redis-server")
        if redis is None:
            raise RuntimeError("redis-server is not on PATH: apt-get install redis-server (.ci/run does)")
        bins = build.ensure(["argocd", "kustomize"], log=self._say)
        self.dir.mkdir(parents=True, exist_ok=True)
        self._install()
        try:
            self._start_redis(redis, timeout)
            self._start_repo_server(bins, timeout)
            self._start_controller(bins["argocd"], timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        for name in reversed(list(self.processes)):
            self.processes[name].stop()

    def check_alive(self) -> None:
        for proc in self.processes.values():
            proc.check_alive()

    def save_logs(self, dest: Path) -> Path:
        dest.mkdir(parents=True, exist_ok=True)
        for log in self.log_dir.glob("*.log"):
            shutil.copy2(log, dest / log.name)
        return dest

    # ---------------------------------------------------------------- Applications

    def apply_application(self, app: dict[str, Any]) -> None:
        app = {**app, "metadata": {"namespace": NAMESPACE, **app["metadata"]}}
        self.cluster.apply(app)

    def application(self, name: str) -> dict[str, Any] | None:
        out = self.cluster.kubectl("get", "application", name, "-n", NAMESPACE, "-o", "json", check=False)
        return json.loads(out.stdout) if out.returncode == 0 else None

    def wait_application(
        self, name: str, predicate: Callable[[dict[str, Any]], bool], timeout: float, what: str
    ) -> dict[str, Any]:
        """Wait until ``predicate(app)``; on timeout, the error shows the Application's status."""
        box: dict[str, Any] = {}

        def check() -> bool:
            self.check_alive()
            box["app"] = self.application(name)
            return box["app"] is not None and bool(predicate(box["app"]))

        try:
            wait_until(check, timeout, f"Application {name}: {what}", interval=1.0)
        except TimeoutError as exc:
            status = json.dumps((box.get("app") or {}).get("status"), indent=1)[:6000]
            raise AssertionError(f"{exc}; last status:\n{status}") from None
        return box["app"]

    # ---------------------------------------------------------------- internals

    def _install(self) -> None:
        self.cluster.install_crds(upstream_crds("argo-cd"))
        labels = {"labels": dict(PART_OF)}
        self.cluster.apply(
            [
                {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}},
                {
                    "apiVersion": "v1",
                    "kind": "ConfigMap",
                    "metadata": {"name": "argocd-cm", "namespace": NAMESPACE, **labels},
                    "data": self.cm_data,
                },
                {
                    "apiVersion": "v1",
                    "kind": "Secret",
                    "metadata": {"name": "argocd-secret", "namespace": NAMESPACE, **labels},
                    "type": "Opaque",
                },
                {  # argocd-server creates it on start (upstream server.initializeDefaultProject)
                    "apiVersion": "argoproj.io/v1alpha1",
                    "kind": "AppProject",
                    "metadata": {"name": "default", "namespace": NAMESPACE},
                    "spec": {
                        "sourceRepos": ["*"],
                        "destinations": [{"server": "*", "namespace": "*"}],
                        "clusterResourceWhitelist": [{"group": "*", "kind": "*"}],
                    },
                },
            ]
        )

    def _env(self, component: str, extra: dict[str, str] | None = None) -> dict[str, str]:
        home = self.dir / "home" / component
        home.mkdir(parents=True, exist_ok=True)
        return {
            **os.environ,
            "ARGOCD_BINARY_NAME": component,
            "HOME": str(home),
            "TMPDIR": str(home),
            **(extra or {}),
        }

    def _start(self, name: str, argv: list[str], env: dict[str, str] | None = None) -> ManagedProcess:
        proc = ManagedProcess(name, argv, self.log_dir / f"{name}.log", env=env).start()
        self.processes[name] = proc
        return proc

    def _wait_port(self, proc: ManagedProcess, port: int, timeout: float) -> None:
        def listening() -> bool:
            proc.check_alive()
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return True

        wait_until(listening, timeout, f"{proc.name} on port {port}", interval=0.2)

    def _wait_healthz(self, proc: ManagedProcess, port: int, timeout: float) -> None:
        def healthy() -> bool:
            proc.check_alive()
            return requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2).ok

        wait_until(healthy, timeout, f"{proc.name} /healthz", interval=0.5)

    def _start_redis(self, redis: str, timeout: float) -> None:
        data = self.dir / "redis"
        data.mkdir(exist_ok=True)
        argv = [redis, "--port", str(self.redis_port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        proc = self._start("redis", [*argv, "--dir", str(data)])
        self._wait_port(proc, self.redis_port, timeout)

    def _upstream_scripts(self) -> Path:
        """upstream's hack/{git-verify,gpg}-wrapper.sh, executable, in a directory for PATH."""
        bindir = self.dir / "bin"
        bindir.mkdir(parents=True, exist_ok=True)
        hack = build.module_dir(*build.CRD_MODULES["argo-cd"]) / "hack"
        for script in ("git-verify-wrapper.sh", "gpg-wrapper.sh"):
            shutil.copyfile(hack / script, bindir / script)
            (bindir / script).chmod(0o755)
        return bindir

    def _start_repo_server(self, bins: dict[str, Path], timeout: float) -> None:
        paths = self.dir / "repo-server"
        path = [str(self._upstream_scripts()), str(bins["kustomize"].parent), os.environ.get("PATH", "")]
        env = self._env(
            "argocd-repo-server",
            {
                # `kustomize build` and `git` come from PATH, as in upstream's image
                "PATH": os.pathsep.join(path),
                "ARGOCD_GPG_ENABLED": "false",
                "ARGOCD_TLS_DATA_PATH": str(paths / "tls"),
                "ARGOCD_SSH_DATA_PATH": str(paths / "ssh"),
                "ARGOCD_GNUPGHOME": str(paths / "gnupg"),
                "ARGOCD_PLUGINSOCKFILEPATH": str(paths / "plugins"),
            },
        )
        for sub in ("tls", "ssh", "gnupg", "plugins"):
            (paths / sub).mkdir(parents=True, exist_ok=True)
        argv = [str(bins["argocd"]), "--address", "127.0.0.1", "--port", str(self.repo_port)]
        argv += ["--metrics-address", "127.0.0.1", "--metrics-port", str(self.repo_metrics_port)]
        # --client-ca-path has a default that 3.6.1 refuses together with --disable-tls: empty it
        argv += ["--redis", f"127.0.0.1:{self.redis_port}", "--disable-tls", "--client-ca-path=", "--logformat", "text"]
        proc = self._start("argocd-repo-server", argv, env)
        self._wait_port(proc, self.repo_port, timeout)

    def _start_controller(self, binary: Path, timeout: float) -> None:
        env = self._env(
            "argocd-application-controller",
            {"ARGOCD_FAKE_IN_CLUSTER": "true", "KUBECONFIG": str(self.cluster.kubeconfig)},
        )
        argv = [str(binary), "--namespace", NAMESPACE, "--redis", f"127.0.0.1:{self.redis_port}"]
        argv += ["--repo-server", f"127.0.0.1:{self.repo_port}", "--repo-server-plaintext"]
        argv += ["--metrics-port", str(self.controller_metrics_port), "--logformat", "text"]
        argv += ["--status-processors", "4", "--operation-processors", "4", "--app-resync", "60"]
        # Each resource's health (status and message) in the Application's status.resources, where the tests
        # read it; Argo CD 3.x keeps it only in redis by default (argocd-server's resource tree reads it there).
        argv += ["--persist-resource-health"]
        proc = self._start("argocd-application-controller", argv, env)
        self._wait_healthz(proc, self.controller_metrics_port, timeout)
