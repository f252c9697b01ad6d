"""Upstream CRDs at pinned versions, read from the Go module cache (never copied into the repo)."""

from __future__ import annotations

from pathlib import Path

from e2e.tools.build import CRD_MODULES, TOOLS, module_dir

# group name -> (module key in CRD_MODULES, files inside the module)
_CRD_FILES: dict[str, tuple[str, tuple[str, ...]]] = {
    "monitoring.coreos.com": (
        "prometheus-operator",
        (
            "example/prometheus-operator-crd/monitoring.coreos.com_prometheusrules.yaml",
            "example/prometheus-operator-crd/monitoring.coreos.com_servicemonitors.yaml",
        ),
    ),
    "argoproj.io": (
        "argo-rollouts",
        (
            "manifests/crds/rollout-crd.yaml",
            "manifests/crds/analysis-template-crd.yaml",
            "manifests/crds/cluster-analysis-template-crd.yaml",
            "manifests/crds/analysis-run-crd.yaml",
            "manifests/crds/experiment-crd.yaml",
        ),
    ),
    # Argo CD's kinds are argoproj.io too: this entry is named after the project, not the group.
    "argo-cd": ("argo-cd", ("manifests/crds/application-crd.yaml", "manifests/crds/appproject-crd.yaml")),
}
_ALIASES = {"prometheus-operator": "monitoring.coreos.com", "argo-rollouts": "argoproj.io"}


def upstream_crd_groups() -> list[str]:
    """Known groups: ``monitoring.coreos.com`` (alias ``prometheus-operator``), ``argoproj.io`` (``argo-rollouts``),
    and ``argo-cd`` (Argo CD's Application and AppProject, also in argoproj.io)."""
    return list(_CRD_FILES)


def upstream_crds(group: str) -> list[Path]:
    """CRD files of an upstream API group at the pinned version (downloaded via the module proxy if needed)."""
    group = _ALIASES.get(group, group)
    if group not in _CRD_FILES:
        raise KeyError(f"unknown upstream CRD group {group!r}; known: {', '.join([*_CRD_FILES, *_ALIASES])}")
    key, files = _CRD_FILES[group]
    module, version = CRD_MODULES[key]
    root = module_dir(module, version)
    paths = [root / f for f in files]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise FileNotFoundError(f"{module}@{version} lacks {missing}")
    return paths


def prometheus_operator_file(path: str) -> Path:
    """A file of the prometheus-operator module at the pinned version (RBAC examples, docs)."""
    module, version = CRD_MODULES["prometheus-operator"]
    found = module_dir(module, version) / path
    if not found.is_file():
        raise FileNotFoundError(f"{module}@{version} lacks {path}")
    return found


def prometheus_operator_crds(*plurals: str) -> list[Path]:
    """prometheus-operator's CRDs (``plurals`` such as ``prometheuses``), by default every one: its controllers
    check for all of them at start."""
    module, version = CRD_MODULES["prometheus-operator"]
    files = sorted((module_dir(module, version) / "example" / "prometheus-operator-crd").glob("*.yaml"))
    if plurals:
        files = [f for f in files if f.name.removeprefix("monitoring.coreos.com_").removesuffix(".yaml") in plurals]
    if not files or (plurals and len(files) != len(plurals)):
        raise FileNotFoundError(f"{module}@{version}: no CRD files for {plurals or 'example/prometheus-operator-crd'}")
    return files


def kwok_stage_files() -> list[Path]:
    """kwok's 'fast' node and pod stage configs from the kwok module at the pinned version."""
    module, version = TOOLS["kwok"].upstream
    root = module_dir(module, version) / "kustomize" / "stage"
    files = sorted((root / "node" / "fast").glob("*.yaml")) + sorted((root / "pod" / "fast").glob("*.yaml"))
    files = [f for f in files if f.name != "kustomization.yaml"]
    if not files:
        raise FileNotFoundError(f"no stage files under {root}")
    return files
