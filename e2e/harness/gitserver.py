"""A git repository served read-only on loopback by ``git daemon``, for GitOps tests (Argo CD's repo server).

with GitDaemon(tmp) as git:
    url = git.publish("okr", {"config": REPO / "config"})   # git://127.0.0.1:<port>/okr.git
    ...
    git.publish("okr", {"config": changed})                  # a second commit on the same branch
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from pathlib import Path
from types import TracebackType

from e2e.harness.procs import ManagedProcess, free_port, wait_until

BRANCH = "main"


def _git(*args: str, cwd: Path) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "okr-operator tests",
        "GIT_AUTHOR_EMAIL": "tests@okr.invalid",
        "GIT_COMMITTER_NAME": "okr-operator tests",
        "GIT_COMMITTER_EMAIL": "tests@okr.invalid",
        "GIT_CONFIG_NOSYSTEM": "1",
        "HOME": str(cwd),
    }
    proc = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)} failed in {cwd}: {proc.stderr.strip()}")
    return proc.stdout


class GitDaemon:
    """``git daemon`` exporting the bare repositories under ``<workdir>/repos`` on 127.0.0.1."""

    def __init__(self, workdir: Path) -> None:
        self.dir = Path(workdir)
        self.repos = self.dir / "repos"
        self.port = free_port()
        self.proc: ManagedProcess | None = None

    def __enter__(self) -> GitDaemon:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def url(self, name: str) -> str:
        return f"git://127.0.0.1:{self.port}/{name}.git"

    def start(self, timeout: float = 15.0) -> GitDaemon:
        if shutil.which("git") is None:
            raise RuntimeError("`git` is not on PATH (Debian: apt-get install git)")
        self.repos.mkdir(parents=True, exist_ok=True)
        argv = [
            "git",
            "daemon",
            "--reuseaddr",
            "--export-all",
            "--listen=127.0.0.1",
            f"--port={self.port}",
            f"--base-path={self.repos}",
            str(self.repos),
        ]
        self.proc = ManagedProcess("git-daemon", argv, self.dir / "logs" / "git-daemon.log").start()

        def listening() -> bool:
            assert self.proc is not None
            self.proc.check_alive()
            with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                return True

        wait_until(listening, timeout, f"git daemon on 127.0.0.1:{self.port}", interval=0.1)
        return self

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.stop()

    def publish(self, name: str, trees: dict[str, Path], message: str = "publish") -> str:
        """Commit ``trees`` (path in the repository -> directory to copy) as the whole content of branch
        ``main`` of repository ``name`` (created on first use); returns the commit's SHA."""
        bare = self.repos / f"{name}.git"
        if not bare.exists():
            bare.mkdir(parents=True)
            _git("init", "--bare", "--quiet", f"--initial-branch={BRANCH}", cwd=bare)
        work = self.dir / "work" / name
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        _git("init", "--quiet", f"--initial-branch={BRANCH}", cwd=work)
        if _git("ls-remote", str(bare), BRANCH, cwd=work).strip():
            _git("fetch", "--quiet", str(bare), BRANCH, cwd=work)
            _git("reset", "--quiet", "--soft", "FETCH_HEAD", cwd=work)
        for dest, src in trees.items():
            shutil.copytree(src, work / dest)
        _git("add", "--all", cwd=work)
        _git("commit", "--quiet", "--allow-empty", "-m", message, cwd=work)
        _git("push", "--quiet", str(bare), f"HEAD:{BRANCH}", cwd=work)
        return _git("rev-parse", "HEAD", cwd=work).strip()
