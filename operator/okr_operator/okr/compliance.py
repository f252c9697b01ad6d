"""Share of time a value stayed within bounds, from points in time (maintain key results)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from .progress import in_range


def time_in_range(
    points: Sequence[tuple[datetime, float]],
    *,
    minimum: float | None,
    maximum: float | None,
    start: datetime,
    now: datetime,
) -> float | None:
    """Fraction of ``[first point, now]`` (not before ``start``) during which the value was in range.

    Each point's value holds until the next point (a step function, as check-ins are). None without a
    point at or before ``now``.
    """
    ordered = sorted((t, v) for t, v in points if t <= now)
    if not ordered:
        return None
    inside = total = 0.0
    for index, (instant, value) in enumerate(ordered):
        begin = max(instant, start)
        end = ordered[index + 1][0] if index + 1 < len(ordered) else now
        end = max(end, begin)
        seconds = (end - begin).total_seconds()
        total += seconds
        if in_range(value, minimum, maximum):
            inside += seconds
    if total == 0:
        return 1.0 if in_range(ordered[-1][1], minimum, maximum) else 0.0
    return inside / total
