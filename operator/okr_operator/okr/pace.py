"""Expected pace and the state of a key result or objective."""

from __future__ import annotations

import math

from ..api.okr import ObjectiveType
from ..api.okr_status import PaceState

__all__ = [
    "ASPIRATIONAL_FACTOR",
    "AT_RISK_FACTOR",
    "ObjectiveType",
    "PaceState",
    "expected_progress",
    "key_result_state",
    "pace_state",
]

ASPIRATIONAL_FACTOR = 0.7
"""Aspirational objectives aim at 0.7 (Google's "sweet spot"), so their pace is 0.7 x elapsed."""

AT_RISK_FACTOR = 0.7
"""Below ``expected`` but at least ``AT_RISK_FACTOR x expected`` is AtRisk; lower is OffTrack."""

_TOLERANCE = 1e-9
"""Comparisons forgive float noise, e.g. progress 0.7 against an elapsed fraction of 0.7000000000000001."""


def expected_progress(elapsed: float, type: ObjectiveType) -> float:
    """Expected progress at ``elapsed`` (clamped to 0..1): itself if committed, 0.7 x it if aspirational."""
    elapsed = min(max(elapsed, 0.0), 1.0)
    return elapsed if ObjectiveType(type) is ObjectiveType.COMMITTED else ASPIRATIONAL_FACTOR * elapsed


def pace_state(progress: float | None, expected: float, *, ended: bool) -> PaceState:
    """State from progress against the expected pace.

    None -> Unknown; progress >= 1 -> Achieved (also before the end); ended -> Missed; progress >= expected
    -> OnTrack; progress >= 0.7 x expected -> AtRisk; else OffTrack. Comparisons allow 1e-9 of float noise.
    """
    if progress is None or math.isnan(progress):
        return PaceState.UNKNOWN
    if progress >= 1.0 - _TOLERANCE:
        return PaceState.ACHIEVED
    if ended:
        return PaceState.MISSED
    if progress >= expected - _TOLERANCE:
        return PaceState.ON_TRACK
    if progress >= AT_RISK_FACTOR * expected - _TOLERANCE:
        return PaceState.AT_RISK
    return PaceState.OFF_TRACK


def key_result_state(progress: float | None, expected: float, *, ended: bool, direction: str) -> PaceState:
    """:func:`pace_state` of a key result: staying within bounds (maintain) is Achieved only once the period
    is over; until then it is OnTrack."""
    state = pace_state(progress, expected, ended=ended)
    if direction == "maintain" and state is PaceState.ACHIEVED and not ended:
        return PaceState.ON_TRACK
    return state
