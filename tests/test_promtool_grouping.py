"""Grouped SLOs in a real promtool: one SLO per route; the page fires for the burning route only, with its
label; more groups than maxGroups record nothing.

Traffic as in test_promtool_rules (1000 requests a minute per route, b errors a minute for a burn of b).
"""

from __future__ import annotations

from typing import Any

from okr_operator.slo.rules import slo_rule_groups
from tests.helpers import slo
from tests.test_promtool_rules import counter, promtool, run_promtool_test

__all__ = ["promtool"]

SERIES = 'http_requests_total{service="checkout",route="%s",code="%s"}'
GROUPED = {
    "ratio": {
        "errors": 'sum by (route) (rate(http_requests_total{service="checkout",code=~"5.."}[{{window}}]))',
        "total": 'rate(http_requests_total{service="checkout"}[{{window}}])',
    },
    "groupBy": ["route"],
}


def route_traffic(route: str, phases: list[tuple[int, float]]) -> list[dict[str, str]]:
    return [
        {"series": SERIES % (route, "200"), "values": counter([(m, 1000 - b) for m, b in phases])},
        {"series": SERIES % (route, "500"), "values": counter([(m, b) for m, b in phases])},
    ]


def page(target: Any, route: str) -> dict[str, Any]:
    labels = {
        "alertname": "SLOErrorBudgetBurn",
        "alertstate": "firing",
        "namespace": target.metadata.namespace,
        "route": route,
        "service": "checkout",
        "severity": "page",
        "slo": target.metadata.name,
    }
    return {"labels": "ALERTS{" + ",".join(f'{k}="{v}"' for k, v in labels.items()) + "}", "value": 1}


def pages_at(eval_time: str, *samples: dict[str, Any]) -> dict[str, Any]:
    expr = 'ALERTS{alertname="SLOErrorBudgetBurn",severity="page",alertstate="firing"}'
    return {"expr": expr, "eval_time": eval_time, "exp_samples": list(samples)}


def test_recording_rules_keep_the_group_labels():
    rules = slo_rule_groups(slo(indicator=GROUPED))[0]["rules"]
    assert rules[0]["expr"].startswith('(\n(sum by (route) (rate(http_requests_total{service="checkout",code=~"5.."}')
    assert "sum(" not in rules[1]["expr"].split("and on ()")[0]
    assert rules[1]["expr"].endswith(
        'and on ()\n(count(sum by (route) (rate(http_requests_total{service="checkout"}[5m]))) <= 100)'
    )


def test_a_grouped_slo_pages_for_the_burning_group_only(promtool, tmp_path):
    target = slo(indicator=GROUPED)
    series = route_traffic("/cart", [(360, 0), (90, 0)]) + route_traffic("/pay", [(360, 0), (90, 15)])
    run_promtool_test(
        promtool,
        tmp_path,
        slo_rule_groups(target),
        [
            {
                "interval": "1m",
                "input_series": series,
                "promql_expr_test": [pages_at("405m"), pages_at("430m", page(target, "/pay"))],
            }
        ],
    )


def test_more_groups_than_max_groups_record_nothing(promtool, tmp_path):
    target = slo(indicator={**GROUPED, "maxGroups": 2})
    series = [s for r in ("/a", "/b", "/c") for s in route_traffic(r, [(30, 1)])]
    records = {"expr": "count(slo:sli_total:rate5m)", "eval_time": "20m", "exp_samples": []}
    two = route_traffic("/a", [(30, 1)]) + route_traffic("/b", [(30, 1)])
    run_promtool_test(
        promtool,
        tmp_path,
        slo_rule_groups(target),
        [{"interval": "1m", "input_series": series, "promql_expr_test": [records]}],
    )
    (tmp_path / "two").mkdir()
    counted = {**records, "exp_samples": [{"labels": "{}", "value": 2}]}
    run_promtool_test(
        promtool,
        tmp_path / "two",
        slo_rule_groups(target),
        [{"interval": "1m", "input_series": two, "promql_expr_test": [counted]}],
    )
