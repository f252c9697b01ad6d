"""A grouped SLO's status: every group measured like an SLO of its own, the SLO's figures and state those
of its worst group, and ``groups: {count, worstGroup, worst: [...]}`` (at most 10, worst first).

Worst: the most severe state first (Exhausted, Critical, Warning, Healthy, then Unknown), then the least
budget left. More groups than ``indicator.maxGroups`` is a problem (TooManyGroups): the recording rules
record nothing then, and the status lists no group figures.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from ..api.slo_status import MAX_LISTED_GROUPS, GroupsStatus, GroupSummary, ServiceLevelObjectiveStatus, SLOState
from ..slo.budget import BudgetFigures
from ..slo.grouping import group_text
from .conditions import rounded
from .slo_figures import figures_fields, figures_of, figures_status
from .status import make, typed

GroupKey = tuple[tuple[str, str], ...]
STATE_ORDER = (SLOState.EXHAUSTED, SLOState.CRITICAL, SLOState.WARNING, SLOState.HEALTHY, SLOState.UNKNOWN)


def group_key(labels: Mapping[str, str], by: list[str]) -> GroupKey:
    return tuple((label, labels.get(label, "")) for label in by)


def _rank(figures: BudgetFigures) -> tuple[int, float]:
    remaining = figures.remaining if figures.remaining is not None else math.inf
    return STATE_ORDER.index(figures.state), remaining


def grouped_status(
    spec: Any, groups: dict[str, dict[GroupKey, float | None]], quiet: bool
) -> tuple[dict[str, Any], list[str]]:
    """(status fields, problems) of a grouped SLO from the ratios measured per window label and group."""
    keys = sorted(groups.get("window", {}))
    limit = spec.indicator.max_groups
    if len(keys) > limit:
        by = ", ".join(spec.indicator.group_by)
        problem = (
            f"TooManyGroups: {len(keys)} groups of {by} (maxGroups {limit}): the recording rules record nothing; "
            "raise indicator.maxGroups or group by fewer labels"
        )
        return _unmeasured(len(keys)), [problem]
    measured = {k: figures_of(spec, {w: g.get(k) for w, g in groups.items()}) for k in keys}
    ranked = sorted(keys, key=lambda k: (_rank(measured[k]), k))
    if not ranked:
        return _unmeasured(0), []
    fields = figures_fields(measured[ranked[0]], quiet)
    firing = sorted({a for f in measured.values() for a in f.alerts})
    fields["alerts"] = None if quiet else (firing or None)
    fields["groups"] = make(
        GroupsStatus,
        count=len(keys),
        worst_group=group_text(dict(ranked[0])),
        worst=[
            make(
                GroupSummary,
                labels=dict(k),
                sli=rounded(measured[k].sli, 4),
                budget_remaining=rounded(measured[k].remaining, 4),
                state=measured[k].state,
            )
            for k in ranked[:MAX_LISTED_GROUPS]
        ],
    )
    return typed(ServiceLevelObjectiveStatus, **fields), []


def _unmeasured(count: int) -> dict[str, Any]:
    """Too many groups, or none: how many, and no figures."""
    return typed(ServiceLevelObjectiveStatus, groups=make(GroupsStatus, count=count), state=SLOState.UNKNOWN)


def statuses_by_group(spec: Any, groups: dict[str, dict[GroupKey, float | None]]) -> dict[GroupKey, dict[str, Any]]:
    """Every group's own status figures (what a key result reading one group sees)."""
    keys = groups.get("window", {})
    return {k: figures_status(figures_of(spec, {w: g.get(k) for w, g in groups.items()}), False) for k in keys}
