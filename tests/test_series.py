"""The status series on /metrics: exact series from given statuses, bounded labels, Prometheus text format."""

from __future__ import annotations

import asyncio

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from okr_operator.api.identity import Ref, entry_from_body
from okr_operator.runtime.health import Health
from okr_operator.runtime.metrics import Metrics, StatusSeries, serve
from okr_operator.series import Family, exposition, status_families
from okr_operator.series_names import PACE_STATES, SLO_STATES

SLO = {
    "apiVersion": "okr.dev/v1alpha1",
    "kind": "ServiceLevelObjective",
    "metadata": {"name": "checkout-availability", "namespace": "shop"},
    "spec": {
        "service": "checkout",
        "target": 99.9,
        "window": "28d",
        "indicator": {
            "ratio": {
                "errors": 'sum(rate(http_requests_total{code=~"5.."}[{{window}}]))',
                "total": "sum(rate(http_requests_total[{{window}}]))",
            }
        },
    },
    "status": {
        "sli": 99.95,
        "errorBudget": {"total": 0.1, "consumed": 0.5, "remaining": 0.5},
        "burnRates": {"5m": 0.25, "1h": 0.5, "30m": 0.4},
        "timeToExhaustion": "2w",
        "state": "Healthy",
    },
}
OBJECTIVE = {
    "apiVersion": "okr.dev/v1alpha1",
    "kind": "Objective",
    "metadata": {"name": "reliable", "namespace": "shop"},
    "spec": {"title": "Checkout is reliable", "period": "2026-Q4"},
    "status": {"progress": 0.8889, "score": 0.89, "expected": 0.72, "state": "OnTrack"},
}
KEY_RESULT = {
    "apiVersion": "okr.dev/v1alpha1",
    "kind": "KeyResult",
    "metadata": {"name": "cost-per-order", "namespace": "shop", "labels": {"okr.dev/measures": "cost"}},
    "spec": {
        "objectiveRef": {"name": "reliable"},
        "description": "Cut infrastructure cost per 1 000 orders",
        "direction": "decrease",
        "baseline": 4.2,
        "target": 3.5,
        "unit": "USD",
        "source": {"manual": {"checkIns": [{"date": "2026-10-01", "value": 4.2, "confidence": 0.4}]}},
    },
    "status": {
        "current": 3.9,
        "progress": 0.4286,
        "score": 0.43,
        "expected": 0.72,
        "state": "AtRisk",
        "forecast": {"value": 3.6, "progress": 0.8571},
        "confidence": 0.4,
    },
}


def entries(*bodies):
    return [entry_from_body(b) for b in bodies]


def as_dict(families):
    return {f.name: (f.labels, f.samples) for f in families}


def test_exact_series_of_each_kind():
    got = as_dict(status_families(entries(SLO, OBJECTIVE, KEY_RESULT)))
    slo = ("shop", "checkout-availability", "checkout")
    kr = ("shop", "cost-per-order", "reliable")
    obj = ("shop", "reliable")
    # time to exhaustion: 0.5 of the budget left, 28 days, burning at 0.5x: 28 days
    assert got["okr_slo_time_to_exhaustion_seconds"] == (("namespace", "slo", "service"), [(slo, 28 * 86400.0)])
    assert got["okr_slo_sli_ratio"][1] == [(slo, 0.9995)]
    assert got["okr_slo_target_ratio"][1] == [(slo, 0.999)]
    assert got["okr_slo_error_budget_remaining_ratio"][1] == [(slo, 0.5)]
    assert got["okr_slo_error_budget_burn_rate"] == (
        ("namespace", "slo", "service", "window"),
        [((*slo, "1h"), 0.5), ((*slo, "30m"), 0.4), ((*slo, "5m"), 0.25)],
    )
    assert got["okr_slo_state"][1] == [((*slo, s), 1.0 if s == "Healthy" else 0.0) for s in SLO_STATES]
    assert got["okr_objective_progress_ratio"] == (("namespace", "objective"), [(obj, 0.8889)])
    assert got["okr_objective_score"][1] == [(obj, 0.89)]
    assert got["okr_objective_expected_progress_ratio"][1] == [(obj, 0.72)]
    assert got["okr_objective_state"][1] == [((*obj, s), 1.0 if s == "OnTrack" else 0.0) for s in PACE_STATES]
    assert got["okr_key_result_info"] == (
        ("namespace", "key_result", "objective", "direction", "measures"),
        [((*kr, "decrease", "cost"), 1.0)],
    )
    assert got["okr_key_result_value"] == (("namespace", "key_result", "objective"), [(kr, 3.9)])
    assert got["okr_key_result_target"][1] == [(kr, 3.5)]
    assert got["okr_key_result_progress_ratio"][1] == [(kr, 0.4286)]
    assert got["okr_key_result_expected_progress_ratio"][1] == [(kr, 0.72)]
    assert got["okr_key_result_score"][1] == [(kr, 0.43)]
    assert got["okr_key_result_forecast_progress_ratio"][1] == [(kr, 0.8571)]
    assert got["okr_key_result_confidence_ratio"][1] == [(kr, 0.4)]
    assert got["okr_key_result_state"][1] == [((*kr, s), 1.0 if s == "AtRisk" else 0.0) for s in PACE_STATES]
    assert len(got) == 19


def test_missing_figures_give_no_series_and_states_stay_bounded():
    bare = {**SLO, "status": {}}
    got = as_dict(status_families(entries(bare)))
    assert got["okr_slo_sli_ratio"][1] == []
    assert got["okr_slo_time_to_exhaustion_seconds"][1] == []
    assert got["okr_slo_target_ratio"][1] == [(("shop", "checkout-availability", "checkout"), 0.999)]
    assert [v for _, v in got["okr_slo_state"][1]] == [0.0] * len(SLO_STATES)


def test_nothing_burning_or_nothing_left_has_no_time_to_exhaustion():
    for status in ({"burnRates": {"1h": 0}}, {"errorBudget": {"remaining": -0.2}, "burnRates": {"1h": 3}}):
        body = {**SLO, "status": {"errorBudget": {"remaining": 0.5}, **status}}
        assert as_dict(status_families(entries(body)))["okr_slo_time_to_exhaustion_seconds"][1] == []


def test_statuses_override_the_entries_own_and_invalid_specs_are_left_out():
    broken = {**OBJECTIVE, "metadata": {"name": "broken", "namespace": "shop"}, "spec": {"period": "2026-Q4"}}
    fresh = {Ref("Objective", "shop", "reliable"): {"progress": 0.5, "state": "AtRisk"}}
    got = as_dict(status_families(entries(OBJECTIVE, broken), fresh))
    assert got["okr_objective_progress_ratio"][1] == [(("shop", "reliable"), 0.5)]
    assert got["okr_objective_score"][1] == []


def test_only_cost_is_a_measures_value_and_free_text_never_becomes_a_label():
    other = {**KEY_RESULT, "metadata": {**KEY_RESULT["metadata"], "labels": {"okr.dev/measures": "happiness"}}}
    got = as_dict(status_families(entries(other)))
    assert got["okr_key_result_info"][1] == [(("shop", "cost-per-order", "reliable", "decrease", ""), 1.0)]
    values = {
        v for f in status_families(entries(SLO, OBJECTIVE, KEY_RESULT)) for labels, _ in f.samples for v in labels
    }
    assert not values & {"Checkout is reliable", "USD", "Cut infrastructure cost per 1 000 orders"}


def test_exposition_is_prometheus_text_format():
    series = StatusSeries()
    series.update(entries(SLO, KEY_RESULT), {})
    text = series.text.decode()
    assert "# HELP okr_slo_sli_ratio Share of good events over the SLO window (0-1).\n" in text
    assert "# TYPE okr_slo_sli_ratio gauge\n" in text
    assert 'okr_slo_sli_ratio{namespace="shop",slo="checkout-availability",service="checkout"} 0.9995\n' in text
    assert (
        'okr_slo_state{namespace="shop",slo="checkout-availability",service="checkout",state="Healthy"} 1.0\n' in text
    )
    parsed = {f.name: f for f in text_string_to_metric_families(text)}  # prometheus_client's own parser
    assert parsed["okr_slo_time_to_exhaustion_seconds"].samples[0].value == 28 * 86400
    info = parsed["okr_key_result_info"].samples[0].labels
    assert info == {
        "namespace": "shop",
        "key_result": "cost-per-order",
        "objective": "reliable",
        "direction": "decrease",
        "measures": "cost",
    }
    series.update([], {})
    assert b"okr_slo_sli_ratio{" not in series.text


def test_exposition_escapes_label_values_and_leaves_empty_ones_out():
    family = Family("x", 'a "help"\nline', ("a", "b", "c"), [(('q"uote\\back\nline', "", "v"), 1.5)])
    text = exposition([family]).decode()
    assert text == '# HELP x a "help"\\nline\n# TYPE x gauge\nx{a="q\\"uote\\\\back\\nline",c="v"} 1.5\n'
    (sample,) = next(text_string_to_metric_families(text)).samples
    assert sample.labels == {"a": 'q"uote\\back\nline', "c": "v"}


def test_the_operator_serves_the_status_series_with_its_own_metrics():
    metrics = Metrics()
    metrics.statuses.update(entries(OBJECTIVE), {})
    metrics.reconciles.labels("Objective", "ok").inc()

    async def scrape():
        runner = await serve(metrics, Health(stale_after=60), 0)
        try:
            port = runner.addresses[0][1]
            async with aiohttp.ClientSession() as session, session.get(f"http://127.0.0.1:{port}/metrics") as resp:
                return await resp.text()
        finally:
            await runner.cleanup()

    text = asyncio.run(scrape())
    names = {f.name for f in text_string_to_metric_families(text)}
    assert {"okr_reconcile", "okr_objective_progress_ratio", "okr_objective_state"} <= names
