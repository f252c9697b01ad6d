"""Alert options beyond the workbook defaults, in a real promtool: single-window conditions (short equal to
long, what an OpenSLO burn-rate condition says) and ``for`` (OpenSLO ``alertAfter``).

Traffic as in test_promtool_rules: 1000 requests a minute, a burn rate of b is b errors a minute at 99.9%.
"""

from __future__ import annotations

from typing import Any

from okr_operator.slo.rules import slo_rule_groups
from tests.helpers import slo
from tests.test_promtool_rules import alert, firing, promtool, run_promtool_test, traffic

__all__ = ["promtool"]


def alert_state(state: str, eval_time: str, target: Any | None) -> dict[str, Any]:
    """The page alert is in ``state`` (pending or firing) at ``eval_time`` (``target`` given) or absent (None)."""
    test = firing("page", eval_time, target)
    test["expr"] = test["expr"].replace('alertstate="firing"', f'alertstate="{state}"')
    for sample in test["exp_samples"]:
        sample["labels"] = sample["labels"].replace('alertstate="firing"', f'alertstate="{state}"')
    return test


def single_window(**extra: Any) -> dict[str, Any]:
    return {
        "alerting": {"burnRateWindows": [{"severity": "page", "long": "1h", "short": "1h", "burnRate": 2, **extra}]}
    }


def test_single_window_condition_is_one_comparison(promtool, tmp_path):
    groups = slo_rule_groups(slo(**single_window()))
    page = alert(groups, "page")
    assert page["expr"].count(">") == 1 and "for" not in page


def test_single_window_condition_fires_once_the_long_window_burns(promtool, tmp_path):
    # 1h clean, then 6x: the 1h ratio passes 2x after about 20 minutes of burn (plus the 5m rate's lag).
    target = slo(**single_window())
    run_promtool_test(
        promtool,
        tmp_path,
        slo_rule_groups(target),
        [
            {
                "interval": "1m",
                "input_series": traffic([(60, 0), (60, 6)]),
                "promql_expr_test": [firing("page", "75m", None), firing("page", "90m", target)],
            }
        ],
    )


def test_for_holds_the_alert_pending_first(promtool, tmp_path):
    # The same burn with for: 10m: pending from about 83m, firing only 10 minutes later.
    target = slo(**single_window(**{"for": "10m"}))
    groups = slo_rule_groups(target)
    assert alert(groups, "page")["for"] == "10m"
    run_promtool_test(
        promtool,
        tmp_path,
        groups,
        [
            {
                "interval": "1m",
                "input_series": traffic([(60, 0), (60, 6)]),
                "promql_expr_test": [
                    alert_state("pending", "88m", target),
                    firing("page", "88m", None),
                    firing("page", "100m", target),
                ],
            }
        ],
    )
