"""Objective status: the roll-up of an objective's key results and counted child objectives, its place in the
alignment tree, and the final grade once its period is over.

Objectives are evaluated in :meth:`Alignment.roll_up_order` (children before their parents), so a parent
rolls up what its children got in the same cycle.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..api import Objective
from ..api.identity import Entry
from ..api.okr_status import (
    FinalChild,
    FinalKeyResult,
    KeyResultCounts,
    ObjectiveFinal,
    ObjectiveLink,
    ObjectiveStatus,
)
from ..okr.alignment import Alignment, ParentLink, align
from ..okr.pace import PaceState, expected_progress
from ..okr.period import Period, elapsed_fraction, is_over, parse_period
from ..okr.rollup import ChildSummary, KeyResultSummary, RollUp, roll_up
from .conditions import condition, normalise, rounded
from .snapshot import Snapshot
from .status import finish, make, typed, valid_condition

Key = tuple[str, str]

OBJECTIVE_FIELDS = (
    "progress",
    "score",
    "expected",
    "state",
    "owner",
    "keyResults",
    "children",
    "final",
    "observedGeneration",
    "lastEvaluated",
)


def alignment_of(snapshot: Snapshot) -> Alignment:
    """The alignment of every objective in the snapshot, foreign ones included (invalid ones align to nothing)."""
    links: dict[Key, ParentLink | None] = {}
    allowed: dict[Key, tuple[str, ...]] = {}
    for o in [*snapshot.objectives, *snapshot.foreign_objectives]:
        spec = o.model.spec if o.model is not None else None
        ref = spec.parent_ref if spec is not None else None
        links[o.ref.key] = (
            ParentLink((ref.namespace or o.ref.namespace, ref.name), float(ref.weight), ref.contributes)
            if ref is not None
            else None
        )
        if spec is not None and spec.children is not None:
            allowed[o.ref.key] = tuple(spec.children.from_namespaces)
    return align(links, allowed)


@dataclass(frozen=True)
class KeyResultInput:
    """What an objective takes from one of its key results: name, weight, owner and its status this cycle."""

    name: str
    weight: float
    owner: str
    status: Mapping[str, Any]


@dataclass(frozen=True)
class Contribution:
    """One key result or child objective in a roll-up: its weight and figures."""

    name: str
    namespace: str
    weight: float
    progress: float | None
    score: float | None
    state: str
    owner: str = ""
    value: float | None = None


def objective_status(
    e: Entry,
    alignment: Alignment,
    key_results: list[KeyResultInput],
    statuses: Mapping[Key, Mapping[str, Any]],
    now: datetime,
) -> dict[str, Any]:
    """The objective's status; ``statuses`` holds the statuses its children got this cycle."""
    objective: Objective = e.model
    period = parse_period(objective.spec.period)
    ended = is_over(period, now)
    expected = expected_progress(elapsed_fraction(period, now), objective.spec.type)
    krs = [_kr_contribution(e.ref.namespace, k, k.status) for k in key_results]
    links, children = _children(e, alignment, statuses)
    roll = _roll(krs, children, expected, ended)
    status = {
        "progress": rounded(roll.progress, 4),
        "score": roll.score,
        "expected": rounded(expected, 2),
        "state": str(roll.state),
    }
    final = _final(e, period, key_results, children, statuses, now) if ended else None
    if final is not None:
        status = {k: final.get(k) for k in ("progress", "score", "state")} | {"expected": status["expected"]}
    wire = typed(
        ObjectiveStatus,
        **status,
        owner=objective.spec.owner or None,
        key_results=_counts(roll),
        children=links or None,
        observed_generation=e.generation,
    )
    if final is not None:
        wire["final"] = final
    measured = roll.progress is not None
    message = f"{roll.total - roll.unknown} of {roll.total} key results have data"
    if children:
        message += f", {sum(c.progress is not None for c in children)} of {len(children)} counted children"
    conds = [
        valid_condition(_problems(e, alignment)),
        condition("MetricsAvailable", measured, "KeyResultsMeasured" if measured else "NoKeyResultData", message),
    ]
    return finish(wire, conds, e.status, now)


def _problems(e: Entry, alignment: Alignment) -> list[str]:
    problems = []
    if e.ref.key in alignment.cycles:
        problems.append("ParentCycle: parentRef forms a cycle; an objective cannot align to itself or its children")
    missing = alignment.missing_parent(e.ref.key)
    if missing is not None:
        problems.append(f"ParentNotFound: parent objective {missing[0]}/{missing[1]} does not exist")
    return problems


def _kr_contribution(namespace: str, k: KeyResultInput, status: Mapping[str, Any]) -> Contribution:
    return Contribution(
        k.name,
        namespace,
        k.weight,
        _num(status.get("progress")),
        _num(status.get("score")),
        str(status.get("state") or "Unknown"),
        k.owner,
        _num(status["current"] if "current" in status else status.get("value")),
    )


def _children(
    e: Entry, alignment: Alignment, statuses: Mapping[Key, Mapping[str, Any]]
) -> tuple[list[ObjectiveLink], list[Contribution]]:
    """Every aligned child as listed in status, and the counted ones as contributions."""
    links, counted = [], []
    for child in alignment.children.get(e.ref.key, []):
        st = statuses.get(child.key) or {}
        namespace, name = child.key
        contribution = Contribution(
            name,
            namespace,
            child.weight,
            _num(st.get("progress")),
            _num(st.get("score")),
            str(st.get("state") or "Unknown"),
        )
        links.append(
            make(
                ObjectiveLink,
                name=name,
                namespace=namespace,
                counted=child.counted,
                weight=child.weight,
                progress=contribution.progress,
                score=contribution.score,
                state=st.get("state"),
                reason=child.reason or None,
            )
        )
        if child.counted:
            counted.append(contribution)
    return links, counted


def _roll(krs: list[Contribution], children: list[Contribution], expected: float, ended: bool) -> RollUp:
    return roll_up(
        [KeyResultSummary(k.name, k.weight, k.progress, PaceState(k.state)) for k in krs],
        children=[ChildSummary(c.name, c.weight, c.progress) for c in children],
        expected=expected,
        ended=ended,
    )


def _counts(roll: RollUp) -> KeyResultCounts:
    return make(
        KeyResultCounts,
        total=roll.total,
        on_track=roll.on_track,
        at_risk=roll.at_risk,
        off_track=roll.off_track,
        achieved=roll.achieved,
        missed=roll.missed,
        unknown=roll.unknown,
    )


def _final(
    e: Entry,
    period: Period,
    key_results: list[KeyResultInput],
    children: list[Contribution],
    statuses: Mapping[Key, Mapping[str, Any]],
    now: datetime,
) -> dict[str, Any] | None:
    """The grade as of the period end, rolled up from each input's own final grade.

    An input without a final grade (its period runs on) counts with the figures frozen in this objective's
    final grade, else its current ones. The written grade is kept while the same inputs give the same
    grade; a spec change of the objective re-grades from fresh inputs. None until something has data.
    """
    old = e.status.get("final") or {}
    frozen_ok = old.get("observedGeneration") == e.generation and old.get("period") == period.label
    frozen_krs = {k.get("name"): k for k in old.get("keyResults") or []} if frozen_ok else {}
    frozen_children = {(c.get("namespace"), c.get("name")): c for c in old.get("children") or []} if frozen_ok else {}
    krs = [
        _kr_contribution(e.ref.namespace, k, k.status.get("final") or frozen_krs.get(k.name) or k.status)
        for k in key_results
    ]
    kids = []
    for c in children:
        source = (statuses.get((c.namespace, c.name)) or {}).get("final") or frozen_children.get((c.namespace, c.name))
        kids.append(_child_from(c, source) if source else c)
    roll = _roll(krs, kids, expected_progress(1.0, e.model.spec.type), True)
    if roll.progress is None:
        return None
    candidate = make(
        ObjectiveFinal,
        progress=rounded(roll.progress, 4),
        score=roll.score,
        state=str(roll.state),
        period=period.label,
        graded_at=now.replace(microsecond=0),
        observed_generation=e.generation,
        key_results=[_final_kr(k) for k in krs] or None,
        children=[_final_child(c) for c in kids] or None,
    ).to_wire()
    if old and _without_time(old) == _without_time(candidate):
        return dict(old)
    return candidate


def _child_from(c: Contribution, final: Mapping[str, Any]) -> Contribution:
    return Contribution(
        c.name,
        c.namespace,
        c.weight,
        _num(final.get("progress")),
        _num(final.get("score")),
        str(final.get("state") or "Unknown"),
    )


def _final_kr(k: Contribution) -> FinalKeyResult:
    return make(
        FinalKeyResult,
        name=k.name,
        owner=k.owner or None,
        weight=k.weight,
        value=k.value,
        progress=k.progress,
        score=k.score,
        state=k.state,
    )


def _final_child(c: Contribution) -> FinalChild:
    return make(
        FinalChild,
        name=c.name,
        namespace=c.namespace,
        weight=c.weight,
        progress=c.progress,
        score=c.score,
        state=c.state,
    )


def _without_time(final: Mapping[str, Any]) -> Any:
    return normalise({k: v for k, v in final.items() if k != "gradedAt"})


def _num(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)
