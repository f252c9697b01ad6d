"""Occurrences of maintenance windows and the intervals they make for one SLO.

A one-off window is ``[start, start + duration)``; a recurring one starts at every time its cron expression
matches in its time zone (daylight saving applied by cronsim) and lasts ``duration``. Overlapping windows
are kept as they are: an instant is in maintenance when any interval holds it.

Generated rules carry the intervals of the next ``RULE_HORIZON`` from the start of the current UTC day, as
plain timestamps (Prometheus knows no time zones): the same rules all day, re-rendered by the operator when
the day changes or a window changes. The status and the gate look back over the SLO window instead.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from cronsim import CronSim

from ..api.common import parse_duration
from ..api.maintenance import MaintenanceWindow, MaintenanceWindowSpec

RULE_HORIZON = timedelta(days=3)
# A schedule that starts more often than this in the rule horizon is cut off there (a cron like */5 with a
# 1m window makes no sense as maintenance, and would make a huge rule).
MAX_OCCURRENCES = 200


@dataclass(frozen=True, order=True)
class Interval:
    """One occurrence of one window, as it applies to an SLO."""

    start: datetime
    end: datetime
    window: str  # the MaintenanceWindow's name
    reason: str
    suppress: bool
    exclude: bool

    def holds(self, when: datetime) -> bool:
        return self.start <= when < self.end


def occurrences(spec: MaintenanceWindowSpec, since: datetime, until: datetime) -> list[tuple[datetime, datetime]]:
    """(start, end) of every occurrence overlapping ``[since, until)``, in UTC, oldest first."""
    length = timedelta(seconds=parse_duration(spec.duration))
    if spec.start is not None:
        start = spec.start if spec.start.tzinfo else spec.start.replace(tzinfo=UTC)
        start = start.astimezone(UTC)
        return [(start, start + length)] if start < until and start + length > since else []
    assert spec.schedule is not None
    zone = ZoneInfo(spec.time_zone)
    out: list[tuple[datetime, datetime]] = []
    # A window that started up to ``length`` before ``since`` still overlaps it. cronsim yields times after
    # its start; a minute earlier catches a window starting exactly then.
    for start in CronSim(spec.schedule, (since - length - timedelta(minutes=1)).astimezone(zone)):
        start = start.astimezone(UTC)
        if start >= until or len(out) >= MAX_OCCURRENCES:
            break
        if start + length > since:
            out.append((start, start + length))
    return out


def active_interval(spec: MaintenanceWindowSpec, now: datetime) -> tuple[datetime, datetime] | None:
    """The occurrence holding ``now`` (the one ending last when several overlap)."""
    holding = [(s, e) for s, e in occurrences(spec, now, now + timedelta(seconds=1)) if s <= now < e]
    return max(holding, key=lambda se: se[1]) if holding else None


def next_start(spec: MaintenanceWindowSpec, now: datetime) -> datetime | None:
    """When the next occurrence starts after ``now`` (None for a one-off that has started)."""
    if spec.start is not None:
        start = spec.start if spec.start.tzinfo else spec.start.replace(tzinfo=UTC)
        return start.astimezone(UTC) if start > now else None
    assert spec.schedule is not None
    return next(iter(CronSim(spec.schedule, now.astimezone(ZoneInfo(spec.time_zone))))).astimezone(UTC)


def applicable(
    windows: Iterable[MaintenanceWindow], namespace: str, name: str, labels: dict[str, str] | None
) -> list[MaintenanceWindow]:
    """The windows of ``namespace`` that cover the SLO ``name`` with ``labels``."""
    return [
        w for w in windows if (w.metadata.namespace or "default") == namespace and w.spec.slos.matches(name, labels)
    ]


def intervals(windows: Iterable[MaintenanceWindow], since: datetime, until: datetime) -> list[Interval]:
    """Every occurrence of ``windows`` overlapping ``[since, until)``, sorted."""
    out = [
        Interval(s, e, w.metadata.name, w.spec.reason, w.spec.suppress_alerts, w.spec.exclude_from_budget)
        for w in windows
        for s, e in occurrences(w.spec, since, until)
    ]
    return sorted(out)


def rule_day(now: datetime) -> datetime:
    """The start of the UTC day of ``now``: rules rendered on one day are the same all day."""
    now = now.astimezone(UTC)
    return datetime(now.year, now.month, now.day, tzinfo=UTC)


def rule_intervals(windows: Iterable[MaintenanceWindow], now: datetime) -> list[Interval]:
    """The intervals generated rules carry: those overlapping the rule horizon of today."""
    day = rule_day(now)
    return intervals(windows, day, day + RULE_HORIZON)
