"""Check-ins of manual key results: their points in time, the latest one, and when the next one is due."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from ..api.okr import CheckIn

__all__ = ["CheckInPoint", "check_in_points", "due_at", "until"]


@dataclass(frozen=True)
class CheckInPoint:
    """One check-in: when (a date is its midnight UTC), the value and the owner's confidence."""

    time: datetime
    value: float
    confidence: float | None = None


def check_in_points(check_ins: Sequence[CheckIn]) -> list[CheckInPoint]:
    """Every check-in as a point in time, oldest first (the manifest's order does not matter)."""
    points = [CheckInPoint(_instant(c.date), c.value, c.confidence) for c in check_ins]
    return sorted(points, key=lambda p: p.time)


def until(points: Sequence[CheckInPoint], instant: datetime) -> list[CheckInPoint]:
    """The check-ins dated on or before ``instant`` (a grade as of the period end uses those up to the end)."""
    return [p for p in points if p.time <= instant]


def due_at(latest: datetime | None, every: timedelta, period_start: datetime) -> datetime:
    """When the next check-in is due: ``every`` after the latest one (or after the period start without one)."""
    return (latest if latest is not None and latest > period_start else period_start) + every


def _instant(when: date | datetime) -> datetime:
    if not isinstance(when, datetime):
        when = datetime(when.year, when.month, when.day)
    return when if when.tzinfo else when.replace(tzinfo=UTC)
