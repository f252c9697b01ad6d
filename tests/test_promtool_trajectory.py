"""Trajectory alerts in a real promtool: KeyResultOffTrack and KeyResultForecastMiss for key results of every
source, KeyResultCheckInOverdue, and ErrorBudgetPace (firing at 2x the even spend of the budget, silent at
1.5x) for key results measured from an SLO and for SLOs on calendar windows.

promtool's clock starts at the epoch, so periods are in January 1970. Manual and SLO key results are read
from the series the operator exports (``okr_key_result_value``, ...), given here as input series the way a
scrape of two operator replicas would deliver them.
"""

from __future__ import annotations

from typing import Any

import pytest

from e2e.tools.build import tool_path
from okr_operator.api import KeyResult, Objective
from okr_operator.okr.period import parse_period
from okr_operator.okr.rules import key_result_rule_groups
from okr_operator.slo.rules import slo_rule_groups
from tests.helpers import slo
from tests.test_promtool_rules import run_promtool_test


@pytest.fixture(scope="module")
def promtool():
    return tool_path("promtool")


PERIOD = "1970-01-01/1970-01-10"  # ten days from promtool's time 0
IDENTITY = 'namespace="shop", objective="speed", key_result="%s"'


def objective(**spec: Any) -> Objective:
    return Objective.model_validate(
        {
            "apiVersion": "okr.dev/v1alpha1",
            "kind": "Objective",
            "metadata": {"name": "speed", "namespace": "shop"},
            "spec": {"title": "Fast", "period": PERIOD, "owner": "team-speed", **spec},
        }
    )


def key_result(name: str, source: dict[str, Any], **spec: Any) -> KeyResult:
    return KeyResult.model_validate(
        {
            "apiVersion": "okr.dev/v1alpha1",
            "kind": "KeyResult",
            "metadata": {"name": name, "namespace": "shop"},
            "spec": {"objectiveRef": {"name": "speed"}, "description": name.upper(), "source": source, **spec},
        }
    )


def groups_of(kr: KeyResult, obj: Objective | None = None) -> list[dict[str, Any]]:
    obj = obj or objective()
    return key_result_rule_groups(kr, obj, parse_period(obj.spec.period))


def rule(groups: list[dict[str, Any]], alert: str) -> dict[str, Any]:
    return next(r for g in groups for r in g["rules"] if r.get("alert") == alert)


def firing(groups: list[dict[str, Any]], alert: str, **extra: str) -> list[dict[str, Any]]:
    r = rule(groups, alert)
    return [{"exp_labels": {**r["labels"], **extra}, "exp_annotations": r["annotations"]}]


def replicas(metric: str, labels: str, values: str) -> list[dict[str, str]]:
    """The same exported series scraped from two operator pods (the rules must give one alert)."""
    return [{"series": f'{metric}{{{labels}, job="okr-operator", instance="pod-{i}"}}', "values": values} for i in "ab"]


MANUAL = {"manual": {"checkIns": [{"date": "1970-01-01", "value": 10}]}}


def test_manual_key_result_off_track_from_the_exported_value(promtool, tmp_path):
    # increase 0 -> 100, stuck at 10: progress 0.1 is below 0.7 x elapsed from 1/7 of the period (1.43 days).
    kr = key_result("nps", MANUAL, baseline=0, target=100)
    groups = groups_of(kr)
    labels = rule(groups, "KeyResultOffTrack")["labels"]
    assert labels == {
        "namespace": "shop",
        "objective": "speed",
        "key_result": "nps",
        "severity": "ticket",
        "owner": "team-speed",
    }
    run_promtool_test(
        promtool,
        tmp_path,
        groups,
        [
            {
                "interval": "1m",
                "input_series": replicas("okr_key_result_value", IDENTITY % "nps", "10x4400"),
                "alert_rule_test": [
                    {"eval_time": "1d", "alertname": "KeyResultOffTrack", "exp_alerts": []},
                    {"eval_time": "1d11h", "alertname": "KeyResultOffTrack", "exp_alerts": []},  # crossed, not 1h yet
                    {
                        "eval_time": "3d",
                        "alertname": "KeyResultOffTrack",
                        "exp_alerts": firing(groups, "KeyResultOffTrack"),
                    },
                ],
            }
        ],
    )


def test_thresholds_and_severities_are_configurable_and_the_key_result_overrides_its_objective(promtool, tmp_path):
    obj = objective(alerting={"offTrack": {"severity": "page", "factor": 0.5}, "labels": {"team": "speed"}})
    kr = key_result("nps", MANUAL, baseline=0, target=100, owner="alice", alerting={"offTrack": {"for": "10m"}})
    groups = groups_of(kr, obj)
    off = rule(groups, "KeyResultOffTrack")
    assert off["for"] == "10m" and off["labels"]["severity"] == "page" and off["labels"]["owner"] == "alice"
    assert off["labels"]["team"] == "speed"
    # 0.1 < 0.5 x elapsed from 0.2 of the period (2 days): silent at 1d23h, firing 10 minutes after 2d.
    run_promtool_test(
        promtool,
        tmp_path,
        groups,
        [
            {
                "interval": "1m",
                "input_series": replicas("okr_key_result_value", IDENTITY % "nps", "10x4400"),
                "alert_rule_test": [
                    {"eval_time": "1d23h", "alertname": "KeyResultOffTrack", "exp_alerts": []},
                    {
                        "eval_time": "2d20m",
                        "alertname": "KeyResultOffTrack",
                        "exp_alerts": firing(groups, "KeyResultOffTrack"),
                    },
                ],
            }
        ],
    )


def test_forecast_miss_for_every_source(promtool, tmp_path):
    sources = {
        "p95": {"prometheus": {"query": "max(app_latency_ms)"}},
        "nps": MANUAL,
        "budget": {"slo": {"name": "checkout-availability", "field": "errorBudgetConsumed"}},
    }
    for name, source in sources.items():
        kr = key_result(name, source, baseline=0, target=100)
        groups = groups_of(kr)
        run_promtool_test(
            promtool,
            tmp_path,
            groups,
            [
                {
                    "interval": "1m",
                    "input_series": [
                        *replicas("okr_key_result_forecast_progress_ratio", IDENTITY % name, "0.8x1200 1x1200"),
                        {"series": "app_latency_ms", "values": "50x2400"},
                    ],
                    "alert_rule_test": [
                        {"eval_time": "5h", "alertname": "KeyResultForecastMiss", "exp_alerts": []},  # for 6h
                        {
                            "eval_time": "16h",
                            "alertname": "KeyResultForecastMiss",
                            "exp_alerts": firing(groups, "KeyResultForecastMiss"),
                        },
                        {"eval_time": "30h", "alertname": "KeyResultForecastMiss", "exp_alerts": []},  # back on track
                    ],
                }
            ],
        )


def test_check_in_overdue_fires_once_the_next_check_in_is_due(promtool, tmp_path):
    source = {"manual": {"checkIns": [{"date": "1970-01-01", "value": 5}, {"date": "1970-01-02", "value": 7}]}}
    kr = key_result("nps", source, baseline=0, target=100, checkInEvery="2d")
    groups = groups_of(kr)
    run_promtool_test(
        promtool,
        tmp_path,
        groups,
        [
            {
                "interval": "1m",
                "input_series": [],
                "alert_rule_test": [
                    {"eval_time": "2d23h50m", "alertname": "KeyResultCheckInOverdue", "exp_alerts": []},
                    {
                        "eval_time": "3d",  # due 1970-01-04: two days after the latest check-in
                        "alertname": "KeyResultCheckInOverdue",
                        "exp_alerts": firing(groups, "KeyResultCheckInOverdue"),
                    },
                    {"eval_time": "10d1m", "alertname": "KeyResultCheckInOverdue", "exp_alerts": []},  # period over
                ],
            }
        ],
    )


SLO_LABELS = 'namespace="shop", slo="checkout-availability", service="checkout"'


@pytest.mark.parametrize(("remaining", "fires"), [(0.6, True), (0.7, False)])
def test_error_budget_pace_of_a_key_result_fires_at_2x_and_is_silent_at_15x(promtool, tmp_path, remaining, fires):
    """At 2 days of 10 the even spend is 20% of the budget: 40% consumed is 2x (pages), 30% is 1.5x (silent)."""
    source = {"slo": {"name": "checkout-availability", "field": "errorBudgetConsumed"}}
    kr = key_result("budget", source, direction="maintain", max=0.8)
    groups = groups_of(kr)
    expected = firing(groups, "ErrorBudgetPace") if fires else []
    assert rule(groups, "ErrorBudgetPace")["labels"]["slo"] == "checkout-availability"
    run_promtool_test(
        promtool,
        tmp_path,
        groups,
        [
            {
                "interval": "1m",
                "input_series": replicas("okr_slo_error_budget_remaining_ratio", SLO_LABELS, f"{remaining}x3000"),
                "alert_rule_test": [{"eval_time": "2d", "alertname": "ErrorBudgetPace", "exp_alerts": expected}],
            }
        ],
    )


@pytest.mark.parametrize("window", ["month", "quarter"])
@pytest.mark.parametrize(("remaining", "fires"), [(-1.0, True), (-0.5, False)])
def test_error_budget_pace_of_a_calendar_slo_fires_at_2x_and_is_silent_at_15x(
    promtool, tmp_path, window, remaining, fires
):
    """The operator measures calendar windows so far: remaining -1 is a burn of 2 since the window start, i.e.
    twice the elapsed share of the window's budget consumed (pages); -0.5 is 1.5x (silent)."""
    groups = slo_rule_groups(slo(window=window))
    pace = rule(groups, "ErrorBudgetPace")
    expected = (
        [
            {
                "exp_labels": {**pace["labels"], "namespace": "shop", "slo": "checkout-availability"},
                "exp_annotations": pace["annotations"],
            }
        ]
        if fires
        else []
    )
    run_promtool_test(
        promtool,
        tmp_path,
        groups,
        [
            {
                "interval": "1m",
                "input_series": replicas("okr_slo_error_budget_remaining_ratio", SLO_LABELS, f"{remaining}x200"),
                "alert_rule_test": [
                    {"eval_time": "50m", "alertname": "ErrorBudgetPace", "exp_alerts": []},  # for 1h
                    {"eval_time": "2h", "alertname": "ErrorBudgetPace", "exp_alerts": expected},
                ],
            }
        ],
    )


def test_rolling_window_slos_have_no_error_budget_pace():
    assert not any(r.get("alert") == "ErrorBudgetPace" for g in slo_rule_groups(slo()) for r in g["rules"])


def test_every_alert_can_be_switched_off():
    off = {"enabled": False}
    kr = key_result(
        "nps",
        MANUAL,
        baseline=0,
        target=100,
        checkInEvery="7d",
        alerting={"offTrack": off, "forecastMiss": off, "checkInOverdue": off},
    )
    assert groups_of(kr) == []
    assert not any(
        r.get("alert") == "ErrorBudgetPace"
        for g in slo_rule_groups(slo(window="month", alerting={"errorBudgetPace": off}))
        for r in g["rules"]
    )
