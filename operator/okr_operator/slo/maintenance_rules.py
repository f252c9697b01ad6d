"""Maintenance windows in the generated rules: quiet alerts, and events left out of the recorded rates.

The intervals come as plain timestamps (see ``maintenance.schedule``); "now is in one of them" is
``(vector(time()) >= start < end) or ...``, which needs no series and no operator at evaluation time.

- ``suppressAlerts``: every alert of the SLO (burn page/ticket, no data, budget exhausted) gets
  ``unless on() (<in a window>)``.
- ``excludeFromBudget``: the two 5m recording rules get ``unless on() (<in a window, until 5m after it>)``,
  so no recorded sample holds an event of the window (a 5m rate taken up to 5 minutes after the window still
  counts some of it), and every window derived from them (burn rates, the budget) leaves those events out.
  The two 10-minute tiles likewise, until 10m after the window.
  The no-data alert ignores those intervals too (the records are absent on purpose).
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from ..maintenance.schedule import Interval
from .expressions import ERRORS_RECORD, TOTAL_RECORD
from .tiles import ERRORS_TILE, TILE_SECONDS, TOTAL_TILE
from .windows import BASE_SECONDS

ABSENT_ALERT = "SLOMetricsAbsent"


def _merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def _seconds(when: datetime) -> int:
    return int(when.timestamp())


def in_window(intervals: Sequence[Interval], extend: int = 0) -> str:
    """PromQL that has a sample exactly when the evaluation time is in one of ``intervals`` (+``extend`` s)."""
    spans = _merged([(_seconds(i.start), _seconds(i.end) + extend) for i in intervals])
    return " or ".join(f"(vector(time()) >= {s} < {e})" for s, e in spans)


def _unless(expr: str, condition: str) -> str:
    return f"(\n{expr}\n)\nunless on ()\n({condition})" if condition else expr


def with_maintenance(groups: list[dict[str, Any]], intervals: Sequence[Interval]) -> list[dict[str, Any]]:
    """``groups`` (an SLO's rule groups) with its maintenance intervals applied; unchanged without any."""
    suppress = [i for i in intervals if i.suppress]
    exclude = [i for i in intervals if i.exclude]
    if not suppress and not exclude:
        return groups
    excluded = in_window(exclude, BASE_SECONDS) if exclude else ""
    excluded_tiles = in_window(exclude, TILE_SECONDS) if exclude else ""
    quiet = in_window(suppress) if suppress else ""
    out = copy.deepcopy(groups)
    for group in out:
        for rule in group["rules"]:
            if rule.get("record") in (ERRORS_RECORD, TOTAL_RECORD):
                rule["expr"] = _unless(rule["expr"], excluded)
            elif rule.get("record") in (ERRORS_TILE, TOTAL_TILE):
                rule["expr"] = _unless(rule["expr"], excluded_tiles)
            elif "alert" in rule:
                conditions = [quiet] if quiet else []
                if rule["alert"] == ABSENT_ALERT and excluded:
                    conditions.append(excluded)
                rule["expr"] = _unless(rule["expr"], " or ".join(conditions))
    return out
