"""Figures that went stale: the status that says so, its figures kept.

The evaluation loop confirms every object's figures each cycle (written, or found unchanged from what is
written; runtime/freshness.py keeps when). An object whose figures were not confirmed for longer than allowed
(a cycle that overran its interval, a cycle that failed, a status write that failed) gets the status it has,
figures and ``lastEvaluated`` untouched, with ``MetricsAvailable=False`` reason ``Stale``: the instant its
figures are from and why newer ones are missing (``Ready`` follows). The next cycle that confirms figures for it
writes its status as computed, which clears the condition.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from .conditions import EVALUATION_CONDITIONS, KEPT_VALUES, condition, find, iso, stamp
from .cycle import OWNED_FIELDS
from .status import ready_condition

STALE = "Stale"
INFO_CONDITIONS = ("InMaintenance", "CheckInDue")  # written, but not deciding Ready


def says_stale(status: Mapping[str, Any]) -> bool:
    """The status already says its figures are not current: Stale, or values kept while Prometheus failed."""
    metrics = find(status.get("conditions"), "MetricsAvailable") or {}
    return metrics.get("status") == "False" and metrics.get("reason") in (STALE, *KEPT_VALUES)


def stale_message(since: datetime, why: str) -> str:
    return f"the figures are from {iso(since)} and were not refreshed since: {why}"[:1024]


def stale_status(
    kind: str, status: Mapping[str, Any], since: datetime, why: str, now: datetime
) -> dict[str, Any] | None:
    """``status`` (as written) marked stale; None when it has no figures yet or already says they are old."""
    if kind not in OWNED_FIELDS or not status.get("lastEvaluated") or says_stale(status):
        return None
    old_conditions = status.get("conditions") or []
    ours = [c for c in old_conditions if c.get("type") in EVALUATION_CONDITIONS]
    deciding = [_bare(c) for c in ours if c["type"] not in ("MetricsAvailable", "Ready", *INFO_CONDITIONS)]
    deciding.append(condition("MetricsAvailable", False, STALE, stale_message(since, why)))
    ready = ready_condition(deciding, dict(status))
    info = [_bare(c) for c in ours if c["type"] in INFO_CONDITIONS]
    marked = {k: status[k] for k in OWNED_FIELDS[kind] if k in status}
    marked["conditions"] = stamp([*deciding, ready, *info], old_conditions, now)
    return marked


def _bare(cond: Mapping[str, Any]) -> dict[str, Any]:
    """A written condition without its transition time (``stamp`` keeps it when the status did not change)."""
    return {k: v for k, v in cond.items() if k != "lastTransitionTime"}
