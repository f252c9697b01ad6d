"""okrctl generate: determinism, rule labels, the rule count per SLO and the rules of each alert option.

What each feature generates, object by object, is pinned by the golden pairs in examples/ (tests/test_examples.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from okr_operator.api.loader import load_manifests
from okr_operator.cli.main import cli
from okr_operator.generate import RenderOptions, objects_for_slo
from okr_operator.slo.rules import slo_rule_groups
from tests.helpers import slo

ROOT = Path(__file__).resolve().parent.parent
ARGS = ["generate", "-f", "config/samples/", "--prometheus-address", "http://prometheus.monitoring.svc:9090"]


def run_generate(*extra: str) -> str:
    result = CliRunner().invoke(cli, [*ARGS, *extra], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


def test_generation_is_byte_identical_across_runs(monkeypatch):
    monkeypatch.chdir(ROOT)
    assert run_generate() == run_generate()


def test_rule_labels_reach_every_prometheus_rule(monkeypatch):
    monkeypatch.chdir(ROOT)
    docs = list(yaml.safe_load_all(run_generate("--rule-label", "release=kube-prometheus-stack")))
    rules = [d for d in docs if d["kind"] == "PrometheusRule"]
    assert rules and all(d["metadata"]["labels"]["release"] == "kube-prometheus-stack" for d in rules)


def test_prometheus_address_is_every_analysis_template_default(monkeypatch):
    monkeypatch.chdir(ROOT)
    docs = list(yaml.safe_load_all(run_generate()))
    templates = [d for d in docs if d["kind"] == "AnalysisTemplate"]
    defaults = [{a["name"]: a.get("value") for a in t["spec"]["args"]}["prometheus-address"] for t in templates]
    assert defaults == ["http://prometheus.monitoring.svc:9090"]


def count_rules(groups):
    return sum(len(g["rules"]) for g in groups)


def test_rule_count_per_sample_slo(capsys):
    manifests = load_manifests([str(ROOT / "config/samples")])
    counts = {s.metadata.name: count_rules(slo_rule_groups(s)) for s in manifests.of_kind("ServiceLevelObjective")}
    with capsys.disabled():
        print(f"\nrules per sample SLO: {counts} (Sloth: 17, Pyrra: 13-15, goal: <= 10)")
    # 2 recording rules (5m error and event rates), page, ticket, no-data alert; 2 tiles (10m, own group).
    assert counts == {"checkout-availability": 7, "checkout-latency": 7}


def test_every_example_slo_has_at_most_ten_rules():
    """Issue 19's bound, over every example (the exhausted alert and a calendar window's pace alert included)."""
    paths = sorted(str(p) for p in (ROOT / "examples").glob("*.yaml"))
    slos = load_manifests(paths).of_kind("ServiceLevelObjective")
    counts = {s.metadata.name: count_rules(slo_rule_groups(s)) for s in slos}
    assert len(counts) >= 10 and max(counts.values()) <= 10, counts
    assert min(counts.values()) >= 4, counts  # every SLO keeps its two 5m rates and its two tiles


def test_disabled_alerting_leaves_only_recording_rules():
    groups = slo_rule_groups(slo(alerting={"enabled": False}))
    assert [r.get("record") for r in groups[0]["rules"]] == ["slo:sli_errors:rate5m", "slo:sli_total:rate5m"]


def test_disabling_the_page_keeps_ticket_and_no_data():
    groups = slo_rule_groups(slo(alerting={"page": {"enabled": False}}))
    assert [(r.get("alert"), r.get("labels", {}).get("severity")) for r in groups[0]["rules"][2:]] == [
        ("SLOErrorBudgetBurn", "ticket"),
        ("SLOMetricsAbsent", "ticket"),
    ]


def test_user_text_in_annotations_is_not_a_template():
    groups = slo_rule_groups(
        slo(alerting={"annotations": {"dashboard": "see {{ .Values.secret }}"}, "runbookUrl": "https://r.example/x"})
    )
    page = groups[0]["rules"][2]
    assert page["annotations"]["dashboard"] == 'see {{ "{{" }} .Values.secret }}'
    assert page["annotations"]["runbook_url"] == "https://r.example/x"


def test_good_events_indicator_counts_missing_good_series_as_all_bad():
    spec_ratio = {
        "good": 'sum(rate(http_requests_total{code!~"5.."}[{{window}}]))',
        "total": "sum(rate(x[{{window}}]))",
    }
    groups = slo_rule_groups(slo(indicator={"ratio": spec_ratio}))
    assert groups[0]["rules"][0]["expr"] == (
        '(sum(rate(x[5m])) - (sum(rate(http_requests_total{code!~"5.."}[5m])) or vector(0)))'
    )


def test_latency_indicator_uses_the_threshold_bucket():
    groups = slo_rule_groups(
        slo(indicator={"latency": {"histogram": "rpc_seconds", "threshold": 0.25, "selector": 'job="api"'}})
    )
    errors, total = groups[0]["rules"][:2]
    assert total["expr"] == 'sum(rate(rpc_seconds_count{job="api"}[5m]))'
    assert errors["expr"] == (
        '(sum(rate(rpc_seconds_count{job="api"}[5m])) - '
        '(sum(rate(rpc_seconds_bucket{job="api", le="0.25"}[5m])) or vector(0)))'
    )


def test_bool_gauge_indicator_counts_samples():
    groups = slo_rule_groups(slo(indicator={"boolGauge": {"metric": 'probe_success{job="web"}'}}))
    errors, total = groups[0]["rules"][:2]
    assert total["expr"] == 'sum(count_over_time(probe_success{job="web"}[5m]))'
    assert errors["expr"] == (
        '(sum(count_over_time(probe_success{job="web"}[5m])) - '
        '(sum(sum_over_time(probe_success{job="web"}[5m])) or vector(0)))'
    )


def test_ungated_slo_has_no_analysis_template():
    kinds = [o["kind"] for o in objects_for_slo(slo(), RenderOptions())]
    assert kinds == ["PrometheusRule"]


@pytest.mark.parametrize("window", ["7d", "quarter"])
def test_every_generated_expression_parses(window):
    import promql_parser

    for rule in slo_rule_groups(slo(window=window))[0]["rules"]:
        promql_parser.parse(rule["expr"])
