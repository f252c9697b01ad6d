"""The evaluation while a period runs, with a fake query function and exact numbers: SLO figures (SLI, budget,
burn rates, state, alerts, time to exhaustion, calendar windows, no traffic, Prometheus down), PromQL key
results across cycles (progress, pace, history spacing, forecast), maintain compliance, key results read from
an SLO, manual key results from their check-ins, and the objective that rolls them up.

The expected figures are worked out here from the formulas (docs/architecture.md, "Formulas"), not read back
from the engine; tests/test_evaluation_prometheus.py checks the same against a real Prometheus."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from okr_operator.evaluation.cycle import Outcome
from okr_operator.prometheus.types import Sample
from tests.fakeprom import FakePrometheus, window_of
from tests.test_evaluation_okr import NOW, conditions, evaluate, manual, objective, promql, slo_body, st, written

Q4_DAYS = 92  # 2026-10-01 .. 2027-01-01
ELAPSED_DAYS = 45.5  # NOW is 2026-11-15 12:00


def slo_ratios(by_window: dict[str, float | None], default: float | None = None):
    """The SLO's error ratio per window (the 28d compliance window and the burn-rate windows)."""

    def answer(key: tuple[str, str], expr: str, at: datetime | None) -> float | None:
        assert at is None, "a live SLO is measured now"
        if "count by (le)" in expr:
            return None
        return by_window.get(window_of(expr), default)

    return answer


def slo_only(prom: FakePrometheus, now: datetime = NOW) -> dict[str, Any]:
    return st(evaluate([slo_body("availability")], now=now, prom=prom), "ServiceLevelObjective", "availability")


# ---------------------------------------------------------------------------------------------- SLOs


def test_slo_figures_from_the_window_ratio_and_the_burn_windows():
    # 99.9% over 28d: budget 0.001; 0.0005 over 28d spends half; a 15x burn over 1h and 5m pages (14.4x)
    ratios = {"28d": 0.0005, "1h": 0.015, "5m": 0.015}
    prom = FakePrometheus(slo_ratios(ratios, default=0.0002))
    status = slo_only(prom)
    assert status["sli"] == 99.95
    assert status["errorBudget"] == {"total": 0.1, "consumed": 0.5, "remaining": 0.5}
    assert status["burnRates"] == {"5m": 15.0, "30m": 0.2, "1h": 15.0, "2h": 0.2, "6h": 0.2, "1d": 0.2, "3d": 0.2}
    assert status["state"] == "Critical" and status["alerts"] == ["page"]
    assert status["timeToExhaustion"] == "22h24m"  # 0.5 of 28d at 15x: 0.5 * 28 * 24h / 15 = 22.4h
    metrics = conditions(status)["MetricsAvailable"]
    assert (metrics["status"], metrics["reason"], metrics["message"]) == ("True", "Measured", "8 windows measured")
    # one query per distinct window (7 burn windows and the compliance window) and one for latency buckets: none
    assert sorted(window_of(expr) for expr, _ in prom.calls) == ["1d", "1h", "28d", "2h", "30m", "3d", "5m", "6h"]


@pytest.mark.parametrize(
    ("burn_3d", "burn_6h", "state", "alerts"),
    [(1.5, 1.5, "Warning", ["ticket"]), (1.5, 0.5, "Healthy", None), (0.5, 1.5, "Healthy", None)],
)
def test_a_ticket_needs_both_windows_of_its_condition(burn_3d, burn_6h, state, alerts):
    ratios = {"28d": 0.0002, "3d": burn_3d * 0.001, "6h": burn_6h * 0.001}
    status = slo_only(FakePrometheus(slo_ratios(ratios, default=0.0)))
    assert (status["state"], status.get("alerts")) == (state, alerts)
    assert status["errorBudget"]["remaining"] == 0.8
    assert "timeToExhaustion" not in status  # nothing burns over 1h


def test_a_spent_budget_is_exhausted_whatever_burns_now():
    status = slo_only(FakePrometheus(slo_ratios({"28d": 0.0012}, default=0.0)))
    assert status["sli"] == 99.88
    assert status["errorBudget"] == {"total": 0.1, "consumed": 1.2, "remaining": -0.2}
    assert status["state"] == "Exhausted" and "timeToExhaustion" not in status


def test_no_traffic_is_no_sli_not_100_percent():
    status = slo_only(FakePrometheus(slo_ratios({}, default=None)))
    assert "sli" not in status and status["state"] == "Unknown"
    assert status["errorBudget"] == {"total": 0.1}
    metrics = conditions(status)["MetricsAvailable"]
    assert (metrics["status"], metrics["reason"]) == ("False", "NoTraffic")


def test_a_calendar_month_is_measured_from_its_first_day():
    body = slo_body("availability")
    body["spec"]["window"] = "month"
    prom = FakePrometheus(slo_ratios({"14d12h": 0.0005}, default=0.0))  # 14.5 days of November so far
    status = st(evaluate([body], prom=prom), "ServiceLevelObjective", "availability")
    assert "14d12h" in {window_of(expr) for expr, _ in prom.calls}
    assert status["errorBudget"]["consumed"] == 0.5 and status["sli"] == 99.95


def test_prometheus_down_keeps_the_slo_figures_and_says_why():
    first = evaluate([slo_body("availability")], prom=FakePrometheus(slo_ratios({"28d": 0.0005}, default=0.0)))
    down = FakePrometheus(slo_ratios({}), fail="PrometheusUnreachable")
    later = NOW + timedelta(minutes=1)
    second = evaluate(written(first, [slo_body("availability")]), now=later, prom=down)
    before, after = (st(o, "ServiceLevelObjective", "availability") for o in (first, second))
    assert {k: after[k] for k in ("sli", "errorBudget", "state")} == {
        k: before[k] for k in ("sli", "errorBudget", "state")
    }
    metrics = conditions(after)["MetricsAvailable"]
    assert (metrics["status"], metrics["reason"]) == ("False", "PrometheusUnreachable")
    assert metrics["message"].endswith("; showing the last values")
    assert conditions(after)["Ready"]["status"] == "False"


def grouped_slo(name: str, max_groups: int = 10) -> dict:
    body = slo_body(name)
    body["spec"]["indicator"] = {
        "ratio": {
            "errors": 'sum by (route) (rate(http_requests_total{code=~"5.."}[{{window}}]))',
            "total": "sum by (route) (rate(http_requests_total[{{window}}]))",
        },
        "groupBy": ["route"],
        "maxGroups": max_groups,
    }
    return body


def per_route(ratios: dict[str, float]):
    def answer(key, expr, at):
        return [Sample({"route": route}, ratio) for route, ratio in ratios.items()]

    return answer


def test_a_grouped_slo_shows_its_worst_group_and_a_key_result_reads_one_group():
    kr = {
        "apiVersion": "okr.dev/v1alpha1",
        "kind": "KeyResult",
        "metadata": {"name": "search-sli", "namespace": "org", "generation": 1},
        "spec": {
            "objectiveRef": {"name": "reliability"},
            "description": "search stays available",
            "direction": "increase",
            "baseline": 99.0,
            "target": 99.9,
            "source": {"slo": {"name": "routes", "field": "sli", "group": {"route": "/search"}}},
        },
    }
    prom = FakePrometheus(per_route({"/cart": 0.0008, "/search": 0.0002, "/pay": 0.0004}))
    out = evaluate([grouped_slo("routes"), objective("reliability"), kr], prom=prom)
    status = st(out, "ServiceLevelObjective", "routes")
    assert (status["sli"], status["errorBudget"]["remaining"]) == (99.92, 0.2)  # the worst group's figures
    assert status["groups"] == {
        "count": 3,
        "worstGroup": "route=/cart",
        "worst": [
            {"labels": {"route": "/cart"}, "sli": 99.92, "budgetRemaining": 0.2, "state": "Healthy"},
            {"labels": {"route": "/pay"}, "sli": 99.96, "budgetRemaining": 0.6, "state": "Healthy"},
            {"labels": {"route": "/search"}, "sli": 99.98, "budgetRemaining": 0.8, "state": "Healthy"},
        ],
    }
    search = st(out, "KeyResult", "search-sli")
    assert search["current"] == 99.98  # the /search group's SLI, not the SLO's (the worst group's)
    assert search["progress"] == 1.0 and search["state"] == "Achieved"  # past the 99.9 target


def test_more_groups_than_max_groups_is_the_slos_problem_with_no_figures():
    prom = FakePrometheus(per_route({f"/r{i}": 0.0001 for i in range(5)}))
    status = st(evaluate([grouped_slo("routes", max_groups=4)], prom=prom), "ServiceLevelObjective", "routes")
    assert status["groups"] == {"count": 5} and status["state"] == "Unknown" and "sli" not in status
    valid = conditions(status)["Valid"]
    assert (valid["status"], valid["reason"]) == ("False", "TooManyGroups")
    assert valid["message"].startswith("5 groups of route (maxGroups 4): the recording rules record nothing")


# ---------------------------------------------------------------------------------------------- PromQL key results


def latency(value: float):
    def answer(key: tuple[str, str], expr: str, at: datetime | None) -> float:
        assert at is None and expr == 'latency_p95{kr="latency"}'
        return value

    return answer


def cycle(bodies: list[dict], value: float, now: datetime) -> tuple[Outcome, list[dict]]:
    out = evaluate(bodies, now=now, prom=FakePrometheus(latency(value)))
    return out, written(out, bodies)


def test_a_promql_key_result_through_the_quarter_progress_pace_history_and_forecast():
    bodies = [objective("speed"), promql("latency", "speed")]  # decrease 0.30 -> 0.20 in 2026-Q4
    out, bodies = cycle(bodies, 0.29, NOW)
    kr = st(out, "KeyResult", "latency")
    assert (kr["current"], kr["progress"], kr["score"]) == (0.29, 0.1, 0.1)
    assert kr["expected"] == round(ELAPSED_DAYS / Q4_DAYS, 2) == 0.49
    assert kr["state"] == "OffTrack"  # 0.1 < 0.7 x 0.4946
    assert kr["history"] == [{"time": "2026-11-15T12:00:00Z", "value": 0.29}]
    assert "forecast" not in kr

    # half an hour later: the spacing is 92d / 26 = 84.9h, so no new history point
    out, bodies = cycle(bodies, 0.288, NOW + timedelta(minutes=30))
    kr = st(out, "KeyResult", "latency")
    assert kr["current"] == 0.288 and len(kr["history"]) == 1

    # every 4 days (more than the spacing) a point; from the third one on, a forecast through them
    out, bodies = cycle(bodies, 0.285, NOW + timedelta(days=4))
    assert [p["value"] for p in st(out, "KeyResult", "latency")["history"]] == [0.29, 0.285]
    assert "forecast" not in st(out, "KeyResult", "latency")
    out, bodies = cycle(bodies, 0.28, NOW + timedelta(days=8))
    kr = st(out, "KeyResult", "latency")
    assert [p["time"] for p in kr["history"]] == [
        "2026-11-15T12:00:00Z",
        "2026-11-19T12:00:00Z",
        "2026-11-23T12:00:00Z",
    ]
    # a line falling 0.00125 a day, 38.5 days before 2027-01-01: 0.28 - 0.048125 = 0.231875
    assert kr["forecast"] == {"value": 0.2319, "progress": 0.68}  # (0.30 - 0.231875) / 0.10
    assert kr["progress"] == 0.2 and kr["expected"] == round((ELAPSED_DAYS + 8) / Q4_DAYS, 2) == 0.58
    assert kr["state"] == "OffTrack"
    objective_status = st(out, "Objective", "speed")
    assert (objective_status["progress"], objective_status["state"], objective_status["expected"]) == (
        0.2,
        "OffTrack",
        0.58,
    )


def test_no_data_and_too_many_series_are_the_key_results_condition():
    def answer(key, expr, at):
        if "many" in expr:
            return [Sample({"pod": "a"}, 1.0), Sample({"pod": "b"}, 2.0)]
        return None

    bodies = [objective("speed"), promql("empty", "speed"), promql("many", "speed")]
    out = evaluate(bodies, prom=FakePrometheus(answer))
    for name, reason, message in (
        ("empty", "NoData", "the query returned no data (no series, or NaN)"),
        ("many", "TooManySeries", "the query returned 2 series; it must return one"),
    ):
        kr = st(out, "KeyResult", name)
        metrics = conditions(kr)["MetricsAvailable"]
        assert (metrics["status"], metrics["reason"], metrics["message"]) == ("False", reason, message)
        assert kr["state"] == "Unknown" and "current" not in kr
    assert st(out, "Objective", "speed")["state"] == "Unknown"


def test_a_maintain_key_result_is_the_share_of_the_period_within_bounds():
    body = promql("bounded", "speed", direction="maintain", max=0.25)
    for key in ("baseline", "target"):
        body["spec"].pop(key)

    def answer(key, expr, at):
        if expr.startswith("avg_over_time("):
            # the elapsed period (45.5 days) as a subquery, its step a 240th of it in whole minutes (4h33m)
            assert expr.endswith("[45d12h:4h33m])") and "<= bool 0.25" in expr
            return 0.92
        return 0.22

    kr = st(evaluate([objective("speed"), body], prom=FakePrometheus(answer)), "KeyResult", "bounded")
    assert (kr["current"], kr["progress"], kr["score"], kr["state"]) == (0.22, 0.92, 0.92, "OnTrack")
    assert "forecast" not in kr  # maintain key results have no forecast


# ---------------------------------------------------------------------------------------------- other sources


def test_a_key_result_read_from_an_slo_takes_this_cycles_figure():
    kr = {
        "apiVersion": "okr.dev/v1alpha1",
        "kind": "KeyResult",
        "metadata": {"name": "budget", "namespace": "org", "generation": 1},
        "spec": {
            "objectiveRef": {"name": "reliability"},
            "description": "spend less budget",
            "direction": "decrease",
            "baseline": 1.0,
            "target": 0.2,
            "source": {"slo": {"name": "availability", "field": "errorBudgetConsumed"}},
        },
    }
    prom = FakePrometheus(slo_ratios({"28d": 0.0005}, default=0.0))
    out = evaluate([slo_body("availability"), objective("reliability"), kr], prom=prom)
    status = st(out, "KeyResult", "budget")
    assert status["current"] == 0.5 and status["progress"] == 0.625 and status["score"] == 0.63  # 0.5/0.8
    assert status["state"] == "OnTrack"  # 0.625 >= 0.49
    metrics = conditions(status)["MetricsAvailable"]
    assert metrics["message"] == "errorBudgetConsumed of SLO availability"
    assert all(window_of(expr) for expr, _ in prom.calls)  # only the SLO's queries: the key result adds none


def test_a_manual_key_result_from_its_check_ins_and_the_objective_that_rolls_it_up():
    checked = manual("nps", "survey", 0, weight=3)
    checked["spec"]["source"]["manual"]["checkIns"] = [
        {"date": "2026-11-12", "value": 50, "confidence": 0.8},  # the manifest's order does not matter
        {"date": "2026-10-01", "value": 20, "confidence": 0.5},
        {"date": "2026-10-22", "value": 35},
        {"date": "2026-11-20", "value": 99},  # dated after today: not yet
    ]
    other = manual("docs", "survey", 10)
    out = evaluate([objective("survey"), checked, other])
    kr = st(out, "KeyResult", "nps")
    assert (kr["current"], kr["progress"], kr["confidence"], kr["state"]) == (50, 0.5, 0.8, "OnTrack")
    assert kr["lastCheckIn"] == "2026-11-12T00:00:00Z" and "history" not in kr  # the check-ins are the history
    # 15 more every 21 days, 50 days from the latest check-in to 2027-01-01: 50 + 50 * 15 / 21 = 85.714
    assert kr["forecast"] == {"value": 85.71, "progress": 0.86}
    metrics = conditions(kr)["MetricsAvailable"]
    assert (metrics["reason"], metrics["message"]) == ("CheckIns", "3 check-in(s), latest 2026-11-12")
    survey = st(out, "Objective", "survey")
    assert survey["progress"] == (3 * 0.5 + 1 * 0.1) / 4 == 0.4
    assert survey["state"] == "AtRisk"  # 0.4 is below 0.4946 and at least 0.7 of it
    assert survey["keyResults"]["onTrack"] == 1 and survey["keyResults"]["offTrack"] == 1


def test_no_check_in_yet_is_unknown_not_zero():
    kr = manual("nps", "survey", 0)
    kr["spec"]["source"]["manual"]["checkIns"] = [{"date": "2026-12-01", "value": 40}]
    status = st(evaluate([objective("survey"), kr]), "KeyResult", "nps")
    assert status["state"] == "Unknown" and "current" not in status and "progress" not in status
    assert conditions(status)["MetricsAvailable"]["reason"] == "NoCheckIns"


def test_the_evaluation_clock_is_the_parameter_not_the_wall_clock():
    future = datetime(2026, 12, 27, tzinfo=UTC)  # 87 of 92 days
    status = st(evaluate([objective("survey"), manual("nps", "survey", 90)], now=future), "KeyResult", "nps")
    assert status["expected"] == round(87 / Q4_DAYS, 2) == 0.95 and status["state"] == "AtRisk"
