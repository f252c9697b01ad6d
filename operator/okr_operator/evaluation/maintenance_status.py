"""MaintenanceWindow status (ACTIVE, UNTIL, NEXT for ``kubectl get mw``) and each SLO's maintenance intervals."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from ..api.identity import Entry, Ref
from ..api.maintenance import MaintenanceWindowStatus
from ..maintenance.schedule import Interval, active_interval, applicable, intervals, next_start
from .conditions import condition, iso
from .status import finish, typed

MW_FIELDS = ("active", "activeUntil", "nextStart", "slos", "observedGeneration", "lastEvaluated")
# How far ahead the SLO's InMaintenance condition looks for the next window.
LOOKAHEAD = timedelta(days=7)


def slo_intervals(
    slos: list[Entry], windows: list[Entry], now: datetime, lookback: dict[Ref, int]
) -> dict[Ref, list[Interval]]:
    """Per SLO with maintenance windows: their intervals from ``lookback[ref]`` seconds ago to a week ahead."""
    models = [w.model for w in windows if w.model is not None]
    out: dict[Ref, list[Interval]] = {}
    for e in slos:
        mine = applicable(models, e.ref.namespace, e.ref.name, e.model.metadata.labels)
        if mine:
            out[e.ref] = intervals(mine, now - timedelta(seconds=lookback.get(e.ref, 0)), now + LOOKAHEAD)
    return out


def maintenance_window_status(e: Entry, slos: list[Entry], now: datetime) -> dict[str, Any]:
    """The status of one (valid) MaintenanceWindow at ``now``."""
    spec = e.model.spec
    current = active_interval(spec, now)
    upcoming = next_start(spec, now)
    covered = sorted(
        s.ref.name
        for s in slos
        if s.ref.namespace == e.ref.namespace and spec.slos.matches(s.ref.name, s.model.metadata.labels)
    )
    status = typed(
        MaintenanceWindowStatus,
        active=current is not None,
        active_until=iso(current[1]) if current else None,  # to the second, like every time in status
        next_start=iso(upcoming) if upcoming else None,
        slos=covered or None,
        observed_generation=e.generation,
    )
    conds = [condition("Valid", True, "Valid", "")]
    if not covered:
        conds[0] = condition("Valid", True, "NoMatchingSLO", "no ServiceLevelObjective in this namespace matches slos")
    return finish(status, conds, e.status, now)
