"""Roll-up of key results and counted child objectives into an objective's progress, score, state and counts."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from .pace import PaceState, pace_state
from .progress import score as score_of

__all__ = ["ChildSummary", "KeyResultSummary", "RollUp", "roll_up"]


@dataclass(frozen=True)
class KeyResultSummary:
    """What an objective needs from one of its key results."""

    name: str
    weight: float
    progress: float | None
    state: PaceState


@dataclass(frozen=True)
class ChildSummary:
    """What a parent needs from a child objective that counts in its roll-up (``parentRef.weight``)."""

    name: str
    weight: float
    progress: float | None


@dataclass(frozen=True)
class RollUp:
    """An objective's progress, score and state, and how many key results are in each state."""

    progress: float | None
    score: float | None
    state: PaceState
    total: int
    on_track: int
    at_risk: int
    off_track: int
    achieved: int
    missed: int
    unknown: int


def roll_up(
    key_results: Sequence[KeyResultSummary],
    *,
    expected: float,
    ended: bool,
    children: Sequence[ChildSummary] = (),
) -> RollUp:
    """Weighted roll-up: ``progress = sum(w * p) / sum(w)`` over key results and counted child objectives
    with data and weight > 0 (an objective with only children is measured by them).

    Key results without data (progress None or NaN) or with weight 0 are left out of progress but counted
    by state. ``score = score(progress)`` (not a mean of rounded per-key-result scores). Without any
    contribution progress and score are None and the state is Unknown; otherwise the state follows
    :func:`pace_state`. Raises ValueError for a negative or non-finite weight.
    """
    contributing: list[tuple[float, float]] = []
    items: tuple[KeyResultSummary | ChildSummary, ...] = (*key_results, *children)
    for item in items:
        weight = item.weight
        if not math.isfinite(weight) or weight < 0:
            kind = "key result" if isinstance(item, KeyResultSummary) else "child objective"
            raise ValueError(f"{kind} {item.name}: weight must be >= 0, not {weight}")
        if weight > 0 and item.progress is not None and not math.isnan(item.progress):
            contributing.append((weight, item.progress))

    progress: float | None = None
    if contributing:
        mean = math.fsum(w * p for w, p in contributing) / math.fsum(w for w, _ in contributing)
        values = [p for _, p in contributing]
        progress = min(max(mean, min(values)), max(values))  # a mean never leaves its inputs' range

    states = Counter(PaceState(key_result.state) for key_result in key_results)
    return RollUp(
        progress=progress,
        score=None if progress is None else score_of(progress),
        state=pace_state(progress, expected, ended=ended),
        total=len(key_results),
        on_track=states[PaceState.ON_TRACK],
        at_risk=states[PaceState.AT_RISK],
        off_track=states[PaceState.OFF_TRACK],
        achieved=states[PaceState.ACHIEVED],
        missed=states[PaceState.MISSED],
        unknown=states[PaceState.UNKNOWN],
    )
