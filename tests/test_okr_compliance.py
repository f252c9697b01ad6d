from datetime import UTC, datetime

from okr_operator.okr.compliance import time_in_range


def at(day: int) -> datetime:
    return datetime(2026, 10, day, tzinfo=UTC)


def test_step_function_time_weighting():
    # in range for days 1-4 (value 5), out for 4-10 (value 20): 3 of 9 days.
    points = [(at(1), 5.0), (at(4), 20.0)]
    assert time_in_range(points, minimum=None, maximum=10, start=at(1), now=at(10)) == 3 / 9


def test_points_before_the_period_start_count_from_the_start():
    points = [(datetime(2026, 9, 20, tzinfo=UTC), 5.0), (at(6), 50.0)]
    assert time_in_range(points, minimum=0, maximum=10, start=at(1), now=at(11)) == 0.5


def test_single_point_is_judged_by_its_value():
    assert time_in_range([(at(3), 5.0)], minimum=1, maximum=10, start=at(1), now=at(3)) == 1.0
    assert time_in_range([(at(3), 50.0)], minimum=1, maximum=10, start=at(1), now=at(3)) == 0.0


def test_future_points_are_ignored_and_no_points_is_no_data():
    assert time_in_range([(at(20), 5.0)], minimum=1, maximum=10, start=at(1), now=at(10)) is None
    assert time_in_range([], minimum=1, maximum=10, start=at(1), now=at(10)) is None
