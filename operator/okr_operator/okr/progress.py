"""Key-result progress (0..1) per direction, and the 0.0-1.0 score."""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal

from ..api.okr import Direction

__all__ = [
    "Direction",
    "boolean_progress",
    "in_range",
    "key_result_progress",
    "maintain_progress",
    "progress_towards",
    "score",
]

_HUNDREDTH = Decimal("0.01")


def progress_towards(direction: Direction, current: float, baseline: float, target: float) -> float:
    """``clamp((current - baseline) / (target - baseline), 0, 1)`` for increase/decrease key results.

    Raises ValueError when ``baseline == target``, when the target lies on the wrong side of the baseline
    for ``direction``, when ``current`` is NaN or when baseline/target is not finite.
    """
    direction = Direction(direction)
    if direction not in (Direction.INCREASE, Direction.DECREASE):
        raise ValueError(f"progress_towards needs direction increase or decrease, not {direction}")
    _require_number("current", current)
    _require_finite("baseline", baseline)
    _require_finite("target", target)
    if baseline == target:
        raise ValueError(f"baseline and target must differ (both {baseline:g})")
    if (direction is Direction.INCREASE) != (target > baseline):
        relation = "above" if direction is Direction.INCREASE else "below"
        raise ValueError(
            f"direction {direction} needs target {relation} baseline (baseline {baseline:g}, target {target:g})"
        )
    return _clamp01((current - baseline) / (target - baseline))


def maintain_progress(compliance: float) -> float:
    """Progress of a maintain key result: the fraction of time in range, clamped to ``[0, 1]``."""
    _require_number("compliance", compliance)
    return _clamp01(compliance)


def in_range(value: float, minimum: float | None = None, maximum: float | None = None) -> bool:
    """``minimum <= value <= maximum``; a missing bound is unbounded, NaN is never in range."""
    if math.isnan(value):
        return False
    return (minimum is None or value >= minimum) and (maximum is None or value <= maximum)


def boolean_progress(value: float) -> float:
    """1.0 when ``value >= 0.5`` (true), else 0.0 (false or NaN)."""
    return 1.0 if value >= 0.5 else 0.0


def key_result_progress(
    direction: Direction,
    current: float | None,
    *,
    baseline: float | None = None,
    target: float | None = None,
    minimum: float | None = None,
    maximum: float | None = None,
    compliance: float | None = None,
) -> float | None:
    """Progress of a key result, or None without data (``current``/``compliance`` None or NaN).

    increase/decrease use ``baseline`` and ``target``; maintain uses ``compliance`` (fraction of the elapsed
    period in range) or, without it, whether ``current`` is in ``[minimum, maximum]`` now (1 or 0);
    boolean uses ``current``.
    """
    direction = Direction(direction)
    current, compliance = _data(current), _data(compliance)
    if direction is Direction.MAINTAIN:
        if compliance is not None:
            return maintain_progress(compliance)
        if current is None:
            return None
        if minimum is None and maximum is None:
            raise ValueError("a maintain key result needs compliance, or min and/or max")
        return 1.0 if in_range(current, minimum, maximum) else 0.0
    if current is None:
        return None
    if direction is Direction.BOOLEAN:
        return boolean_progress(current)
    if baseline is None or target is None:
        raise ValueError(f"a {direction} key result needs baseline and target")
    return progress_towards(direction, current, baseline, target)


def score(progress: float) -> float:
    """Google-style 0.0-1.0 score: ``progress`` rounded to 2 decimals.

    Rounds half up on the shortest decimal form of the float (``repr``): 0.125 -> 0.13 and 0.145 -> 0.15,
    where Python's ``round`` gives 0.12 and 0.14.
    """
    _require_finite("progress", progress)
    return float(Decimal(repr(progress)).quantize(_HUNDREDTH, rounding=ROUND_HALF_UP))


def _data(value: float | None) -> float | None:
    """The value, or None without data (None or NaN)."""
    return None if value is None or math.isnan(value) else value


def _require_number(name: str, value: float) -> None:
    if math.isnan(value):
        raise ValueError(f"{name} is NaN")


def _require_finite(name: str, value: float) -> None:
    if not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, not {value}")


def _clamp01(value: float) -> float:
    return min(max(value, 0.0), 1.0)
