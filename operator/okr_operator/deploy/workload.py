"""Checks of the operator's rendered Deployment: hardening, and the environment it passes the operator.

Used by the kustomize and Helm tests on what ``kubectl kustomize`` and ``helm template`` render.
"""

from __future__ import annotations

from typing import Any

POD_ENV = ("POD_NAME",)  # downward API, the lease/peering identity; not an OKR_* setting


def workload_problems(deployment: dict[str, Any]) -> list[str]:
    """Why the operator's Deployment is not hardened as promised. Empty when fine.

    Non-root, read-only root filesystem, no privilege escalation, all capabilities dropped, seccomp
    RuntimeDefault, requests and limits, liveness on /healthz at the port named ``metrics``.
    """
    problems = []
    pod = deployment["spec"]["template"]["spec"]
    psc = pod.get("securityContext") or {}
    if psc.get("runAsNonRoot") is not True:
        problems.append("pod: runAsNonRoot is not true")
    if (psc.get("runAsUser") or 0) == 0:
        problems.append("pod: runAsUser is root or unset")
    if (psc.get("seccompProfile") or {}).get("type") != "RuntimeDefault":
        problems.append("pod: seccompProfile is not RuntimeDefault")
    if pod.get("hostNetwork") or pod.get("hostPID") or pod.get("hostIPC"):
        problems.append("pod: uses host namespaces")
    for c in [*pod.get("initContainers", []), *pod["containers"]]:
        where = f"container {c['name']}"
        sc = c.get("securityContext") or {}
        if sc.get("allowPrivilegeEscalation") is not False:
            problems.append(f"{where}: allowPrivilegeEscalation is not false")
        if sc.get("readOnlyRootFilesystem") is not True:
            problems.append(f"{where}: readOnlyRootFilesystem is not true")
        if sc.get("privileged"):
            problems.append(f"{where}: privileged")
        if (sc.get("capabilities") or {}).get("drop") != ["ALL"] or (sc.get("capabilities") or {}).get("add"):
            problems.append(f"{where}: capabilities are not drop [ALL]")
        if sc.get("runAsNonRoot") is False or sc.get("runAsUser") == 0:
            problems.append(f"{where}: runs as root")
        resources = c.get("resources") or {}
        for kind in ("requests", "limits"):
            for res in ("cpu", "memory"):
                if res not in (resources.get(kind) or {}):
                    problems.append(f"{where}: no {res} {kind[:-1]}")
        ports = {p.get("name"): p.get("containerPort") for p in c.get("ports") or []}
        if "metrics" not in ports:
            problems.append(f"{where}: no port named metrics")
        probe = (c.get("livenessProbe") or {}).get("httpGet") or {}
        if probe.get("path") != "/healthz" or probe.get("port") not in ("metrics", ports.get("metrics")):
            problems.append(f"{where}: liveness is not GET /healthz on the metrics port")
    return problems


def known_env_names() -> set[str]:
    """Every environment variable the operator reads: ``OKR_*`` from the settings dataclasses, and POD_NAME."""
    from ..runtime.settings import env_names

    return env_names() | set(POD_ENV)


def container_env(container: dict[str, Any], field_values: dict[str, str] | None = None) -> dict[str, str]:
    """A container's env as a dict; downward-API fields take ``field_values[fieldPath]`` (default ``"x"``)."""
    env: dict[str, str] = {}
    for item in container.get("env") or []:
        if "value" in item:
            env[item["name"]] = str(item["value"])
        else:
            path = item.get("valueFrom", {}).get("fieldRef", {}).get("fieldPath", "")
            env[item["name"]] = (field_values or {}).get(path, "x")
    return env
