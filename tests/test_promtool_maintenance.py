"""Maintenance windows in the generated rules, in a real promtool.

- A window with suppressAlerts silences a 15x burn that pages outside it, and the page comes back after it.
- A window with excludeFromBudget leaves the budget (the recorded error ratio over the SLO window) exactly as
  if the window's errors never happened.

promtool's clock starts at the Unix epoch, so the windows are placed on 1970-01-01.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from okr_operator.api.maintenance import MaintenanceWindow
from okr_operator.maintenance import rule_intervals
from okr_operator.slo.expressions import identity_selector, recorded_ratio
from okr_operator.slo.rules import slo_rule_groups
from tests.helpers import slo
from tests.test_promtool_rules import firing, promtool, run_promtool_test, traffic

__all__ = ["promtool"]

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def window(start_minute: int, duration: str, **spec: Any) -> MaintenanceWindow:
    return MaintenanceWindow.model_validate(
        {
            "apiVersion": "okr.dev/v1alpha1",
            "kind": "MaintenanceWindow",
            "metadata": {"name": "db-upgrade", "namespace": "shop"},
            "spec": {
                "slos": {"names": ["checkout-availability"]},
                "start": (EPOCH + timedelta(minutes=start_minute)).isoformat(),
                "duration": duration,
                "reason": "database upgrade",
                **spec,
            },
        }
    )


def test_a_window_silences_a_burn_that_pages_outside_it(promtool, tmp_path):
    # 6h clean, then 15x for 2h: the page fires from about 418m on (test_promtool_rules). A window from
    # 400m for 1h keeps it quiet until 460m; it pages again at 461m (the burn still holds).
    target = slo()
    quiet = slo_rule_groups(target, rule_intervals([window(400, "1h")], EPOCH))
    assert "unless on ()" in next(r for r in quiet[0]["rules"] if r.get("alert"))["expr"]
    series = traffic([(360, 0), (120, 15)])
    run_promtool_test(
        promtool,
        tmp_path,
        quiet,
        [
            {
                "interval": "1m",
                "input_series": series,
                "promql_expr_test": [firing("page", t, None) for t in ("430m", "459m")]
                + [firing("page", "461m", target), firing("page", "475m", target)],
            }
        ],
    )
    (tmp_path / "loud").mkdir()
    run_promtool_test(
        promtool,
        tmp_path / "loud",
        slo_rule_groups(target),
        [{"interval": "1m", "input_series": series, "promql_expr_test": [firing("page", "430m", target)]}],
    )


def window_ratio(target: Any, eval_time: str, value: float) -> dict[str, Any]:
    """The recorded error ratio over 1d (what the budget is made of) is ``value`` at ``eval_time`` (to 1e-12)."""
    selector = identity_selector(target.metadata.name, target.metadata.namespace)
    expr = f"abs(sum({recorded_ratio('1d', selector)}) - {value}) < bool 1e-12"
    return {"expr": expr, "eval_time": eval_time, "exp_samples": [{"labels": "{}", "value": 1}]}


def test_exclusion_leaves_the_budget_as_if_the_windows_errors_never_happened(promtool, tmp_path):
    # A steady 1x burn (1 error a minute in 1000), and a 50x burst from 300m to 340m inside a window from
    # 290m for 1h. With exclusion the 1d ratio is exactly that of the steady burn alone: 0.001.
    target = slo()
    excluded = slo_rule_groups(target, rule_intervals([window(290, "1h", excludeFromBudget=True)], EPOCH))
    burst = traffic([(300, 1), (40, 50), (260, 1)])
    steady = traffic([(600, 1)])
    tests = [window_ratio(target, t, 0.001) for t in ("280m", "400m", "599m")]
    run_promtool_test(
        promtool, tmp_path, excluded, [{"interval": "1m", "input_series": burst, "promql_expr_test": tests}]
    )
    (tmp_path / "steady").mkdir()
    run_promtool_test(
        promtool,
        tmp_path / "steady",
        slo_rule_groups(target),
        [{"interval": "1m", "input_series": steady, "promql_expr_test": tests}],
    )


def test_without_exclusion_the_burst_counts(promtool, tmp_path):
    # The same burst in a window that only suppresses alerts: the 1d ratio at 599m is well above 0.003.
    target = slo()
    groups = slo_rule_groups(target, rule_intervals([window(290, "1h")], EPOCH))
    burst = traffic([(300, 1), (40, 50), (260, 1)])
    selector = identity_selector(target.metadata.name, target.metadata.namespace)
    test = {
        "expr": f"sum({recorded_ratio('1d', selector)}) > bool 0.003",
        "eval_time": "599m",
        "exp_samples": [{"labels": "{}", "value": 1}],
    }
    run_promtool_test(
        promtool, tmp_path, groups, [{"interval": "1m", "input_series": burst, "promql_expr_test": [test]}]
    )


def test_rules_are_unchanged_without_a_window():
    assert slo_rule_groups(slo(), []) == slo_rule_groups(slo())
