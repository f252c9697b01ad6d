"""okrctl validate on the samples and on a corpus of bad manifests: a clear line each, never a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BAD = ROOT / "tests" / "data" / "bad"

# file -> the lines (substrings) okrctl must print for it
EXPECTED = {
    "wrong-types.yaml": ["ServiceLevelObjective/wrong-types: spec.target: Input should be a valid number"],
    "unknown-field.yaml": ["Objective/unknown-field: spec.ownr: unknown field"],
    "target-100.yaml": ["spec.target: target must be at most 99.99999"],
    "target-0.yaml": ["spec.target: Input should be greater than 0"],
    "target--1.yaml": ["spec.target: Input should be greater than 0"],
    "end-before-start.yaml": ["Objective/end-before-start: spec.period: period end must not be before its start"],
    "unknown-window-unit.yaml": ["spec.window: invalid value '28x': use a rolling window such as 28d"],
    "missing-indicator.yaml": ["spec.indicator: required field is missing"],
    "two-indicators.yaml": ["spec.indicator: set exactly one of ratio, latency or boolGauge"],
    "broken-yaml.yaml": ["broken-yaml.yaml:0: invalid YAML (line 5, column 2)"],
    "bad-promql.yaml": ["spec.indicator.ratio.errors: the expression is not valid PromQL (unclosed left parenthesis)"],
    "baseline-equals-target.yaml": ["KeyResult/baseline-equals-target: spec.target: baseline and target must differ"],
    "no-window-placeholder.yaml": ["spec.indicator.ratio.errors: the expression must contain the range placeholder"],
    "maintain-no-bounds.yaml": ["KeyResult/maintain-no-bounds: spec.min: min must not be greater than max"],
    "parent-cycle.yaml": [
        "Objective/chicken: spec.parentRef: parentRef forms a cycle",
        "Objective/egg: spec.parentRef: parentRef forms a cycle",
    ],
    "check-in-every-not-manual.yaml": [
        "KeyResult/check-in-every-not-manual: spec.checkInEvery: checkInEvery is for manual key results"
    ],
    "injection.yaml": [
        "spec.service: invalid value 'checkout\"} or vector(1) #': use letters, digits",
        "spec.indicator.latency.selector: selector is the text inside {...}",
        "spec.alerting.runbookUrl: invalid value 'javascript:alert(1)'",
        "spec.alerting.labels.bad label: invalid value 'bad label': label names are",
    ],
}


def okrctl(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "okr_operator.cli.main", *args],
        capture_output=True,
        text=True,
        input=stdin,
        cwd=ROOT,
        check=False,
    )


def test_corpus_is_complete():
    assert sorted(p.name for p in BAD.glob("*.yaml")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_bad_manifest_gets_one_clear_line_per_problem(name):
    result = okrctl("validate", "-f", str(BAD / name))
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == len(EXPECTED[name]), lines
    for expected, line in zip(EXPECTED[name], lines, strict=True):
        assert expected in line
        assert line.startswith(f"{BAD / name}:") or line.startswith(f"tests/data/bad/{name}:")


def test_all_bad_files_at_once_report_each():
    result = okrctl("validate", "-f", str(BAD))
    assert result.returncode == 1
    assert len(result.stderr.strip().splitlines()) == sum(len(v) for v in EXPECTED.values())


def test_samples_are_valid():
    result = okrctl("validate", "-f", "config/samples/")
    assert result.returncode == 0, result.stderr
    assert "valid: 3 Objective, 4 KeyResult, 2 ServiceLevelObjective" in result.stdout


def test_missing_references_are_warnings_not_errors():
    kr = (ROOT / "config/samples/keyresults.yaml").read_text()
    result = okrctl("validate", "-f", "-", stdin=kr)
    assert result.returncode == 0
    assert "warning: Objective default/checkout-reliability is not in the given files" in result.stderr
    assert "spec.source.slo.name: warning: ServiceLevelObjective default/checkout-availability" in result.stderr


def test_a_child_from_another_namespace_that_will_not_count_is_a_warning():
    text = (
        "apiVersion: okr.dev/v1alpha1\nkind: Objective\nmetadata: {name: company, namespace: org}\n"
        "spec: {title: C, period: 2026-Q4}\n---\n"
        "apiVersion: okr.dev/v1alpha1\nkind: Objective\nmetadata: {name: team, namespace: shop}\n"
        "spec: {title: T, period: 2026-Q4, parentRef: {name: company, namespace: org}}\n"
    )
    result = okrctl("validate", "-f", "-", stdin=text)
    assert result.returncode == 0, result.stderr
    assert (
        "Objective/team: spec.parentRef: warning: aligned without counting: objectives of namespace shop count "
        "only when the parent lists it in spec.children.fromNamespaces"
    ) in result.stderr
    listed = text.replace(
        "spec: {title: C, period: 2026-Q4}", "spec: {title: C, period: 2026-Q4, children: {fromNamespaces: [shop]}}"
    )
    assert "warning" not in okrctl("validate", "-f", "-", stdin=listed).stderr


def test_missing_file_is_an_error_not_a_traceback():
    result = okrctl("validate", "-f", "does/not/exist.yaml")
    assert result.returncode == 1
    assert "does/not/exist.yaml:0: no such file" in result.stderr
    assert "Traceback" not in result.stderr


def test_no_files_is_a_usage_error():
    result = okrctl("validate")
    assert result.returncode == 2
    assert "give at least one -f" in result.stderr


def test_non_okr_documents_are_skipped_with_a_warning():
    result = okrctl("validate", "-f", "-", stdin="apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n")
    assert result.returncode == 0
    assert "ConfigMap/x: warning: not an okr.dev object, skipped" in result.stderr


def test_generate_refuses_invalid_input():
    result = okrctl("generate", "-f", str(BAD / "target-100.yaml"))
    assert result.returncode == 1
    assert "nothing generated" in result.stderr
    assert result.stdout == ""
