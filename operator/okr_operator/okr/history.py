"""Bounded history of a key result's values, kept for forecasting."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime, timedelta

__all__ = ["HISTORY_LIMIT", "HistoryPoint", "append_history"]

HistoryPoint = tuple[datetime, float]

HISTORY_LIMIT = 26
"""Status keeps at most this many history points."""


def append_history(
    history: Sequence[HistoryPoint],
    point: HistoryPoint,
    *,
    limit: int = HISTORY_LIMIT,
    min_spacing: timedelta = timedelta(hours=6),
) -> list[HistoryPoint]:
    """Return ``history`` (ordered by time) with ``point`` recorded, at most ``limit`` points.

    The last point is the latest observation; the points before it are at least ``min_spacing`` apart.
    ``point`` replaces the last point while that one is closer than ``min_spacing`` to its predecessor, so
    a frequent evaluation loop refreshes the latest value instead of filling the history; otherwise the last
    point stays and ``point`` is appended. A point at the last point's time replaces it; an older one, or a
    non-finite value (no data), leaves the history unchanged. The oldest points are dropped beyond ``limit``.
    """
    if limit < 1:
        raise ValueError(f"limit must be >= 1, not {limit}")
    if min_spacing < timedelta(0):
        raise ValueError(f"min_spacing must not be negative, not {min_spacing}")
    points = sorted(history, key=lambda item: item[0])
    instant, value = point
    if not math.isfinite(value):
        return points[-limit:]
    if points:
        last = points[-1][0]
        if instant < last:
            return points[-limit:]
        if instant == last or (len(points) >= 2 and last - points[-2][0] < min_spacing):
            points.pop()
    points.append((instant, value))
    return points[-limit:]
