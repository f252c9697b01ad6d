"""Bounded history of a key result's values (``status.history``), kept for the forecast.

A point is added when the last one is older than the period's spacing (the period over
:data:`HISTORY_POINTS`, at least an hour), so a frequent evaluation loop writes a few points a period,
not one per cycle; the oldest points are dropped beyond :data:`HISTORY_POINTS`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from ..api.okr_status import HISTORY_POINTS
from .period import Period

__all__ = ["HISTORY_POINTS", "MIN_SPACING", "HistoryPoint", "history_spacing", "record_history"]

HistoryPoint = tuple[datetime, float]

MIN_SPACING = timedelta(hours=1)


def history_spacing(period: Period) -> timedelta:
    """Time between history points: ``period / HISTORY_POINTS``, at least :data:`MIN_SPACING`."""
    return max((period.end - period.start) / HISTORY_POINTS, MIN_SPACING)


def record_history(history: Sequence[HistoryPoint], now: datetime, value: float, period: Period) -> list[HistoryPoint]:
    """``history`` with ``(now, value)`` added (to the second) when its last point is a spacing old or more."""
    if history and now - history[-1][0] < history_spacing(period):
        return list(history)
    return [*history, (now.replace(microsecond=0), value)][-HISTORY_POINTS:]
