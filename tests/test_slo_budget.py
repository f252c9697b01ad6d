"""Exact numbers for the error-budget formulas (docs/architecture.md, "Formulas")."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from okr_operator.api import SLOState
from okr_operator.slo.budget import (
    budget_fraction,
    burn_rate,
    error_ratio,
    evaluate_budget,
    sli_percent,
    time_to_exhaustion,
)

PAGE = [("1h", "5m", 14.4), ("6h", "30m", 6.0)]
TICKET = [("1d", "2h", 3.0), ("3d", "6h", 1.0)]
DAY = 86400


def figures(window_ratio, **ratios):
    return evaluate_budget(
        target_percent=99.9,
        window_seconds=28 * DAY,
        window_ratio=window_ratio,
        window_ratios=ratios,
        page=PAGE,
        ticket=TICKET,
    )


def test_error_ratio_and_sli():
    assert error_ratio(5, 1000) == 0.005
    assert sli_percent(0.005) == pytest.approx(99.5, abs=1e-12)
    assert error_ratio(0, 1000) == 0.0


@pytest.mark.parametrize("total", [0, 0.0, -1, None, math.nan])
def test_zero_traffic_gives_no_ratio(total):
    assert error_ratio(0, total) is None


def test_budget_fraction():
    assert budget_fraction(99.9) == 0.001
    assert budget_fraction(99) == 0.01
    assert budget_fraction(95.5) == 0.045


@pytest.mark.parametrize("target", [100, 0, -1, 100.5])
def test_budget_rejects_targets_outside_0_100(target):
    with pytest.raises(ValueError, match="between 0 and 100"):
        budget_fraction(target)


def test_burn_rate():
    assert burn_rate(0.0144, 0.001) == pytest.approx(14.4)
    assert burn_rate(0.001, 0.001) == 1.0


def test_time_to_exhaustion():
    # Half the budget left over 28d, burning at 2x: 0.5 * 28d / 2 = 7 days.
    assert time_to_exhaustion(0.5, 28 * DAY, 2.0) == 7 * DAY
    assert time_to_exhaustion(0.5, 28 * DAY, 0.0) is None
    assert time_to_exhaustion(-0.2, 28 * DAY, 5.0) is None
    assert time_to_exhaustion(0.5, 28 * DAY, None) is None


def test_healthy_slo_figures():
    f = figures(0.0005, **{"5m": 0.0005, "1h": 0.0005, "30m": 0.0005, "6h": 0.0005})
    assert f.sli == pytest.approx(99.95)
    assert f.total == pytest.approx(0.1)
    assert f.consumed == pytest.approx(0.5)
    assert f.remaining == pytest.approx(0.5)
    assert f.burn_rates["1h"] == pytest.approx(0.5)
    assert f.time_to_exhaustion == pytest.approx(0.5 * 28 * DAY / 0.5)
    assert f.state == SLOState.HEALTHY
    assert f.alerts == ()


def test_remaining_goes_negative_and_state_is_exhausted():
    f = figures(0.0025, **{"1h": 0.0025})
    assert f.consumed == pytest.approx(2.5)
    assert f.remaining == pytest.approx(-1.5)
    assert f.state == SLOState.EXHAUSTED
    assert f.time_to_exhaustion is None


def test_page_condition_makes_it_critical():
    f = figures(0.0005, **{"1h": 0.015, "5m": 0.015})
    assert f.alerts == ("page",)
    assert f.state == SLOState.CRITICAL


def test_page_needs_both_windows():
    f = figures(0.0005, **{"1h": 0.015, "5m": 0.010})
    assert f.alerts == ()
    assert f.state == SLOState.HEALTHY


def test_ticket_condition_makes_it_warning():
    f = figures(0.0005, **{"1d": 0.0035, "2h": 0.0035})
    assert f.alerts == ("ticket",)
    assert f.state == SLOState.WARNING


def test_no_traffic_is_unknown_not_100_percent():
    f = figures(None)
    assert f.sli is None
    assert f.remaining is None
    assert f.state == SLOState.UNKNOWN


@given(st.floats(min_value=0, max_value=1), st.floats(min_value=0.01, max_value=99.99))
def test_consumed_plus_remaining_is_one(ratio, target):
    f = evaluate_budget(
        target_percent=target,
        window_seconds=28 * DAY,
        window_ratio=ratio,
        window_ratios={},
        page=PAGE,
        ticket=TICKET,
    )
    assert f.consumed + f.remaining == pytest.approx(1.0)


@given(st.floats(min_value=0, max_value=1e9), st.floats(min_value=0.001, max_value=1e9))
def test_error_ratio_is_a_fraction(errors, total):
    ratio = error_ratio(errors, total)
    assert ratio is not None and 0 <= ratio <= 1
