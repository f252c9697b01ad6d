"""Maintenance windows in time: when each MaintenanceWindow is on, which SLOs it covers, and the intervals the
generated rules, the status and the gate leave out. Pure like ``slo/``: the time is always an argument."""

from .schedule import (
    RULE_HORIZON,
    Interval,
    active_interval,
    applicable,
    intervals,
    next_start,
    occurrences,
    rule_intervals,
)

__all__ = [
    "RULE_HORIZON",
    "Interval",
    "active_interval",
    "applicable",
    "intervals",
    "next_start",
    "occurrences",
    "rule_intervals",
]
