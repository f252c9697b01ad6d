"""Grouped SLOs (``indicator.groupBy``): one SLO per value of some labels of the indicator's series.

The indicator's expressions are summed ``by`` the group labels (``expressions``), so the two 5m recording
rules hold one series per group and every alert, which divides recorded series label by label, fires per
group with the group's labels. The records (and the 10-minute tiles, ``tiles``) carry a cardinality
guard: with more than ``maxGroups`` groups they record nothing (``and on () (count(<groups>) <=
maxGroups)``) instead of thousands of series, and the evaluation says Valid=False, reason TooManyGroups.
"""

from __future__ import annotations

import copy
from typing import Any

from ..api.slo import ServiceLevelObjectiveSpec
from .expressions import ERRORS_RECORD, TOTAL_RECORD, raw_total
from .tiles import ERRORS_TILE, TOTAL_TILE
from .windows import BASE_WINDOW


def group_guard(spec: ServiceLevelObjectiveSpec) -> str:
    """PromQL that has a sample while the SLO has at most ``maxGroups`` groups."""
    return f"count({raw_total(spec, BASE_WINDOW)}) <= {spec.indicator.max_groups}"


def with_group_guard(groups: list[dict[str, Any]], spec: ServiceLevelObjectiveSpec) -> list[dict[str, Any]]:
    """A grouped SLO's rule groups with the cardinality guard on its recording rules (5m rates and tiles)."""
    if not spec.indicator.group_by:
        return groups
    out = copy.deepcopy(groups)
    guard = group_guard(spec)
    for group in out:
        for rule in group["rules"]:
            if rule.get("record") in (ERRORS_RECORD, TOTAL_RECORD, ERRORS_TILE, TOTAL_TILE):
                rule["expr"] = f"(\n{rule['expr']}\n)\nand on ()\n({guard})"
    return out


def group_text(labels: dict[str, str]) -> str:
    """A group's labels as one line: ``route=/checkout,method=GET``."""
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items()))
