"""OpenSLO's own examples and Sloth's: each converts (into manifests that validate and rules promtool accepts) or
is refused with one clear line; what okrctl exports passes `oslo validate` (OpenSLO's CLI, v0.13.0).

The examples are copies under tests/data/openslo/ (Apache-2.0; sources and commits in its README.md).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from e2e.tools.build import tool_path
from okr_operator.api.loader import load_manifests, validate_document
from okr_operator.openslo import convert_from_openslo, convert_to_openslo, read_openslo
from okr_operator.slo.rules import slo_rule_groups
from tests.test_openslo import ROUND_TRIP

DATA = Path(__file__).resolve().parent / "data" / "openslo"
PROMETHEUS_ONLY = "okr-operator measures SLOs with Prometheus queries only"
NO_TIMESLICES = "has no equivalent: okr-operator budgets by occurrences (good events over all events)"
NOT_ABOVE = "'lte': burn-rate alerts fire above the threshold (use gt or gte)"
UNUSABLE = "an SLO using it cannot be converted: "
SLOTH_NOTES = [
    ("note", "spec.timeWindows[0].isRolling", "false without a calendar: read as a rolling window, as Sloth does"),
    ("note", "spec", "v1alpha has no alert policies: the default page and ticket burn-rate alerts are generated"),
]

# file -> (converted SLO names, [(subject, severity, field, message)]) : the whole outcome, line by line.
EXPECTED: dict[str, tuple[list[str], list[tuple[str, str, str, str]]]] = {
    "spec/budgeting-method-occurences-slo.yaml": (
        [],
        [("SLO/search-slo", "error", "spec.indicator.spec.thresholdMetric.metricSource.type", PROMETHEUS_ONLY)],
    ),
    "spec/budgeting-method-ratio-timeslices.yaml": (
        [],
        [("SLO/main-page", "error", "spec.budgetingMethod", f"RatioTimeslices {NO_TIMESLICES}")],
    ),
    "spec/budgeting-method-timeslices-slo.yaml": (
        [],
        [("SLO/service-availability", "error", "spec.budgetingMethod", f"Timeslices {NO_TIMESLICES}")],
    ),
    "spec/low-traffic-timeslices-slo.yaml": (
        [],
        [("SLO/service-availability", "error", "spec.budgetingMethod", f"Timeslices {NO_TIMESLICES}")],
    ),
    "spec/readme-examples.yaml": (
        [],
        [
            ("SLO/foo-slo", "error", "spec.indicator.spec.ratioMetric.good.metricSource.type", PROMETHEUS_ONLY),
            ("AlertPolicy/AlertPolicy", "warning", "AlertCondition/cpu-usage-breach.spec.condition.op", NOT_ABOVE),
            ("AlertPolicy/AlertPolicy", "warning", "spec.conditions[0].spec.condition.op", NOT_ABOVE),
            ("AlertCondition/cpu-usage-breach", "warning", "spec.condition.op", NOT_ABOVE),
        ],
    ),
    "sdk/v1-slos.yaml": (
        [],
        [("SLO/web-availability", "error", "spec.budgetingMethod", f"Timeslices {NO_TIMESLICES}")],
    ),
    "sdk/v1-slis.yaml": (
        [],
        [
            ("SLI/search-availability", "warning", "spec.ratioMetric.good.metricSource.type", PROMETHEUS_ONLY),
            ("SLI/end-user-response", "warning", "spec.ratioMetric.bad.metricSource.type", PROMETHEUS_ONLY),
            ("SLI/wifi-client-satisfaction", "warning", "spec.ratioMetric.raw", "a precomputed ratio cannot be"),
            ("SLI/annotator-throughput", "warning", "spec.thresholdMetric", "counted exactly only for a 0/1 gauge"),
        ],
    ),
    "sdk/v1-alert-conditions.yaml": (
        [],
        [
            ("AlertCondition/cpu-usage-breach", "warning", "spec.condition.op", NOT_ABOVE),
            ("AlertCondition/latency-too-high", "warning", "spec.severity", "'warning': okr-operator alerts are page"),
        ],
    ),
    "sdk/v1-alert-policies.yaml": (
        [],
        [
            ("AlertPolicy/low-priority", "warning", "spec.conditions[0].conditionRef", "no AlertCondition cpu-usage"),
            (
                "AlertPolicy/medium-priority",
                "warning",
                "spec.conditions[0].conditionRef",
                "no AlertCondition cpu-usage",
            ),
        ],
    ),
    "sdk/v1-data-sources.yaml": ([], []),
    "sdk/v1alpha-slos.yaml": (
        [],
        [
            (
                "SLO/web-latency-threshold",
                "error",
                "spec.timeWindows[0].unit",
                "1w: calendar windows here are one month",
            ),
            ("SLO/web-availability-ratio", "error", "spec.budgetingMethod", f"Timeslices {NO_TIMESLICES}"),
        ],
    ),
    "sloth/openslo-getting-started.yml": (
        ["sloth-slo-my-service"],
        [("SLO/sloth-slo-my-service", *note) for note in SLOTH_NOTES],
    ),
    "sloth/openslo-kubernetes-apiserver.yml": (
        ["requests-availability-openslo", "requests-latency-openslo-0", "requests-latency-openslo-1"],
        [
            (f"SLO/{name}", *note)
            for name in ("requests-availability-openslo", "requests-latency-openslo")
            for note in SLOTH_NOTES
        ],
    ),
}


@pytest.fixture(scope="module")
def promtool() -> Path:
    return tool_path("promtool")


@pytest.fixture(scope="module")
def oslo() -> Path:
    return tool_path("oslo")


def test_every_example_file_is_listed() -> None:
    files = {str(p.relative_to(DATA)) for p in DATA.rglob("*.y*ml") if ".fragment." not in p.name}
    assert files == set(EXPECTED)


def check_rules(promtool: Path, tmp_path: Path, manifests: list[dict]) -> None:
    groups = []
    for manifest in manifests:
        doc = validate_document("converted", 0, manifest)
        assert doc.problems == [] and doc.model is not None
        groups.extend(slo_rule_groups(doc.model))  # type: ignore[arg-type]
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump({"groups": groups}, sort_keys=False))
    result = subprocess.run([str(promtool), "check", "rules", str(path)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_example_converts_or_is_refused_with_one_clear_line(name: str, promtool: Path, tmp_path: Path) -> None:
    manifests, problems = convert_from_openslo(read_openslo([str(DATA / name)]))
    names, lines = EXPECTED[name]
    assert [m["metadata"]["name"] for m in manifests] == names
    got = [(p.subject, p.severity, p.field, p.message) for p in problems]
    assert [g[:3] for g in got] == [e[:3] for e in lines]
    for (*_, message), (*_, expected) in zip(got, lines, strict=True):
        assert expected in message
        assert "\n" not in message
    if manifests:
        check_rules(promtool, tmp_path, manifests)


def test_openslo_alert_policy_example_converts_with_a_prometheus_slo(promtool: Path, tmp_path: Path) -> None:
    """The SDK's high-priority policy (page when burn over 1h > 2 for 5m) on Sloth's getting-started SLI."""
    sloth = yaml.safe_load((DATA / "sloth/openslo-getting-started.yml").read_text())["spec"]["objectives"][0]
    ratio = {
        "counter": False,
        **{
            part: {"metricSource": {"type": "Prometheus", "spec": sloth["ratioMetrics"][part]}}
            for part in ("good", "total")
        },
    }
    for part in ("good", "total"):
        ratio[part]["metricSource"]["spec"] = {"query": sloth["ratioMetrics"][part]["query"]}
    slo = {
        "apiVersion": "openslo/v1",
        "kind": "SLO",
        "metadata": {"name": "my-service"},
        "spec": {
            "service": "my-service",
            "indicator": {"metadata": {"name": "availability"}, "spec": {"ratioMetric": ratio}},
            "timeWindow": [{"duration": "30d", "isRolling": True}],
            "budgetingMethod": "Occurrences",
            "objectives": [{"target": 0.999}],
            "alertPolicies": [{"alertPolicyRef": "high-priority"}],
        },
    }
    path = tmp_path / "slo.yaml"
    path.write_text(yaml.safe_dump(slo))
    openslo = read_openslo([str(path), str(DATA / "sdk/v1-alert-policies.yaml")])
    manifests, problems = convert_from_openslo(openslo)
    assert [m["spec"]["alerting"]["burnRateWindows"] for m in manifests] == [
        [{"severity": "page", "long": "1h", "short": "1h", "burnRate": 2.0, "for": "5m"}]
    ]
    assert [p.subject for p in problems if p.severity == "error"] == []
    check_rules(promtool, tmp_path, manifests)
    rules = slo_rule_groups(validate_document("x", 0, manifests[0]).model)[0]["rules"]  # type: ignore[arg-type]
    page = next(r for r in rules if r.get("labels", {}).get("severity") == "page")
    assert page["for"] == "5m" and " and\n" not in page["expr"]


def oslo_validate(oslo: Path, path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(oslo), "validate", "-f", str(path)], capture_output=True, text=True, check=False)


def test_exported_documents_pass_oslo_validate(oslo: Path, tmp_path: Path) -> None:
    source = tmp_path / "slos.yaml"
    source.write_text(ROUND_TRIP)
    for manifests in (load_manifests([str(source)]), load_manifests(["config/samples/"])):
        documents, _ = convert_to_openslo(manifests)
        assert documents
        for index, document in enumerate(documents):
            path = tmp_path / f"export-{index}.yaml"
            path.write_text(yaml.safe_dump(document, sort_keys=False))
            result = oslo_validate(oslo, path)
            assert result.returncode == 0, f"{document['metadata']['name']}: {result.stderr}"
            assert result.stderr.strip() == "Valid!"


def test_oslo_validate_rejects_what_the_spec_forbids(oslo: Path, tmp_path: Path) -> None:
    """The check above can fail: oslo refuses an SLO with both target and targetPercent."""
    documents, _ = convert_to_openslo(load_manifests(["config/samples/slos.yaml"]))
    broken = documents[0]
    broken["spec"]["objectives"][0]["target"] = 0.999
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(broken, sort_keys=False))
    result = oslo_validate(oslo, path)
    assert result.returncode != 0 and "targetPercent" in result.stderr
