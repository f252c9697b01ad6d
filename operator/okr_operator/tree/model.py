"""The objective tree as data: objectives with their aligned children and key results as leaves.

Built by ``tree.build.build_forest`` from the objects as the API lists them; shown by ``kubectl okr tree``
(``cli/tree.py``, rich), the web view and the period report. Plain data for ``-o json|yaml`` through
``to_data``. Pure: no cluster access, no rendering.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

Key = tuple[str, str]  # (namespace, name)


@dataclass
class Problem:
    """Why an object is invalid: the reason and message of its Valid=False condition."""

    reason: str
    message: str = ""

    def to_dict(self) -> dict[str, str]:
        return {"reason": self.reason, "message": self.message}


@dataclass
class SLOInfo:
    """The ServiceLevelObjective a key result takes its value from (same namespace)."""

    name: str
    field: str | None
    found: bool
    state: str | None = None
    budget_remaining: float | None = None
    sli: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "field": self.field,
            "found": self.found,
            "state": self.state,
            "budgetRemaining": self.budget_remaining,
            "sli": self.sli,
        }


@dataclass
class KeyResultNode:
    """A key result: a leaf under its objective."""

    name: str
    namespace: str
    description: str = ""
    direction: str = "increase"
    unit: str = ""
    current: float | None = None
    target: float | None = None
    minimum: float | None = None
    maximum: float | None = None
    progress: float | None = None
    score: float | None = None
    state: str | None = None
    evaluated: bool = False
    slo: SLOInfo | None = None
    problem: Problem | None = None
    owner: str = ""
    final_score: float | None = None
    kind: str = "KeyResult"

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "name": self.name,
            "namespace": self.namespace,
            "owner": self.owner,
            "description": self.description,
            "direction": self.direction,
            "unit": self.unit,
            "current": self.current,
            "target": self.target,
            "min": self.minimum,
            "max": self.maximum,
            "progress": self.progress,
            "score": self.score,
            "state": self.state,
            "finalScore": self.final_score,
            "slo": self.slo.to_dict() if self.slo else None,
            "problem": self.problem.to_dict() if self.problem else None,
        }


@dataclass
class Node:
    """An objective with its aligned child objectives and its key results.

    ``parent_ref`` is the spec's parentRef (namespace, name). When the node is not shown under that parent,
    ``parent_found`` says why: False when the parent does not exist, None when its namespace was not listed.
    ``cycle`` marks objectives whose parentRef chain loops; ``missing`` marks a placeholder for an objective
    that key results refer to but that does not exist. ``weight``, ``counted`` and ``not_counted`` say how
    the objective counts in its parent's roll-up (the rules of ``okr.alignment``, as the operator applies them).
    """

    name: str
    namespace: str
    title: str = ""
    owner: str = ""
    period: str = ""
    progress: float | None = None
    score: float | None = None
    expected: float | None = None
    state: str | None = None
    evaluated: bool = False
    parent_ref: Key | None = None
    parent_found: bool | None = True
    cycle: bool = False
    missing: bool = False
    problem: Problem | None = None
    weight: float = 1.0
    contributes: bool = True
    from_namespaces: tuple[str, ...] = ()
    counted: bool | None = None
    not_counted: str = ""
    final_score: float | None = None
    children: list[Node] = field(default_factory=list)
    key_results: list[KeyResultNode] = field(default_factory=list)
    kind: str = "Objective"

    @property
    def key(self) -> Key:
        return (self.namespace, self.name)

    def to_dict(self) -> dict[str, Any]:
        """This objective and everything under it as plain data."""
        return to_data([self])[0]

    def _fields(self) -> dict[str, Any]:
        parent = None
        if self.parent_ref is not None:
            parent = {"namespace": self.parent_ref[0], "name": self.parent_ref[1]}
        return {
            "kind": self.kind,
            "name": self.name,
            "namespace": self.namespace,
            "title": self.title,
            "owner": self.owner,
            "period": self.period,
            "progress": self.progress,
            "score": self.score,
            "expected": self.expected,
            "state": self.state,
            "parentRef": parent,
            "parentFound": self.parent_found if parent else None,
            "weight": self.weight if parent else None,
            "counted": self.counted,
            "notCounted": self.not_counted or None,
            "finalScore": self.final_score,
            "missing": self.missing,
            "cycle": self.cycle,
            "problem": self.problem.to_dict() if self.problem else None,
            "keyResults": [kr.to_dict() for kr in self.key_results],
            "children": [],  # filled by to_data
        }


def to_data(nodes: Iterable[Node]) -> list[dict[str, Any]]:
    """The trees as nested plain data (for ``-o json|yaml``); iterative, however deep the trees."""
    out: list[dict[str, Any]] = []
    stack = [(node, out) for node in reversed(list(nodes))]
    while stack:
        node, into = stack.pop()
        data = node._fields()
        into.append(data)
        stack.extend((child, data["children"]) for child in reversed(node.children))
    return out


def walk(nodes: Iterable[Node]) -> Iterable[Node]:
    """Every objective node, depth first."""
    stack = list(reversed(list(nodes)))
    while stack:
        node = stack.pop()
        yield node
        stack.extend(reversed(node.children))
