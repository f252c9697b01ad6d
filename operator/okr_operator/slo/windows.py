"""SLO windows and the multiwindow multi-burn-rate alert conditions (SRE workbook, chapter 5).

The workbook's factors are for a 30-day window. SLO windows of 28-30 days use them unchanged; other
windows keep the factors and scale the alert windows by W / 30d, rounded to whole minutes (as Pyrra
does). Alert windows are never shorter than the 5m base rate the recording rules keep
(``BASE_WINDOW``): shorter rates are noise at common scrape intervals.

Every longer window is derived from the recorded 5m rates (``expressions.recorded_ratio``): up to an hour
by adding back-to-back 5m rates (``is_chained``), beyond by summing them with the newest half base window
(``LEAD_SECONDS``) counted at the latest rate, so that no derived window lags the raw one
(docs/architecture.md, "Generated rules"). The burn alerts use those exact forms only where a window decides
when an alert fires, and cheaper ones elsewhere (``rules.long_window_ratio``).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..api.common import format_duration, parse_duration
from ..api.slo import ServiceLevelObjectiveSpec
from ..api.slo_alerting import Severity

BASE_WINDOW = "5m"
BASE_SECONDS = 300
# A 5m rate stands for the 5 minutes before it: summed over a window it lags by half of them, so the
# newest LEAD_SECONDS of a long window are counted at the latest rate.
LEAD_SECONDS = BASE_SECONDS // 2
# Windows up to an hour in whole base windows add up back-to-back 5m rates instead (exact, 12 lookups).
CHAINED_MAX_SECONDS = 3600
# The burn alerts' long windows (``rules.long_window_ratio``): up to an hour from the raw indicator where the
# SLO allows it (``rules.raw_long_windows``), beyond a day lead-corrected, in between the plain sum.
RAW_LONG_MAX_SECONDS = 3600
LEAD_ABOVE_SECONDS = 86400
DAY = 86400
# Nominal lengths of calendar windows, used to scale alert windows (not to measure compliance).
CALENDAR_NOMINAL_SECONDS = {"month": 30 * DAY, "quarter": 90 * DAY}
# The window the operator always measures besides the alert windows: time to exhaustion uses burn(1h).
STATUS_EXTRA_WINDOWS = ("1h",)


@dataclass(frozen=True)
class BurnRateCondition:
    """Alert at ``severity`` when the burn rate over both ``long`` and ``short`` exceeds ``factor``."""

    severity: Severity
    long: str
    short: str  # equal to long: a single-window condition
    factor: float
    hold: str | None = None  # the alert rule's ``for``: fire once the condition has held this long


WORKBOOK_CONDITIONS = (
    BurnRateCondition(Severity.PAGE, "1h", "5m", 14.4),
    BurnRateCondition(Severity.PAGE, "6h", "30m", 6),
    BurnRateCondition(Severity.TICKET, "1d", "2h", 3),
    BurnRateCondition(Severity.TICKET, "3d", "6h", 1),
)


def is_chained(seconds: int) -> bool:
    """Whether a derived window adds up back-to-back base rates (whole base windows, up to an hour)."""
    return BASE_SECONDS < seconds <= CHAINED_MAX_SECONDS and seconds % BASE_SECONDS == 0


def window_seconds(window: str) -> int:
    """Nominal length of an SLO window (rolling duration, or 30d/90d for month/quarter)."""
    return CALENDAR_NOMINAL_SECONDS.get(window) or parse_duration(window)


def scale_window(window: str, slo_window_seconds: int) -> str:
    """An alert window scaled from the 30d basis to the SLO window, in whole minutes, at least 5m."""
    if 28 * DAY <= slo_window_seconds <= 30 * DAY:
        return window
    seconds = parse_duration(window) * slo_window_seconds / (30 * DAY)
    minutes = max(round(seconds / 60), BASE_SECONDS // 60)
    return format_duration(minutes * 60)


def burn_rate_conditions(spec: ServiceLevelObjectiveSpec) -> tuple[BurnRateCondition, ...]:
    """The conditions of one SLO: its own override, or the workbook's scaled to its window."""
    override = spec.alerting.burn_rate_windows
    if override:
        return tuple(
            BurnRateCondition(
                Severity(w.severity), _at_least_base(w.long), _at_least_base(w.short), w.burn_rate, w.for_
            )
            for w in override
        )
    seconds = window_seconds(spec.window)
    return tuple(
        BurnRateCondition(c.severity, scale_window(c.long, seconds), scale_window(c.short, seconds), c.factor)
        for c in WORKBOOK_CONDITIONS
    )


def _at_least_base(window: str) -> str:
    return window if parse_duration(window) >= BASE_SECONDS else BASE_WINDOW


def status_windows(spec: ServiceLevelObjectiveSpec) -> list[str]:
    """Windows whose burn rate goes into status, shortest first."""
    windows = {w for c in burn_rate_conditions(spec) for w in (c.long, c.short)}
    windows.update(STATUS_EXTRA_WINDOWS)
    return sorted(windows, key=parse_duration)
