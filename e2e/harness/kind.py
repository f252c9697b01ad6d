"""The kind backend (``E2E_BACKEND=kind``): the same cluster interface on a kind cluster via pytest-kind.

Only usable where a Docker engine runs. ``docker_unavailable()`` gives the reason it cannot run
(or None), which the pytest fixture turns into a skip. On kind only the admin identity exists:
``kubeconfig_for(other)`` raises NotImplementedError, and tests that need other users skip.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from types import TracebackType

from e2e.harness.cluster import ADMIN, KubeClientMixin, kubectl_binary


def docker_unavailable() -> str | None:
    """None if a Docker engine answers, else why not."""
    docker = shutil.which("docker")
    if docker is None:
        return "no `docker` command on PATH"
    try:
        proc = subprocess.run([docker, "info"], capture_output=True, text=True, timeout=15, check=False)
    except subprocess.TimeoutExpired:
        return "`docker info` timed out"
    if proc.returncode != 0:
        reason = (proc.stderr or proc.stdout).strip().splitlines()
        return f"`docker info` failed: {reason[-1] if reason else proc.returncode}"
    return None


class KindBackend(KubeClientMixin):
    """A kind cluster created (and deleted) through pytest-kind's KindCluster."""

    def __init__(self, name: str = "okr-testbed") -> None:
        from pytest_kind import KindCluster

        self._kind = KindCluster(name, kubectl_path=Path(kubectl_binary()))
        self.name = name

    def start(self) -> KindBackend:
        self._kind.create()
        return self

    def stop(self) -> None:
        if self._api_client is not None:
            self._api_client.close()
            self._api_client = None
        self._kind.delete()

    def kubeconfig_for(self, user: str) -> Path:
        if user != ADMIN:
            raise NotImplementedError("the kind backend has only the admin identity")
        return Path(self._kind.kubeconfig_path)

    def save_logs(self, dest: Path) -> Path:
        dest = Path(dest)
        dest.mkdir(parents=True, exist_ok=True)
        subprocess.run([str(self._kind.kind_path), "export", "logs", str(dest), f"--name={self.name}"], check=False)
        return dest

    def __enter__(self) -> KindBackend:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
