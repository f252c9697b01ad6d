"""Key-result progress per direction and the score."""

import math

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from okr_operator.okr import (
    Direction,
    boolean_progress,
    in_range,
    key_result_progress,
    maintain_progress,
    progress_towards,
    score,
)

INCREASE, DECREASE, MAINTAIN, BOOLEAN = (
    Direction.INCREASE,
    Direction.DECREASE,
    Direction.MAINTAIN,
    Direction.BOOLEAN,
)


def test_direction_values():
    assert [d.value for d in Direction] == ["increase", "decrease", "maintain", "boolean"]
    assert Direction("decrease") is DECREASE
    assert DECREASE == "decrease"


@pytest.mark.parametrize(
    ("current", "baseline", "target", "progress"),
    [
        (50.0, 0.0, 100.0, 0.5),
        (0.0, 0.0, 100.0, 0.0),
        (100.0, 0.0, 100.0, 1.0),
        (150.0, 0.0, 100.0, 1.0),
        (-10.0, 0.0, 100.0, 0.0),
        (35.0, 20.0, 80.0, 0.25),
        (25.0, 0.0, 40.0, 0.625),
        (99.5, 99.0, 99.9, pytest.approx(5 / 9, abs=1e-12)),
        (math.inf, 0.0, 1.0, 1.0),
        (-math.inf, 0.0, 1.0, 0.0),
    ],
)
def test_increase(current, baseline, target, progress):
    assert progress_towards(INCREASE, current, baseline, target) == progress


@pytest.mark.parametrize(
    ("current", "progress"),
    [(38.0, 0.5), (40.0, 0.0), (36.0, 1.0), (35.0, 1.0), (41.0, 0.0), (39.0, 0.25), (37.0, 0.75)],
)
def test_decrease_from_40_to_36(current, progress):
    assert progress_towards(DECREASE, current, 40.0, 36.0) == progress


def test_direction_accepts_plain_strings():
    assert progress_towards("decrease", 38.0, 40.0, 36.0) == 0.5  # type: ignore[arg-type]
    assert key_result_progress("increase", 5.0, baseline=0.0, target=10.0) == 0.5  # type: ignore[arg-type]


def test_baseline_equal_to_target_is_an_error():
    with pytest.raises(ValueError, match=r"baseline and target must differ \(both 5\)"):
        progress_towards(INCREASE, 5.0, 5.0, 5.0)


@pytest.mark.parametrize(
    ("direction", "baseline", "target", "message"),
    [
        (INCREASE, 40.0, 36.0, r"direction increase needs target above baseline \(baseline 40, target 36\)"),
        (DECREASE, 36.0, 40.0, r"direction decrease needs target below baseline \(baseline 36, target 40\)"),
    ],
)
def test_target_on_the_wrong_side_is_an_error(direction, baseline, target, message):
    with pytest.raises(ValueError, match=message):
        progress_towards(direction, 38.0, baseline, target)


@pytest.mark.parametrize("direction", [MAINTAIN, BOOLEAN])
def test_progress_towards_only_for_increase_and_decrease(direction):
    with pytest.raises(ValueError, match=f"needs direction increase or decrease, not {direction}"):
        progress_towards(direction, 1.0, 0.0, 1.0)


def test_progress_towards_rejects_nan_and_infinite_bounds():
    with pytest.raises(ValueError, match="current is NaN"):
        progress_towards(INCREASE, math.nan, 0.0, 1.0)
    with pytest.raises(ValueError, match="baseline must be a finite number"):
        progress_towards(INCREASE, 1.0, -math.inf, 1.0)
    with pytest.raises(ValueError, match="target must be a finite number"):
        progress_towards(INCREASE, 1.0, 0.0, math.nan)


@pytest.mark.parametrize(
    ("compliance", "progress"), [(0.0, 0.0), (0.25, 0.25), (0.97, 0.97), (1.0, 1.0), (1.2, 1.0), (-0.1, 0.0)]
)
def test_maintain_progress(compliance, progress):
    assert maintain_progress(compliance) == progress


def test_maintain_progress_rejects_nan():
    with pytest.raises(ValueError, match="compliance is NaN"):
        maintain_progress(math.nan)


@pytest.mark.parametrize(
    ("value", "minimum", "maximum", "inside"),
    [
        (5.0, 1.0, 10.0, True),
        (1.0, 1.0, 10.0, True),
        (10.0, 1.0, 10.0, True),
        (0.99, 1.0, 10.0, False),
        (10.01, 1.0, 10.0, False),
        (-1e9, None, 10.0, True),
        (11.0, None, 10.0, False),
        (1e9, 1.0, None, True),
        (0.0, 1.0, None, False),
        (42.0, None, None, True),
        (math.nan, None, None, False),
        (math.nan, 0.0, 1.0, False),
    ],
)
def test_in_range(value, minimum, maximum, inside):
    assert in_range(value, minimum, maximum) is inside


@pytest.mark.parametrize(
    ("value", "progress"), [(1.0, 1.0), (0.0, 0.0), (0.5, 1.0), (0.49, 0.0), (2.0, 1.0), (math.nan, 0.0)]
)
def test_boolean_progress(value, progress):
    assert boolean_progress(value) == progress


def test_key_result_progress_dispatch():
    assert key_result_progress(INCREASE, 60.0, baseline=20.0, target=100.0) == 0.5
    assert key_result_progress(DECREASE, 38.0, baseline=40.0, target=36.0) == 0.5
    assert key_result_progress(MAINTAIN, None, compliance=0.9) == 0.9
    assert key_result_progress(MAINTAIN, 250.0, minimum=0.0, maximum=200.0, compliance=0.75) == 0.75
    assert key_result_progress(MAINTAIN, 150.0, minimum=0.0, maximum=200.0) == 1.0
    assert key_result_progress(MAINTAIN, 250.0, minimum=0.0, maximum=200.0) == 0.0
    assert key_result_progress(MAINTAIN, 250.0, maximum=300.0) == 1.0
    assert key_result_progress(BOOLEAN, 1.0) == 1.0
    assert key_result_progress(BOOLEAN, 0.0) == 0.0


@pytest.mark.parametrize(
    ("direction", "kwargs"),
    [
        (INCREASE, {"baseline": 0.0, "target": 1.0}),
        (DECREASE, {"baseline": 1.0, "target": 0.0}),
        (MAINTAIN, {"minimum": 0.0, "maximum": 1.0}),
        (MAINTAIN, {}),
        (BOOLEAN, {}),
    ],
)
@pytest.mark.parametrize("current", [None, math.nan])
def test_key_result_progress_without_data_is_none(direction, kwargs, current):
    assert key_result_progress(direction, current, **kwargs) is None
    if direction is MAINTAIN:
        assert key_result_progress(direction, current, compliance=current, **kwargs) is None


def test_key_result_progress_missing_spec_is_an_error():
    with pytest.raises(ValueError, match="a increase key result needs baseline and target"):
        key_result_progress(INCREASE, 1.0, target=2.0)
    with pytest.raises(ValueError, match="a decrease key result needs baseline and target"):
        key_result_progress(DECREASE, 1.0, baseline=2.0)
    with pytest.raises(ValueError, match="a maintain key result needs compliance, or min and/or max"):
        key_result_progress(MAINTAIN, 1.0)
    with pytest.raises(ValueError, match="'sideways' is not a valid Direction"):
        key_result_progress("sideways", 1.0)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("progress", "expected"),
    [
        (0.0, 0.0),
        (1.0, 1.0),
        (0.5, 0.5),
        (0.125, 0.13),  # round(0.125, 2) == 0.12 (banker's/binary); we round half up
        (0.145, 0.15),  # round(0.145, 2) == 0.14 (0.145 is 0.14499999... in binary)
        (0.135, 0.14),
        (0.005, 0.01),
        (0.995, 1.0),
        (0.994999, 0.99),
        (0.7049999999, 0.7),
        (1 / 3, 0.33),
        (2 / 3, 0.67),
        (0.7, 0.7),
    ],
)
def test_score_rounds_half_up(progress, expected):
    assert score(progress) == expected


def test_python_round_differs_where_documented():
    assert round(0.125, 2) == 0.12
    assert round(0.145, 2) == 0.14


def test_score_rejects_non_finite():
    with pytest.raises(ValueError, match="progress must be a finite number"):
        score(math.nan)
    with pytest.raises(ValueError, match="progress must be a finite number"):
        score(math.inf)


finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)


@settings(deadline=None)
@given(a=finite, b=finite, baseline=finite, target=finite)
def test_increase_is_monotonic_and_bounded(a, b, baseline, target):
    assume(target > baseline)
    low, high = sorted((a, b))
    p_low = progress_towards(INCREASE, low, baseline, target)
    p_high = progress_towards(INCREASE, high, baseline, target)
    assert 0.0 <= p_low <= p_high <= 1.0


@settings(deadline=None)
@given(a=finite, b=finite, baseline=finite, target=finite)
def test_decrease_is_monotonic_and_bounded(a, b, baseline, target):
    assume(target < baseline)
    low, high = sorted((a, b))
    p_low = progress_towards(DECREASE, low, baseline, target)
    p_high = progress_towards(DECREASE, high, baseline, target)
    assert 0.0 <= p_high <= p_low <= 1.0


@settings(deadline=None)
@given(baseline=finite, target=finite)
def test_baseline_gives_0_and_target_gives_1(baseline, target):
    assume(baseline != target)
    direction = INCREASE if target > baseline else DECREASE
    assert progress_towards(direction, baseline, baseline, target) == 0.0
    assert progress_towards(direction, target, baseline, target) == 1.0


@settings(deadline=None)
@given(
    direction=st.sampled_from(list(Direction)),
    current=st.floats(allow_nan=True, allow_infinity=True),
    compliance=st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True)),
)
def test_key_result_progress_is_none_or_within_unit_interval(direction, current, compliance):
    baseline, target = (20.0, 10.0) if direction is DECREASE else (10.0, 20.0)
    progress = key_result_progress(
        direction, current, baseline=baseline, target=target, minimum=0.0, maximum=1.0, compliance=compliance
    )
    assert progress is None or 0.0 <= progress <= 1.0


@settings(deadline=None)
@given(progress=st.floats(0.0, 1.0))
def test_score_is_within_a_half_hundredth(progress):
    rounded = score(progress)
    assert 0.0 <= rounded <= 1.0
    assert abs(rounded - progress) <= 0.005 + 1e-12
    assert round(rounded * 100) == pytest.approx(rounded * 100)
