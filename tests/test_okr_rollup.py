"""Objective roll-up of key results."""

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from okr_operator.okr import KeyResultSummary, PaceState, RollUp, roll_up

S = PaceState


def kr(name, weight, progress, state=S.ON_TRACK):
    return KeyResultSummary(name=name, weight=weight, progress=progress, state=state)


def counts(result):
    return (result.on_track, result.at_risk, result.off_track, result.achieved, result.missed, result.unknown)


def test_weighted_progress():
    result = roll_up([kr("a", 1, 1.0, S.ACHIEVED), kr("b", 3, 0.2, S.OFF_TRACK)], expected=0.5, ended=False)
    assert result == RollUp(
        progress=0.4,
        score=0.4,
        state=S.AT_RISK,
        total=2,
        on_track=0,
        at_risk=0,
        off_track=1,
        achieved=1,
        missed=0,
        unknown=0,
    )


def test_equal_weights_average():
    result = roll_up([kr("a", 1, 0.5), kr("b", 1, 0.25), kr("c", 1, 0.0)], expected=0.25, ended=False)
    assert result.progress == 0.25
    assert result.score == 0.25
    assert result.state is S.ON_TRACK


def test_key_results_without_data_are_ignored_but_counted():
    result = roll_up(
        [kr("a", 1, 0.6), kr("b", 5, None, S.UNKNOWN), kr("c", 1, math.nan, S.UNKNOWN)],
        expected=0.5,
        ended=False,
    )
    assert result.progress == 0.6
    assert result.state is S.ON_TRACK
    assert (result.total, result.on_track, result.unknown) == (3, 1, 2)


def test_zero_weight_key_results_are_ignored():
    result = roll_up([kr("a", 0, 0.0, S.OFF_TRACK), kr("b", 2, 0.9)], expected=0.5, ended=False)
    assert result.progress == 0.9
    assert (result.total, result.off_track, result.on_track) == (2, 1, 1)


def test_no_data_is_unknown():
    result = roll_up([kr("a", 1, None, S.UNKNOWN), kr("b", 0, 0.5)], expected=0.5, ended=True)
    assert (result.progress, result.score, result.state) == (None, None, S.UNKNOWN)
    assert (result.total, result.unknown, result.on_track) == (2, 1, 1)


def test_no_key_results():
    result = roll_up([], expected=0.0, ended=False)
    assert result == RollUp(None, None, S.UNKNOWN, 0, 0, 0, 0, 0, 0, 0)


def test_score_is_the_rounded_progress():
    result = roll_up([kr("a", 1, 0.125), kr("b", 1, 0.125)], expected=0.0, ended=False)
    assert (result.progress, result.score) == (0.125, 0.13)
    # not the mean of rounded per-key-result scores (0.0, 0.0, 0.01 -> 0.0033)
    result = roll_up([kr("a", 1, 0.004), kr("b", 1, 0.004), kr("c", 1, 0.007)], expected=0.0, ended=False)
    assert (result.progress, result.score) == (0.005, 0.01)


def test_states_after_the_end():
    achieved = roll_up([kr("a", 1, 1.0, S.ACHIEVED), kr("b", 1, 1.0, S.ACHIEVED)], expected=1.0, ended=True)
    assert achieved.state is S.ACHIEVED
    assert achieved.achieved == 2
    missed = roll_up([kr("a", 1, 1.0, S.ACHIEVED), kr("b", 1, 0.5, S.MISSED)], expected=1.0, ended=True)
    assert missed.state is S.MISSED
    assert (missed.achieved, missed.missed) == (1, 1)


def test_all_states_are_counted():
    states = [S.ON_TRACK, S.AT_RISK, S.AT_RISK, S.OFF_TRACK, S.ACHIEVED, S.MISSED, S.UNKNOWN]
    result = roll_up([kr(str(i), 1, None, s) for i, s in enumerate(states)], expected=0.5, ended=False)
    assert counts(result) == (1, 2, 1, 1, 1, 1)
    assert result.total == 7


def test_states_may_be_plain_strings():
    result = roll_up([kr("a", 1, 0.5, "AtRisk")], expected=0.6, ended=False)
    assert result.at_risk == 1


@pytest.mark.parametrize("weight", [-1.0, math.nan, math.inf])
def test_bad_weight_is_an_error(weight):
    with pytest.raises(ValueError, match="key result bad: weight must be >= 0"):
        roll_up([kr("ok", 1, 0.5), kr("bad", weight, 0.5)], expected=0.5, ended=False)


summaries = st.lists(
    st.builds(
        KeyResultSummary,
        name=st.text(max_size=5),
        weight=st.floats(0.0, 1000.0),
        progress=st.one_of(st.none(), st.floats(0.0, 1.0)),
        state=st.sampled_from(list(PaceState)),
    ),
    max_size=12,
)


@settings(deadline=None)
@given(key_results=summaries, expected=st.floats(0.0, 1.0), ended=st.booleans())
def test_roll_up_stays_within_its_inputs(key_results, expected, ended):
    result = roll_up(key_results, expected=expected, ended=ended)
    contributing = [k.progress for k in key_results if k.progress is not None and k.weight > 0]
    if contributing:
        assert min(contributing) <= result.progress <= max(contributing)
        assert 0.0 <= result.score <= 1.0
        assert result.state is not S.UNKNOWN
    else:
        assert result.progress is None
        assert result.score is None
        assert result.state is S.UNKNOWN
    assert sum(counts(result)) == result.total == len(key_results)


@settings(deadline=None)
@given(progress=st.floats(0.0, 1.0), weights=st.lists(st.floats(0.001, 1000.0), min_size=1, max_size=10))
def test_equal_progress_rolls_up_to_itself(progress, weights):
    result = roll_up([kr(str(i), w, progress) for i, w in enumerate(weights)], expected=0.0, ended=False)
    assert result.progress == progress


def test_children_roll_up_with_their_weight():
    from okr_operator.okr import ChildSummary

    roll = roll_up(
        [KeyResultSummary("kr", 1.0, 0.5, "OnTrack")],
        children=[ChildSummary("a", 2.0, 1.0), ChildSummary("b", 1.0, None)],
        expected=0.5,
        ended=False,
    )
    assert roll.progress == pytest.approx(2.5 / 3)
    assert (roll.total, roll.on_track) == (1, 1)  # counts are the key results'


def test_only_children():
    from okr_operator.okr import ChildSummary

    roll = roll_up([], children=[ChildSummary("a", 1.0, 0.25), ChildSummary("b", 3.0, 0.75)], expected=0.9, ended=True)
    assert roll.progress == 0.625 and roll.score == 0.63 and roll.state == "Missed" and roll.total == 0


def test_bad_child_weight_is_an_error():
    from okr_operator.okr import ChildSummary

    with pytest.raises(ValueError, match="child objective a: weight must be >= 0"):
        roll_up([], children=[ChildSummary("a", -1.0, 0.5)], expected=0.5, ended=False)
