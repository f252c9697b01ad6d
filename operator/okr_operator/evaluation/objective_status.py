"""Objective status: the alignment of every objective, and each objective's roll-up of its key results."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..api import Objective
from ..api.identity import Entry
from ..okr.alignment import find_cycles
from ..okr.pace import expected_progress
from ..okr.period import elapsed_fraction, parse_period
from ..okr.rollup import KeyResultSummary, roll_up
from .conditions import condition, rounded
from .snapshot import Snapshot
from .status import finish, valid_condition

# Objectives generate nothing, so no reconcile writes their status: the evaluation owns observedGeneration too.
OBJECTIVE_FIELDS = (
    "progress",
    "score",
    "expected",
    "state",
    "keyResults",
    "children",
    "observedGeneration",
    "lastEvaluated",
)


@dataclass(frozen=True)
class Alignment:
    """Parent/child relations of every objective, computed once per cycle."""

    parents: dict[tuple[str, str], tuple[str, str] | None]
    cycles: set[tuple[str, str]]
    children: dict[tuple[str, str], list[tuple[str, str]]]

    @classmethod
    def of(cls, snapshot: Snapshot) -> Alignment:
        parents: dict[tuple[str, str], tuple[str, str] | None] = {}
        for o in snapshot.objectives:
            ref = o.model.spec.parent_ref if o.model is not None else None
            parents[o.ref.key] = (ref.namespace or o.ref.namespace, ref.name) if ref else None
        children: dict[tuple[str, str], list[tuple[str, str]]] = defaultdict(list)
        for key, parent in sorted(parents.items()):
            if parent is not None and parent != key:
                children[parent].append(key)
        return cls(parents, find_cycles(parents), children)


def objective_status(
    e: Entry, alignment: Alignment, summaries: list[KeyResultSummary], now: datetime
) -> dict[str, Any]:
    """Roll-up of the objective's key results (same namespace) and its place in the alignment tree."""
    objective: Objective = e.model
    problems: list[str] = []
    if e.ref.key in alignment.cycles:
        problems.append("ParentCycle: parentRef forms a cycle; an objective cannot align to itself or its children")
    parent = alignment.parents.get(e.ref.key)
    if parent is not None and parent not in alignment.parents:
        problems.append(f"ParentNotFound: parent objective {parent[0]}/{parent[1]} does not exist")
    children = alignment.children.get(e.ref.key, [])
    period = parse_period(objective.spec.period)
    expected = expected_progress(elapsed_fraction(period, now), objective.spec.type)
    ended = now >= period.end
    roll = roll_up(summaries, expected=expected, ended=ended)
    status = {
        "progress": rounded(roll.progress, 4),
        "score": roll.score,
        "expected": rounded(expected, 2),
        "state": str(roll.state),
        "keyResults": {
            "total": roll.total,
            "onTrack": roll.on_track,
            "atRisk": roll.at_risk,
            "offTrack": roll.off_track,
            "achieved": roll.achieved,
            "missed": roll.missed,
            "unknown": roll.unknown,
        },
        "children": [{"name": name, "namespace": ns} for ns, name in children] or None,
        "observedGeneration": e.generation,
    }
    measured = roll.progress is not None
    conds = [
        valid_condition(problems),
        condition(
            "MetricsAvailable",
            measured,
            "KeyResultsMeasured" if measured else "NoKeyResultData",
            f"{roll.total - roll.unknown} of {roll.total} key results have data",
        ),
    ]
    return finish(status, conds, e.status, now)
