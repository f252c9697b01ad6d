"""The months of a period, for the SLO figures per month."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from ..okr.period import Period

# A complete month is measured at its last second: a calendar SLO window (window: month) then covers the whole
# month; at the month end itself it would have restarted. For rolling windows the second does not matter.
LAST_SECOND = timedelta(seconds=1)


@dataclass(frozen=True)
class Month:
    """A calendar month of the period (cut to the period): its label and the instant its figures are taken."""

    label: str  # 2026-10
    start: datetime
    end: datetime  # exclusive: the month end, or the period end when the period ends inside the month
    at: datetime  # the month's last second, or ``now`` for the month in progress
    complete: bool


def month_ends(period: Period, now: datetime) -> list[Month]:
    """Every month of ``period`` that has begun by ``now``: complete ones measured at their last second, the
    one in progress at ``now`` ("to date")."""
    months = []
    start = period.start
    while start < period.end and start <= now:
        year, month = divmod(start.year * 12 + start.month, 12)  # the next month: month is 0-based here
        end = min(datetime(year, month + 1, 1, tzinfo=UTC), period.end)
        complete = end <= now
        at = end - LAST_SECOND if complete else now
        months.append(Month(f"{start.year:04d}-{start.month:02d}", start, end, at, complete))
        start = end
    return months
