"""What an evaluation cycle starts from: every object with its spec model and its current status."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..api import (
    KEY_RESULT_KIND,
    MAINTENANCE_WINDOW_KIND,
    OBJECTIVE_KIND,
    SLO_KIND,
    KeyResult,
    MaintenanceWindow,
    Objective,
    ServiceLevelObjective,
)
from ..api.identity import Entry, ModelCache, entry_from_body

KINDS_IN_ORDER = (SLO_KIND, KEY_RESULT_KIND, OBJECTIVE_KIND, MAINTENANCE_WINDOW_KIND)


@dataclass
class Snapshot:
    """Every object the evaluation looks at, by kind.

    ``foreign_objectives`` are Objectives another shard owns (the operator's ``--shards``): they are not
    evaluated and get no status here; their written status is what a parent of ours rolls up, and they take
    part in the alignment (a child of ours may align to one of them). ``all()`` leaves them out.
    """

    slos: list[Entry] = field(default_factory=list)
    key_results: list[Entry] = field(default_factory=list)
    objectives: list[Entry] = field(default_factory=list)
    maintenance_windows: list[Entry] = field(default_factory=list)
    foreign_objectives: list[Entry] = field(default_factory=list)

    def all(self) -> list[Entry]:
        """The objects to evaluate (not the foreign objectives)."""
        return [*self.slos, *self.key_results, *self.objectives, *self.maintenance_windows]

    def by_kind(self, kind: str) -> list[Entry]:
        return {
            SLO_KIND: self.slos,
            KEY_RESULT_KIND: self.key_results,
            OBJECTIVE_KIND: self.objectives,
            MAINTENANCE_WINDOW_KIND: self.maintenance_windows,
        }[kind]

    @classmethod
    def from_bodies(
        cls,
        bodies: Iterable[Mapping[str, Any]],
        owns: Callable[[str], bool] | None = None,
        models: ModelCache | None = None,
    ) -> Snapshot:
        """Build from Kubernetes objects as they come from the API (dicts).

        ``owns(namespace)``: whether this evaluation owns that namespace's objects (None: all). Objectives of
        other namespaces become ``foreign_objectives``; other objects of theirs are left out. ``models``: spec
        models of earlier cycles to re-use (the evaluation loop's); it forgets the objects not in ``bodies``.
        """
        snapshot = cls()
        seen = set()
        for body in bodies:
            entry = entry_from_body(body, models)
            if entry is None:
                continue
            seen.add(entry.ref)
            if owns is None or owns(entry.ref.namespace):
                snapshot.by_kind(entry.ref.kind).append(entry)
            elif entry.ref.kind == OBJECTIVE_KIND:
                snapshot.foreign_objectives.append(entry)
        for entries in (*(snapshot.by_kind(k) for k in KINDS_IN_ORDER), snapshot.foreign_objectives):
            entries.sort(key=lambda e: e.ref)
        if models is not None:
            models.retain(seen)
        return snapshot

    @classmethod
    def from_models(
        cls, models: Iterable[ServiceLevelObjective | KeyResult | Objective | MaintenanceWindow]
    ) -> Snapshot:
        """Build from validated models (okrctl evaluate), statuses taken from the models."""
        return cls.from_bodies(m.model_dump(by_alias=True, exclude_none=True, mode="json") for m in models)
