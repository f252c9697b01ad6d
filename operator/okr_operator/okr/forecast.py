"""Forecast of a key result's value at the end of its period by a least-squares linear trend."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

__all__ = ["Forecast", "linear_forecast"]


@dataclass
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
