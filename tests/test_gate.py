"""The canary gate (AnalysisTemplate ``<slo>-gate``): canary selection, validation, conditions, queries.

The queries run in a real promtool against synthetic series (stable healthy, canary bad, canary stopped,
canary absent); the conditions are evaluated the way Argo Rollouts does (``utils/evaluate``): Failed when
the failure condition holds, Inconclusive when neither holds. ``e2e/test_canary.py`` proves the same
paths with a real rollouts controller.
"""

from __future__ import annotations

import math
import re
import subprocess
from pathlib import Path
from typing import Any

import promql_parser
import pytest
import yaml
from pydantic import ValidationError

from e2e.tools.build import tool_path
from okr_operator.api.promql import CANARY_PLACEHOLDER
from okr_operator.generate import RenderOptions, objects_for_slo
from okr_operator.slo.expressions import raw_ratio, with_canary
from okr_operator.slo.gate import (
    BURN_RATE_METRIC,
    ERROR_BUDGET_METRIC,
    PROMETHEUS_ARG,
    burn_rate_query,
    render_analysis_template,
)
from okr_operator.slo.rules import slo_rule_groups
from tests.helpers import slo

ADDRESS = "http://prometheus.monitoring.svc:9090"
CANARY_RATIO = {
    "errors": 'sum(rate(http_requests_total{service="checkout",code=~"5..",{{canary}}}[{{window}}]))',
    "total": 'sum(rate(http_requests_total{service="checkout",{{canary}}}[{{window}}]))',
}
CANARY = {"label": "version", "arg": "canary-version"}


def gated(**gate: Any) -> dict[str, Any]:
    return {"gate": {"enabled": True, **gate}}


def canary_slo(**spec: Any) -> Any:
    body = {"indicator": {"ratio": dict(CANARY_RATIO)}, **gated(canary=dict(CANARY))}
    body.update(spec)
    return slo(**body)


def template(model: Any) -> dict[str, Any]:
    rendered = render_analysis_template(model, prometheus_address=ADDRESS)
    assert rendered is not None
    return rendered


def metric(tmpl: dict[str, Any], name: str) -> dict[str, Any]:
    return next(m for m in tmpl["spec"]["metrics"] if m["name"] == name)


def query(tmpl: dict[str, Any], name: str) -> str:
    return metric(tmpl, name)["provider"]["prometheus"]["query"]


def resolve_args(text: str, **args: str) -> str:
    """What Argo Rollouts does with ``{{args.<name>}}`` before it queries."""
    return re.sub(r"\{\{args\.([a-z0-9-]+)\}\}", lambda m: args[m.group(1)], text)


def matchers_by_metric(expr: str) -> dict[str, list[list[tuple[str, str, str]]]]:
    """metric name -> the matcher lists of its selectors in ``expr``."""
    found: dict[str, list[list[tuple[str, str, str]]]] = {}
    stack = [promql_parser.parse(expr)]
    while stack:
        node = stack.pop()
        if type(node).__name__ == "VectorSelector":
            ms = [(m.name, str(m.op).rsplit(".", 1)[-1], m.value) for m in node.matchers.matchers]
            found.setdefault(node.name, []).append(sorted(ms))
        for attr in ("lhs", "rhs", "expr", "param", "vector_selector"):
            child = getattr(node, attr, None)
            if child is not None and not isinstance(child, (str, int, float)):
                stack.append(child)
        stack.extend(getattr(node, "args", None) or [])
    return found


# ------------------------------------------------------------------------------ rendering


def test_without_canary_the_burn_rate_is_the_whole_services():
    tmpl = template(slo(**gated()))
    assert tmpl["spec"]["args"] == [{"name": PROMETHEUS_ARG, "value": ADDRESS}]
    assert "args.canary" not in yaml.safe_dump(tmpl)
    assert query(tmpl, BURN_RATE_METRIC) == (
        '((sum(rate(http_requests_total{service="checkout",code=~"5.."}[5m])) or vector(0)) / '
        'sum(rate(http_requests_total{service="checkout"}[5m]))) / 0.001'
    )


def test_canary_burn_rate_selects_the_canary_series_only():
    tmpl = template(canary_slo())
    burn = query(tmpl, BURN_RATE_METRIC)
    assert burn == (
        '((sum(rate(http_requests_total{service="checkout",code=~"5..",version="{{args.canary-version}}"}[5m])) '
        'or vector(0)) / sum(rate(http_requests_total{service="checkout",version="{{args.canary-version}}"}[5m]))) '
        "/ 0.001"
    )
    # every selector of the resolved query carries the canary matcher
    for selectors in matchers_by_metric(resolve_args(burn, **{"canary-version": "v2"})).values():
        assert all(("version", "Equal", "v2") in ms for ms in selectors)


def test_error_budget_stays_the_whole_services():
    tmpl = template(canary_slo())
    remaining = query(tmpl, ERROR_BUDGET_METRIC)
    assert "args.canary" not in remaining and CANARY_PLACEHOLDER not in remaining
    assert remaining == (
        '1 - ((sum(rate(http_requests_total{service="checkout",code=~"5.."}[28d])) or vector(0)) / '
        'sum(rate(http_requests_total{service="checkout"}[28d]))) / 0.001'
    )


def test_the_canary_arg_is_declared_without_a_value():
    tmpl = template(canary_slo())
    # No value: Argo Rollouts refuses to start an AnalysisRun unless the Rollout passes it.
    assert tmpl["spec"]["args"] == [{"name": PROMETHEUS_ARG, "value": ADDRESS}, {"name": "canary-version"}]
    assert sorted(set(re.findall(r"\{\{args\.([a-z0-9-]+)\}\}", yaml.safe_dump(tmpl)))) == [
        "canary-version",
        "prometheus-address",
    ]


def test_pod_template_hash_selection():
    tmpl = template(
        canary_slo(gate={"enabled": True, "canary": {"label": "rollouts_pod_template_hash", "arg": "canary-hash"}})
    )
    assert 'rollouts_pod_template_hash="{{args.canary-hash}}"' in query(tmpl, BURN_RATE_METRIC)
    assert tmpl["spec"]["args"][1] == {"name": "canary-hash"}


def test_recording_rules_and_evaluation_drop_the_placeholder():
    with_placeholder = slo_rule_groups(canary_slo())
    without = slo_rule_groups(slo(**gated()))
    assert with_placeholder == without
    spec = canary_slo().spec
    assert raw_ratio(spec, "1h") == raw_ratio(slo().spec, "1h")


def test_placeholder_expansion():
    assert with_canary('x{a="b",{{canary}}}') == 'x{a="b"}'
    assert with_canary('x{a="b" , {{canary}}}') == 'x{a="b"}'
    assert with_canary("x{{{canary}}}") == "x{}"
    assert with_canary('x{a="b",{{canary}}}', 'v="{{args.c}}"') == 'x{a="b",v="{{args.c}}"}'
    assert with_canary("x{{{canary}}}", 'v="1"') == 'x{v="1"}'


def test_good_events_indicator_with_canary():
    ratio = {
        "good": 'sum(rate(http_requests_total{code!~"5..",{{canary}}}[{{window}}]))',
        "total": "sum(rate(http_requests_total{{{canary}}}[{{window}}]))",
    }
    burn = burn_rate_query(canary_slo(indicator={"ratio": ratio}))
    assert burn == (
        '((sum(rate(http_requests_total{version="{{args.canary-version}}"}[5m])) - '
        '(sum(rate(http_requests_total{code!~"5..",version="{{args.canary-version}}"}[5m])) or vector(0))) / '
        'sum(rate(http_requests_total{version="{{args.canary-version}}"}[5m]))) / 0.001'
    )


def test_latency_indicator_gets_the_matcher_in_its_selector():
    latency = {"histogram": "http_request_duration_seconds", "threshold": 0.25, "selector": 'service="checkout"'}
    burn = burn_rate_query(slo(indicator={"latency": latency}, **gated(canary=dict(CANARY))))
    assert burn == (
        '((sum(rate(http_request_duration_seconds_count{service="checkout", version="{{args.canary-version}}"}[5m]))'
        ' - (sum(rate(http_request_duration_seconds_bucket{service="checkout", version="{{args.canary-version}}", '
        'le="0.25"}[5m])) or vector(0))) / '
        'sum(rate(http_request_duration_seconds_count{service="checkout", version="{{args.canary-version}}"}[5m])))'
        " / 0.001"
    )
    no_selector = burn_rate_query(slo(indicator={"latency": {**latency, "selector": ""}}, **gated(canary=dict(CANARY))))
    assert 'http_request_duration_seconds_count{version="{{args.canary-version}}"}' in no_selector


@pytest.mark.parametrize(
    ("metric_selector", "expected"),
    [
        ('probe_success{job="web"}', 'probe_success{job="web", version="{{args.canary-version}}"}'),
        ("probe_success", 'probe_success{version="{{args.canary-version}}"}'),
        ("probe_success{}", 'probe_success{version="{{args.canary-version}}"}'),
    ],
)
def test_bool_gauge_indicator_gets_the_matcher_in_its_selector(metric_selector, expected):
    model = slo(indicator={"boolGauge": {"metric": metric_selector}}, **gated(canary=dict(CANARY)))
    burn = burn_rate_query(model)
    assert burn.count(expected) == 3
    promql_parser.parse(resolve_args(burn, **{"canary-version": "v2"}))


@pytest.mark.parametrize(
    "indicator",
    [
        {"ratio": CANARY_RATIO},
        {"latency": {"histogram": "h", "threshold": 0.3, "selector": 'a="b"'}},
        {"boolGauge": {"metric": 'up{job="x"}'}},
    ],
)
@pytest.mark.parametrize("window", ["28d", "quarter"])
def test_every_gate_query_parses_with_and_without_args(indicator, window):
    model = slo(indicator=indicator, window=window, **gated(canary=dict(CANARY)))
    tmpl = template(model)
    for m in tmpl["spec"]["metrics"]:
        text = m["provider"]["prometheus"]["query"]
        promql_parser.parse(text)  # as stored (the arg inside a string literal)
        promql_parser.parse(resolve_args(text, **{"canary-version": 'v"2'.replace('"', "")}))


def test_optional_initial_delay_and_limits_reach_both_metrics():
    tmpl = template(
        canary_slo(
            gate={
                "enabled": True,
                "canary": CANARY,
                "interval": "5s",
                "count": 3,
                "failureLimit": 1,
                "inconclusiveLimit": 2,
                "consecutiveErrorLimit": 3,
                "initialDelay": "30s",
            }
        )
    )
    for m in tmpl["spec"]["metrics"]:
        assert {
            k: m[k] for k in ("interval", "count", "failureLimit", "inconclusiveLimit", "consecutiveErrorLimit")
        } == {
            "interval": "5s",
            "count": 3,
            "failureLimit": 1,
            "inconclusiveLimit": 2,
            "consecutiveErrorLimit": 3,
        }
        assert m["initialDelay"] == "30s"
    assert "initialDelay" not in metric(template(canary_slo()), BURN_RATE_METRIC)


def test_defaults_stay_production_values():
    m = metric(template(canary_slo()), BURN_RATE_METRIC)
    assert (m["interval"], m["count"], m["failureLimit"], m["inconclusiveLimit"], m["consecutiveErrorLimit"]) == (
        "1m",
        5,
        0,
        0,
        4,
    )
    assert m["successCondition"].endswith("result[0] <= 2")


def test_rendering_is_deterministic():
    a = yaml.safe_dump_all(objects_for_slo(canary_slo(), RenderOptions()))
    b = yaml.safe_dump_all(objects_for_slo(canary_slo(), RenderOptions()))
    assert a == b


# ------------------------------------------------------------------------------ validation


def error_of(**spec: Any) -> str:
    with pytest.raises(ValidationError) as info:
        slo(**spec)
    return str(info.value)


@pytest.mark.parametrize(
    "expr",
    [
        "sum(rate(x[{{window}}])) {{canary}}",  # outside any selector
        "sum(rate(x[{{window}}])) + {{canary}}",
        'sum(rate(x{a="{{canary}}"}[{{window}}]))',  # inside a string
        "sum(rate(x{a='{{canary}}'}[{{window}}]))",  # inside a single-quoted string (parses, but no matcher)
        'sum(rate(x{{{canary}}, a="b"}[{{window}}]))',  # not last: the empty expansion leaves "{, a=...}"
        'sum(rate(x{a="b"{{canary}}}[{{window}}]))',  # no comma before it
        'sum(rate(x{a="b",{{canary}},c="d"}[{{window}}]))',
        'sum by ({{canary}}) (rate(x{a="b"}[{{window}}]))',
    ],
)
def test_placeholder_must_be_a_matcher_of_a_selector(expr):
    message = error_of(indicator={"ratio": {"errors": expr, "total": CANARY_RATIO["total"]}})
    assert "spec.indicator.ratio.errors" in message or "indicator.ratio.errors" in message
    assert "{{canary}} last inside a selector's braces" in message


@pytest.mark.parametrize(
    "ratio",
    [
        {"errors": CANARY_RATIO["errors"], "total": 'sum(rate(http_requests_total{service="checkout"}[{{window}}]))'},
        {"errors": 'sum(rate(http_requests_total{code=~"5.."}[{{window}}]))', "total": CANARY_RATIO["total"]},
        {"good": 'sum(rate(http_requests_total{code!~"5.."}[{{window}}]))', "total": CANARY_RATIO["total"]},
    ],
)
def test_canary_selection_needs_the_placeholder_in_both_ratio_expressions(ratio):
    message = error_of(indicator={"ratio": ratio}, **gated(canary=dict(CANARY)))
    assert "gate.canary needs the {{canary}} placeholder in indicator.ratio.total and in errors" in message


def test_placeholder_without_canary_selection_is_fine():
    tmpl = template(slo(indicator={"ratio": dict(CANARY_RATIO)}, **gated()))
    assert CANARY_PLACEHOLDER not in yaml.safe_dump(tmpl) and "args.canary" not in yaml.safe_dump(tmpl)


@pytest.mark.parametrize(
    ("canary", "needle"),
    [
        ({"label": "__name__", "arg": "canary-version"}, "names starting with __ are reserved"),
        ({"label": "version", "arg": PROMETHEUS_ARG}, "prometheus-address is the gate's own argument"),
        ({"label": "version", "arg": "Canary_Version"}, "should match pattern"),
        ({"label": "ver-sion", "arg": "canary-version"}, "should match pattern"),
        ({"label": "version"}, "arg\n  Field required"),
    ],
)
def test_canary_selector_is_validated(canary, needle):
    message = error_of(indicator={"ratio": dict(CANARY_RATIO)}, **gated(canary=canary))
    assert needle in message


def test_placeholder_in_latency_or_bool_gauge_is_rejected():
    # their selector gets the matcher added; a placeholder there is just invalid PromQL
    assert "selector" in error_of(indicator={"latency": {"histogram": "h", "threshold": 0.3, "selector": "{{canary}}"}})
    assert "metric" in error_of(indicator={"boolGauge": {"metric": "up{{{canary}}}"}})


def test_okrctl_validate_names_the_field(tmp_path):
    import sys

    manifest = {
        "apiVersion": "okr.dev/v1alpha1",
        "kind": "ServiceLevelObjective",
        "metadata": {"name": "web"},
        "spec": {
            "service": "web",
            "target": 99.9,
            "indicator": {"ratio": {"errors": "sum(rate(e[{{window}}]))", "total": "sum(rate(t[{{window}}]))"}},
            "gate": {"enabled": True, "canary": CANARY},
        },
    }
    path = tmp_path / "slo.yaml"
    path.write_text(yaml.safe_dump(manifest))
    result = subprocess.run(
        [sys.executable, "-m", "okr_operator.cli.main", "validate", "-f", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert "spec.gate.canary: gate.canary needs the {{canary}} placeholder" in result.stderr, result.stderr


# ------------------------------------------------------------------------------ conditions


def argo_phase(m: dict[str, Any], result: list[float]) -> str:
    """Argo Rollouts' EvaluateResult for a metric with both conditions, on a vector ``result``.

    The condition language here is the subset the generator writes: ``len(result) == 1``, ``&&``,
    ``!isNaN(...)``, ``!isInf(...)``, ``result[0] <op> <number>``. Anything else fails the translation.
    """

    def holds(condition: str) -> bool:
        py = condition.replace("&&", " and ").replace("!isNaN(", " not isNaN(").replace("!isInf(", " not isInf(")
        assert re.fullmatch(r"[\w\s\[\]().<>=!\-+]*", py), condition
        return bool(
            eval(py, {"__builtins__": {}}, {"len": len, "isNaN": math.isnan, "isInf": math.isinf, "result": result})
        )

    try:
        success, failure = holds(m["successCondition"]), holds(m["failureCondition"])
    except IndexError:
        return "Error"  # result[0] on an empty list: an evaluation error in Argo
    if failure:
        return "Failed"
    return "Successful" if success else "Inconclusive"


NAN, INF = float("nan"), float("inf")


@pytest.mark.parametrize(
    ("result", "phase"),
    [
        ([], "Inconclusive"),  # no series: the canary has had no traffic
        ([NAN], "Inconclusive"),  # 0/0: its traffic stopped
        ([INF], "Inconclusive"),
        ([-INF], "Inconclusive"),
        ([1.0, 3.0], "Inconclusive"),  # more than one series: the query is not what we wrote
        ([0.0], "Successful"),
        ([1.99], "Successful"),
        ([2.0], "Successful"),  # at the limit passes
        ([2.0001], "Failed"),
        ([10.0], "Failed"),
    ],
)
def test_burn_rate_conditions(result, phase):
    assert argo_phase(metric(template(canary_slo()), BURN_RATE_METRIC), result) == phase


@pytest.mark.parametrize(
    ("min_left", "result", "phase"),
    [
        (0, [], "Inconclusive"),
        (0, [NAN], "Inconclusive"),
        (0, [0.5], "Successful"),
        (0, [0.0], "Successful"),
        (0, [-0.01], "Failed"),  # overspent
        (0, [-3.0], "Failed"),
        (0.25, [0.3], "Successful"),
        (0.25, [0.2], "Failed"),  # error-budget policy: under a quarter of the budget left freezes rollouts
    ],
)
def test_error_budget_conditions(min_left, result, phase):
    model = canary_slo(gate={"enabled": True, "canary": CANARY, "minBudgetRemaining": min_left})
    assert argo_phase(metric(template(model), ERROR_BUDGET_METRIC), result) == phase


def test_conditions_guard_result_index():
    """``result[0]`` comes after ``len(result) == 1 &&`` (short-circuit), so an empty vector is not an
    evaluation error (Error measurement) but Inconclusive, and no ``default()`` turns it into a value."""
    for m in template(canary_slo())["spec"]["metrics"]:
        for key in ("successCondition", "failureCondition"):
            assert m[key].startswith("len(result) == 1 && !isNaN(result[0]) && !isInf(result[0]) && ")
            assert "default(" not in m[key]


# ------------------------------------------------------------------------------ queries in a real promtool

PER_MINUTE = 1000.0


def series(version: str, code: str, per_minute: float, minutes: int = 30) -> dict[str, str]:
    return {
        "series": f'http_requests_total{{service="checkout",version="{version}",code="{code}"}}',
        "values": f"0+{per_minute:g}x{minutes}",
    }


@pytest.fixture(scope="module")
def promtool() -> Path:
    return tool_path("promtool")


def test_gate_queries_on_synthetic_series(promtool, tmp_path):
    """Stable v1 burns 0.5x, canary v2 burns 10x, v3's traffic stopped (flat counters), v4 never existed."""
    tmpl = template(canary_slo())
    burn, remaining = query(tmpl, BURN_RATE_METRIC), query(tmpl, ERROR_BUDGET_METRIC)
    for_version = {v: resolve_args(burn, **{"canary-version": v}) for v in ("v1", "v2", "v3", "v4")}
    inputs = [
        series("v1", "200", PER_MINUTE - 0.5),
        series("v1", "500", 0.5),
        series("v2", "200", 99.0),
        series("v2", "500", 1.0),
        series("v3", "200", 0.0),
        series("v3", "500", 0.0),
    ]
    # Over the whole service: 1.5 errors in 1100 requests a minute.
    service_burn = (0.5 + 1.0) / (PER_MINUTE + 100.0) / 0.001
    tests = [
        {
            "interval": "1m",
            "input_series": inputs,
            "promql_expr_test": [
                {"expr": for_version["v1"], "eval_time": "20m", "exp_samples": [{"labels": "{}", "value": 0.5}]},
                {"expr": for_version["v2"], "eval_time": "20m", "exp_samples": [{"labels": "{}", "value": 10.0}]},
                # NaN (0/0) cannot be compared in promtool; count(x != x) is 1 exactly when x is NaN
                {
                    "expr": f"count(({for_version['v3']}) != ({for_version['v3']}))",
                    "eval_time": "20m",
                    "exp_samples": [{"labels": "{}", "value": 1}],
                },
                {"expr": for_version["v4"], "eval_time": "20m", "exp_samples": []},
                {
                    # promtool compares floats exactly; compare to 9 digits
                    "expr": f"round(({remaining}) * 1e9)",
                    "eval_time": "20m",
                    "exp_samples": [{"labels": "{}", "value": round((1 - service_burn) * 1e9)}],
                },
            ],
        }
    ]
    spec = tmp_path / "gate-test.yaml"
    spec.write_text(yaml.safe_dump({"rule_files": [], "evaluation_interval": "1m", "tests": tests}, sort_keys=False))
    result = subprocess.run(
        [str(promtool), "test", "rules", spec.name], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr

    # and what the gate decides on those values
    b, r = metric(tmpl, BURN_RATE_METRIC), metric(tmpl, ERROR_BUDGET_METRIC)
    assert [argo_phase(b, v) for v in ([0.5], [10.0], [NAN], [])] == [
        "Successful",
        "Failed",
        "Inconclusive",
        "Inconclusive",
    ]
    # the 10x canary took 9% of the traffic for 20 minutes: the service overspent its budget here
    assert 1 - service_burn < 0 and argo_phase(r, [1 - service_burn]) == "Failed"


def test_recording_rules_with_the_placeholder_pass_promtool_check(promtool, tmp_path):
    rules = tmp_path / "rules.yaml"
    rules.write_text(yaml.safe_dump({"groups": slo_rule_groups(canary_slo())}, sort_keys=False))
    result = subprocess.run([str(promtool), "check", "rules", str(rules)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
