"""The same availability SLO for each tool, and each tool's own generator turning N of them into rules.

SLO i: service ``svc-i``, 99.9% of requests without a 5xx over 28 days, page and ticket alerts.

* okr-operator: a ``ServiceLevelObjective`` manifest, rules from ``okrctl generate`` (the real CLI).
* Sloth: a ``prometheus/v1`` spec, rules from ``sloth generate --default-slo-period=28d``.
* Pyrra: a ``pyrra.dev/v1alpha1`` ServiceLevelObjective, rules from ``pyrra generate`` (filesystem mode).

Every generator's output is a list of Prometheus rule groups (a rule file's ``groups``).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bench import tools
from bench.synth import service_name

TARGET = 99.9
WINDOW = "28d"
NAMESPACE = "bench"
ERRORS = 'sum(rate(http_requests_total{{service="{svc}",code=~"5.."}}[{w}]))'
TOTAL = 'sum(rate(http_requests_total{{service="{svc}"}}[{w}]))'

# How each tool names page and ticket alerts (name, labels to tell them apart).
PAGE = "page"
TICKET = "ticket"


@dataclass(frozen=True)
class Generated:
    tool: str
    groups: list[dict[str, Any]]
    slos: int
    seconds: float

    @property
    def rules(self) -> int:
        return sum(len(g["rules"]) for g in self.groups)

    @property
    def rules_per_slo(self) -> float:
        return self.rules / self.slos

    def record_names(self) -> list[str]:
        return sorted({r["record"] for g in self.groups for r in g["rules"] if "record" in r})


def okr_manifest(i: int, service: str | None = None, window: str = WINDOW) -> dict[str, Any]:
    svc = service or service_name(i)
    return {
        "apiVersion": "okr.dev/v1alpha1",
        "kind": "ServiceLevelObjective",
        "metadata": {"name": f"{svc}-availability", "namespace": NAMESPACE},
        "spec": {
            "service": svc,
            "description": "Requests succeed",
            "target": TARGET,
            "window": window,
            "indicator": {
                "ratio": {
                    "errors": ERRORS.format(svc=svc, w="{{window}}"),
                    "total": TOTAL.format(svc=svc, w="{{window}}"),
                }
            },
        },
    }


def sloth_spec(i: int, service: str | None = None) -> dict[str, Any]:
    svc = service or service_name(i)
    return {
        "version": "prometheus/v1",
        "service": svc,
        "slos": [
            {
                "name": "availability",
                "objective": TARGET,
                "description": "Requests succeed",
                "sli": {
                    "events": {
                        "error_query": ERRORS.format(svc=svc, w="{{.window}}"),
                        "total_query": TOTAL.format(svc=svc, w="{{.window}}"),
                    }
                },
                "alerting": {
                    "name": "SlothErrorBudgetBurn",
                    "page_alert": {"labels": {"severity": PAGE}},
                    "ticket_alert": {"labels": {"severity": TICKET}},
                },
            }
        ],
    }


def pyrra_manifest(i: int, service: str | None = None, window: str = WINDOW) -> dict[str, Any]:
    svc = service or service_name(i)
    return {
        "apiVersion": "pyrra.dev/v1alpha1",
        "kind": "ServiceLevelObjective",
        "metadata": {"name": f"{svc}-availability", "namespace": NAMESPACE},
        "spec": {
            "target": str(TARGET),
            "window": window,
            "indicator": {
                "ratio": {
                    "errors": {"metric": f'http_requests_total{{service="{svc}",code=~"5.."}}'},
                    "total": {"metric": f'http_requests_total{{service="{svc}"}}'},
                }
            },
        },
    }


def _run(argv: list[str]) -> None:
    proc = subprocess.run(argv, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"`{' '.join(argv)}` exited {proc.returncode}:\n{proc.stderr[-3000:]}{proc.stdout[-2000:]}")


def _groups_of(paths: list[Path]) -> list[dict[str, Any]]:
    groups: list[dict[str, Any]] = []
    for path in paths:
        for doc in yaml.safe_load_all(path.read_text()):
            if not doc:
                continue
            if doc.get("kind") == "PrometheusRule":
                groups.extend(doc["spec"]["groups"])
            else:
                groups.extend(doc.get("groups") or [])
    return groups


def okrctl() -> list[str]:
    """The okrctl command of this virtualenv."""
    exe = Path(sys.executable).parent / "okrctl"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "okr_operator.cli.main"]


def generate_okr(indices: list[int], services: list[str] | None = None, window: str = WINDOW) -> Generated:
    import time

    with tempfile.TemporaryDirectory(prefix="bench-okr-") as tmp:
        src = Path(tmp) / "slos.yaml"
        names = services or [service_name(i) for i in indices]
        src.write_text(yaml.safe_dump_all([okr_manifest(i, s, window) for i, s in zip(indices, names, strict=True)]))
        out = Path(tmp) / "out"
        started = time.monotonic()
        _run([*okrctl(), "generate", "-f", str(src), "-o", str(out)])
        seconds = time.monotonic() - started
        groups = _groups_of(sorted(out.glob("prometheusrule-*.yaml")))
    return Generated("okr-operator", groups, len(indices), seconds)


def generate_sloth(indices: list[int], services: list[str] | None = None, window: str = WINDOW) -> Generated:
    import time

    binary = tools.sloth_path()
    with tempfile.TemporaryDirectory(prefix="bench-sloth-") as tmp:
        src, out = Path(tmp) / "in", Path(tmp) / "out"
        src.mkdir()
        out.mkdir()
        names = services or [service_name(i) for i in indices]
        for i, svc in zip(indices, names, strict=True):
            (src / f"{svc}.yaml").write_text(yaml.safe_dump(sloth_spec(i, svc), sort_keys=False))
        started = time.monotonic()
        _run([str(binary), "generate", "--no-log", f"--default-slo-period={window}", "-i", str(src), "-o", str(out)])
        seconds = time.monotonic() - started
        groups = _groups_of(sorted(out.rglob("*.yaml")))
    return Generated("sloth", groups, len(indices), seconds)


def generate_pyrra(indices: list[int], services: list[str] | None = None, window: str = WINDOW) -> Generated | None:
    import time

    binary = tools.pyrra_path()
    if binary is None:
        return None
    with tempfile.TemporaryDirectory(prefix="bench-pyrra-") as tmp:
        src, out = Path(tmp) / "in", Path(tmp) / "out"
        src.mkdir()
        out.mkdir()
        names = services or [service_name(i) for i in indices]
        for i, svc in zip(indices, names, strict=True):
            (src / f"{svc}.yaml").write_text(yaml.safe_dump(pyrra_manifest(i, svc, window), sort_keys=False))
        started = time.monotonic()
        _run(
            [
                str(binary),
                "generate",
                "--log-level=error",
                f"--config-files={src}/*.yaml",
                f"--prometheus-folder={out}/",
            ]
        )
        seconds = time.monotonic() - started
        groups = _groups_of(sorted(out.glob("*.yaml")))
    return Generated("pyrra", groups, len(indices), seconds)


GENERATORS = {"okr-operator": generate_okr, "sloth": generate_sloth, "pyrra": generate_pyrra}


def severity_of(tool: str, labels: dict[str, str]) -> str | None:
    """page / ticket for a firing alert of ``tool`` (Pyrra says critical / warning); None if not a burn alert."""
    name = labels.get("alertname", "")
    if tool == "okr-operator" and name == "SLOErrorBudgetBurn":
        return labels.get("severity")
    if tool == "sloth" and name == "SlothErrorBudgetBurn":
        return labels.get("severity")
    if tool == "pyrra" and name == "ErrorBudgetBurn":
        return {"critical": PAGE, "warning": TICKET}.get(labels.get("severity", ""))
    return None
