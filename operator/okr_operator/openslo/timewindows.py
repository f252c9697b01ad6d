"""SLO time windows and alert durations between OpenSLO and okr.dev.

okr.dev windows are rolling durations of whole hours, days or weeks (``28d``, ``4w``), or the calendar
``month``/``quarter`` starting at 00:00 UTC. OpenSLO v1 writes ``timeWindow: [{duration, isRolling,
calendar}]`` with duration shorthands (``m h d w M Q Y``); v1alpha ``timeWindows: [{unit, count, ...}]``.
Months, quarters and years are not fixed durations, so they are accepted only as calendar windows of one
month or one quarter aligned to 00:00 UTC; anything else is refused.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from ..api.common import format_duration
from ..api.slo import WINDOW_PATTERN
from .documents import Refusal, get

Notes = list[tuple[str, str]]

DEFAULT_WINDOW = "28d"
_SHORTHAND = re.compile(r"^([0-9]+)([mhdwMQY])$")
_WINDOW = re.compile(WINDOW_PATTERN)
_SECONDS = {"m": 60, "h": 3600, "d": 86400, "w": 604800}
UTC_ZONES = ("UTC", "Etc/UTC", "GMT", "Etc/GMT")
# The calendar start written on export: any period start works, OpenSLO wants one.
EXPORT_CALENDAR_START = "2020-01-01 00:00:00"
_V1ALPHA_UNITS = {"second": "s", "day": "d", "week": "w", "month": "M", "quarter": "Q"}


def shorthand(text: Any, fld: str) -> tuple[int, str]:
    """``(value, unit)`` of an OpenSLO duration shorthand such as ``28d`` or ``1M``."""
    match = _SHORTHAND.match(str(text)) if isinstance(text, (str, int)) else None
    if not match or int(match.group(1)) == 0:
        raise Refusal(fld, f"{text!r} is not a duration shorthand (a positive number and one of m h d w M Q Y)")
    return int(match.group(1)), match.group(2)


def fixed_duration(text: Any, fld: str) -> str:
    """An alert window or delay (``5m``, ``1h``) as an okr.dev duration; months and longer are refused."""
    value, unit = shorthand(text, fld)
    if unit not in _SECONDS:
        raise Refusal(fld, f"{text}: months, quarters and years are not fixed durations; use m, h, d or w")
    return format_duration(value * _SECONDS[unit])


def _rolling(value: int, unit: str, text: str, fld: str) -> str:
    """A rolling window in the unit it was written in (28d stays 28d); minutes and seconds in whole hours."""
    if unit in ("h", "d", "w"):
        window = f"{value}{unit}"
    else:
        seconds = value * (1 if unit == "s" else _SECONDS[unit])
        window = format_duration(seconds) if seconds % 3600 == 0 else ""
    if not _WINDOW.match(window):
        raise Refusal(fld, f"{text}: rolling windows here are whole hours, days or weeks (e.g. 28d, 4w, 12h)")
    return window


def _calendar(value: int, unit: str, calendar: dict[str, Any], fld: str, length_fld: str) -> str:
    window = {(1, "M"): "month", (1, "Q"): "quarter"}.get((value, unit))
    if window is None:
        raise Refusal(length_fld, f"{value}{unit}: calendar windows here are one month (1M) or one quarter (1Q)")
    zone = get(calendar, "timeZone", f"{fld}.calendar.timeZone", str, "UTC")
    if zone not in UTC_ZONES:
        raise Refusal(f"{fld}.calendar.timeZone", f"{zone}: calendar windows here start at 00:00 UTC")
    start = get(calendar, "startTime", f"{fld}.calendar.startTime", str, EXPORT_CALENDAR_START)
    try:
        when = datetime.strptime(start, "%Y-%m-%d %H:%M:%S")
    except ValueError:
        raise Refusal(f"{fld}.calendar.startTime", f"{start!r}: use YYYY-MM-DD HH:MM:SS") from None
    aligned = when.day == 1 and when.time() == datetime.min.time() and (window == "month" or when.month % 3 == 1)
    if not aligned:
        raise Refusal(
            f"{fld}.calendar.startTime",
            f"{start}: calendar windows here start on the first day of a {window} at 00:00 UTC",
        )
    return window


def v1_window(spec: dict[str, Any], notes: Notes) -> str:
    """The okr.dev window of a v1 SLO spec."""
    windows = get(spec, "timeWindow", "spec.timeWindow", list)
    if not windows:
        notes.append(("spec.timeWindow", f"not set: the SLO uses okr-operator's default window {DEFAULT_WINDOW}"))
        return DEFAULT_WINDOW
    if len(windows) != 1:
        raise Refusal("spec.timeWindow", "OpenSLO allows exactly one time window")
    fld = "spec.timeWindow[0]"
    window = windows[0] if isinstance(windows[0], dict) else {}
    value, unit = shorthand(window.get("duration"), f"{fld}.duration")
    calendar = get(window, "calendar", f"{fld}.calendar")
    if get(window, "isRolling", f"{fld}.isRolling", bool, calendar is None):
        if unit not in _SECONDS:
            raise Refusal(f"{fld}.duration", f"{value}{unit}: months differ in length; use days, e.g. 30d")
        return _rolling(value, unit, f"{value}{unit}", f"{fld}.duration")
    return _calendar(value, unit, calendar or {}, fld, f"{fld}.duration")


def v1alpha_window(spec: dict[str, Any], notes: Notes) -> str:
    """The okr.dev window of a v1alpha SLO spec (``timeWindows: [{unit, count, isRolling, calendar}]``)."""
    windows = get(spec, "timeWindows", "spec.timeWindows", list)
    if not windows:
        notes.append(("spec.timeWindows", f"not set: the SLO uses okr-operator's default window {DEFAULT_WINDOW}"))
        return DEFAULT_WINDOW
    if len(windows) != 1:
        raise Refusal("spec.timeWindows", "exactly one time window is supported")
    fld = "spec.timeWindows[0]"
    window = windows[0] if isinstance(windows[0], dict) else {}
    unit_name = str(get(window, "unit", f"{fld}.unit", str, "")).lower()
    unit = _V1ALPHA_UNITS.get(unit_name)
    count = get(window, "count", f"{fld}.count", int)
    if unit is None or not count or count < 0:
        raise Refusal(fld, "needs unit (Second, Day, Week, Month or Quarter) and a positive count")
    calendar = get(window, "calendar", f"{fld}.calendar")
    rolling = get(window, "isRolling", f"{fld}.isRolling", bool, False)
    if not rolling and calendar is None:
        notes.append((f"{fld}.isRolling", "false without a calendar: read as a rolling window, as Sloth does"))
        rolling = True
    if rolling:
        if unit in ("M", "Q"):
            raise Refusal(f"{fld}.unit", f"{count} {unit_name}: months differ in length; use Day, e.g. count: 30")
        return _rolling(count, unit, f"{count} {unit_name}", f"{fld}.count")
    return _calendar(count, unit, calendar, fld, f"{fld}.unit")


def to_openslo_window(window: str) -> dict[str, Any]:
    """The v1 ``timeWindow`` item of an okr.dev window."""
    if window in ("month", "quarter"):
        return {
            "duration": "1M" if window == "month" else "1Q",
            "isRolling": False,
            "calendar": {"startTime": EXPORT_CALENDAR_START, "timeZone": "UTC"},
        }
    return {"duration": window, "isRolling": True}
