"""Alignment of objectives: the parent relation (``spec.parentRef``), its cycles, children and which count.

Used by the evaluation (roll-up through alignment), ``okrctl validate`` (cycles) and ``kubectl okr tree``.
"""

from __future__ import annotations

from collections.abc import Collection, Hashable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

__all__ = ["Alignment", "Child", "ParentLink", "align", "children_of", "find_cycles"]


class _Comparable(Protocol):
    def __lt__(self, other: Any, /) -> bool: ...


K = TypeVar("K", bound=Hashable)
C = TypeVar("C", bound=_Comparable)


def find_cycles(parents: Mapping[K, K | None]) -> set[K]:
    """All nodes lying on a cycle of the parent relation (a self-parent is a cycle of one).

    Nodes that merely lead into a cycle are not on it; a parent missing from ``parents`` is a root.
    """
    on_cycle: set[K] = set()
    done: set[K] = set()
    for start in parents:
        path: dict[K, int] = {}
        node: K | None = start
        while node is not None and node not in done and node not in path:
            path[node] = len(path)
            node = parents.get(node)
        if node is not None and node in path:
            on_cycle.update(list(path)[path[node] :])
        done.update(path)
    return on_cycle


def children_of(parents: Mapping[C, C | None]) -> dict[C, list[C]]:
    """Children per node, sorted, for every node of ``parents`` (possibly ``[]``) and every parent named.

    Keys are in sorted order too, so the result is deterministic.
    """
    children: dict[C, list[C]] = {node: [] for node in parents}
    for node, parent in parents.items():
        if parent is not None:
            children.setdefault(parent, []).append(node)
    return {node: sorted(children[node]) for node in sorted(children)}


Key = tuple[str, str]  # (namespace, name) of an objective


@dataclass(frozen=True)
class ParentLink:
    """One objective's ``spec.parentRef``: the parent, its weight in the parent's roll-up, whether it counts."""

    parent: Key
    weight: float = 1.0
    contributes: bool = True


@dataclass(frozen=True)
class Child:
    """An objective aligned to a parent, and whether (and with what weight) it counts in the parent's roll-up.

    ``reason`` is "" for a counted child, else ``"Reason: message"`` saying why it does not count.
    """

    key: Key
    weight: float
    counted: bool
    reason: str = ""


@dataclass(frozen=True)
class Alignment:
    """The alignment of a set of objectives: parents, cycles, children with their counting, a roll-up order."""

    parents: dict[Key, Key | None]
    cycles: set[Key]
    children: dict[Key, list[Child]]

    def missing_parent(self, key: Key) -> Key | None:
        """The parent ``key`` names when that parent is not among the objectives."""
        parent = self.parents.get(key)
        return parent if parent is not None and parent not in self.parents else None

    def roll_up_order(self) -> list[Key]:
        """Every objective, each after its children (so a parent lists what they got in the same cycle);
        the members of a cycle in sorted order."""
        order: list[Key] = []
        done: set[Key] = set()
        for root in sorted(self.parents):
            stack: list[tuple[Key, bool]] = [(root, False)]
            while stack:
                key, expanded = stack.pop()
                if key in done:
                    continue
                if expanded:
                    done.add(key)
                    order.append(key)
                    continue
                stack.append((key, True))
                for child in reversed(self.children.get(key, [])):
                    if child.key not in done and not (child.key in self.cycles and key in self.cycles):
                        stack.append((child.key, False))
        return order


def align(links: Mapping[Key, ParentLink | None], from_namespaces: Mapping[Key, Collection[str]]) -> Alignment:
    """The alignment of the objectives in ``links`` (each objective's parentRef, or None).

    A child counts in its parent's roll-up when it contributes (``parentRef.contributes``), is not on a
    cycle with it, and is in the parent's namespace or in one the parent lists in ``from_namespaces``
    (``spec.children.fromNamespaces``): no team can move another team's objective. A parent that is not
    among the objectives has no children listed here (``missing_parent`` names it).
    """
    parents = {key: (link.parent if link is not None else None) for key, link in links.items()}
    cycles = find_cycles(parents)
    children: dict[Key, list[Child]] = {}
    for parent, keys in children_of(parents).items():
        if parent not in links:
            continue
        listed = []
        for key in keys:
            if key == parent:
                continue  # a self-parent is a cycle, reported on the objective itself
            link = links[key]
            assert link is not None
            listed.append(_child(key, parent, link, cycles, from_namespaces.get(parent, ())))
        children[parent] = listed
    return Alignment(parents, cycles, children)


def _child(key: Key, parent: Key, link: ParentLink, cycles: set[Key], allowed: Collection[str]) -> Child:
    if key in cycles and parent in cycles:
        return Child(key, link.weight, False, "ParentCycle: the parentRef chain leads back to this objective")
    if not link.contributes:
        return Child(key, link.weight, False, "NotContributing: parentRef.contributes is false")
    if key[0] != parent[0] and key[0] not in allowed:
        return Child(
            key,
            link.weight,
            False,
            f"NamespaceNotAllowed: objectives of namespace {key[0]} count only when the parent lists it in "
            "spec.children.fromNamespaces",
        )
    return Child(key, link.weight, True)
