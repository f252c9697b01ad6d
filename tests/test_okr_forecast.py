"""Least-squares forecast."""

import math
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from okr_operator.okr import Direction, Forecast, key_result_progress, linear_forecast, parse_period

T0 = datetime(2026, 10, 1, tzinfo=UTC)
DAY = timedelta(days=1)


def test_perfect_line_is_extrapolated_exactly():
    points = [(T0 + i * DAY, 10.0 + 2.0 * i) for i in range(5)]
    assert linear_forecast(points, T0 + 92 * DAY) == 194.0
    assert linear_forecast(points, T0 + 2 * DAY) == 14.0
    assert linear_forecast(points, T0 - DAY) == 8.0


def test_perfect_decreasing_line_over_irregular_times():
    hours = [0, 3, 30, 31, 200]
    points = [(T0 + timedelta(hours=h), 40.0 - 0.25 * h) for h in hours]
    assert linear_forecast(points, T0 + timedelta(hours=400)) == -60.0


def test_noisy_points_give_the_least_squares_line():
    # y = 1, 3, 2, 4 at x = 0, 1, 2, 3 days: slope 0.8/day, intercept 1.3
    points = [(T0 + i * DAY, y) for i, y in enumerate([1.0, 3.0, 2.0, 4.0])]
    assert linear_forecast(points, T0 + 10 * DAY) == pytest.approx(9.3, abs=1e-12)


def test_two_points_define_the_line():
    assert linear_forecast([(T0, 0.0), (T0 + DAY, 1.0)], T0 + 3 * DAY) == 3.0


def test_unordered_points_and_offsets_are_fine():
    plus2 = T0.astimezone(timezone(timedelta(hours=2)))
    points = [(T0 + 2 * DAY, 2.0), (plus2, 0.0), (T0 + DAY, 1.0)]
    assert linear_forecast(points, T0 + 4 * DAY) == 4.0


@pytest.mark.parametrize(
    "points",
    [
        [],
        [(T0, 1.0)],
        [(T0, 1.0), (T0, 2.0), (T0, 3.0)],
        [(T0, 1.0), (T0 + DAY, math.nan)],
    ],
)
def test_no_forecast_without_two_distinct_times(points):
    assert linear_forecast(points, T0 + DAY) is None


def test_non_finite_values_are_ignored():
    points = [(T0, 0.0), (T0 + DAY, math.nan), (T0 + 2 * DAY, 2.0), (T0 + 3 * DAY, math.inf)]
    assert linear_forecast(points, T0 + 5 * DAY) == 5.0


def test_constant_series():
    points = [(T0 + i * DAY, 7.5) for i in range(4)]
    assert linear_forecast(points, T0 + 100 * DAY) == 7.5


def test_forecast_at_period_end_and_its_progress():
    period = parse_period("2026-Q4")
    points = [(T0 + i * DAY, 40.0 - 0.05 * i) for i in range(0, 40, 10)]
    value = linear_forecast(points, period.end)
    assert value == pytest.approx(35.4, abs=1e-9)
    progress = key_result_progress(Direction.DECREASE, value, baseline=40.0, target=36.0)
    forecast = Forecast(value=value, progress=progress)
    assert forecast == Forecast(value=pytest.approx(35.4, abs=1e-9), progress=1.0)


@settings(deadline=None)
@given(
    slope=st.floats(-100.0, 100.0),
    intercept=st.floats(-1000.0, 1000.0),
    offsets=st.lists(st.integers(0, 90 * 24), min_size=2, max_size=26, unique=True),
    at=st.integers(-1000, 5000),
)
def test_points_on_a_line_forecast_that_line(slope, intercept, offsets, at):
    points = [(T0 + timedelta(hours=h), intercept + slope * h) for h in offsets]
    expected = intercept + slope * at
    result = linear_forecast(points, T0 + timedelta(hours=at))
    assert result == pytest.approx(expected, rel=1e-9, abs=1e-6)
