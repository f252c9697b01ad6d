"""Bounded key-result history."""

import itertools
import math
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from okr_operator.okr import HISTORY_LIMIT, append_history

T0 = datetime(2026, 10, 1, tzinfo=UTC)
H = timedelta(hours=1)


def at(hours, value):
    return (T0 + hours * H, value)


def test_first_points_are_appended():
    assert append_history([], at(0, 1.0)) == [at(0, 1.0)]
    assert append_history([at(0, 1.0)], at(1, 2.0)) == [at(0, 1.0), at(1, 2.0)]


def test_last_point_is_refreshed_until_it_is_min_spacing_after_its_predecessor():
    history = [at(0, 1.0), at(1, 2.0)]
    history = append_history(history, at(2, 3.0))
    assert history == [at(0, 1.0), at(2, 3.0)]
    history = append_history(history, at(6, 4.0))
    assert history == [at(0, 1.0), at(6, 4.0)]  # 2h after t0 < 6h: refreshed
    history = append_history(history, at(7, 5.0))
    assert history == [at(0, 1.0), at(6, 4.0), at(7, 5.0)]  # 6h after t0: settled, appended


def test_frequent_evaluation_gives_min_spacing_between_settled_points():
    history = []
    for step in range(0, 2 * 24 * 120 + 1):  # two days every 30 seconds
        history = append_history(history, (T0 + step * timedelta(seconds=30), float(step)))
    times = [t for t, _ in history]
    assert times[-1] == T0 + timedelta(days=2)
    assert times[:-1] == [T0 + n * 6 * H for n in range(8)]
    assert history[-1] == (T0 + timedelta(days=2), float(2 * 24 * 120))


def test_point_at_the_same_time_replaces_the_last():
    assert append_history([at(0, 1.0)], at(0, 9.0)) == [at(0, 9.0)]
    assert append_history([at(0, 1.0), at(10, 2.0)], at(10, 3.0), min_spacing=timedelta(0)) == [
        at(0, 1.0),
        at(10, 3.0),
    ]


def test_zero_spacing_keeps_every_point():
    history = []
    for hour in range(5):
        history = append_history(history, at(hour, float(hour)), min_spacing=timedelta(0))
    assert history == [at(h, float(h)) for h in range(5)]


def test_older_points_and_no_data_leave_history_unchanged():
    history = [at(0, 1.0), at(10, 2.0)]
    assert append_history(history, at(5, 7.0)) == history
    assert append_history(history, at(20, math.nan)) == history
    assert append_history(history, at(20, math.inf)) == history
    assert append_history([], at(0, math.nan)) == []


def test_unordered_input_is_ordered_and_not_mutated():
    history = [at(10, 2.0), at(0, 1.0)]
    result = append_history(history, at(20, 3.0))
    assert result == [at(0, 1.0), at(10, 2.0), at(20, 3.0)]
    assert history == [at(10, 2.0), at(0, 1.0)]


def test_oldest_points_are_dropped_beyond_the_limit():
    history = [at(6 * n, float(n)) for n in range(26)]
    result = append_history(history, at(6 * 26, 26.0))
    assert len(result) == HISTORY_LIMIT == 26
    assert result[0] == at(6, 1.0)
    assert result[-1] == at(156, 26.0)
    assert append_history(history, at(200, 0.0), limit=3) == [at(144, 24.0), at(150, 25.0), at(200, 0.0)]


def test_bad_arguments():
    with pytest.raises(ValueError, match="limit must be >= 1, not 0"):
        append_history([], at(0, 1.0), limit=0)
    with pytest.raises(ValueError, match="min_spacing must not be negative"):
        append_history([], at(0, 1.0), min_spacing=-H)


@settings(deadline=None)
@given(
    steps=st.lists(st.tuples(st.integers(0, 20 * 60), st.floats(-1e6, 1e6)), max_size=80),
    limit=st.integers(1, 30),
    spacing_hours=st.integers(0, 12),
)
def test_history_invariants(steps, limit, spacing_hours):
    spacing = timedelta(hours=spacing_hours)
    history = []
    now = T0
    for gap_minutes, value in steps:
        now += timedelta(minutes=gap_minutes)
        history = append_history(history, (now, value), limit=limit, min_spacing=spacing)
        assert history[-1] == (now, value)  # the latest observation is always kept
        assert len(history) <= limit
        times = [t for t, _ in history]
        assert times == sorted(times)
        assert len(set(times)) == len(times)
        assert all(b - a >= spacing for a, b in itertools.pairwise(times[:-1]))
