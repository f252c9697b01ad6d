"""Alignment of objectives: the parent relation (``spec.parentRef``), its cycles and children."""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import Any, Protocol, TypeVar

__all__ = ["children_of", "find_cycles"]


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
