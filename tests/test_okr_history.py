"""Bounded key-result history: a point every period/26 (at least an hour), at most 26 points."""

import itertools
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from okr_operator.okr import HISTORY_POINTS, history_spacing, parse_period, record_history

Q4 = parse_period("2026-Q4")  # 92 days: a point every 92d/26 = 3d12h55m23.08s
T0 = Q4.start
H = timedelta(hours=1)


def test_spacing_is_the_period_over_26_and_at_least_an_hour():
    assert history_spacing(Q4) == timedelta(days=92) / 26
    assert history_spacing(parse_period("2026-10-01/2026-10-01")) == H  # one day / 26 < 1h


def test_first_point_is_recorded_to_the_second():
    assert record_history([], T0 + timedelta(microseconds=500), 1.0, Q4) == [(T0, 1.0)]


def test_a_point_closer_than_the_spacing_is_not_recorded():
    history = [(T0, 1.0)]
    spacing = history_spacing(Q4)
    assert record_history(history, T0 + spacing - timedelta(seconds=1), 2.0, Q4) == [(T0, 1.0)]
    later = T0 + spacing + timedelta(seconds=1)
    assert record_history(history, later, 2.0, Q4) == [(T0, 1.0), (later.replace(microsecond=0), 2.0)]


def test_oldest_points_are_dropped_beyond_the_limit():
    history = [(T0 + i * 100 * H, float(i)) for i in range(HISTORY_POINTS)]
    now = history[-1][0] + 100 * H
    out = record_history(history, now, 99.0, Q4)
    assert len(out) == HISTORY_POINTS == 26
    assert out[0] == (T0 + 100 * H, 1.0) and out[-1] == (now, 99.0)


def test_the_input_is_not_changed():
    history = [(T0, 1.0)]
    record_history(history, T0 + 200 * H, 2.0, Q4)
    assert history == [(T0, 1.0)]


@settings(deadline=None)
@given(st.lists(st.integers(1, 600), min_size=1, max_size=300))
def test_every_cycle_pattern_keeps_spacing_and_bound(steps):
    """However often the loop runs, points stay at least a spacing apart and there are at most 26."""
    history: list = []
    now = T0
    for minutes in steps:
        now += timedelta(minutes=minutes)
        history = record_history(history, now, float(minutes), Q4)
    times = [t for t, _ in history]
    assert len(history) <= HISTORY_POINTS
    assert all(b - a >= history_spacing(Q4) for a, b in itertools.pairwise(times))
    assert times == sorted(times)


def test_a_30_second_loop_over_a_quarter_writes_a_point_per_spacing():
    history: list = []
    now, writes = T0, 0
    while now < Q4.end:
        new = record_history(history, now, 1.0, Q4)
        writes += new != history
        history, now = new, now + timedelta(seconds=30)
    assert writes == 26  # a status write for history only 26 times a quarter
    assert datetime(2026, 12, 28, tzinfo=UTC) < history[-1][0] < Q4.end
