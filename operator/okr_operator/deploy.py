"""Deployment artefacts that are generated or checked rather than written by hand.

* The Argo CD ``argocd-cm`` snippet with our health checks, generated from the Lua files laid out as
  Argo CD keeps its own (``config/argocd/okr.dev/<Kind>/health.lua``)::

      python -m okr_operator.deploy argocd-cm              # print it
      python -m okr_operator.deploy argocd-cm --write      # rewrite config/argocd/argocd-cm-patch.yaml
      python -m okr_operator.deploy argocd-cm --check      # exit 1 when the committed file is stale
      kubectl get slo -A -o yaml | python -m okr_operator.deploy health -   # Argo CD's verdict, locally

* The operator's RBAC needs, one rule per thing it does (``CLUSTER_RULES``, ``NAMESPACED_RULES``,
  ``lease_rules``). ``config/rbac`` and the Helm chart must grant exactly these (tests compare them), and
  the end-to-end tests check every permission with the real authorizer.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .api import GROUP, KINDS

ARGOCD_NAMESPACE = "argocd"
HEALTH_KEY_PREFIX = "resource.customizations.health."
PATCH_FILE = "argocd-cm-patch.yaml"
DEFAULT_LEASE = "okr-operator-evaluation"


# ------------------------------------------------------------------------------------------- RBAC


@dataclass(frozen=True)
class Rule:
    """One RBAC PolicyRule and the reason the operator needs it."""

    api_group: str
    resources: tuple[str, ...]
    verbs: tuple[str, ...]
    why: str
    resource_names: tuple[str, ...] = ()

    def policy_rule(self) -> dict[str, Any]:
        """The rule as it appears in a (Cluster)Role."""
        rule: dict[str, Any] = {"apiGroups": [self.api_group], "resources": list(self.resources)}
        if self.resource_names:
            rule["resourceNames"] = list(self.resource_names)
        rule["verbs"] = list(self.verbs)
        return rule

    def permissions(self) -> list[tuple[str, str, str]]:
        """(verb, resource, api group) triples, e.g. ("patch", "objectives/status", "okr.dev")."""
        return [(verb, res, self.api_group) for res in self.resources for verb in self.verbs]


_PLURALS = tuple(info.plural for info in KINDS.values())

_OKR_RULES: tuple[Rule, ...] = (
    Rule(GROUP, _PLURALS, ("get", "list", "watch", "patch"), "watch our kinds; kopf patches its annotations"),
    Rule(GROUP, tuple(f"{p}/status" for p in _PLURALS), ("patch",), "write the computed status"),
    Rule(
        GROUP,
        tuple(f"{p}/finalizers" for p in _PLURALS),
        ("update",),
        "owner references with blockOwnerDeletion on generated objects",
    ),
    Rule(
        "monitoring.coreos.com",
        ("prometheusrules",),
        ("get", "list", "watch", "create", "patch", "delete"),
        "server-side apply of generated PrometheusRules; list/watch to notice drift; delete when no longer wanted",
    ),
    Rule(
        "argoproj.io",
        ("analysistemplates",),
        ("get", "list", "watch", "create", "patch", "delete"),
        "server-side apply of generated AnalysisTemplates (canary gates); delete when the gate is disabled",
    ),
    Rule("", ("events",), ("create", "patch"), "events on our objects (kopf's and the operator's, core/v1)"),
)

_CRD_DISCOVERY = Rule(
    "apiextensions.k8s.io",
    ("customresourcedefinitions",),
    ("list", "watch"),
    "kopf notices CRDs that appear later (e.g. PrometheusRule)",
)

CLUSTER_RULES: tuple[Rule, ...] = (
    *_OKR_RULES,
    Rule("kopf.dev", ("clusterkopfpeerings",), ("get", "list", "watch", "patch"), "kopf peering (cluster-wide)"),
    _CRD_DISCOVERY,
)
"""ClusterRole rules of a cluster-wide operator (OKR_NAMESPACES empty): config/rbac and the chart's default.

kopf never lists namespaces and never touches KopfPeering in that mode (see kopf's
``namespace_observer`` and ``peering``), so neither is granted.
"""

NAMESPACED_RULES: tuple[Rule, ...] = (
    *_OKR_RULES,
    Rule("kopf.dev", ("kopfpeerings",), ("get", "list", "watch", "patch"), "kopf peering (per watched namespace)"),
    _CRD_DISCOVERY,
    Rule("", ("namespaces",), ("list", "watch"), "kopf follows the watched namespaces being created/deleted"),
)
"""ClusterRole rules of an operator restricted to namespaces (the chart with ``watchNamespaces``)."""


def lease_rules(lease: str = DEFAULT_LEASE) -> tuple[Rule, ...]:
    """Role rules in the operator's namespace for the Lease guarding the evaluation loop."""
    return (
        Rule("coordination.k8s.io", ("leases",), ("create",), "create the Lease (create cannot be name-restricted)"),
        Rule("coordination.k8s.io", ("leases",), ("get", "update"), "hold and renew the Lease", (lease,)),
    )


def policy_rules(rules: Iterable[Rule]) -> list[dict[str, Any]]:
    """The ``rules:`` list of a (Cluster)Role."""
    return [rule.policy_rule() for rule in rules]


# ------------------------------------------------------------------- checks of rendered manifests

# Verbs that let a subject widen its own rights, and resources the operator must never read.
_DANGEROUS_VERBS = {"*", "escalate", "bind", "impersonate"}
_FORBIDDEN_RESOURCES = {"*", "secrets", "pods/exec", "serviceaccounts/token"}
POD_ENV = ("POD_NAME",)  # downward API, the lease/peering identity; not an OKR_* setting


def rbac_problems(obj: dict[str, Any]) -> list[str]:
    """Why a (Cluster)Role is not least privilege: wildcards, escalation verbs, secrets. Empty when fine."""
    problems = []
    name = f"{obj.get('kind')}/{obj.get('metadata', {}).get('name')}"
    for i, rule in enumerate(obj.get("rules") or []):
        where = f"{name} rule {i}"
        for key in ("apiGroups", "resources", "verbs", "resourceNames"):
            if "*" in (rule.get(key) or []):
                problems.append(f"{where}: wildcard in {key}")
        if rule.get("nonResourceURLs"):
            problems.append(f"{where}: nonResourceURLs")
        for verb in set(rule.get("verbs") or []) & (_DANGEROUS_VERBS - {"*"}):
            problems.append(f"{where}: verb {verb}")
        for res in set(rule.get("resources") or []) & (_FORBIDDEN_RESOURCES - {"*"}):
            problems.append(f"{where}: resource {res}")
    if obj.get("aggregationRule"):
        problems.append(f"{name}: aggregationRule")
    return problems


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
    from dataclasses import fields

    from .runtime.settings import ENV_PREFIX, Settings

    names = {f"{ENV_PREFIX}{f.name.upper()}" for f in fields(Settings) if f.name != "prometheus"}
    prometheus = type(Settings().prometheus)
    names |= {f"{ENV_PREFIX}PROMETHEUS_{f.name.upper()}" for f in fields(prometheus)}
    return names | set(POD_ENV)


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


# ------------------------------------------------------------------------------ Argo CD health checks


def default_config_dir() -> Path:
    """``config/`` of the source tree this module runs from, else of the current directory."""
    here = Path(__file__).resolve().parents[2] / "config"
    return here if (here / "argocd").is_dir() else Path.cwd() / "config"


def health_checks(argocd_dir: Path) -> dict[str, str]:
    """``<group>_<Kind>`` -> Lua text of every ``<group>/<Kind>/health.lua`` under ``argocd_dir``, sorted."""
    found = {
        f"{lua.parent.parent.name}_{lua.parent.name}": lua.read_text(encoding="utf-8")
        for lua in argocd_dir.glob("*/*/health.lua")
    }
    if not found:
        raise FileNotFoundError(f"no <group>/<Kind>/health.lua under {argocd_dir}")
    return dict(sorted(found.items()))


def run_health_lua(lua_source: str, obj: dict[str, Any]) -> dict[str, str]:
    """Run an Argo CD ``health.lua`` on ``obj`` the way Argo CD does; returns ``{status, message}``.

    Lua 5.1 (Argo CD's gopher-lua implements 5.1) through lupa, a development dependency; the object is
    the global ``obj`` and only the base, string, table and math libraries are there.
    """
    try:
        from lupa import lua51
    except ImportError as exc:  # pragma: no cover - lupa is a dev dependency
        raise RuntimeError("running health checks needs lupa with Lua 5.1: pip install lupa") from exc
    lua = lua51.LuaRuntime(unpack_returned_tuples=True)
    lua.execute("io = nil; os = nil; debug = nil; dofile = nil; loadfile = nil; require = nil; package = nil")
    lua.globals().obj = lua.table_from(obj, recursive=True)
    result = lua.execute(lua_source)
    if result is None:
        raise ValueError("health.lua returned nothing (it must return a table with status and message)")
    return {"status": str(result["status"]), "message": str(result["message"] or "")}


def health_of(obj: dict[str, Any], argocd_dir: Path) -> dict[str, str]:
    """The Argo CD health of one of our objects, from ``<group>/<Kind>/health.lua`` under ``argocd_dir``."""
    group = str(obj.get("apiVersion", "")).split("/")[0]
    lua = argocd_dir / group / str(obj.get("kind")) / "health.lua"
    if not lua.is_file():
        raise FileNotFoundError(f"no health check for {group}/{obj.get('kind')} ({lua})")
    return run_health_lua(lua.read_text(encoding="utf-8"), obj)


def _block(text: str, indent: str) -> str:
    return "".join(f"{indent}{line}" if line.strip() else "\n" for line in text.splitlines(keepends=True))


def render_argocd_cm(argocd_dir: Path, namespace: str = ARGOCD_NAMESPACE) -> str:
    """The argocd-cm patch (a ConfigMap with one ``resource.customizations.health.*`` key per kind)."""
    lines = [
        "# GENERATED by `python -m okr_operator.deploy argocd-cm --write` from config/argocd/*/*/health.lua;",
        "# edit the Lua files, not this one (tests/test_argocd_health.py fails when it is stale).",
        "# Merge it into Argo CD's argocd-cm (see docs/argocd.md):",
        f"#   kubectl -n {namespace} patch configmap argocd-cm --type merge --patch-file config/argocd/{PATCH_FILE}",
        "apiVersion: v1",
        "kind: ConfigMap",
        "metadata:",
        "  name: argocd-cm",
        f"  namespace: {namespace}",
        "  labels:",
        "    app.kubernetes.io/name: argocd-cm",
        "    app.kubernetes.io/part-of: argocd",
        "data:",
    ]
    body = "\n".join(lines) + "\n"
    for key, lua in health_checks(argocd_dir).items():
        if not lua.endswith("\n"):
            lua += "\n"
        body += f"  {HEALTH_KEY_PREFIX}{key}: |\n" + _block(lua, "    ")
    return body


def _argocd_cm(args: argparse.Namespace) -> int:
    argocd_dir = Path(args.config) / "argocd"
    text = render_argocd_cm(argocd_dir, args.namespace)
    target = argocd_dir / PATCH_FILE
    if args.check:
        if not target.exists() or target.read_text(encoding="utf-8") != text:
            print(f"{target} is stale: run python -m okr_operator.deploy argocd-cm --write", file=sys.stderr)
            return 1
        return 0
    if args.write:
        target.write_text(text, encoding="utf-8")
        print(f"wrote {target}", file=sys.stderr)
        return 0
    sys.stdout.write(text)
    return 0


def _health(args: argparse.Namespace) -> int:
    import yaml

    text = sys.stdin.read() if args.file == "-" else Path(args.file).read_text(encoding="utf-8")
    docs = [d for d in yaml.safe_load_all(text) if d]
    items = [i for d in docs for i in (d.get("items") if d.get("kind", "").endswith("List") else [d])]
    worst = 0
    for obj in items:
        verdict = health_of(obj, Path(args.config) / "argocd")
        print(f"{obj['kind']}/{obj['metadata']['name']}: {verdict['status']}: {verdict['message']}")
        worst = max(worst, int(verdict["status"] != "Healthy"))
    return worst


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m okr_operator.deploy", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    cm = sub.add_parser("argocd-cm", help="the argocd-cm snippet with the Lua health checks")
    cm.add_argument("--config", default=str(default_config_dir()), help="the config/ directory (default: %(default)s)")
    cm.add_argument("--namespace", default=ARGOCD_NAMESPACE, help="Argo CD's namespace (default: %(default)s)")
    mode = cm.add_mutually_exclusive_group()
    mode.add_argument("--write", action="store_true", help=f"write config/argocd/{PATCH_FILE}")
    mode.add_argument("--check", action="store_true", help=f"exit 1 when config/argocd/{PATCH_FILE} is stale")
    cm.set_defaults(func=_argocd_cm)
    health = sub.add_parser("health", help="Argo CD's verdict on objects (kubectl get ... -o yaml | ... health -)")
    health.add_argument("file", help="YAML with objects or a List, - for stdin")
    health.add_argument(
        "--config", default=str(default_config_dir()), help="the config/ directory (default: %(default)s)"
    )
    health.set_defaults(func=_health)
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
