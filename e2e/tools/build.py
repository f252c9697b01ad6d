"""Build and cache the upstream tools the Testbed runs (kube-apiserver, etcd, Prometheus, ...).

Usage::

    python -m e2e.tools.build                 # the core set
    python -m e2e.tools.build kwok helm       # tools or groups by name
    python -m e2e.tools.build --list          # what is known and what is cached
    python -m e2e.tools.build --regen kubernetes   # rewrite a wrapper module's go.mod from upstream

Every tool is built from its Go module through the module proxy with the machine's Go
(``GOTOOLCHAIN=local CGO_ENABLED=0``), from a small *wrapper module* under ``e2e/tools/<module>/``
that pins the upstream version (and carries over the upstream ``replace`` directives that
``go install pkg@version`` refuses). Binaries land in ``~/.cache/okr-operator/<tool>-<version>/bin/``;
a warm run only checks that the binary exists. Nothing built is ever written into the repository.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import os
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

TOOLS_DIR = Path(__file__).resolve().parent

# ----------------------------------------------------------------------------------------------
# Pinned versions: the one table to edit when bumping a tool.
# ----------------------------------------------------------------------------------------------
KUBERNETES_VERSION = "1.37.2"  # k8s.io/kubernetes v1.37.2, staging modules v0.37.2
ETCD_VERSION = "3.6.16"  # go.etcd.io/etcd/server/v3
PROMETHEUS_VERSION = "3.16.0"  # github.com/prometheus/prometheus v0.316.0
KWOK_VERSION = "0.8.0"  # sigs.k8s.io/kwok
ARGO_ROLLOUTS_VERSION = "1.10.1"  # v1.10.2 needs go >= 1.26.10, the machine has 1.26.8
HELM_VERSION = "3.22.0"  # helm.sh/helm/v3
SLOTH_VERSION = "0.16.0"  # github.com/slok/sloth
OSLO_VERSION = "0.13.0"  # github.com/OpenSLO/oslo (the OpenSLO CLI: `oslo validate` checks what okrctl exports)
ARGO_CD_VERSION = "3.6.1"  # github.com/argoproj/argo-cd/v3; its go.mod says go 1.27.0, so GO_1_27 below
KUSTOMIZE_VERSION = "5.8.2"  # Argo CD's repo server runs `kustomize build`; 3.6.1 ships 5.8.3, which needs Go 1.27
GO_1_27 = "go1.27.3"  # GOTOOLCHAIN for modules that need Go 1.27 (the go command fetches it as a module)

# Upstream modules whose files (CRDs) the harness reads from the module cache.
PROMETHEUS_OPERATOR_VERSION = "0.85.0"  # newest version the module proxy serves here
CRD_MODULES: dict[str, tuple[str, str]] = {
    "prometheus-operator": ("github.com/prometheus-operator/prometheus-operator", f"v{PROMETHEUS_OPERATOR_VERSION}"),
    "argo-rollouts": ("github.com/argoproj/argo-rollouts", f"v{ARGO_ROLLOUTS_VERSION}"),
    "argo-cd": ("github.com/argoproj/argo-cd/v3", f"v{ARGO_CD_VERSION}"),
}


def _k8s_ldflags(version: str) -> tuple[str, ...]:
    major, minor, _ = version.split(".")
    base = "k8s.io/component-base/version"
    return (
        f"-X {base}.gitVersion=v{version}",
        f"-X {base}.gitMajor={major}",
        f"-X {base}.gitMinor={minor}",
        f"-X {base}.gitTreeState=clean",
    )


@dataclass(frozen=True)
class Tool:
    """One binary built from a Go package inside a wrapper module."""

    name: str
    version: str
    wrapper: str  # directory under e2e/tools holding go.mod/go.sum (and tools.go / main.go)
    package: str  # Go package to build, resolved inside the wrapper module
    upstream: tuple[str, str]  # (module path, module version) the wrapper requires
    ldflags: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    note: str = ""
    toolchain: str = "local"  # GOTOOLCHAIN of this build (GO_1_27 where upstream needs a newer Go)

    @property
    def cache_dir(self) -> Path:
        return cache_root() / f"{self.name}-{self.version}"

    @property
    def path(self) -> Path:
        return self.cache_dir / "bin" / self.name

    @property
    def cached(self) -> bool:
        return self.path.is_file() and os.access(self.path, os.X_OK)


_K8S = ("k8s.io/kubernetes", f"v{KUBERNETES_VERSION}")
# Prometheus 3.16.0 is published as module version v0.316.0.
_PROM = ("github.com/prometheus/prometheus", "v0.{}{:02d}.{}".format(*map(int, PROMETHEUS_VERSION.split("."))))
_PROM_VERSION_PKG = "github.com/prometheus/common/version"
_PROM_LDFLAGS = (
    f"-X {_PROM_VERSION_PKG}.Version={PROMETHEUS_VERSION}",
    f"-X {_PROM_VERSION_PKG}.Branch=HEAD",
    f"-X {_PROM_VERSION_PKG}.Revision=v{PROMETHEUS_VERSION}",
    f"-X {_PROM_VERSION_PKG}.BuildUser=okr-operator",
)

_PROM_OPERATOR = ("github.com/prometheus-operator/prometheus-operator", f"v{PROMETHEUS_OPERATOR_VERSION}")


def _prom_operator_ldflags() -> tuple[str, ...]:
    # The operator derives its default config-reloader image tag from this version.
    return (
        f"-X {_PROM_VERSION_PKG}.Version={PROMETHEUS_OPERATOR_VERSION}",
        f"-X {_PROM_VERSION_PKG}.Revision=v{PROMETHEUS_OPERATOR_VERSION}",
        f"-X {_PROM_VERSION_PKG}.BuildUser=okr-operator",
    )


TOOLS: dict[str, Tool] = {
    t.name: t
    for t in (
        Tool(
            "kube-apiserver",
            KUBERNETES_VERSION,
            "kubernetes",
            "k8s.io/kubernetes/cmd/kube-apiserver",
            _K8S,
            _k8s_ldflags(KUBERNETES_VERSION),
        ),
        Tool(
            "kube-controller-manager",
            KUBERNETES_VERSION,
            "kubernetes",
            "k8s.io/kubernetes/cmd/kube-controller-manager",
            _K8S,
            _k8s_ldflags(KUBERNETES_VERSION),
        ),
        Tool(
            "kube-scheduler",
            KUBERNETES_VERSION,
            "kubernetes",
            "k8s.io/kubernetes/cmd/kube-scheduler",
            _K8S,
            _k8s_ldflags(KUBERNETES_VERSION),
        ),
        Tool("etcd", ETCD_VERSION, "etcd", ".", ("go.etcd.io/etcd/server/v3", f"v{ETCD_VERSION}")),
        Tool(
            "prometheus",
            PROMETHEUS_VERSION,
            "prometheus",
            "github.com/prometheus/prometheus/cmd/prometheus",
            _PROM,
            _PROM_LDFLAGS,
            tags=("remove_all_sd",),  # static, file and http service discovery only: much faster to build
        ),
        Tool(
            "promtool",
            PROMETHEUS_VERSION,
            "prometheus",
            "github.com/prometheus/prometheus/cmd/promtool",
            _PROM,
            _PROM_LDFLAGS,
            tags=("remove_all_sd",),
        ),
        Tool(
            "prometheus-operator",
            PROMETHEUS_OPERATOR_VERSION,
            "prometheus-operator",
            "github.com/prometheus-operator/prometheus-operator/cmd/operator",
            _PROM_OPERATOR,
            _prom_operator_ldflags(),
        ),
        Tool(
            "admission-webhook",
            PROMETHEUS_OPERATOR_VERSION,
            "prometheus-operator",
            "github.com/prometheus-operator/prometheus-operator/cmd/admission-webhook",
            _PROM_OPERATOR,
            _prom_operator_ldflags(),
            note="prometheus-operator's validating webhook for PrometheusRules",
        ),
        Tool(
            "kwok",
            KWOK_VERSION,
            "kwok",
            "sigs.k8s.io/kwok/cmd/kwok",
            ("sigs.k8s.io/kwok", f"v{KWOK_VERSION}"),
            (f"-X sigs.k8s.io/kwok/pkg/consts.Version={KWOK_VERSION}",),
        ),
        Tool(
            "rollouts-controller",
            ARGO_ROLLOUTS_VERSION,
            "argo-rollouts",
            "github.com/argoproj/argo-rollouts/cmd/rollouts-controller",
            ("github.com/argoproj/argo-rollouts", f"v{ARGO_ROLLOUTS_VERSION}"),
            (f"-X github.com/argoproj/argo-rollouts/utils/version.version={ARGO_ROLLOUTS_VERSION}",),
        ),
        Tool(
            "helm",
            HELM_VERSION,
            "helm",
            "helm.sh/helm/v3/cmd/helm",
            ("helm.sh/helm/v3", f"v{HELM_VERSION}"),
            (f"-X helm.sh/helm/v3/internal/version.version=v{HELM_VERSION}",),
        ),
        Tool(
            "sloth",
            SLOTH_VERSION,
            "sloth",
            "github.com/slok/sloth/cmd/sloth",
            ("github.com/slok/sloth", f"v{SLOTH_VERSION}"),
            (f"-X github.com/slok/sloth/internal/info.Version=v{SLOTH_VERSION}",),
        ),
        Tool(
            "oslo",
            OSLO_VERSION,
            "oslo",
            "github.com/OpenSLO/oslo/cmd/oslo",
            ("github.com/OpenSLO/oslo", f"v{OSLO_VERSION}"),
            (f"-X main.version={OSLO_VERSION}",),
            note="`go install ...@v0.13.0` fails here (it reads the module's version list to check for deprecation, "
            "and the proxy answers 403); the exact version required by the wrapper module resolves",
        ),
        Tool(
            "argocd",  # one binary for every component: it dispatches on its name or $ARGOCD_BINARY_NAME
            ARGO_CD_VERSION,
            "argo-cd",
            "github.com/argoproj/argo-cd/v3/cmd",
            ("github.com/argoproj/argo-cd/v3", f"v{ARGO_CD_VERSION}"),
            (f"-X github.com/argoproj/argo-cd/v3/common.version={ARGO_CD_VERSION}",),
            toolchain=GO_1_27,
        ),
        Tool(
            "kustomize",
            KUSTOMIZE_VERSION,
            "kustomize",
            "sigs.k8s.io/kustomize/kustomize/v5",
            ("sigs.k8s.io/kustomize/kustomize/v5", f"v{KUSTOMIZE_VERSION}"),
            (f"-X sigs.k8s.io/kustomize/api/provenance.version=v{KUSTOMIZE_VERSION}",),
        ),
    )
}

GROUPS: dict[str, tuple[str, ...]] = {
    "core": ("kube-apiserver", "kube-controller-manager", "etcd", "prometheus", "promtool"),
    "scheduler": ("kube-scheduler",),
    "kwok": ("kwok",),
    "prometheus-operator": ("prometheus-operator", "admission-webhook"),
    "argo-rollouts": ("rollouts-controller",),
    "helm": ("helm",),
    "sloth": ("sloth",),
    "oslo": ("oslo",),
    "argo-cd": ("argocd", "kustomize"),
}

# Not buildable here: the module proxy refuses github.com/pyrra-dev/pyrra ("not available").
UNAVAILABLE: dict[str, str] = {
    "pyrra": "the Go module proxy answers 403 'not available' for github.com/pyrra-dev/pyrra",
}


class ToolBuildError(RuntimeError):
    """A `go build` failed; the message holds the command and the tail of Go's output."""


class ToolsForbidden(ToolBuildError):
    """A tool was asked for where none may be used: ``make unit`` sets ``OKR_NO_TOOLS=1``."""


def cache_root() -> Path:
    """Where built tools live (``$OKR_TOOLS_CACHE`` or ``~/.cache/okr-operator``)."""
    env = os.environ.get("OKR_TOOLS_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "okr-operator"


def resolve(names: Iterable[str]) -> list[Tool]:
    """Expand tool and group names (``core``, ``kwok``, ``kube-apiserver``...) into tools, in order."""
    out: list[Tool] = []
    for name in names:
        if name in UNAVAILABLE:
            raise ToolBuildError(f"{name} cannot be built here: {UNAVAILABLE[name]}")
        members = GROUPS.get(name, (name,))
        for member in members:
            if member not in TOOLS:
                known = ", ".join([*GROUPS, *TOOLS])
                raise ToolBuildError(f"unknown tool or group {name!r}; known: {known}")
            if TOOLS[member] not in out:
                out.append(TOOLS[member])
    return out


def _go_env(toolchain: str = "local") -> dict[str, str]:
    env = dict(os.environ)
    env["GOTOOLCHAIN"] = toolchain
    env["CGO_ENABLED"] = "0"
    flags = env.get("GOFLAGS", "")
    if "-buildvcs" not in flags:
        flags = f"{flags} -buildvcs=false".strip()
    env["GOFLAGS"] = flags
    return env


def _tail(text: str, lines: int = 40) -> str:
    return "\n".join(text.rstrip().splitlines()[-lines:])


@contextlib.contextmanager
def _build_lock() -> Iterator[None]:
    """Serialise builds across processes (two pytest sessions, make tools in another shell)."""
    root = cache_root()
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".build.lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def build_tool(tool: Tool) -> float:
    """Build one tool into its cache directory (atomically). Returns seconds taken."""
    if shutil.which("go") is None:
        raise ToolBuildError("`go` is not on PATH: the Testbed builds its tools with the machine's Go")
    bindir = tool.cache_dir / "bin"
    bindir.mkdir(parents=True, exist_ok=True)
    tmp = bindir / f".{tool.name}.tmp-{os.getpid()}"
    ldflags = " ".join(("-s", "-w", *tool.ldflags))
    cmd = ["go", "build", "-trimpath", "-ldflags", ldflags, "-o", str(tmp)]
    if tool.tags:
        cmd += ["-tags", ",".join(tool.tags)]
    cmd.append(tool.package)
    started = time.monotonic()
    proc = subprocess.run(
        cmd,
        cwd=TOOLS_DIR / tool.wrapper,
        env=_go_env(tool.toolchain),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        tmp.unlink(missing_ok=True)
        raise ToolBuildError(
            f"building {tool.name} v{tool.version} failed (exit {proc.returncode})\n"
            f"  in:  {TOOLS_DIR / tool.wrapper}\n"
            f"  cmd: GOTOOLCHAIN={tool.toolchain} CGO_ENABLED=0 {shlex.join(cmd)}\n"
            f"--- last lines of go output ---\n{_tail(proc.stdout)}"
        )
    tmp.chmod(0o755)
    os.replace(tmp, tool.path)
    return time.monotonic() - started


def ensure(
    names: Iterable[str] = ("core",), log: Callable[[str], None] | None = None, report_cached: bool = False
) -> dict[str, Path]:
    """Make sure the named tools/groups are built; build the missing ones. Returns name -> binary path.

    Prints one progress line per built tool through ``log`` (default: stderr), and one per cached
    tool too when ``report_cached``.
    """
    say = log or (lambda msg: print(msg, file=sys.stderr, flush=True))
    tools = resolve(names)
    if os.environ.get("OKR_NO_TOOLS") and tools:
        raise ToolsForbidden(
            f"{', '.join(t.name for t in tools)} asked for with OKR_NO_TOOLS set: the unit tier (make unit) runs "
            "without built tools; mark the test `tools` (pytest.mark.tools) or run it with make test"
        )
    missing = [t for t in tools if not t.cached]
    for tool in tools:
        if tool.cached and report_cached:
            say(f"{tool.name} v{tool.version}: cached ({tool.path})")
    if missing:
        with _build_lock():
            for tool in missing:
                if tool.cached:  # built by another process while we waited for the lock
                    say(f"{tool.name} v{tool.version}: cached ({tool.path})")
                    continue
                say(f"building {tool.name} v{tool.version}...")
                secs = build_tool(tool)
                say(f"building {tool.name} v{tool.version}... done in {secs:.0f} s")
    return {t.name: t.path for t in tools}


def tool_path(name: str) -> Path:
    """Path of a built tool, building it first if needed."""
    return ensure([name])[name]


# ----------------------------------------------------------------------------------------------
# Module cache access (upstream CRDs) and wrapper regeneration
# ----------------------------------------------------------------------------------------------


def _toolchain_of(module: str) -> str:
    """GOTOOLCHAIN for ``module``: the one its tools build with (a go.mod saying go 1.27 needs GO_1_27)."""
    return next((t.toolchain for t in TOOLS.values() if t.upstream[0] == module), "local")


def module_dir(module: str, version: str) -> Path:
    """Download ``module@version`` through the module proxy (if needed) and return its directory."""
    proc = subprocess.run(
        ["go", "mod", "download", "-json", f"{module}@{version}"],
        env=_go_env(_toolchain_of(module)),
        cwd=TOOLS_DIR,
        capture_output=True,
        text=True,
        check=False,
    )
    try:
        info = json.loads(proc.stdout)
    except json.JSONDecodeError:
        info = {}
    if proc.returncode != 0 or "Dir" not in info:
        raise ToolBuildError(f"go mod download {module}@{version} failed: {info.get('Error') or _tail(proc.stderr)}")
    return Path(info["Dir"])


def _go_mod_json(path: Path, toolchain: str = "local") -> dict:
    out = subprocess.run(
        ["go", "mod", "edit", "-json", str(path)], env=_go_env(toolchain), capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout)


def regen_wrapper(wrapper: str) -> Path:
    """Rewrite ``e2e/tools/<wrapper>/go.mod`` from the upstream module's go.mod, then ``go mod tidy``.

    Non-local ``replace`` directives are carried over as they are. Local ones (``=> ./staging/...``
    in k8s.io/kubernetes, ``=> ../api`` in etcd) only make sense inside the upstream repository:
    Kubernetes staging modules are mapped to their published ``v0.Y.Z``; others are dropped (the
    upstream ``require`` lines already name the same release).
    """
    tools = [t for t in TOOLS.values() if t.wrapper == wrapper]
    if not tools:
        raise ToolBuildError(f"no tool uses wrapper {wrapper!r}")
    module, version = tools[0].upstream
    upstream = _go_mod_json(module_dir(module, version) / "go.mod", tools[0].toolchain)
    required = {r["Path"] for r in upstream.get("Require") or []}
    replaces: list[str] = []
    for rep in upstream.get("Replace") or []:
        old, new = rep["Old"], rep["New"]
        old_s = old["Path"] + (f" {old['Version']}" if old.get("Version") else "")
        if new["Path"].startswith((".", "/")):
            if module == "k8s.io/kubernetes" and "/staging/" in new["Path"] and old["Path"] in required:
                replaces.append(f"{old_s} => {old['Path']} v0.{version.split('.', 1)[1]}")
            continue
        replaces.append(f"{old_s} => {new['Path']} {new['Version']}")
    gomod = TOOLS_DIR / wrapper / "go.mod"
    gomod.parent.mkdir(exist_ok=True)
    lines = [
        f"// Wrapper module for {module} {version}: generated by `python -m e2e.tools.build --regen {wrapper}`.",
        "// It exists because `go install pkg@version` refuses modules whose go.mod has replace directives.",
        f"module okr-operator/e2e/tools/{wrapper}",
        "",
        f"go {upstream['Go']}",
        "",
        f"require {module} {version}",
    ]
    if replaces:
        lines += ["", "replace (", *[f"\t{r}" for r in replaces], ")"]
    gomod.write_text("\n".join(lines) + "\n")
    tools_go = TOOLS_DIR / wrapper / "tools.go"
    if not (TOOLS_DIR / wrapper / "main.go").exists():
        imports = "\n".join(f'\t_ "{t.package}"' for t in tools)
        tools_go.write_text(
            "//go:build tools\n\n"
            f"// Package tools pins the commands that e2e/tools/build.py builds from {module}.\n"
            f"package tools\n\nimport (\n{imports}\n)\n"
        )
    subprocess.run(["go", "mod", "tidy"], cwd=gomod.parent, env=_go_env(tools[0].toolchain), check=True)
    return gomod


def _print_list() -> None:
    for group, members in GROUPS.items():
        print(f"{group}:")
        for name in members:
            t = TOOLS[name]
            state = "cached" if t.cached else "not built"
            print(f"  {t.name:24} v{t.version:10} {state:10} {t.path}")
    for name, why in UNAVAILABLE.items():
        print(f"{name}: unavailable ({why})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m e2e.tools.build", description=__doc__.split("\n")[0])
    parser.add_argument("names", nargs="*", help="tools or groups (default: core)")
    parser.add_argument("--list", action="store_true", help="list tools, groups and cache state")
    parser.add_argument("--regen", metavar="WRAPPER", help="regenerate e2e/tools/WRAPPER/go.mod from upstream")
    args = parser.parse_args(argv)
    if args.list:
        _print_list()
        return 0
    if args.regen:
        print(regen_wrapper(args.regen))
        return 0
    names = args.names or ["core"]
    started = time.monotonic()
    try:
        tools = resolve(names)
        fresh = [t.name for t in tools if not t.cached]
        ensure(names, report_cached=True)
    except ToolBuildError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if fresh:
        total = time.monotonic() - started
        size = sum(f.stat().st_size for t in tools for f in t.cache_dir.rglob("*") if f.is_file())
        print(f"built {len(fresh)} tool(s) in {total:.0f} s; {size / 2**20:.0f} MiB in {cache_root()}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())


__all__ = [
    "CRD_MODULES",
    "GROUPS",
    "TOOLS",
    "Tool",
    "ToolBuildError",
    "cache_root",
    "ensure",
    "module_dir",
    "resolve",
    "tool_path",
]
