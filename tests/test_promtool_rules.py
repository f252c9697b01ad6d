"""Generated rules in a real promtool: `check rules` on every variant, `test rules` for alert behaviour.

Synthetic traffic: 1000 requests a minute; a burn rate of b means b errors a minute against a 99.9% target
(budget 0.001). Each scenario starts from clean history where the SRE-workbook conditions need it, so
"stays silent" means what it says for the stated duration.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from e2e.tools.build import tool_path
from okr_operator.api import KeyResult, Objective
from okr_operator.api.loader import load_manifests
from okr_operator.okr.period import parse_period
from okr_operator.okr.rules import key_result_rule_groups
from okr_operator.slo.rules import slo_rule_groups
from tests.helpers import slo

ROOT = Path(__file__).resolve().parent.parent
PER_MINUTE = 1000
SLO_SERIES = 'http_requests_total{service="checkout",code="%s"}'


@pytest.fixture(scope="module")
def promtool() -> Path:
    return tool_path("promtool")


def counter(phases: list[tuple[int, float]]) -> str:
    """promtool series notation for a counter growing by ``inc`` a minute for ``minutes``, phase by phase."""
    parts, value = [], 0.0
    for index, (minutes, inc) in enumerate(phases):
        start = value if index == 0 else value + inc
        steps = minutes if index == 0 else minutes - 1
        parts.append(f"{start:g}+{inc:g}x{steps}")
        value = start + inc * steps
    return " ".join(parts)


def traffic(phases: list[tuple[int, float]]) -> list[dict[str, str]]:
    """Input series for phases of (minutes, burn rate)."""
    ok = [(m, PER_MINUTE - b) for m, b in phases]
    bad = [(m, b) for m, b in phases]
    return [
        {"series": SLO_SERIES % "200", "values": counter(ok)},
        {"series": SLO_SERIES % "500", "values": counter(bad)},
    ]


def write_rules(tmp_path: Path, groups: list[dict[str, Any]]) -> Path:
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump({"groups": groups}, sort_keys=False))
    return path


def alert(groups: list[dict[str, Any]], severity: str) -> dict[str, Any]:
    return next(r for r in groups[0]["rules"] if r.get("labels", {}).get("severity") == severity and "alert" in r)


def expected_alert(rule: dict[str, Any], target: Any) -> dict[str, Any]:
    labels = {**rule["labels"], "slo": target.metadata.name, "namespace": target.metadata.namespace}
    return {"exp_labels": labels, "exp_annotations": rule["annotations"]}


def run_promtool_test(
    promtool: Path, tmp_path: Path, groups, tests: list[dict[str, Any]], evaluation_interval: str = "1m"
) -> None:
    rules = write_rules(tmp_path, groups)
    spec = tmp_path / "test.yaml"
    spec.write_text(
        yaml.safe_dump(
            {"rule_files": [rules.name], "evaluation_interval": evaluation_interval, "tests": tests}, sort_keys=False
        )
    )
    result = subprocess.run(
        [str(promtool), "test", "rules", spec.name], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


VARIANTS = {
    "ratio-28d": {},
    "ratio-7d": {"window": "7d"},
    "ratio-quarter": {"window": "quarter"},
    "good-ratio": {
        "indicator": {
            "ratio": {
                "good": 'sum(rate(http_requests_total{code!~"5.."}[{{window}}]))',
                "total": "sum(rate(http_requests_total[{{window}}]))",
            }
        }
    },
    "latency": {"indicator": {"latency": {"histogram": "http_request_duration_seconds", "threshold": 0.3}}},
    "bool-gauge": {"indicator": {"boolGauge": {"metric": 'probe_success{job="checkout"}'}}},
    "no-page": {"alerting": {"page": {"enabled": False}}},
}


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_promtool_check_rules_accepts_every_variant(promtool, tmp_path, variant):
    rules = write_rules(tmp_path, slo_rule_groups(slo(**VARIANTS[variant])))
    result = subprocess.run([str(promtool), "check", "rules", str(rules)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_promtool_check_rules_accepts_all_sample_output(promtool, tmp_path):
    manifests = load_manifests([str(ROOT / "config/samples")])
    objectives = {o.metadata.name: o for o in manifests.of_kind("Objective")}
    groups = [g for s in manifests.of_kind("ServiceLevelObjective") for g in slo_rule_groups(s)]
    for kr in manifests.of_kind("KeyResult"):
        objective = objectives[kr.spec.objective_ref.name]
        groups += key_result_rule_groups(kr, objective, parse_period(objective.spec.period))
    rules = write_rules(tmp_path, groups)
    result = subprocess.run([str(promtool), "check", "rules", str(rules)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def firing(severity: str, eval_time: str, target: Any | None) -> dict[str, Any]:
    """A promql test: the burn alert of ``severity`` fires at ``eval_time`` (``target`` given) or not (None)."""
    expr = f'ALERTS{{alertname="SLOErrorBudgetBurn",severity="{severity}",alertstate="firing"}}'
    samples = []
    if target is not None:
        labels = {
            "alertname": "SLOErrorBudgetBurn",
            "alertstate": "firing",
            "namespace": target.metadata.namespace,
            "service": "checkout",
            "severity": severity,
            "slo": target.metadata.name,
        }
        samples = [{"labels": "ALERTS{" + ",".join(f'{k}="{v}"' for k, v in labels.items()) + "}", "value": 1}]
    return {"expr": expr, "eval_time": eval_time, "exp_samples": samples}


def test_page_fires_for_sustained_15x_burn(promtool, tmp_path):
    # 6h of clean traffic, then 15x. The 1h window passes 14.4x after about 58 minutes of burn.
    target = slo(namespace="shop")
    groups = slo_rule_groups(target)
    page, ticket = alert(groups, "page"), alert(groups, "ticket")
    run_promtool_test(
        promtool,
        tmp_path,
        groups,
        [
            {
                "interval": "1m",
                "input_series": traffic([(360, 0), (90, 15)]),
                "promql_expr_test": [firing("page", "405m", None), firing("page", "430m", target)],
                # The same burn also crosses the ticket thresholds (3d and 6h above 1x): both fire.
                "alert_rule_test": [
                    {
                        "eval_time": "430m",
                        "alertname": "SLOErrorBudgetBurn",
                        "exp_alerts": [expected_alert(page, target), expected_alert(ticket, target)],
                    }
                ],
            }
        ],
    )


def test_page_stays_silent_for_10x_burn(promtool, tmp_path):
    # 6h clean, then 90 minutes of 10x: below 14.4x on 1h, and 6h only reaches 2.5x (< 6x).
    target = slo()
    groups = slo_rule_groups(target)
    run_promtool_test(
        promtool,
        tmp_path,
        groups,
        [
            {
                "interval": "1m",
                "input_series": traffic([(360, 0), (90, 10)]),
                "promql_expr_test": [firing("page", f"{m}m", None) for m in (380, 420, 449)]
                + [firing("ticket", "449m", target)],
            }
        ],
    )


def test_ticket_fires_for_3_5x_burn_over_a_day_and_page_does_not(promtool, tmp_path):
    target = slo()
    groups = slo_rule_groups(target)
    ticket = alert(groups, "ticket")
    run_promtool_test(
        promtool,
        tmp_path,
        groups,
        [
            {
                "interval": "1m",
                "input_series": traffic([(3 * 24 * 60, 0), (24 * 60, 3.5)]),
                "promql_expr_test": [firing("page", t, None) for t in ("3d6h", "3d12h", "4d")],
                "alert_rule_test": [
                    {
                        "eval_time": "4d",
                        "alertname": "SLOErrorBudgetBurn",
                        "exp_alerts": [expected_alert(ticket, target)],
                    }
                ],
            }
        ],
    )


def test_nothing_fires_at_0_9x_over_three_days(promtool, tmp_path):
    groups = slo_rule_groups(slo())
    run_promtool_test(
        promtool,
        tmp_path,
        groups,
        [
            {
                "interval": "1m",
                "input_series": traffic([(3 * 24 * 60, 0.9)]),
                "alert_rule_test": [
                    {"eval_time": t, "alertname": name, "exp_alerts": []}
                    for t in ("1h", "12h", "1d", "2d", "3d")
                    for name in ("SLOErrorBudgetBurn", "SLOMetricsAbsent")
                ],
            }
        ],
    )


def test_no_data_alert_fires_when_the_sli_has_no_series(promtool, tmp_path):
    target = slo()
    groups = slo_rule_groups(target)
    absent = next(r for r in groups[0]["rules"] if r.get("alert") == "SLOMetricsAbsent")
    run_promtool_test(
        promtool,
        tmp_path,
        groups,
        [
            {
                "interval": "1m",
                "input_series": [{"series": 'unrelated_total{job="x"}', "values": "0+1x30"}],
                "alert_rule_test": [
                    {"eval_time": "5m", "alertname": "SLOMetricsAbsent", "exp_alerts": []},
                    {
                        "eval_time": "15m",
                        "alertname": "SLOMetricsAbsent",
                        "exp_alerts": [
                            {
                                "exp_labels": {
                                    **absent["labels"],
                                    "slo": target.metadata.name,
                                    "namespace": target.metadata.namespace,
                                },
                                "exp_annotations": absent["annotations"],
                            }
                        ],
                    },
                ],
            }
        ],
    )


def test_recording_rules_give_the_expected_rates(promtool, tmp_path):
    target = slo()
    groups = slo_rule_groups(target)
    identity = {"slo": "checkout-availability", "namespace": "shop", "service": "checkout"}
    selector = ",".join(f'{k}="{v}"' for k, v in identity.items())
    run_promtool_test(
        promtool,
        tmp_path,
        groups,
        [
            {
                # 1200 requests a minute of which 6 fail: 20/s in all, 0.1/s errors, ratio 0.005 (5x burn).
                "interval": "1m",
                "input_series": [
                    {"series": SLO_SERIES % "200", "values": "0+1194x60"},
                    {"series": SLO_SERIES % "500", "values": "0+6x60"},
                ],
                "promql_expr_test": [
                    {
                        "expr": f"slo:sli_total:rate5m{{{selector}}}",
                        "eval_time": "30m",
                        "exp_samples": [{"labels": f"slo:sli_total:rate5m{{{selector}}}", "value": 20}],
                    },
                    {
                        "expr": f"slo:sli_errors:rate5m{{{selector}}}",
                        "eval_time": "30m",
                        "exp_samples": [{"labels": f"slo:sli_errors:rate5m{{{selector}}}", "value": 0.1}],
                    },
                    {
                        # The derived 1h ratio: what status and alerts read.
                        "expr": "sum_over_time(slo:sli_errors:rate5m[1h]) / sum_over_time(slo:sli_total:rate5m[1h])",
                        "eval_time": "50m",
                        "exp_samples": [{"labels": f"{{{selector}}}", "value": 0.005}],
                    },
                ],
            }
        ],
    )


def test_zero_errors_record_zero_not_nothing(promtool, tmp_path):
    """Before the first 5xx there is no error series at all; the error rate must be 0, not absent."""
    groups = slo_rule_groups(slo())
    selector = 'slo="checkout-availability",namespace="shop",service="checkout"'
    run_promtool_test(
        promtool,
        tmp_path,
        groups,
        [
            {
                "interval": "1m",
                "input_series": [{"series": SLO_SERIES % "200", "values": "0+600x30"}],
                "promql_expr_test": [
                    {
                        "expr": "slo:sli_errors:rate5m",
                        "eval_time": "20m",
                        "exp_samples": [{"labels": f"slo:sli_errors:rate5m{{{selector}}}", "value": 0}],
                    }
                ],
            }
        ],
    )


def key_result(direction: str, **spec: Any) -> tuple[KeyResult, Objective]:
    objective = Objective.model_validate(
        {
            "apiVersion": "okr.dev/v1alpha1",
            "kind": "Objective",
            "metadata": {"name": "speed", "namespace": "shop"},
            "spec": {"title": "Fast", "period": "1970-01-01/1970-01-10"},
        }
    )
    kr = KeyResult.model_validate(
        {
            "apiVersion": "okr.dev/v1alpha1",
            "kind": "KeyResult",
            "metadata": {"name": "latency", "namespace": "shop"},
            "spec": {
                "objectiveRef": {"name": "speed"},
                "description": "Latency",
                "direction": direction,
                "source": {"prometheus": {"query": "max(app_latency_ms)"}},
                **spec,
            },
        }
    )
    return kr, objective


def test_key_result_off_track_alert_follows_the_pace(promtool, tmp_path):
    # Period of 10 days from the epoch (promtool's clock); decrease 200 -> 100 ms.
    kr, objective = key_result("decrease", baseline=200, target=100)
    groups = key_result_rule_groups(kr, objective, parse_period(objective.spec.period))
    rule = next(r for r in groups[0]["rules"] if "alert" in r)
    labels = {"severity": "ticket", "key_result": "latency", "objective": "speed", "namespace": "shop"}
    run_promtool_test(
        promtool,
        tmp_path,
        groups,
        [
            {
                # Stuck at 190 ms: progress 0.1. At-risk line is 0.7 x elapsed: crossed at elapsed 1/7 (~1.43 days).
                "interval": "1m",
                "input_series": [{"series": "app_latency_ms", "values": "190x4400"}],
                "alert_rule_test": [
                    {"eval_time": "1d", "alertname": "KeyResultOffTrack", "exp_alerts": []},
                    {
                        "eval_time": "3d",
                        "alertname": "KeyResultOffTrack",
                        "exp_alerts": [{"exp_labels": labels, "exp_annotations": rule["annotations"]}],
                    },
                ],
                "promql_expr_test": [
                    {
                        "expr": "okr:key_result:value",
                        "eval_time": "1d",
                        "exp_samples": [
                            {
                                "labels": "okr:key_result:value"
                                '{key_result="latency",namespace="shop",objective="speed"}',
                                "value": 190,
                            }
                        ],
                    }
                ],
            }
        ],
    )


def test_maintain_key_result_records_in_range(promtool, tmp_path):
    kr, objective = key_result("maintain", min=50, max=150)
    groups = key_result_rule_groups(kr, objective, parse_period(objective.spec.period))
    labels = 'key_result="latency",namespace="shop",objective="speed"'
    run_promtool_test(
        promtool,
        tmp_path,
        groups,
        [
            {
                "interval": "10m",
                "input_series": [{"series": "app_latency_ms", "values": "100x10 180x10"}],
                "promql_expr_test": [
                    {
                        "expr": "okr:key_result:in_range",
                        "eval_time": "50m",
                        "exp_samples": [{"labels": f"okr:key_result:in_range{{{labels}}}", "value": 1}],
                    },
                    {
                        "expr": "okr:key_result:in_range",
                        "eval_time": "150m",
                        "exp_samples": [{"labels": f"okr:key_result:in_range{{{labels}}}", "value": 0}],
                    },
                ],
            }
        ],
    )
