"""Golden pairs: examples/<feature>.yaml and what okrctl makes of it, examples/_gen/<feature>.yaml.

After an intended change of generated output: ``make examples`` and review the diff of examples/_gen/.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from examples import regenerate
from okr_operator import yamlio
from okr_operator.cli.main import cli
from tests.test_promtool_rules import promtool  # noqa: F401 (fixture)

ROOT = Path(__file__).resolve().parent.parent
INPUTS = [source.relative_to(regenerate.EXAMPLES).as_posix() for source in regenerate.inputs()]

# Each feature's pair, and what in its generated half shows the feature (so no pair is empty by accident).
FEATURES: dict[str, tuple[str, ...]] = {
    "availability.yaml": ('code=~"5.."}[5m]', "runbook_url: https://runbooks.example.com/checkout/availability"),
    "good-events.yaml": ('(sum(rate(http_requests_total{service="search"}[5m])) - (sum(rate(',),
    "latency.yaml": ('le="0.25"', "http_request_duration_seconds_count"),
    "bool-gauge.yaml": ("count_over_time(probe_success", "sum_over_time(probe_success"),
    # Alert windows scaled by 90d/30d: the ticket's 3d is 9d, summed 2m30s short (the latest rate counts the rest).
    "calendar-window.yaml": ("over quarter) is burning", "[8d23h57m30s])"),
    "canary-gate.yaml": ("kind: AnalysisTemplate", 'version="{{args.canary-version}}"'),
    "burn-rate-override.yaml": ("over 30m above 20x", "for: 5m", "over 3d and 6h above 1x"),
    "alert-options.yaml": ("queue: reporting-tickets", 'owned by {{ "{{" }} .team }}', "for: 1h"),
    "alerting-disabled.yaml": ("record: slo:sli_total:rate5m",),
    "budget-exhausted.yaml": ("alert: SLOErrorBudgetExhausted", "policy: release-freeze"),
    # Saturday 02:00 Berlin = 01:00Z; the records skip 5 minutes more than the alerts.
    "maintenance-window.yaml": (
        "(vector(time()) >= 1795222800 < 1795230300)",
        "(vector(time()) >= 1795222800 < 1795230000)",
    ),
    "grouped.yaml": (
        'sum by (route) (rate(http_requests_total{service="api"}[5m]))) <= 50)',
        "name: group-route",
        "label_replace(",
    ),
    "key-result-promql.yaml": ("record: okr:key_result:value", "alert: KeyResultOffTrack"),
    "aspirational-objective.yaml": ("0.49 * (time() -",),
    "maintain-key-result.yaml": ("record: okr:key_result:in_range", "<= bool 900"),
    "boolean-key-result.yaml": ("key_result: checkout-on-new-cluster",),
    "okr-cycle.yaml": (
        "alert: KeyResultCheckInOverdue",
        "alert: ErrorBudgetPace",
        'okr_key_result_value{namespace="default", key_result="checkout-nps"}',
        "owner: alice",
        "< 0.5 * (time() -",  # the objective's offTrack factor
        "for: 30m",  # the key result's override
        "- 20) / 20, 0, 1)",
    ),
    "openslo/checkout-availability.yaml": ("kind: ServiceLevelObjective", "kind: PrometheusRule", "for: 2m"),
}


@pytest.mark.parametrize("name", INPUTS)
def test_pair_is_up_to_date(name):
    source = regenerate.EXAMPLES / name
    target = regenerate.output_path(source)
    assert target.is_file(), f"{target} is missing: run make examples"
    assert target.read_text(encoding="utf-8") == regenerate.render(source), f"{target} is stale: run make examples"


def test_every_generated_file_has_its_input():
    generated = sorted(p.relative_to(regenerate.GENERATED).as_posix() for p in regenerate.GENERATED.rglob("*.yaml"))
    assert generated == sorted(INPUTS)


def test_every_feature_has_a_pair_that_shows_it():
    assert sorted(FEATURES) == sorted(INPUTS), "list a new example in FEATURES with what shows its feature"
    for name, markers in FEATURES.items():
        text = regenerate.output_path(regenerate.EXAMPLES / name).read_text(encoding="utf-8")
        for marker in markers:
            assert marker in text, f"_gen/{name} lacks {marker!r}"


def test_alerting_disabled_leaves_only_recording_rules():
    text = regenerate.output_path(regenerate.EXAMPLES / "alerting-disabled.yaml").read_text(encoding="utf-8")
    assert "alert:" not in text


def test_boolean_key_result_has_no_trajectory_alert_and_manual_ones_read_the_exported_value():
    docs = list(yaml.safe_load_all(regenerate.render(regenerate.EXAMPLES / "boolean-key-result.yaml")))
    assert [d["metadata"]["name"] for d in docs] == ["checkout-cutover-rehearsed-kr", "checkout-on-new-cluster-kr"]
    assert [r.get("record") for r in docs[1]["spec"]["groups"][0]["rules"]] == ["okr:key_result:value"]
    manual = docs[0]["spec"]["groups"][0]["rules"]
    assert [r.get("alert") for r in manual] == ["KeyResultOffTrack", "KeyResultForecastMiss"]
    assert 'okr_key_result_value{namespace="default", key_result="checkout-cutover-rehearsed"}' in manual[0]["expr"]


@pytest.mark.parametrize("name", [n for n in INPUTS if not n.startswith("openslo/")])
def test_example_is_valid_without_warnings(name):
    result = CliRunner().invoke(cli, ["validate", "-f", str(regenerate.EXAMPLES / name)], catch_exceptions=False)
    assert result.exit_code == 0 and result.stderr == "", result.output


def test_samples_output_is_covered_by_the_pairs(monkeypatch):
    """Every object that config/samples generate is byte-identical to one in a pair (the samples stay pinned)."""
    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(cli, ["generate", "-f", "config/samples/"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    pinned = {
        yamlio.dump(doc)
        for source in regenerate.inputs()
        for doc in yaml.safe_load_all(regenerate.output_path(source).read_text(encoding="utf-8"))
    }
    samples = list(yaml.safe_load_all(result.stdout))
    assert [(o["kind"], o["metadata"]["name"]) for o in samples] == [
        ("AnalysisTemplate", "checkout-availability-gate"),
        ("PrometheusRule", "checkout-availability-slo"),
        ("PrometheusRule", "checkout-budget-discipline-kr"),
        ("PrometheusRule", "checkout-latency-slo"),
        ("PrometheusRule", "checkout-mttr-kr"),
        ("PrometheusRule", "checkout-p95-latency-kr"),
        ("PrometheusRule", "sli-coverage-kr"),
    ]
    for obj in samples:
        text = yamlio.dump(obj)
        assert text in pinned, f"{obj['kind']}/{obj['metadata']['name']} of config/samples is in no example pair"


def test_every_pair_loads_in_promtool(promtool, tmp_path):  # noqa: F811
    files = []
    for source in regenerate.inputs():
        docs = yaml.safe_load_all(regenerate.output_path(source).read_text(encoding="utf-8"))
        groups = [g for d in docs if d["kind"] == "PrometheusRule" for g in d["spec"]["groups"]]
        path = tmp_path / source.relative_to(regenerate.EXAMPLES).as_posix().replace("/", "-")
        path.write_text(yaml.safe_dump({"groups": groups}, sort_keys=False))
        files.append(str(path))
    result = subprocess.run([str(promtool), "check", "rules", *files], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    # burn-rate-override has two page rules of one name and labels (different `for`, docs/openslo.md): promtool
    # loads them (exit 0) and prints its duplicate-rules lint instead of SUCCESS.
    assert result.stdout.count("SUCCESS") == len(files) - 1
    assert "duplicate rule(s) found" in result.stderr and "Metric: SLOErrorBudgetBurn" in result.stderr
