"""Forecast of a key result's value at the end of its period by a least-squares linear trend.

The trend runs through the key result's history (or its check-ins) and the current value; it needs two
earlier points (a trend through points seconds apart is noise, not a forecast).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from .period import Period
from .progress import Direction, progress_towards

__all__ = ["Forecast", "forecast_at_end", "linear_forecast"]


@dataclass(frozen=True)
class Forecast:
    """Forecast value at the period end and the progress that value would give."""

    value: float
    progress: float


def linear_forecast(points: Sequence[tuple[datetime, float]], at: datetime) -> float | None:
    """Least-squares line through ``points`` evaluated at ``at``.

    Non-finite values are ignored. None with fewer than 2 usable points or when all share one time.
    """
    usable = [(instant, value) for instant, value in points if math.isfinite(value)]
    if len(usable) < 2:
        return None
    origin = usable[0][0]
    xs = [(instant - origin).total_seconds() for instant, _ in usable]
    ys = [value for _, value in usable]
    mean_x = math.fsum(xs) / len(xs)
    mean_y = math.fsum(ys) / len(ys)
    sxx = math.fsum((x - mean_x) ** 2 for x in xs)
    if sxx == 0.0:
        return None
    sxy = math.fsum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True))
    slope = sxy / sxx
    return mean_y + slope * ((at - origin).total_seconds() - mean_x)


def forecast_at_end(
    direction: Direction,
    baseline: float | None,
    target: float | None,
    earlier: Sequence[tuple[datetime, float]],
    current: float | None,
    now: datetime,
    period: Period | None,
) -> Forecast | None:
    """The value the trend through ``earlier`` points and ``(now, current)`` reaches at the period end.

    Only increase/decrease key results have one; None without a period, a current value, or two earlier
    points before ``now`` (to the second).
    """
    if period is None or current is None or direction not in ("increase", "decrease"):
        return None
    points = [p for p in earlier if p[0] < now.replace(microsecond=0)]
    if len(points) < 2:
        return None
    points.append((now, current))
    value = linear_forecast(points, period.end)
    if value is None or not math.isfinite(value) or baseline is None or target is None:
        return None
    return Forecast(value, progress_towards(direction, value, baseline, target))
