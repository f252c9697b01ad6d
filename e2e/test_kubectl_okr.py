"""kubectl okr tree against a real kube-apiserver: the samples applied, statuses written by hand (no operator).

Statuses go in with ``kubectl patch --subresource=status --type=merge`` in the shape the operator writes,
so the CRDs' status schema is exercised too. The plugin runs as a separate process: once through kubectl's
plugin mechanism (``kubectl okr ...`` with kubectl-okr on PATH), otherwise as the console script.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from e2e.harness.cluster import LocalCluster, kubectl_binary

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "config" / "samples"
BIN = Path(sys.executable).parent

OBJECTIVE_STATUS = {
    "platform-excellence": {"progress": 0.62, "score": 0.62, "expected": 0.5, "state": "OnTrack"},
    "checkout-reliability": {
        "progress": 0.3125,
        "score": 0.31,
        "expected": 0.5,
        "state": "AtRisk",
        "keyResults": {"total": 2, "onTrack": 1, "offTrack": 1},
    },
}
KEY_RESULT_STATUS = {
    "checkout-mttr": {"current": 42, "progress": 0.6667, "score": 0.67, "state": "OnTrack"},
    "checkout-budget-discipline": {"current": 0.35, "progress": 0.1, "score": 0.1, "state": "OffTrack"},
    "sli-coverage": {"current": 99, "progress": 0.8, "score": 0.8, "state": "Achieved"},
}
SLO_STATUS = {
    "checkout-availability": {
        "sli": 99.965,
        "state": "Healthy",
        "errorBudget": {"total": 0.1, "consumed": 0.35, "remaining": 0.65},
    },
}


def plugin_cmd() -> list[str]:
    script = BIN / "kubectl-okr"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "okr_operator.cli.kubectl_okr"]


def okr(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*plugin_cmd(), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "COLUMNS": "120", **(env or {})},
    )


def patch_status(cluster: Any, resource: str, namespace: str, name: str, status: dict[str, Any]) -> None:
    cluster.kubectl(
        "patch",
        resource,
        name,
        "-n",
        namespace,
        "--subresource=status",
        "--type=merge",
        "-p",
        json.dumps({"status": status}),
    )


@pytest.fixture(scope="module")
def okr_crds(cluster: Any) -> list[str]:
    return cluster.install_crds(sorted((REPO / "crds").glob("*.yaml")))


@pytest.fixture
def samples(cluster: Any, okr_crds: list[str], namespace: str) -> str:
    """config/samples applied into ``namespace`` with statuses on most objects (checkout-speed has none)."""
    cluster.kubectl("apply", "--server-side", "-n", namespace, "-f", str(SAMPLES))
    for name, status in OBJECTIVE_STATUS.items():
        patch_status(cluster, "objectives.okr.dev", namespace, name, status)
    for name, status in KEY_RESULT_STATUS.items():
        patch_status(cluster, "keyresults.okr.dev", namespace, name, status)
    for name, status in SLO_STATUS.items():
        patch_status(cluster, "servicelevelobjectives.okr.dev", namespace, name, status)
    return namespace


@pytest.fixture
def other_namespace(cluster: Any, namespace: str) -> Iterator[str]:
    name = f"{namespace[:50]}-team"
    cluster.kubectl("create", "namespace", name)
    try:
        yield name
    finally:
        cluster.kubectl("delete", "namespace", name, "--wait=false", "--ignore-not-found", check=False)


def test_tree_through_kubectl_plugin(cluster, samples):
    """`kubectl okr tree` finds kubectl-okr on PATH and shows the samples as a tree."""
    if not (BIN / "kubectl-okr").exists():
        pytest.skip("the kubectl-okr console script is not installed next to this Python")
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", "COLUMNS": "120"}
    proc = subprocess.run(
        [kubectl_binary(), "okr", "tree", "-n", samples, "--kubeconfig", str(cluster.kubeconfig), "--no-color"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("NAME") and "PROGRESS" in lines[0]
    assert lines[1].startswith("platform-excellence ")
    assert "██████░░░░  62%   0.62  OnTrack" in lines[1]
    assert lines[2].startswith("├── sli-coverage ")
    assert "████████░░  80%   0.80  Achieved" in lines[2] and "99/100%" in lines[2]
    assert lines[3].startswith("├── checkout-reliability ")
    assert "███░░░░░░░  31%   0.31  AtRisk" in lines[3]
    budget = next(i for i, line in enumerate(lines) if "checkout-budget-discipline" in line)
    assert lines[budget].startswith("│   ├── checkout-budget-discipline ")
    assert "█░░░░░░░░░  10%   0.10  OffTrack" in lines[budget]
    out = proc.stdout
    assert "0.35/≤0.8 of budget" in out
    assert "slo checkout-availability Healthy, budget 65% left" in out
    mttr = next(line for line in lines if "checkout-mttr" in line)
    assert mttr.startswith("│   └── checkout-mttr ") and "42/40.5 minutes" in mttr
    speed = next(line for line in lines if "checkout-speed" in line)
    assert speed.startswith("└── checkout-speed ") and "no status" in speed
    p95 = next(line for line in lines if "checkout-p95-latency" in line)
    assert p95.startswith("    └── checkout-p95-latency ") and "?/0.234 s" in p95
    assert proc.stderr == ""


def test_json_output(cluster, samples):
    proc = okr("tree", "-n", samples, "--kubeconfig", str(cluster.kubeconfig), "-o", "json")
    assert proc.returncode == 0, proc.stderr
    (root,) = json.loads(proc.stdout)
    assert (root["kind"], root["name"], root["namespace"]) == ("Objective", "platform-excellence", samples)
    assert (root["progress"], root["score"], root["state"]) == (0.62, 0.62, "OnTrack")
    assert [kr["name"] for kr in root["keyResults"]] == ["sli-coverage"]
    reliability, speed = root["children"]
    assert reliability["name"] == "checkout-reliability" and reliability["state"] == "AtRisk"
    assert reliability["parentRef"] == {"namespace": samples, "name": "platform-excellence"}
    budget, mttr = reliability["keyResults"]
    assert budget["slo"] == {
        "name": "checkout-availability",
        "field": "errorBudgetConsumed",
        "found": True,
        "state": "Healthy",
        "budgetRemaining": 0.65,
        "sli": 99.965,
    }
    assert (budget["current"], budget["max"], budget["unit"]) == (0.35, 0.8, "of budget")
    assert (mttr["current"], mttr["target"], mttr["state"]) == (42, 40.5, "OnTrack")
    assert speed["state"] is None and speed["keyResults"][0]["current"] is None


def test_invalid_objective_and_cross_namespace_child(cluster, samples, other_namespace):
    """A child in another namespace nests under its parent with -A; a Valid=False reason shows in red."""
    cluster.apply(
        {
            "apiVersion": "okr.dev/v1alpha1",
            "kind": "Objective",
            "metadata": {"name": "team-goal", "namespace": other_namespace},
            "spec": {
                "title": "The team's part of the platform goal",
                "period": "2026-Q4",
                "parentRef": {"name": "platform-excellence", "namespace": samples},
            },
        }
    )
    patch_status(
        cluster,
        "objectives.okr.dev",
        samples,
        "checkout-speed",
        {
            "state": "Unknown",
            "conditions": [
                {
                    "type": "Valid",
                    "status": "False",
                    "reason": "KeyResultInvalid",
                    "message": "key result checkout-p95-latency does not validate",
                    "lastTransitionTime": "2026-11-20T10:00:00Z",
                }
            ],
        },
    )
    proc = okr("tree", "-A", "--kubeconfig", str(cluster.kubeconfig), "--no-color")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    # long namespaces are shortened in the name column, the objective's name is kept
    root = next(i for i, line in enumerate(lines) if line.startswith(samples[:10]) and "/platform-excellence " in line)
    tree = lines[root : next((i for i in range(root + 1, len(lines)) if not lines[i]), len(lines))]
    assert any(line.startswith(f"└── {other_namespace[:10]}") and "…/team-goal " in line for line in tree), tree
    assert "KeyResultInvalid: key result checkout-p95-latency does not validate" in "\n".join(tree)

    # Only the child's namespace: its parent is not listed, so it is a top-level objective pointing up.
    proc = okr("tree", "-n", other_namespace, "--kubeconfig", str(cluster.kubeconfig), "--no-color")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[1].startswith("team-goal ")
    assert f"↑ {samples}/platform-excellence" in proc.stdout

    # Colours when asked for a terminal: the reason in red.
    proc = okr("tree", "-n", samples, "--kubeconfig", str(cluster.kubeconfig), env={"FORCE_COLOR": "1"})
    assert proc.returncode == 0, proc.stderr
    assert "\x1b[31mKeyResultInvalid" in proc.stdout


def test_empty_namespace_and_kubeconfig_from_env(cluster, okr_crds, namespace):
    proc = okr("tree", "-n", namespace, env={"KUBECONFIG": str(cluster.kubeconfig)})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == f"No objectives in namespace {namespace}.\n"


def test_context_namespace_and_insecure_tls(cluster, samples, tmp_path):
    """--context picks the context (and its namespace); insecure-skip-tls-verify gives no warnings."""
    config = yaml.safe_load(Path(cluster.kubeconfig).read_text())
    for entry in config["clusters"]:
        entry["cluster"].pop("certificate-authority-data", None)
        entry["cluster"].pop("certificate-authority", None)
        entry["cluster"]["insecure-skip-tls-verify"] = True
    current = next(c for c in config["contexts"] if c["name"] == config["current-context"])
    config["contexts"].append({"name": "okr-shop", "context": {**current["context"], "namespace": samples}})
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump(config))
    proc = okr("tree", "--kubeconfig", str(path), "--context", "okr-shop", "--no-color")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert proc.stdout.splitlines()[1].startswith("platform-excellence ")


def test_forbidden_is_one_line(cluster, okr_crds, namespace):
    if not isinstance(cluster, LocalCluster):
        pytest.skip("needs a second identity (LocalCluster)")
    proc = okr("tree", "-n", namespace, "--kubeconfig", str(cluster.kubeconfig_for("nobody")))
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert proc.stderr.startswith("error: list Objective: objectives.okr.dev is forbidden: ")
    assert len(proc.stderr.splitlines()) == 1 and "Traceback" not in proc.stderr


def test_crds_not_installed_is_one_line():
    """On a cluster of its own without the CRDs: the API answers 404 and the plugin says what is missing."""
    with LocalCluster(controller_manager=False, log=lambda msg: None) as bare:
        proc = okr("tree", "-A", "--kubeconfig", str(bare.kubeconfig))
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert proc.stderr.startswith(
        "error: the Objective CRD (objectives.okr.dev, okr.dev/v1alpha1) is not installed in the cluster"
    )
    assert len(proc.stderr.splitlines()) == 1
