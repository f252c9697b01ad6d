"""Expected pace and state."""

import math
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from okr_operator.okr import (
    ASPIRATIONAL_FACTOR,
    AT_RISK_FACTOR,
    Direction,
    ObjectiveType,
    PaceState,
    elapsed_fraction,
    expected_progress,
    key_result_progress,
    pace_state,
    parse_period,
)

COMMITTED, ASPIRATIONAL = ObjectiveType.COMMITTED, ObjectiveType.ASPIRATIONAL


def test_enum_values():
    assert [t.value for t in ObjectiveType] == ["committed", "aspirational"]
    assert [s.value for s in PaceState] == ["OnTrack", "AtRisk", "OffTrack", "Achieved", "Missed", "Unknown"]
    assert PaceState.AT_RISK == "AtRisk"
    assert ASPIRATIONAL_FACTOR == 0.7
    assert AT_RISK_FACTOR == 0.7


@pytest.mark.parametrize(
    ("elapsed", "type_", "expected"),
    [
        (0.0, COMMITTED, 0.0),
        (0.5, COMMITTED, 0.5),
        (1.0, COMMITTED, 1.0),
        (0.0, ASPIRATIONAL, 0.0),
        (0.5, ASPIRATIONAL, 0.35),
        (1.0, ASPIRATIONAL, 0.7),
        (1.5, COMMITTED, 1.0),
        (-0.5, ASPIRATIONAL, 0.0),
        (0.5, "aspirational", 0.35),
    ],
)
def test_expected_progress(elapsed, type_, expected):
    assert expected_progress(elapsed, type_) == expected


def test_unknown_type_is_an_error():
    with pytest.raises(ValueError, match="'stretch' is not a valid ObjectiveType"):
        expected_progress(0.5, "stretch")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("progress", "expected", "ended", "state"),
    [
        (None, 0.5, False, PaceState.UNKNOWN),
        (None, 1.0, True, PaceState.UNKNOWN),
        (math.nan, 0.5, False, PaceState.UNKNOWN),
        (1.0, 0.5, False, PaceState.ACHIEVED),  # achieved before the end
        (1.0, 1.0, True, PaceState.ACHIEVED),  # after the end: Achieved ...
        (0.99, 1.0, True, PaceState.MISSED),  # ... or Missed
        (0.0, 1.0, True, PaceState.MISSED),
        (0.99, 0.2, True, PaceState.MISSED),  # ahead of pace does not matter once ended
        (0.0, 0.0, False, PaceState.ON_TRACK),  # elapsed 0: expected 0
        (0.5, 0.5, False, PaceState.ON_TRACK),
        (0.6, 0.5, False, PaceState.ON_TRACK),
        (0.35, 0.5, False, PaceState.AT_RISK),  # exactly 0.7 x expected
        (0.49, 0.5, False, PaceState.AT_RISK),
        (0.3499, 0.5, False, PaceState.OFF_TRACK),
        (0.0, 0.5, False, PaceState.OFF_TRACK),
        (0.56, 0.8, False, PaceState.AT_RISK),
        (0.5599, 0.8, False, PaceState.OFF_TRACK),
    ],
)
def test_pace_state(progress, expected, ended, state):
    assert pace_state(progress, expected, ended=ended) is state


def test_at_risk_boundary_is_exactly_0_7_of_expected():
    expected = expected_progress(0.5, COMMITTED)
    assert pace_state(AT_RISK_FACTOR * expected, expected, ended=False) is PaceState.AT_RISK
    assert pace_state(AT_RISK_FACTOR * expected - 1e-6, expected, ended=False) is PaceState.OFF_TRACK
    assert pace_state(expected, expected, ended=False) is PaceState.ON_TRACK
    assert pace_state(expected - 1e-6, expected, ended=False) is PaceState.AT_RISK


def test_aspirational_pace_at_half_time():
    expected = expected_progress(0.5, ASPIRATIONAL)
    assert expected == 0.35
    assert pace_state(0.35, expected, ended=False) is PaceState.ON_TRACK
    assert pace_state(0.245, expected, ended=False) is PaceState.AT_RISK  # 0.7 x 0.35
    assert pace_state(0.24, expected, ended=False) is PaceState.OFF_TRACK


def test_float_noise_does_not_flip_the_state():
    # 0.1 + 0.2 = 0.30000000000000004 as expected against progress 0.3
    assert pace_state(0.3, 0.1 + 0.2, ended=False) is PaceState.ON_TRACK
    assert pace_state(0.9999999999999999, 0.5, ended=False) is PaceState.ACHIEVED


def test_key_result_through_a_quarter():
    period = parse_period("2026-Q4")
    progress = key_result_progress(Direction.DECREASE, 38.0, baseline=40.0, target=36.0)
    assert progress == 0.5
    mid = datetime(2026, 11, 16, tzinfo=UTC)
    late = datetime(2026, 12, 17, 12, tzinfo=UTC)  # elapsed 0.8424: committed needs 0.59 for AtRisk
    after = datetime(2027, 1, 2, tzinfo=UTC)
    for now, type_, state in [
        (mid, COMMITTED, PaceState.ON_TRACK),
        (late, COMMITTED, PaceState.OFF_TRACK),
        (late, ASPIRATIONAL, PaceState.AT_RISK),
        (after, COMMITTED, PaceState.MISSED),
    ]:
        expected = expected_progress(elapsed_fraction(period, now), type_)
        assert pace_state(progress, expected, ended=now >= period.end) is state
    assert pace_state(1.0, 1.0, ended=True) is PaceState.ACHIEVED


@settings(deadline=None)
@given(
    progress=st.floats(0.0, 1.0),
    elapsed=st.floats(0.0, 1.0),
    type_=st.sampled_from(list(ObjectiveType)),
)
def test_more_progress_never_gives_a_worse_state(progress, elapsed, type_):
    rank = {PaceState.OFF_TRACK: 0, PaceState.AT_RISK: 1, PaceState.ON_TRACK: 2, PaceState.ACHIEVED: 3}
    expected = expected_progress(elapsed, type_)
    assert 0.0 <= expected <= elapsed
    lower = pace_state(progress * 0.9, expected, ended=False)
    higher = pace_state(progress, expected, ended=False)
    assert rank[lower] <= rank[higher]
