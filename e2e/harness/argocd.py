"""Argo CD v3.6.1 (built by e2e/tools) on the Testbed.

``admin_health`` runs ``argocd admin settings resource-overrides health`` on one object: Argo CD's own
health code with a given argocd-cm, no cluster needed.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from e2e.tools import build


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
