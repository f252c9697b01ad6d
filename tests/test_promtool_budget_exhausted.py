"""SLOErrorBudgetExhausted in a real promtool: it fires once the budget over the SLO window is spent (or
below the configured floor), not before, and not at all when it is not enabled.

A 7d SLO at 99.9% with 1000 requests a minute: 3 clean days, then 100 errors a minute. Errors exceed 0.1% of
all events once 100 * b > 4320 + b minutes of burn b, i.e. after 44 minutes; half the budget (floor 0.5) after
22 minutes. The alert's group runs every 10 minutes over 10m averages of the 5m rates, so it follows within
about 10 minutes plus the 5m rate's lag.
"""

from __future__ import annotations

from typing import Any

import pytest

from okr_operator.api.loader import validate_document
from okr_operator.slo.exhausted import EXHAUSTED_ALERT
from okr_operator.slo.rules import slo_rule_groups
from tests.helpers import slo
from tests.test_promtool_rules import promtool, run_promtool_test, traffic

__all__ = ["promtool"]

BURN = traffic([(3 * 24 * 60, 0), (120, 100)])


def exhausted_slo(**settings: Any):
    return slo(window="7d", alerting={"labels": {"team": "shop"}, "budgetExhausted": {"enabled": True, **settings}})


def expected(groups: list[dict[str, Any]], target: Any) -> dict[str, Any]:
    rule = next(r for g in groups for r in g["rules"] if r.get("alert") == EXHAUSTED_ALERT)
    labels = {**rule["labels"], "slo": target.metadata.name, "namespace": target.metadata.namespace}
    return {"exp_labels": labels, "exp_annotations": rule["annotations"]}


def at(eval_time: str, alerts: list[dict[str, Any]]) -> dict[str, Any]:
    return {"eval_time": eval_time, "alertname": EXHAUSTED_ALERT, "exp_alerts": alerts}


def test_not_generated_unless_enabled():
    """Without the alert the 10-minute group keeps only the two tiles (the status reads them: slo.tiles)."""
    groups = slo_rule_groups(slo(window="7d"))
    names = ["okr-slo-shop-checkout-availability", "okr-slo-shop-checkout-availability-budget"]
    assert [g["name"] for g in groups] == names
    assert [r["record"] for r in groups[1]["rules"]] == ["slo:sli_errors:rate10m", "slo:sli_total:rate10m"]
    assert EXHAUSTED_ALERT not in str(groups)


def test_its_own_group_every_10_minutes():
    groups = slo_rule_groups(exhausted_slo())
    assert [(g["name"], g.get("interval")) for g in groups] == [
        ("okr-slo-shop-checkout-availability", None),
        ("okr-slo-shop-checkout-availability-budget", "10m"),
    ]
    assert groups[1]["rules"][2]["labels"] == {"team": "shop", "severity": "ticket", "service": "checkout"}


def test_fires_once_the_budget_is_spent(promtool, tmp_path):
    target = exhausted_slo()
    groups = slo_rule_groups(target)
    tests = [
        {
            "interval": "1m",
            "input_series": BURN,
            "alert_rule_test": [
                at("3d30m", []),
                at("3d40m", []),
                at("3d70m", [expected(groups, target)]),
                at("3d110m", [expected(groups, target)]),
            ],
        }
    ]
    run_promtool_test(promtool, tmp_path, groups, tests)


def test_a_floor_fires_earlier(promtool, tmp_path):
    target = exhausted_slo(floor=0.5, severity="page", labels={"policy": "freeze"})
    groups = slo_rule_groups(target)
    assert "less than 50% of its error budget left" in expected(groups, target)["exp_annotations"]["summary"]
    tests = [
        {
            "interval": "1m",
            "input_series": BURN,
            "alert_rule_test": [at("3d10m", []), at("3d40m", [expected(groups, target)])],
        }
    ]
    run_promtool_test(promtool, tmp_path, groups, tests)


def test_calendar_windows_are_refused_with_the_reason():
    manifest = exhausted_slo().to_wire()
    manifest["spec"]["window"] = "month"
    problems = validate_document("slo.yaml", 0, manifest).problems
    assert [(p.field, p.message.split(":")[0]) for p in problems] == [
        ("spec.alerting.budgetExhausted", "alerting.budgetExhausted needs a rolling window (e.g. 28d)")
    ]


@pytest.mark.parametrize("floor", [-0.1, 1])
def test_floor_is_a_fraction_below_one(floor):
    manifest = exhausted_slo().to_wire()
    manifest["spec"]["alerting"]["budgetExhausted"]["floor"] = floor
    assert validate_document("slo.yaml", 0, manifest).problems
